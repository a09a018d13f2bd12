//! The request body parsers, exactly as the handlers call them.
//!
//! An accepted body must carry, in its JSON, the values it was parsed into
//! (nothing invented, nothing swapped); a refused one must be a client error
//! in the envelope (4xx, a non-zero code, a message).

use serde_json::Value;
use tikivip_domain::tiniapp::TiniAppMessage;
use tikivip_domain::wire::{CreateTransactionRequest, parse_json};
use tikivip_domain::{
    PaymentOutcome, PaymentResult, Phone, RefundRequest, ResultCode, Timestamp, WebviewRequest,
};
use time::format_description::well_known::Rfc3339;

/// The clock the time checks read: fixed, so that an input accepted once is
/// accepted on every replay (the seeds' times are near it).
fn now() -> Timestamp {
    Timestamp::parse("2025-11-22T03:10:00Z", &Rfc3339).expect("a time")
}

/// A parser's verdict on `body`: accepted, it must agree with the body read
/// as plain JSON (`agrees`; skipped where serde_json's `Value` cannot read
/// what the parser skipped over); refused, it must be a client error.
fn judged<T>(
    body: &[u8],
    parsed: Result<T, tikivip_domain::Error>,
    agrees: impl FnOnce(&T, &Value),
) {
    match parsed {
        Ok(parsed) => {
            if let Some(json) = crate::json_of(body) {
                agrees(&parsed, &json);
            }
        }
        Err(refusal) => refused(refusal),
    }
}

fn text<'v>(json: &'v Value, field: &str) -> Option<&'v str> {
    json.get(field).and_then(Value::as_str)
}

/// An optional text field: absent or null when it parsed to `None`.
fn same_optional(json: &Value, field: &str, parsed: Option<&str>) {
    match parsed {
        Some(parsed) => assert_eq!(text(json, field), Some(parsed), "{field}"),
        None => assert!(
            json.get(field).is_none_or(Value::is_null),
            "{field} was dropped"
        ),
    }
}

/// A refusal answers a client error in the envelope.
fn refused(refusal: tikivip_domain::Error) {
    let error = tikivip_api::Error::Refused(refusal);
    assert!(
        error.status().is_client_error(),
        "{error}: {}",
        error.status()
    );
    assert_ne!(error.code(), ResultCode::Success);
    assert!(!error.to_string().is_empty());
}

pub fn create(body: &[u8]) {
    judged(
        body,
        parse_json::<CreateTransactionRequest>(body),
        |request, json| {
            assert_eq!(
                text(json, "tiki_transaction_id"),
                Some(request.tiki_transaction_id.as_str())
            );
            let amount = request.transaction_amount.get();
            assert!(amount > 0);
            assert_eq!(json["transaction_amount"].as_u64(), Some(amount));
            same_optional(
                json,
                "description",
                request.description.as_ref().map(|d| d.as_str()),
            );
            same_optional(
                json,
                "redirect_url",
                request.redirect_url.as_ref().map(|u| u.as_str()),
            );
        },
    );
}

pub fn refund(body: &[u8]) {
    judged(body, parse_json::<RefundRequest>(body), |request, json| {
        assert_eq!(
            text(json, "tiki_transaction_id"),
            Some(request.tiki_transaction_id.as_str())
        );
        assert_eq!(
            text(json, "transaction_id"),
            Some(request.transaction_id.as_str())
        );
        assert_eq!(text(json, "request_id"), Some(request.request_id.as_str()));
        assert_eq!(text(json, "reason"), Some(request.reason.as_str()));
        let amount = request.amount.get();
        assert!(amount > 0);
        assert_eq!(json["transaction_amount"].as_u64(), Some(amount));
    });
}

pub fn payment_result(body: &[u8]) {
    judged(body, parse_json::<PaymentResult>(body), |result, json| {
        assert_eq!(
            text(json, "transaction_id"),
            Some(result.transaction_id.as_str())
        );
        let status = text(json, "status").expect("a status");
        assert_eq!(PaymentOutcome::parse(status).ok(), Some(result.outcome));
        assert_eq!(json["amount"].as_u64(), Some(result.amount.get()));
        assert_eq!(text(json, "event_id"), Some(result.event_id.as_str()));
        let occurred_at = text(json, "occurred_at").expect("an occurred_at");
        assert_eq!(
            Timestamp::parse(occurred_at, &Rfc3339).ok(),
            Some(result.occurred_at)
        );
        same_optional(
            json,
            "partner_banking_method",
            result.partner_banking_method.as_ref().map(|m| m.as_str()),
        );
        // What the receiver checks next must refuse, never panic.
        if let Err(refusal) = result.check_not_in_the_future(now()) {
            refused(refusal);
        }
    });
}

pub fn webview(body: &[u8]) {
    judged(body, parse_json::<WebviewRequest>(body), |request, json| {
        // The user's code and name are kept without the spaces around them.
        assert_eq!(
            text(json, "identify_code").map(str::trim),
            Some(request.identify_code.as_str())
        );
        // The phone is kept in its national form: the typed one reads as
        // it, and the national form reads as itself.
        let typed = text(json, "identify_phone").expect("a phone");
        assert_eq!(
            Phone::parse(typed).ok().as_ref(),
            Some(&request.identify_phone)
        );
        assert_eq!(
            Phone::parse(request.identify_phone.as_str()).ok().as_ref(),
            Some(&request.identify_phone)
        );
        assert_eq!(
            text(json, "identify_fullname").map(str::trim),
            request.identify_fullname.as_ref().map(|n| n.as_str())
        );
    });
}

pub fn tiniapp_ipn(body: &[u8]) {
    judged(body, TiniAppMessage::parse(body, now()), |message, json| {
        assert_eq!(text(json, "message_id"), Some(message.message_id.as_str()));
        let order = &json["order"];
        assert_eq!(text(order, "id"), Some(message.order.id.as_str()));
        assert_eq!(
            order["grand_total"].as_u64(),
            Some(message.order.grand_total.get())
        );
    });
}
