//! The outbox of IPN jobs on their transactions, and the sweep that releases
//! what the receiver could not enqueue: the store's side of sending.

use tikivip_domain::{Timestamp, TransactionId};
use tikivip_store::Store;

use crate::{Error, IpnMessage, IpnQueue};

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
