//! An operator's commands: what the runbook asks for.

use serde_json::{Value, json};
use tikivip_domain::wire::Text;
use tikivip_domain::{IpnJob, RefundRequest, Timestamp, Transaction, TransactionId, Vnd};
use tikivip_queue::{IpnQueue, Redriven};
use tikivip_store::{Refunded, Store};

use crate::Error;
use crate::output::{self, Listing};

/// Moves every dead-lettered IPN job back to the queue: a spent job as one
/// new chain of attempts with a fresh schedule, a job that ended meanwhile
/// not at all. Unreadable messages are set aside and reported.
pub async fn redrive(store: &Store, queue: &IpnQueue) -> Result<Redriven, Error> {
    let now = Timestamp::now_utc();
    let redriven = queue
        .redrive(
            |message| async move { tikivip_queue::chain_for_redrive(store, &message, now).await },
        )
        .await?;
    Ok(redriven)
}

/// What an operator tells of a refund made by hand.
pub struct HandRefund {
    pub transaction_id: TransactionId,
    pub amount: Vnd,
    /// The operator's own reference for the refund (a ticket, a bank transfer).
    pub reference: String,
    pub reason: String,
    pub operator: String,
}

/// Records a refund an operator made outside this system through the same
/// refund write as Tiki's, and takes the transaction off the refund-required
/// list. Running it again with the same reference changes nothing.
pub async fn record_hand_refund(store: &Store, refund: &HandRefund) -> Result<Refunded, Error> {
    let invalid = |what: &str, e: tikivip_domain::Error| -> Error { format!("{what}: {e}").into() };
    let txn = store
        .transaction(&refund.transaction_id)
        .await?
        .ok_or_else(|| -> Error { format!("no transaction {}", refund.transaction_id).into() })?;
    let request = RefundRequest::by_operator(
        &txn,
        refund.amount,
        Text::new(refund.reason.as_str()).map_err(|e| invalid("--reason", e))?,
        Text::new(refund.operator.as_str()).map_err(|e| invalid("--operator", e))?,
        Text::new(refund.reference.as_str()).map_err(|e| invalid("--reference", e))?,
    )
    .map_err(|e| invalid("--reference", e))?;
    Ok(store
        .close_out_refund(&request, Timestamp::now_utc())
        .await?)
}

/// Jobs that ended in an alert: Tiki reporting SUCCESS for a payment we hold
/// as FAILURE, and status answers naming another id or amount than ours.
pub async fn ipn_alerts(store: &Store) -> Result<Vec<(Transaction, IpnJob)>, Error> {
    Ok(store.ipn_alerts().await?)
}

/// The alerts as `tikivip ipn-alerts` lists them.
pub fn alerts_listing(alerts: &[(Transaction, IpnJob)]) -> Listing {
    let mut listing = Listing::new(&[
        "alert",
        "transaction_id",
        "tiki_transaction_id",
        "transaction_amount",
        "status",
        "updated_at",
        "reason",
    ]);
    for (txn, job) in alerts {
        listing.push(vec![
            json!(job.state.as_str()),
            json!(txn.id),
            json!(txn.tiki_id),
            json!(txn.amount),
            json!(txn.status),
            json!(output::time(txn.updated_at)),
            json!(job.last_error),
        ]);
    }
    listing
}

/// The transactions whose customers must be refunded by an operator: Tiki
/// refused their IPN, or does not know a payment we took.
pub async fn refunds_required(store: &Store) -> Result<Vec<Transaction>, Error> {
    Ok(store.transactions_needing_refund().await?)
}

/// The transactions as `tikivip refunds-required` lists them.
pub fn refunds_listing(transactions: &[Transaction]) -> Listing {
    let mut listing = Listing::new(&[
        "transaction_id",
        "tiki_transaction_id",
        "transaction_amount",
        "refunded_amount",
        "status",
        "updated_at",
    ]);
    for txn in transactions {
        listing.push(vec![
            json!(txn.id),
            json!(txn.tiki_id),
            json!(txn.amount),
            json!(txn.refunded),
            json!(txn.status),
            json!(output::time(txn.updated_at)),
        ]);
    }
    listing
}

/// What `tikivip redrive` did with each dead letter: `moved` back to the
/// queue, `dropped` (its job had ended), or `set_aside` (unreadable, left in
/// the dead-letter queue; the SQS message id and why).
pub fn redriven_listing(redriven: &Redriven) -> Listing {
    let mut listing = Listing::new(&["outcome", "transaction_id", "message_id", "reason"]);
    let ended = |outcome: &str, id: &TransactionId| {
        vec![json!(outcome), json!(id), Value::Null, Value::Null]
    };
    for id in &redriven.moved {
        listing.push(ended("moved", id));
    }
    for id in &redriven.dropped {
        listing.push(ended("dropped", id));
    }
    for set_aside in &redriven.set_aside {
        listing.push(vec![
            json!("set_aside"),
            Value::Null,
            json!(set_aside.message_id),
            json!(set_aside.reason),
        ]);
    }
    listing
}
