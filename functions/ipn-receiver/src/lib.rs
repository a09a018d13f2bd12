//! `POST /v1/ipn`: the partner's payment core reports a payment result.
//!
//! Signed with `X-Partner-*` and the payment core's own secret, so a Tiki key
//! cannot settle a payment. The result settles the transaction once; the same
//! write puts its IPN job in the outbox, which is then released to the queue.

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tikivip_api::metrics::{self, Metric};
use tikivip_api::{
    Error, Failures, Handler, load_aws_config, reply, verified_body, verifier_and_store,
};
use tikivip_domain::wire::parse_json;
use tikivip_domain::{Ipn, PaymentResult, Settlement, Timestamp, TransactionId, TransactionStatus};
use tikivip_queue::{IpnQueue, Outbox};
use tikivip_signing::{HeaderFamily, Verifier};
use tikivip_store::Store;

/// The answer to a payment result.
#[derive(Debug, Serialize)]
pub struct Received {
    pub transaction_id: TransactionId,
    pub status: TransactionStatus,
    /// The result repeated what the transaction already held; nothing changed.
    pub duplicate: bool,
}

pub struct IpnReceiver {
    verifier: Verifier,
    store: Store,
    outbox: Outbox,
}

impl IpnReceiver {
    pub fn new(verifier: Verifier, store: Store, queue: IpnQueue) -> Self {
        IpnReceiver {
            verifier,
            outbox: Outbox::new(store.clone(), queue),
            store,
        }
    }

    pub async fn from_env() -> Result<Self, Error> {
        let aws = load_aws_config().await;
        let ((verifier, store), queue) = tokio::try_join!(
            verifier_and_store(
                &aws,
                HeaderFamily::Partner,
                "PARTNER_CLIENT_ID",
                "PARTNER_CLIENT_SECRET"
            ),
            async {
                IpnQueue::from_env(&aws)
                    .await
                    .map_err(|e| Error::Config(e.to_string()))
            },
        )?;
        Ok(IpnReceiver::new(verifier, store, queue))
    }

    async fn receive(&self, request: &Request) -> Result<Received, Error> {
        let body = verified_body(&self.verifier, request)?;
        let result: PaymentResult = parse_json(body)?;
        let settled = self.store.settle(&result, Timestamp::now_utc()).await;
        metrics::count(match &settled {
            Ok((Settlement::Settled(_), _)) => Metric::PaymentResultsAccepted,
            Ok((Settlement::Duplicate, _)) => Metric::PaymentResultsDuplicate,
            Err(_) => Metric::PaymentResultsRefused,
        });
        let (settlement, txn) = settled?;
        if let (Settlement::Settled(_), Some(ipn)) = (settlement, Ipn::for_settled(&txn)) {
            tracing::info!(transaction_id = %txn.id, tiki_transaction_id = %txn.tiki_id, status = %txn.status, event_id = %result.event_id, "transaction settled");
            // The job is safe in the outbox: a failure here only delays it
            // until the next sweep, so the payment core still gets its 200.
            // A new settlement starts chain 0 of its job.
            if let Err(err) = self.outbox.release(ipn, 0).await {
                metrics::count(Metric::OutboxReleaseFailures);
                tracing::error!(transaction_id = %txn.id, error = %err, "IPN job left in the outbox for the sweeper");
            }
        }
        Ok(Received {
            transaction_id: txn.id,
            status: txn.status,
            duplicate: settlement == Settlement::Duplicate,
        })
    }
}

impl Handler for IpnReceiver {
    async fn handle(&self, request: Request) -> Response<Body> {
        reply(self.receive(&request).await, Failures::Rest)
    }
}
