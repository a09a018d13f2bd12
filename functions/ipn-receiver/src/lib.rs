//! `POST /v1/ipn`: the partner's payment core reports a payment result.
//!
//! Signed with `X-Partner-*` and the payment core's own secret, so a Tiki key
//! cannot settle a payment. The result settles the transaction once; the same
//! write puts its IPN job in the outbox, and the job is then put on the queue.
//! Two round trips on the common path: the write (nothing is read before it)
//! and the enqueue; the dispatcher's first recorded attempt takes the job out
//! of the outbox.

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tikivip_api::metrics::{self, Metric};
use tikivip_api::{
    Error, Failures, Handler, load_aws_config, reply, verified_body, verifier_and_store,
};
use tikivip_domain::wire::parse_json;
use tikivip_domain::{PaymentResult, Settlement, Timestamp, TransactionId, TransactionStatus};
use tikivip_queue::{IpnMessage, IpnQueue};
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
    queue: IpnQueue,
}

impl IpnReceiver {
    pub fn new(verifier: Verifier, store: Store, queue: IpnQueue) -> Self {
        IpnReceiver {
            verifier,
            store,
            queue,
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
            Ok(Settlement::Settled(_)) => Metric::PaymentResultsAccepted,
            Ok(Settlement::Duplicate) => Metric::PaymentResultsDuplicate,
            Err(_) => Metric::PaymentResultsRefused,
        });
        let settlement = settled?;
        let status = match settlement {
            Settlement::Settled(status) => {
                tracing::info!(transaction_id = %result.transaction_id, %status, event_id = %result.event_id, "transaction settled");
                // The job is safe in the outbox: a failure here only delays it
                // until the next sweep, so the payment core still gets its 200.
                // A new settlement starts chain 0 of its job.
                let job = IpnMessage {
                    transaction_id: result.transaction_id.clone(),
                    chain: 0,
                };
                if let Err(err) = self.queue.enqueue(&job).await {
                    metrics::count(Metric::OutboxReleaseFailures);
                    tracing::error!(transaction_id = %result.transaction_id, error = %err, "IPN job left in the outbox for the sweeper");
                }
                status
            }
            // A duplicate repeats the status the transaction holds.
            Settlement::Duplicate => result.outcome.status(),
        };
        Ok(Received {
            transaction_id: result.transaction_id,
            status,
            duplicate: settlement == Settlement::Duplicate,
        })
    }
}

impl Handler for IpnReceiver {
    async fn handle(&self, request: Request) -> Response<Body> {
        reply(self.receive(&request).await, Failures::Rest)
    }
}
