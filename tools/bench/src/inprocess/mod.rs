//! The in-process path of each HTTP route, for the criterion benches: event
//! JSON → `lambda_http` request → signature → body → domain → envelope →
//! API Gateway response JSON, run through `lambda_http`'s own adapter.
//!
//! Two ways to stand in for the store call, which is I/O:
//! - [`Pure`]: the handler's steps up to and after the store call, with the
//!   domain work the store would do on what it read (a fixture transaction);
//! - [`Faked`]: the real handlers, with DynamoDB and SQS answering from a
//!   script (see [`crate::fake_aws`]): also the SDK's own CPU per call
//!   (request building, SigV4, JSON both ways).

use tikivip_domain::{
    TikiTransactionId, Timestamp, Transaction, TransactionId, TransactionStatus, Vnd,
};
use time::format_description::well_known::Rfc3339;

mod faked;
mod pure;
mod routes;

pub use faked::{Faked, transaction_item};
pub use pure::Pure;
pub use routes::{Route, event, through_lambda_http};

/// The fixed ids and amounts of the fixtures.
pub const TXN_ID: &str = "T0193a1b2c3d4e5f60718293a4b5c6d7e";
pub const TIKI_ID: &str = "88062110977884170";
pub const AMOUNT: u64 = 10_000_000;
pub const REFUND_AMOUNT: u64 = 30_000;
pub const REQUEST_ID: &str = "bench-refund-1";
pub const CREATED_AT: &str = "2025-11-22T03:00:00Z";

fn timestamp(rfc3339: &str) -> Timestamp {
    Timestamp::parse(rfc3339, &Rfc3339).expect("an RFC 3339 fixture")
}

/// The fixture transaction in `status`, without refunds.
pub fn transaction(status: TransactionStatus) -> Transaction {
    let created_at = timestamp(CREATED_AT);
    Transaction {
        id: TransactionId::parse(TXN_ID).expect("an id"),
        tiki_id: TikiTransactionId::parse(TIKI_ID).expect("an id"),
        amount: Vnd::new(AMOUNT).expect("an amount"),
        status,
        refunded: Vnd::ZERO,
        refunds: Vec::new(),
        partner_banking_method: None,
        description: Some(tikivip_domain::wire::Text::new("TikiVIP 12 tháng").expect("short")),
        customer: None,
        redirect_url: None,
        created_at,
        updated_at: created_at,
    }
}

/// Logs as the functions do (`tikivip_api::init_tracing`: JSON, `info`), to
/// a sink: formatting a log line is per-request CPU, the write is I/O.
pub fn init_tracing_to_sink() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_current_span(false)
        .without_time()
        .with_writer(std::io::sink)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(response_json: &[u8]) -> (u64, serde_json::Value) {
        let response: serde_json::Value = serde_json::from_slice(response_json).unwrap();
        let body: serde_json::Value =
            serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        (response["statusCode"].as_u64().unwrap(), body)
    }

    #[tokio::test]
    async fn every_route_answers_200_both_ways() {
        let pure = Pure::default();
        let faked = Faked::default();
        for route in Route::ALL {
            let event = event(route);
            let answer = through_lambda_http(&event, |request| {
                let response = pure.handle(route, &request);
                async move { response }
            })
            .await;
            let (status, body) = status_of(&answer);
            assert_eq!(status, 200, "pure {route:?}: {body}");
            // Twice: the script of each fake goes round.
            for _ in 0..2 {
                let answer =
                    through_lambda_http(&event, |request| faked.handle(route, request)).await;
                let (status, body) = status_of(&answer);
                assert_eq!(status, 200, "faked {route:?}: {body}");
            }
        }
    }
}
