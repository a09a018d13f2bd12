//! Tiki's answers (the body of an HTTP 200), read as the clients read them.
//!
//! Whatever the bytes, reading ends in a typed answer or an error, and an
//! answer says what the body's JSON says: its code, and the values it carries
//! (an answer about another transaction or order is never taken for the one
//! asked about).

use serde_json::Value;
use tikivip_domain::{ResultCode, TikiTransactionId, TiniAppOrderId};
use tikivip_tiki_client::{IpnAnswer, OrderLookup, TikiStatus, answer, attempt, view};

const ASKED_TRANSACTION: &str = "88062110977884170";
const ASKED_ORDER: &str = "o-1";

/// The code of an answered body (it parsed, so it has a known code) and its
/// JSON; `None` where the JSON cannot be compared (see `json_of`).
fn code(body: &[u8]) -> Option<(ResultCode, Value)> {
    let json = crate::json_of(body)?;
    let code = json["code"]
        .as_i64()
        .and_then(ResultCode::from_code)
        .expect("an answer read has a known code");
    Some((code, json))
}

/// The answer's code is `expected`, where it can be compared.
fn code_is(body: &[u8], expected: ResultCode) {
    if let Some((code, _)) = code(body) {
        assert_eq!(code, expected);
    }
}

pub fn ipn(body: &[u8]) {
    let read = answer::ipn(body);
    match &read {
        Ok(IpnAnswer::Accepted) => code_is(body, ResultCode::Success),
        Ok(IpnAnswer::SystemError(_)) => code_is(body, ResultCode::SystemError),
        Ok(IpnAnswer::Refused(refusal, _)) => {
            code_is(body, *refusal);
            assert!(!matches!(
                refusal,
                ResultCode::Success | ResultCode::SystemError
            ));
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    let _ = attempt(read);
}

pub fn status(body: &[u8]) {
    let asked = TikiTransactionId::parse(ASKED_TRANSACTION).expect("an id");
    let read = answer::status(&asked, body);
    match &read {
        Ok(TikiStatus::Found { amount, .. }) => {
            let Some((code, json)) = code(body) else {
                return;
            };
            assert_eq!(code, ResultCode::Success);
            let answered = json.get("tiki_transaction_id").and_then(Value::as_str);
            assert!(answered.is_none_or(|id| id == ASKED_TRANSACTION));
            if let Some(amount) = amount {
                assert_eq!(json["amount"].as_u64(), Some(amount.get()));
            }
        }
        Ok(TikiStatus::NotFound) => code_is(body, ResultCode::NotFound),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    let _ = view(read);
}

pub fn webview(body: &[u8]) {
    if let Ok(webview) = answer::webview(body) {
        let Some((code, json)) = code(body) else {
            return;
        };
        assert_eq!(code, ResultCode::Success);
        let data = &json["data"];
        assert_eq!(data["url_open"].as_str(), Some(webview.url_open.as_str()));
        assert_eq!(
            data["url_checkout_result"].as_str(),
            Some(webview.url_checkout_result.as_str())
        );
        assert_eq!(
            data["request_id"].as_str(),
            Some(webview.request_id.as_str())
        );
    }
}

pub fn order(body: &[u8]) {
    let asked = TiniAppOrderId::parse(ASKED_ORDER).expect("an id");
    match answer::order(&asked, body) {
        Ok(OrderLookup::Found(order)) => {
            let Some((code, json)) = code(body) else {
                return;
            };
            assert_eq!(code, ResultCode::Success);
            assert_eq!(json["data"]["id"].as_str(), Some(ASKED_ORDER));
            assert_eq!(
                json["data"]["grand_total"].as_u64(),
                Some(order.grand_total.get())
            );
        }
        Ok(OrderLookup::NotFound) => code_is(body, ResultCode::NotFound),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}
