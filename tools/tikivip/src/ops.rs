//! An operator's commands: what the runbook asks for.

use serde_json::json;
use tikivip_domain::{Timestamp, Transaction, TransactionId};
use tikivip_queue::IpnQueue;
use tikivip_store::Store;

use crate::Error;

/// Moves every dead-lettered IPN job back to the queue, each with a fresh
/// retry schedule. Returns the transactions whose jobs were moved.
pub async fn redrive(store: &Store, queue: &IpnQueue) -> Result<Vec<TransactionId>, Error> {
    let now = Timestamp::now_utc();
    let moved = queue
        .redrive(|id| async move { store.reopen_ipn(&id, now).await.map(|_| ()) })
        .await?;
    Ok(moved)
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
