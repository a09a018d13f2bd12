//! The queue of IPN jobs on SQS.
//!
//! A message names one settled transaction and the chain of attempts it
//! belongs to; the dispatcher reads the job itself from the transaction. A
//! dead letter also carries the IPN, so that it says on its own what was not
//! delivered.
//! Retry delays use SQS itself: a failed message is hidden for the delay
//! (its visibility timeout) and reported as a batch item failure.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, SdkError};
use aws_sdk_sqs::types::QueueAttributeName;
use serde::{Deserialize, Serialize};
use tikivip_domain::{Ipn, IpnState, Timestamp, TransactionId};
use tikivip_store::Store;

pub mod tiniapp;

/// SQS hides a message for at most 12 hours counted from the receive that
/// returned it: a visibility timeout that would end later is refused.
pub const VISIBILITY_WINDOW: Duration = Duration::from_secs(12 * 60 * 60);

/// The longest the dispatcher hides a message for: the window less what may
/// already have passed since the receive (Lambda's poller batches for up to
/// 5 minutes, and the dispatcher runs for up to its timeout before hiding).
/// A longer delay is hidden again at the next receive.
pub const MAX_HIDE: Duration = Duration::from_secs(12 * 60 * 60 - 15 * 60);

/// A job that fails this many receives without being settled goes to the
/// dead-letter queue by SQS's own redrive policy: a backstop for a dispatcher
/// that crashes on a message. Ordinary exhaustion is dead-lettered explicitly,
/// so it must exceed the receives the retry schedule needs
/// ([`tikivip_domain::RetrySchedule::receives_needed`]: 11 for the default).
pub const MAX_RECEIVE_COUNT: u32 = 20;

/// One IPN job on the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpnMessage {
    pub transaction_id: TransactionId,
    /// The chain of attempts it belongs to ([`tikivip_domain::IpnJob::chain`]).
    #[serde(default)]
    pub chain: u32,
}

/// A message as the dispatcher receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub message: IpnMessage,
    /// It is a dead letter, moved back by SQS's own redrive (the console's
    /// "start DLQ redrive"): the one copy that may reopen a spent job.
    pub dead_letter: bool,
}

/// An IPN job that spent its schedule, as it waits in the dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    #[serde(flatten)]
    pub message: IpnMessage,
    /// What was not delivered, for whoever reads the dead-letter queue.
    pub ipn: Ipn,
    pub attempts: u32,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub dead_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("SQS call failed: {0}")]
    Sqs(String),
    #[error("queue configuration: {0}")]
    Config(String),
    #[error("message is not an IPN job: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] tikivip_store::Error),
}

impl<E: std::error::Error + 'static, R: std::fmt::Debug> From<SdkError<E, R>> for Error {
    fn from(err: SdkError<E, R>) -> Self {
        Error::Sqs(DisplayErrorContext(&err).to_string())
    }
}

/// The IPN queue and its dead-letter queue.
#[derive(Clone, Debug)]
pub struct IpnQueue {
    client: Client,
    queue_url: String,
    dead_letter_url: String,
    max_hide: Duration,
}

impl IpnQueue {
    pub fn new(
        client: Client,
        queue_url: impl Into<String>,
        dead_letter_url: impl Into<String>,
    ) -> Self {
        IpnQueue {
            client,
            queue_url: queue_url.into(),
            dead_letter_url: dead_letter_url.into(),
            max_hide: MAX_HIDE,
        }
    }

    /// Hides messages for at most `max_hide` per receive (default
    /// [`MAX_HIDE`]; tests scale SQS's window down with the emulator's).
    pub fn with_max_hide(mut self, max_hide: Duration) -> Self {
        self.max_hide = max_hide;
        self
    }

    pub fn max_hide(&self) -> Duration {
        self.max_hide
    }

    /// The queues named by `IPN_QUEUE_URL` and `IPN_DEAD_LETTER_QUEUE_URL`.
    ///
    /// It also makes one cheap call (`GetQueueAttributes` of the queue's ARN),
    /// so that the connection to SQS (TCP, TLS) and the SDK's first-call
    /// set-up are done during init rather than in the first event. Best
    /// effort: on a failure the first real call connects, as it would have.
    pub async fn from_env(aws: &SdkConfig) -> Result<Self, Error> {
        let url = |name: &str| {
            std::env::var(name).map_err(|_| Error::Config(format!("{name} is not set")))
        };
        Ok(IpnQueue::connect(
            aws,
            url("IPN_QUEUE_URL")?,
            url("IPN_DEAD_LETTER_QUEUE_URL")?,
        )
        .await)
    }

