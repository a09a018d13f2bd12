//! `POST /v1/refunds`: Tiki refunds a transaction, fully or in part.
//! Idempotent on `request_id`; any failure after the signature is verified
//! answers HTTP 500, as Tiki's spec asks.

use lambda_http::{Body, Request, Response};
use tikivip_api::metrics::{self, Metric};
use tikivip_api::{
    Error, Failures, Handler, load_aws_config, reply, verified_body, verifier_and_store,
};
use tikivip_domain::wire::parse_json;
use tikivip_domain::{RefundReceipt, RefundRequest, Timestamp};
use tikivip_signing::{HeaderFamily, Verifier};
use tikivip_store::{Refunded, Store};

pub struct Refund {
    verifier: Verifier,
    store: Store,
}

impl Refund {
    pub fn new(verifier: Verifier, store: Store) -> Self {
        Refund { verifier, store }
    }

    pub async fn from_env() -> Result<Self, Error> {
        let aws = load_aws_config().await;
        let (verifier, store) = verifier_and_store(
            &aws,
            HeaderFamily::Tikivip,
            "TIKIVIP_CLIENT_ID",
            "TIKIVIP_CLIENT_SECRET",
        )
        .await?;
        Ok(Refund::new(verifier, store))
    }

    async fn refund(&self, request: &Request) -> Result<RefundReceipt, Error> {
        let body = verified_body(&self.verifier, request)?;
        let request: RefundRequest = parse_json(body)?;
        let Refunded { receipt, is_new } =
            self.store.refund(&request, Timestamp::now_utc()).await?;
        tracing::info!(
            transaction_id = %receipt.transaction_id,
            request_id = %receipt.request_id,
            refund_amount = %receipt.refund_amount,
            refunded_amount = %receipt.refunded_amount,
            replay = !is_new,
            "refund answered"
        );
        if is_new {
            metrics::count(Metric::Refunds);
            metrics::record(Metric::RefundedAmount, receipt.refund_amount.get());
        }
        Ok(receipt)
    }
}

impl Handler for Refund {
    async fn handle(&self, request: Request) -> Response<Body> {
        reply(self.refund(&request).await, Failures::Http500)
    }
}
