//! The queue client: SQS's limits, the IPN queue and its dead-letter queue
//! (found, created or connected at init), and the calls that send to them.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::QueueAttributeName;
use serde::Serialize;

use crate::message::to_json;
use crate::{DeadLetter, Error, IpnMessage};

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

/// The IPN queue and its dead-letter queue.
#[derive(Clone, Debug)]
pub struct IpnQueue {
    pub(crate) client: Client,
    queue_url: String,
    pub(crate) dead_letter_url: String,
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
