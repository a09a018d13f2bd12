//! Redrive: moving dead letters back to the queue, each job reopened (or
//! dropped) by the store's say, and what a redrive did.

use tikivip_domain::{IpnState, Timestamp, TransactionId};
use tikivip_store::Store;

use crate::{Error, IpnMessage, IpnQueue, parse};

impl IpnQueue {
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
