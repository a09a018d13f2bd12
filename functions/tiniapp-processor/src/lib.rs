//! The Tini App processor, triggered by the queue of received order
//! notifications, after they have been answered.
//!
//! For each message: ask Tiki's order API what the order is (the notification
//! is only a hint), then apply Tiki's state to the order record under the
//! forward-only rule (in the store's write condition) and publish the change
//! once. The order API being down is retried on the schedule (the message is
//! hidden for the delay and reported as a batch item failure); a spent
//! schedule sends the message to the dead-letter queue; an order Tiki does not
//! know is set aside with an alert.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use tikivip_domain::tiniapp::Order;
use tikivip_domain::{RetrySchedule, Timestamp};
use tikivip_queue::IpnQueue;
use tikivip_queue::batch::{Disposition, Fault, handle_batch};
use tikivip_queue::tiniapp::{OrderEvents, TiniAppDeadLetter, parse_job, publish};
use tikivip_store::{Applied, Store};
use tikivip_tiki_client::{OrderLookup, TikiEnvironment, TiniAppClient, timeout_from_env};

pub struct Processor {
    store: Store,
    jobs: IpnQueue,
    events: OrderEvents,
    tiniapp: TiniAppClient,
    schedule: RetrySchedule,
}

impl Processor {
    pub fn new(
        store: Store,
        jobs: IpnQueue,
        events: OrderEvents,
        tiniapp: TiniAppClient,
        schedule: RetrySchedule,
    ) -> Self {
        Processor {
            store,
            jobs,
            events,
            tiniapp,
            schedule,
        }
    }

    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let schedule = match std::env::var("TINIAPP_RETRY_DELAYS_SECONDS") {
            Ok(delays) => RetrySchedule::parse(&delays)?,
            Err(_) => RetrySchedule::default(),
        };
        let queue_url = tikivip_api::required_env("TINIAPP_QUEUE_URL")?;
        let dead_letter_url = tikivip_api::required_env("TINIAPP_DEAD_LETTER_QUEUE_URL")?;
        let events_url = tikivip_api::required_env("TINIAPP_EVENTS_QUEUE_URL")?;
        let aws = tikivip_api::load_aws_config().await;
        // The secret, the table and the queue side by side: in AWS each is a
        // TLS connection of its own.
        let (keys_and_store, jobs) = tokio::join!(
            tikivip_api::keys_and_store(&aws, "TINIAPP_CLIENT_ID", "TINIAPP_CLIENT_SECRET"),
            IpnQueue::connect(&aws, queue_url, dead_letter_url),
        );
        let (keys, store) = keys_and_store?;
        let newest = keys
            .into_iter()
            .next()
            .ok_or("TINIAPP_CLIENT_SECRET holds no secret")?;
        let tiniapp = TiniAppClient::new(
            &TikiEnvironment::from_env()?,
            newest.client_id,
            newest.secret,
            timeout_from_env()?,
        )?;
        let events = OrderEvents::new(aws_sdk_sqs::Client::new(&aws), events_url);
        Ok(Processor::new(store, jobs, events, tiniapp, schedule))
    }

    /// Handles a batch; answers with the messages to keep.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        handle_batch(&event, "Tini App message", |message| self.process(message)).await
    }

    async fn process(&self, sqs_message: &SqsMessage) -> Result<Disposition, Fault> {
        let job = parse_job(sqs_message.body.as_deref().unwrap_or_default())?;
        let id = &job.message_id;
        let Some(stored) = self.store.tiniapp_message(id).await? else {
            return Err(Fault(format!("Tini App message {id} is not stored")));
        };
        if stored.record.state != tikivip_domain::tiniapp::MessageState::Received {
            // A copy of a message already processed (released twice, or redelivered).
            return Ok(Disposition::Done);
        }
        let message = &stored.message;
        let order_id = &message.order.id;
        let now = Timestamp::now_utc();
        match self.tiniapp.order(order_id).await {
            Ok(OrderLookup::Found(confirmed)) => {
                if confirmed.status != message.order.status
                    || confirmed.grand_total != message.order.grand_total
                {
                    tracing::warn!(message_id = %id, %order_id, notified_status = %message.order.status, confirmed_status = %confirmed.status, notified_total = %message.order.grand_total, confirmed_total = %confirmed.grand_total, "Tiki's order API contradicts the notification; Tiki's state is kept");
                }
                let order = Order::confirmed(message, &confirmed, now);
                match self.store.apply_tiniapp_order(&order).await? {
                    Applied::Changed(event) => {
                        tracing::info!(message_id = %id, %order_id, status = %event.status, previous_status = ?event.previous_status, "Tini App order status changed");
                        // The event is safe in the outbox: a failure here
                        // only delays it until the next sweep.
                        if let Err(err) = publish(&self.store, &self.events, &event).await {
                            tracing::warn!(event_id = %event.event_id, error = %err, "order event left in the outbox for the sweeper");
                        }
                    }
                    Applied::Unchanged => {
                        tracing::info!(message_id = %id, %order_id, confirmed_status = %order.status, "Tini App message older than the order's status, or no step forward; nothing changed");
                    }
                    Applied::AlreadyProcessed => {}
                }
                Ok(Disposition::Done)
            }
            Ok(OrderLookup::NotFound) => {
                self.store.set_tiniapp_message_aside(id, now).await?;
                tracing::error!(message_id = %id, %order_id, alert = "tiniapp_unknown_order", "Tiki's order API does not know this order: the message is set aside");
                Ok(Disposition::Done)
            }
            Err(err) => {
                let attempts = stored.record.attempts + 1;
                let reason = err.to_string();
                let jitter = fastrand::f64() * 2.0 - 1.0;
                match self.schedule.delay_after(attempts, jitter) {
                    Some(delay) => {
                        self.store
                            .record_tiniapp_attempt(id, attempts, &reason, false)
                            .await?;
                        let receipt = sqs_message.receipt_handle.as_deref().unwrap_or_default();
                        self.jobs.retry_after(receipt, delay).await?;
                        tracing::warn!(message_id = %id, attempts, %reason, delay_s = delay.as_secs(), "Tiki's order API could not be asked; retrying");
                        Ok(Disposition::Again)
                    }
                    None => {
                        // Dead-letter first: if recording fails after, the
                        // message is tried again rather than lost.
                        self.jobs
                            .dead_letter_json(&TiniAppDeadLetter {
                                message_id: id.clone(),
                                attempts,
                                last_error: reason.clone(),
                                dead_at: now,
                            })
                            .await?;
                        self.store
                            .record_tiniapp_attempt(id, attempts, &reason, true)
                            .await?;
                        tracing::error!(message_id = %id, attempts, %reason, alert = "tiniapp_dead_lettered", "Tiki's order API stayed unreachable; the message is in the dead-letter queue");
                        Ok(Disposition::Done)
                    }
                }
            }
        }
    }
}
