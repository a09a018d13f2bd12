//! The outbox sweeper, run on a schedule: releases to the queue every IPN job
//! whose transaction was settled but whose release did not happen (the
//! receiver died after its write, or SQS was down).

use std::time::Duration;

use tikivip_api::metrics::{self, Metric};
use tikivip_domain::Timestamp;
use tikivip_queue::tiniapp::{OrderEvents, TiniAppOutbox};
use tikivip_queue::{IpnQueue, Outbox, Swept};
use tikivip_store::Store;

/// Jobs younger than this are left to the receiver that settled them, so that
/// a sweep rarely releases a job twice.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(60);

pub struct Sweeper {
    outbox: Outbox,
    /// The Tini App outbox: received notifications not yet on the processing
    /// queue, accepted order changes not yet published.
    tiniapp: Option<TiniAppOutbox>,
    grace: Duration,
}

impl Sweeper {
    pub fn new(store: Store, queue: IpnQueue, grace: Duration) -> Self {
        Sweeper {
            outbox: Outbox::new(store, queue),
            tiniapp: None,
            grace,
        }
    }

    /// Sweeps the Tini App outbox too.
    pub fn with_tiniapp(mut self, tiniapp: TiniAppOutbox) -> Self {
        self.tiniapp = Some(tiniapp);
        self
    }

    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let grace = match std::env::var("OUTBOX_GRACE_SECONDS") {
            Ok(seconds) => Duration::from_secs(seconds.parse()?),
            Err(_) => DEFAULT_GRACE,
        };
        // Side by side: in AWS each is a TLS connection with a warm-up call.
        let aws = tikivip_api::load_aws_config().await;
        let (store, queue) = tokio::try_join!(
            async { Ok::<_, lambda_runtime::Error>(Store::from_env(&aws).await?) },
            async { Ok(IpnQueue::from_env(&aws).await?) },
        )?;
        let tiniapp = TiniAppOutbox::new(
            store.clone(),
            IpnQueue::connect(
                &aws,
                tikivip_api::required_env("TINIAPP_QUEUE_URL")?,
                tikivip_api::required_env("TINIAPP_DEAD_LETTER_QUEUE_URL")?,
            )
            .await,
            OrderEvents::new(
                aws_sdk_sqs::Client::new(&aws),
                tikivip_api::required_env("TINIAPP_EVENTS_QUEUE_URL")?,
            ),
        );
        Ok(Sweeper::new(store, queue, grace).with_tiniapp(tiniapp))
    }

    /// One sweep. It publishes how many jobs wait in the outbox and how long
    /// the oldest has (an alarm watches it), and fails, so that the function
    /// counts an error, when any job it tried could not be released.
    pub async fn sweep(&self) -> Result<Swept, tikivip_queue::Error> {
        let now = Timestamp::now_utc();
        let swept = self.outbox.sweep(now - self.grace, now).await?;
        metrics::record(Metric::OutboxWaiting, swept.waiting as u64);
        metrics::record(
            Metric::OutboxOldestAgeSeconds,
            swept.oldest.map_or(0, |age| age.as_secs()),
        );
        if swept.released > 0 {
            tracing::warn!(
                released = swept.released,
                "IPN jobs released from the outbox by the sweeper"
            );
        }
        let mut swept = swept;
        if let Some(tiniapp) = &self.tiniapp {
            let tiniapp_released = tiniapp.sweep(now - self.grace).await?;
            if tiniapp_released > 0 {
                tracing::warn!(
                    released = tiniapp_released,
                    "Tini App messages and order events released from the outbox by the sweeper"
                );
            }
            swept.released += tiniapp_released;
        }
        if swept.failed > 0 {
            metrics::record(Metric::OutboxReleaseFailures, swept.failed as u64);
            return Err(tikivip_queue::Error::Sqs(format!(
                "{} of the IPN jobs due could not be released; they stay in the outbox",
                swept.failed
            )));
        }
        Ok(swept)
    }
}
