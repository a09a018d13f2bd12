//! An operator's commands: what the runbook asks for.

use serde_json::json;
use tikivip_domain::wire::Text;
use tikivip_domain::{IpnJob, RefundRequest, Timestamp, Transaction, TransactionId, Vnd};
use tikivip_queue::{IpnQueue, Redriven};
use tikivip_store::{Refunded, Store};
use time::format_description::well_known::Rfc3339;

use crate::Error;

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

/// One line of JSON per alert.
pub fn alert_line(txn: &Transaction, job: &IpnJob) -> String {
    json!({
        "alert": job.state.as_str(),
        "transaction_id": txn.id,
        "tiki_transaction_id": txn.tiki_id,
        "transaction_amount": txn.amount,
        "status": txn.status,
        "reason": job.last_error,
        "updated_at": rfc3339(txn.updated_at),
    })
    .to_string()
}

fn rfc3339(at: Timestamp) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// The transactions whose customers must be refunded by an operator: Tiki
/// refused their IPN, or does not know a payment we took.
pub async fn refunds_required(store: &Store) -> Result<Vec<Transaction>, Error> {
    Ok(store.transactions_needing_refund().await?)
}

/// One line of JSON per transaction, for people and for `jq`.
pub fn refund_line(txn: &Transaction) -> String {
    json!({
        "transaction_id": txn.id,
        "tiki_transaction_id": txn.tiki_id,
        "transaction_amount": txn.amount,
        "refunded_amount": txn.refunded,
        "status": txn.status,
        "updated_at": txn.updated_at.to_string(),
    })
    .to_string()
}
