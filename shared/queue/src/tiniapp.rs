//! The Tini App side of the queues: the processing queue of received order
//! notifications (an [`IpnQueue`]: a queue, its dead-letter queue, delays by
//! visibility), the FIFO queue on which each accepted order change is
//! published for the partner's own systems ([`OrderEvents`]), and the outbox
//! that moves both out of the table ([`TiniAppOutbox`]).

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tikivip_domain::tiniapp::OrderEvent;
use tikivip_domain::{Timestamp, TiniAppMessageId};
use tikivip_store::Store;

use crate::{Error, IpnQueue};

/// One received notification to confirm and apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TiniAppJob {
    pub message_id: TiniAppMessageId,
}

/// A notification Tiki's order API could not confirm within the schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TiniAppDeadLetter {
    pub message_id: TiniAppMessageId,
    pub attempts: u32,
    pub last_error: String,
    #[serde(with = "time::serde::rfc3339")]
    pub dead_at: Timestamp,
}

/// Reads a job from a message body: a plain job, or a dead letter.
pub fn parse_job(body: &str) -> Result<TiniAppJob, Error> {
    serde_json::from_str(body).map_err(|e| Error::Malformed(e.to_string()))
}

/// The FIFO queue of order events. SQS drops a second message with the same
/// deduplication id within five minutes, and the id is the event's own, so an
/// event released twice (the processor and the sweeper) is published once;
/// the group is the order, so one order's events arrive in order.
#[derive(Clone, Debug)]
pub struct OrderEvents {
    client: Client,
    queue_url: String,
}

impl OrderEvents {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        OrderEvents {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Creates the FIFO queue `{name}.fifo` (development and tests; in AWS
    /// the template creates it).
    pub async fn create(client: Client, name: &str) -> Result<OrderEvents, Error> {
        let created = client
            .create_queue()
            .queue_name(format!("{name}.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
            .send()
            .await?;
        let url = created
            .queue_url
            .ok_or_else(|| Error::Sqs("no order events queue URL".into()))?;
        Ok(OrderEvents::new(client, url))
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn publish(&self, event: &OrderEvent) -> Result<(), Error> {
        let body = serde_json::to_string(event).expect("order events serialise");
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_group_id(event.order_id.as_str())
            .message_deduplication_id(deduplication_id(&event.event_id))
            .send()
            .await?;
        Ok(())
    }

    /// Receives (and deletes) what is on the queue within `wait`: for tests
    /// and operators, who play the partner's systems.
    pub async fn drain(&self, wait: Duration) -> Result<Vec<OrderEvent>, Error> {
        let mut events = Vec::new();
        loop {
            let batch = self
                .client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait.as_secs() as i32)
                .send()
                .await?;
            let messages = batch.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(events);
            }
            for message in messages {
                let body = message.body.unwrap_or_default();
                events.push(
                    serde_json::from_str(&body).map_err(|e| Error::Malformed(e.to_string()))?,
                );
                if let Some(handle) = message.receipt_handle {
                    self.client
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await?;
                }
            }
        }
    }
}

/// SQS takes at most 128 characters: the event id's SHA-256, in hex.
fn deduplication_id(event_id: &str) -> String {
    hex::encode(Sha256::digest(event_id.as_bytes()))
}

/// Puts a recorded message's processing on the queue, then takes it out of
/// the outbox.
pub async fn release(
    store: &Store,
    jobs: &IpnQueue,
    message_id: &TiniAppMessageId,
) -> Result<(), Error> {
    jobs.send_json(&TiniAppJob {
        message_id: message_id.clone(),
    })
    .await?;
    store.mark_tiniapp_enqueued(message_id).await?;
    Ok(())
}

/// Publishes an accepted change, then takes it out of the outbox.
pub async fn publish(store: &Store, events: &OrderEvents, event: &OrderEvent) -> Result<(), Error> {
    events.publish(event).await?;
    store.mark_tiniapp_event_published(event).await?;
    Ok(())
}

/// Moves Tini App work out of the table: received messages to the
/// processing queue, accepted changes' events to the order events queue.
/// Releasing at once only saves time; the scheduled sweep releases whatever
/// a crash or an SQS outage left behind.
#[derive(Clone, Debug)]
pub struct TiniAppOutbox {
    store: Store,
    jobs: IpnQueue,
    events: OrderEvents,
}

impl TiniAppOutbox {
    pub fn new(store: Store, jobs: IpnQueue, events: OrderEvents) -> Self {
        TiniAppOutbox {
            store,
            jobs,
            events,
        }
    }

    pub fn jobs(&self) -> &IpnQueue {
        &self.jobs
    }

    pub fn events(&self) -> &OrderEvents {
        &self.events
    }

    pub async fn release(&self, message_id: &TiniAppMessageId) -> Result<(), Error> {
        release(&self.store, &self.jobs, message_id).await
    }

    pub async fn publish(&self, event: &OrderEvent) -> Result<(), Error> {
        publish(&self.store, &self.events, event).await
    }

    /// Releases every message received, and publishes every event accepted,
    /// at or before `before` that is still in the outbox. Returns how many;
    /// one that fails is left for the next sweep.
    pub async fn sweep(&self, before: Timestamp) -> Result<usize, Error> {
        let mut released = 0;
        for id in self.store.tiniapp_outbox(before).await? {
            match self.release(&id).await {
                Ok(()) => released += 1,
                Err(err) => {
                    tracing::warn!(message_id = %id, error = %err, "Tini App message left in the outbox")
                }
            }
        }
        for event in self.store.tiniapp_event_outbox(before).await? {
            match self.publish(&event).await {
                Ok(()) => released += 1,
                Err(err) => {
                    tracing::warn!(event_id = %event.event_id, error = %err, "order event left in the outbox")
                }
            }
        }
        Ok(released)
    }
}