    /// The queue at `queue_url` and its dead-letter queue, with the warm-up
    /// call of [`IpnQueue::from_env`]. Call once per process, during init.
    pub async fn connect(aws: &SdkConfig, queue_url: String, dead_letter_url: String) -> Self {
        use aws_sdk_sqs::config::retry::RetryConfig;
        use aws_sdk_sqs::config::timeout::TimeoutConfig;

        let queue = IpnQueue::new(Client::new(aws), queue_url, dead_letter_url);
        let warm_up = queue
            .client
            .get_queue_attributes()
            .queue_url(&queue.queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .customize()
            .config_override(
                aws_sdk_sqs::Config::builder()
                    .retry_config(RetryConfig::disabled())
                    .timeout_config(
                        TimeoutConfig::builder()
                            .operation_timeout(Duration::from_secs(2))
                            .build(),
                    ),
            )
            .send()
            .await;
        match warm_up {
            Ok(_) => tracing::debug!(queue_url = %queue.queue_url, "SQS connection opened at init"),
            Err(err) => tracing::warn!(
                queue_url = %queue.queue_url,
                error = %DisplayErrorContext(&err),
                "SQS warm-up at init failed; the first call will connect"
            ),
        }
        queue
    }

    /// Creates both queues with the deployment's redrive policy (development
    /// and tests; in AWS the template creates them). Returns their URLs.
    pub async fn create(
        client: Client,
        name: &str,
        visibility: Duration,
    ) -> Result<IpnQueue, Error> {
        let dead = client
            .create_queue()
            .queue_name(format!("{name}-dead-letter"))
            .send()
            .await?;
        let dead_letter_url = dead
            .queue_url
            .ok_or_else(|| Error::Sqs("no dead-letter queue URL".into()))?;
        let arn = client
            .get_queue_attributes()
            .queue_url(&dead_letter_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| Error::Sqs("no dead-letter queue ARN".into()))?;
        let policy =
            serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVE_COUNT});
        let main = client
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::RedrivePolicy, policy.to_string())
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                visibility.as_secs().to_string(),
            )
            .send()
            .await?;
        let queue_url = main
            .queue_url
            .ok_or_else(|| Error::Sqs("no queue URL".into()))?;
        Ok(IpnQueue::new(client, queue_url, dead_letter_url))
    }

    /// The queue `name` and its dead-letter queue `{name}-dead-letter`, found
    /// by name (the SAM stack outputs the names).
    pub async fn named(client: Client, name: &str) -> Result<IpnQueue, Error> {
        let url = |name: String| {
            let client = client.clone();
            async move {
                client
                    .get_queue_url()
                    .queue_name(&name)
                    .send()
                    .await?
                    .queue_url
                    .ok_or_else(|| Error::Sqs(format!("no URL for queue {name}")))
            }
        };
        let queue_url = url(name.to_owned()).await?;
        let dead_letter_url = url(format!("{name}-dead-letter")).await?;
        Ok(IpnQueue::new(client, queue_url, dead_letter_url))
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn dead_letter_url(&self) -> &str {
        &self.dead_letter_url
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn enqueue(&self, message: &IpnMessage) -> Result<(), Error> {
        self.send(&self.queue_url, &to_json(message)).await
    }

    /// Hides a received message for `delay`, or for what one receive may hide
    /// it ([`IpnQueue::with_max_hide`]) if that is less; the job's own
    /// `next_attempt_at` then has it hidden again at the next receive.
    pub async fn retry_after(&self, receipt_handle: &str, delay: Duration) -> Result<(), Error> {
        let seconds = delay.min(self.max_hide).as_secs().max(1);
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds as i32)
            .send()
            .await?;
        Ok(())
    }

    pub async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), Error> {
        self.send(&self.dead_letter_url, &to_json(letter)).await
    }

    /// Any job of this queue's kind, as JSON (the Tini App processing queue's).
    pub async fn send_json<T: Serialize>(&self, message: &T) -> Result<(), Error> {
        self.send(&self.queue_url, &to_json(message)).await
    }

    /// Any spent job, as JSON, to the dead-letter queue.
    pub async fn dead_letter_json<T: Serialize>(&self, letter: &T) -> Result<(), Error> {
        self.send(&self.dead_letter_url, &to_json(letter)).await
    }

    /// Moves the messages of the dead-letter queue back to the queue.
    /// `reopen` is asked, for each job, which chain its message must carry
    /// (a spent job gets a new one), or `None` to drop a job that has ended.
    /// A message that cannot be read is set aside: left in the dead-letter
    /// queue, hidden for this run, and reported.
    pub async fn redrive<F, Fut, E>(&self, mut reopen: F) -> Result<Redriven, Error>
    where
        F: FnMut(IpnMessage) -> Fut,
        Fut: std::future::Future<Output = Result<Option<u32>, E>>,
        E: std::fmt::Display,
    {
        let mut report = Redriven::default();
        loop {
            let batch = self
                .client
                .receive_message()
                .queue_url(&self.dead_letter_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                // Long enough that a message set aside is not seen again in this run.
                .visibility_timeout(300)
                .send()
                .await?;
            let messages = batch.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(report);
            }
            for sqs_message in messages {
                let body = sqs_message.body.unwrap_or_default();
                let mut message = match parse(&body) {
                    Ok(message) => message,
                    Err(err) => {
                        report.set_aside.push(SetAside {
                            message_id: sqs_message.message_id.unwrap_or_default(),
                            reason: err.to_string(),
                        });
                        continue;
                    }
                };
                let id = message.transaction_id.clone();
                let chain = reopen(message.clone())
                    .await
                    .map_err(|e| Error::Sqs(format!("reopening {id}: {e}")))?;
                match chain {
                    Some(chain) => {
                        message.chain = chain;
                        self.enqueue(&message).await?;
                        report.moved.push(id);
                    }
                    None => report.dropped.push(id),
                }
                if let Some(handle) = sqs_message.receipt_handle {
                    self.client
                        .delete_message()
                        .queue_url(&self.dead_letter_url)
                        .receipt_handle(handle)
                        .send()
                        .await?;
                }
            }
        }
    }

    async fn send(&self, queue_url: &str, body: &str) -> Result<(), Error> {
        self.client
            .send_message()
            .queue_url(queue_url)
            .message_body(body)
            .send()
            .await?;
        Ok(())
    }
}

