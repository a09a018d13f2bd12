//! The Tini App platform's order API (`GET /order?order_id=…`), signed with
//! the `X-Tiniapp-*` headers over path and query: what a Tini App order
//! notification is confirmed with before anything is done with it.
//!
//! The answer is read as Tiki's other answers are: `code` and `message` at
//! the top, the order under `data`. Code 3 is an order Tiki does not know;
//! any other failure (HTTP error, timeout, another code, a bad answer) is an
//! [`Error`], to be retried, never taken for "not found".

use std::time::Duration;

use serde::Deserialize;
use tikivip_domain::tiniapp::{ConfirmedOrder, OrderStatus, grand_total};
use tikivip_domain::{OrderReferenceId, ResultCode, TikiOrderCode, TikiOrderId, TiniAppOrderId};
use tikivip_signing::{HeaderFamily, Secret};

use crate::wire::{self, Head};
use crate::{Error, TikiClient, TikiEnvironment};

/// What Tiki's order API says of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderLookup {
    Found(ConfirmedOrder),
    /// Code 3: Tiki does not know the order.
    NotFound,
}

/// The client of the Tini App platform's order API. Build it once per
/// process: it holds the connection pool.
#[derive(Clone, Debug)]
pub struct TiniAppClient {
    http: TikiClient,
}

#[derive(Deserialize)]
struct Answer {
    data: FoundOrder,
}

#[derive(Deserialize)]
struct FoundOrder {
    id: String,
    status: String,
    grand_total: i64,
    #[serde(default)]
    tiki_order_id: Option<String>,
    #[serde(default)]
    tiki_order_code: Option<String>,
    #[serde(default)]
    reference_id: Option<String>,
}

impl TiniAppClient {
    /// The order API of `environment` (the Tini App base of production or
    /// sandbox, or the local stand-in's base), signing as `client_id`.
    pub fn new(
        environment: &TikiEnvironment,
        client_id: impl Into<String>,
        secret: Secret,
        timeout: Duration,
    ) -> Result<TiniAppClient, Error> {
        Ok(TiniAppClient {
            http: TikiClient::build(
                environment.tiniapp_base_url(),
                HeaderFamily::Tiniapp,
                client_id,
                secret,
                timeout,
            )?,
        })
    }

    /// `GET /order?order_id=…`
    pub async fn order(&self, id: &TiniAppOrderId) -> Result<OrderLookup, Error> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("order_id", id.as_str())
            .finish();
        let body = self.http.get(&format!("/order?{query}")).await?;
        answer(id, &body)
    }
}

pub fn answer(asked: &TiniAppOrderId, body: &[u8]) -> Result<OrderLookup, Error> {
    let Head { code, message } = wire::parse(body)?;
    match code {
        ResultCode::Success => {}
        ResultCode::NotFound => return Ok(OrderLookup::NotFound),
        other => return Err(Error::Code(other, message)),
    }
    let Answer { data } = wire::parse(body)?;
    let bad = |why: String| Error::BadResponse(why);
    // The answer about another order must not be taken for this one's.
    if data.id != asked.as_str() {
        return Err(bad(format!(
            "asked about order {asked}, answered about {}",
            data.id
        )));
    }
    Ok(OrderLookup::Found(ConfirmedOrder {
        status: OrderStatus::parse(&data.status).map_err(|e| bad(e.to_string()))?,
        grand_total: grand_total(data.grand_total).map_err(|e| bad(e.to_string()))?,
        tiki_order_id: optional(data.tiki_order_id, TikiOrderId::parse)?,
        tiki_order_code: optional(data.tiki_order_code, TikiOrderCode::parse)?,
        reference_id: optional(data.reference_id, OrderReferenceId::parse)?,
    }))
}

/// An id Tiki may leave out or send empty: either is unknown.
fn optional<T>(
    value: Option<String>,
    parse: impl FnOnce(String) -> Result<T, tikivip_domain::Error>,
) -> Result<Option<T>, Error> {
    value
        .filter(|v| !v.is_empty())
        .map(parse)
        .transpose()
        .map_err(|e| Error::BadResponse(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tikivip_domain::Vnd;

    fn id() -> TiniAppOrderId {
        TiniAppOrderId::parse("o-1").unwrap()
    }

    #[test]
    fn code_zero_is_the_order_as_tiki_holds_it() {
        let body = br#"{"code":0,"message":"success","data":{"id":"o-1","status":"online_paid",
            "grand_total":99000,"tiki_order_id":"123","tiki_order_code":"","reference_id":"r"}}"#;
        let Ok(OrderLookup::Found(order)) = answer(&id(), body) else {
            panic!("not found")
        };
        assert_eq!(order.status, OrderStatus::OnlinePaid);
        assert_eq!(order.grand_total, Vnd::new(99_000).unwrap());
        assert_eq!(order.tiki_order_id.unwrap().as_str(), "123");
        assert_eq!(order.tiki_order_code, None, "empty is unknown");
    }

    #[test]
    fn code_three_is_an_order_tiki_does_not_know_and_code_two_an_error() {
        assert_eq!(
            answer(&id(), br#"{"code":3,"message":"no such order"}"#),
            Ok(OrderLookup::NotFound)
        );
        assert!(matches!(
            answer(&id(), br#"{"code":2,"message":"busy"}"#),
            Err(Error::Code(ResultCode::SystemError, _))
        ));
    }

    #[test]
    fn an_answer_about_another_order_or_with_an_unknown_status_is_bad() {
        for body in [
            r#"{"code":0,"message":"ok","data":{"id":"o-2","status":"online_paid","grand_total":1}}"#,
            r#"{"code":0,"message":"ok","data":{"id":"o-1","status":"paid","grand_total":1}}"#,
            r#"{"code":0,"message":"ok","data":{"id":"o-1","status":"draft","grand_total":-1}}"#,
            r#"{"code":0,"message":"ok"}"#,
        ] {
            assert!(
                matches!(answer(&id(), body.as_bytes()), Err(Error::BadResponse(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn the_order_api_of_each_environment_is_the_tini_app_base() {
        let client = |environment: TikiEnvironment| {
            TiniAppClient::new(&environment, "c", Secret::new("s"), Duration::from_secs(1)).unwrap()
        };
        assert_eq!(
            client(TikiEnvironment::Production)
                .http
                .url("/order?order_id=1"),
            "https://api.tiki.vn/tiniapp-open-api/order?order_id=1"
        );
        assert_eq!(
            client(TikiEnvironment::Sandbox)
                .http
                .url("/order?order_id=1"),
            "https://api.tala.xyz/tiniapp-open-api/order?order_id=1"
        );
    }
}
