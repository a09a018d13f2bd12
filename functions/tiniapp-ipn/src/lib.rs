//! `POST /v1/tiniapp/ipn`: Tiki's Tini App platform notifies an order.
//!
//! Signed with `X-Tiniapp-*` and the Tini App secret. Nothing slow happens
//! before the answer: the message is verified, read strictly, recorded once
//! (keyed on `message_id`, with its processing in the outbox, in one write)
//! and put on the processing queue; confirming it with Tiki's order API is the
//! processor's job. 5xx only when the message could not be stored, so that
//! Tiki's resend recovers it; 4xx for a message that can never be valid.

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tikivip_api::{
    Error, Failures, Handler, load_aws_config, reply, required_env, verified_body,
    verifier_and_store,
};
use tikivip_domain::tiniapp::TiniAppMessage;
use tikivip_domain::{Timestamp, TiniAppMessageId, TiniAppOrderId};
use tikivip_queue::IpnQueue;
use tikivip_queue::tiniapp::release;
use tikivip_signing::{HeaderFamily, Verifier};
use tikivip_store::{Receipt, Store};

/// The answer to a notification.
#[derive(Debug, Serialize)]
pub struct Received {
    pub message_id: TiniAppMessageId,
    pub order_id: TiniAppOrderId,
    /// The message had been received before; nothing changed.
    pub duplicate: bool,
}

pub struct TiniAppIpn {
    verifier: Verifier,
    store: Store,
    jobs: IpnQueue,
}

impl TiniAppIpn {
    pub fn new(verifier: Verifier, store: Store, jobs: IpnQueue) -> Self {
        TiniAppIpn {
            verifier,
            store,
            jobs,
        }
    }

    pub async fn from_env() -> Result<Self, Error> {
        let aws = load_aws_config().await;
        let queue_url = required_env("TINIAPP_QUEUE_URL")?;
        let dead_letter_url = required_env("TINIAPP_DEAD_LETTER_QUEUE_URL")?;
        let (verifier_and_store, jobs) = tokio::join!(
            verifier_and_store(
                &aws,
                HeaderFamily::Tiniapp,
                "TINIAPP_CLIENT_ID",
                "TINIAPP_CLIENT_SECRET"
            ),
            IpnQueue::connect(&aws, queue_url, dead_letter_url),
        );
        let (verifier, store) = verifier_and_store?;
        Ok(TiniAppIpn::new(verifier, store, jobs))
    }

    async fn receive(&self, request: &Request) -> Result<Received, Error> {
        let body = verified_body(&self.verifier, request)?;
        let now = Timestamp::now_utc();
        let message = TiniAppMessage::parse(body, now)?;
        let receipt = self
            .store
            .record_tiniapp_message(&message, body, now)
            .await?;
        let id = &message.message_id;
        if receipt == Receipt::Recorded {
            tracing::info!(message_id = %id, order_id = %message.order.id, notified_status = %message.order.status, "Tini App order notification recorded");
            // Safe in the outbox: a failure here only delays the processing
            // until the next sweep, so Tiki still gets its 200.
            if let Err(err) = release(&self.store, &self.jobs, id).await {
                tracing::warn!(message_id = %id, error = %err, "Tini App message left in the outbox for the sweeper");
            }
        } else {
            tracing::info!(message_id = %id, "Tini App order notification received again; nothing changed");
        }
        Ok(Received {
            message_id: message.message_id,
            order_id: message.order.id,
            duplicate: receipt == Receipt::Duplicate,
        })
    }
}

impl Handler for TiniAppIpn {
    async fn handle(&self, request: Request) -> Response<Body> {
        reply(self.receive(&request).await, Failures::Rest)
    }
}