/// The chain of attempts a message moved back from the dead-letter queue must
/// carry: a spent job is reopened as a new chain (once, however many copies
/// ask), a pending one keeps its chain, and an ended one is not redriven.
pub async fn chain_for_redrive(
    store: &Store,
    message: &IpnMessage,
    now: Timestamp,
) -> Result<Option<u32>, Error> {
    let id = &message.transaction_id;
    let Some(job) = store.ipn_job(id).await? else {
        return Err(Error::Malformed(format!("transaction {id} has no IPN job")));
    };
    Ok(match job.state {
        IpnState::Exhausted => store.reopen_ipn(id, job.chain, now).await?,
        IpnState::Pending => Some(job.chain),
        _ => None,
    })
}

/// What a redrive did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Redriven {
    /// Back on the queue.
    pub moved: Vec<TransactionId>,
    /// Their jobs had ended meanwhile (delivered, say): removed.
    pub dropped: Vec<TransactionId>,
    /// Unreadable: left in the dead-letter queue.
    pub set_aside: Vec<SetAside>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAside {
    pub message_id: String,
    pub reason: String,
}

/// Reads an IPN job from a message body: a plain job, or a dead letter.
pub fn parse(body: &str) -> Result<IpnMessage, Error> {
    received(body).map(|r| r.message)
}

/// Reads a message as the dispatcher receives it, telling a dead letter apart.
pub fn received(body: &str) -> Result<Received, Error> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(flatten)]
        message: IpnMessage,
        dead_at: Option<String>,
    }
    let body: Body = serde_json::from_str(body).map_err(|e| Error::Malformed(e.to_string()))?;
    Ok(Received {
        message: body.message,
        dead_letter: body.dead_at.is_some(),
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("IPN messages serialise")
}

/// Moves IPN jobs from the outbox (on their transactions) to the queue.
///
/// The settling write puts each job in the outbox; the receiver enqueues it
/// right away, which only saves time, and the dispatcher's first recorded
/// attempt takes it out. If the process dies before, or SQS is down, the
/// scheduled sweep releases it later: no job is lost, and a job released
/// twice is delivered idempotently by the dispatcher.
#[derive(Clone, Debug)]
pub struct Outbox {
    store: Store,
    queue: IpnQueue,
}

impl Outbox {
    pub fn new(store: Store, queue: IpnQueue) -> Self {
        Outbox { store, queue }
    }

    /// Puts the IPN job of a settled transaction on the queue, then takes it
    /// out of the outbox, so that a job the dispatcher is slow to reach is
    /// released once by the sweep, not at every sweep.
    pub async fn release(&self, id: TransactionId, chain: u32) -> Result<(), Error> {
        self.queue
            .enqueue(&IpnMessage {
                transaction_id: id.clone(),
                chain,
            })
            .await?;
        self.store.mark_ipn_enqueued(&id).await?;
        Ok(())
    }

    /// Releases every job settled at or before `settled_before` that is still
    /// in the outbox. A job that fails to release is left for the next sweep
    /// and counted.
    pub async fn sweep(&self, settled_before: Timestamp, now: Timestamp) -> Result<Swept, Error> {
        let waiting = self.store.ipn_outbox().await?;
        let mut swept = Swept {
            waiting: waiting.len(),
            oldest: waiting
                .first()
                .map(|(_, at)| std::time::Duration::try_from(now - *at).unwrap_or_default()),
            ..Swept::default()
        };
        for (id, _) in waiting.into_iter().filter(|(_, at)| *at <= settled_before) {
            let released = match self.store.ipn_job(&id).await? {
                Some(job) => self.release(id.clone(), job.chain).await,
                None => Err(Error::Malformed(format!(
                    "outbox entry {id} has no IPN job"
                ))),
            };
            match released {
                Ok(()) => swept.released += 1,
                Err(err) => {
                    swept.failed += 1;
                    tracing::error!(transaction_id = %id, error = %err, "IPN job could not be released; left in the outbox");
                }
            }
        }
        Ok(swept)
    }
}

/// What a sweep found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Jobs in the outbox when the sweep began, however young.
    pub waiting: usize,
    /// How long the oldest of them had waited.
    pub oldest: Option<std::time::Duration>,
    pub released: usize,
    pub failed: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Jobs enqueued before messages stopped carrying the IPN (during a
    /// deployment) are still read: the dispatcher takes the IPN from the
    /// transaction either way.
    #[test]
    fn a_message_that_still_carries_its_ipn_is_read() {
        let body = r#"{"transaction_id":"T0193a1b2c3d4e5f60718293a4b5c6d7e","ipn":{"reference_transaction_id":"88062110977884170","transaction_amount":99000,"transaction_id":"T0193a1b2c3d4e5f60718293a4b5c6d7e","status":"SUCCESS"},"chain":1}"#;
        let received = received(body).unwrap();
        assert_eq!(
            received.message,
            IpnMessage {
                transaction_id: TransactionId::parse("T0193a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
                chain: 1,
            }
        );
        assert!(!received.dead_letter);
    }

    #[test]
    fn a_dead_letter_is_told_apart_and_keeps_its_ipn() {
        let letter = DeadLetter {
            message: IpnMessage {
                transaction_id: TransactionId::parse("T0193a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
                chain: 0,
            },
            ipn: Ipn {
                reference_transaction_id: tikivip_domain::TikiTransactionId::parse(
                    "88062110977884170",
                )
                .unwrap(),
                transaction_amount: tikivip_domain::Vnd::new(99_000).unwrap(),
                transaction_id: TransactionId::parse("T0193a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
                status: tikivip_domain::TransactionStatus::Success,
                partner_banking_method: None,
            },
            attempts: 8,
            last_error: Some("HTTP 503".into()),
            dead_at: Timestamp::now_utc(),
        };
        let body = to_json(&letter);
        assert!(body.contains("\"reference_transaction_id\""), "{body}");
        let received = received(&body).unwrap();
        assert!(received.dead_letter);
        assert_eq!(received.message, letter.message);
    }
}
