use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use tikivip_domain::reconciliation::ChangeKind;
use tikivip_domain::{
    Error as Refusal, NewTransaction, TikiTransactionId, Transaction, TransactionId,
};

use crate::codec::{
    Item, Reader, attr, item_with_key, n, s, transaction_from_item, transaction_to_item,
};
use crate::schema::{Key, tiki_claim_key, transaction_key};
use crate::{Error, Store};

/// The answer to a create: the transaction, and whether this call made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub transaction: Transaction,
    pub is_new: bool,
}

/// How a `TransactWriteItems` ended, when DynamoDB answered.
pub(crate) enum Transacted {
    Committed,
    /// Cancelled by a failed condition.
    ConditionFailed(Cancelled),
}

/// A transaction cancelled by failed conditions, item by item.
pub(crate) struct Cancelled {
    failed: Vec<bool>,
    /// The item as it stood, for each failed write that asked for it
    /// (`ReturnValuesOnConditionCheckFailure = ALL_OLD`): the read a caller
    /// would otherwise make to learn why.
    current: Vec<Option<Item>>,
}

impl Cancelled {
    /// Whether the condition of the write at `index` failed.
    pub(crate) fn failed(&self, index: usize) -> bool {
        self.failed.get(index).copied().unwrap_or(false)
    }

    /// The item the write at `index` found, when its condition failed and it
    /// asked for it; `None` too when there was no such item.
    pub(crate) fn current(&mut self, index: usize) -> Option<Item> {
        self.current.get_mut(index).and_then(Option::take)
    }
}

/// Why DynamoDB cancelled a transaction, item by item.
#[derive(Debug, PartialEq, Eq)]
enum Cancellation {
    /// Some condition failed: a decision, answered to the caller.
    ConditionFailed(Vec<bool>),
    /// A concurrent write, throttling or a service hiccup: worth retrying.
    Transient(String),
    /// Anything else (a validation error, an item collection too large).
    Fault(String),
}

/// The cancellation reasons that go away by themselves.
const TRANSIENT_REASONS: [&str; 5] = [
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
    "InternalServerError",
];

fn classify(reasons: &[&str]) -> Cancellation {
    if let Some(transient) = reasons.iter().find(|r| TRANSIENT_REASONS.contains(r)) {
        return Cancellation::Transient((*transient).to_owned());
    }
    let failed: Vec<bool> = reasons
        .iter()
        .map(|r| *r == "ConditionalCheckFailed")
        .collect();
    if failed.contains(&true) {
        return Cancellation::ConditionFailed(failed);
    }
    Cancellation::Fault(format!("transaction cancelled: {}", reasons.join(", ")))
}

/// Retries of a transaction cancelled for a transient reason, before the
/// caller gets a system error.
pub(crate) const TRANSIENT_RETRIES: u32 = 6;

/// Capped exponential backoff with full jitter (AWS's advice): a uniform wait
/// in [0, min(cap, base·2^attempt)], so that writers that collided once do
/// not collide again in step.
pub(crate) fn backoff(attempt: u32, jitter: f64) -> Duration {
    const BASE: Duration = Duration::from_millis(20);
    const CAP: Duration = Duration::from_millis(1_000);
    let ceiling = BASE.saturating_mul(1 << attempt.min(16)).min(CAP);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

pub(crate) const NOT_EXISTS: &str = "attribute_not_exists(pk)";

impl Store {
    /// One `TransactWriteItems`. A cancellation for a transient reason
    /// (conflict, throttling) is retried with backoff and never taken for a
    /// failed condition; after [`TRANSIENT_RETRIES`] it is a system error.
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Transacted, Error> {
        let mut last = String::new();
        for attempt in 0..=TRANSIENT_RETRIES {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt, fastrand::f64())).await;
            }
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(Transacted::Committed),
                Err(err) => err,
            };
            let reasons = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    cancelled.cancellation_reasons().to_vec()
                }
                _ => return Err(err.into()),
            };
            let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("None")).collect();
            match classify(&codes) {
                Cancellation::ConditionFailed(failed) => {
                    return Ok(Transacted::ConditionFailed(Cancelled {
                        failed,
                        current: reasons.into_iter().map(|r| r.item).collect(),
                    }));
                }
                Cancellation::Fault(reason) => return Err(Error::Dynamo(reason)),
                Cancellation::Transient(reason) => {
                    tracing::warn!(attempt, %reason, "transaction cancelled for a transient reason; retrying");
                    last = reason;
                }
            }
        }
        Err(Error::Transient(last))
    }

    pub(crate) async fn get(&self, key: Key) -> Result<Option<Item>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_with_key(key)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item)
    }

    pub(crate) fn put(&self, item: Item, condition: &str) -> Result<TransactWriteItem, Error> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Stores a new PENDING transaction, idempotently on its Tiki id: the same
    /// Tiki id with the same amount returns the transaction already stored; with
    /// another amount it is refused and nothing changes. Racing creates store one.
    pub async fn create_transaction(&self, new: NewTransaction) -> Result<Created, Error> {
        let txn = new.into_pending();
        let mut claim = item_with_key(tiki_claim_key(&txn.tiki_id));
        claim.insert(attr::TRANSACTION_ID.into(), s(txn.id.as_str()));
        claim.insert(attr::AMOUNT.into(), n(txn.amount));
        let writes = vec![
            self.put(claim, NOT_EXISTS)?,
            self.put(
                transaction_to_item(&txn, transaction_key(&txn.id)),
                NOT_EXISTS,
            )?,
            self.ledger_put(&txn, ChangeKind::Created)?,
        ];
        match self.transact(writes).await? {
            Transacted::Committed => Ok(Created {
                transaction: txn,
                is_new: true,
            }),
            Transacted::ConditionFailed(_) => {
                // The claim and its transaction are written together, so a
                // failed condition means both exist.
                let existing = self
                    .transaction_by_tiki_id(&txn.tiki_id)
                    .await?
                    .ok_or_else(|| {
                        Error::corrupt("Tiki id claim", "claim without its transaction")
                    })?;
                if existing.amount != txn.amount {
                    return Err(Refusal::AmountMismatch {
                        existing: existing.amount,
                        requested: txn.amount,
                    }
                    .into());
                }
                Ok(Created {
                    transaction: existing,
                    is_new: false,
                })
            }
        }
    }

    pub async fn transaction(&self, id: &TransactionId) -> Result<Option<Transaction>, Error> {
        self.get(transaction_key(id))
            .await?
            .map(|item| transaction_from_item(&item))
            .transpose()
    }

    pub async fn transaction_by_tiki_id(
        &self,
        id: &TikiTransactionId,
    ) -> Result<Option<Transaction>, Error> {
        let Some(claim) = self.get(tiki_claim_key(id)).await? else {
            return Ok(None);
        };
        let transaction_id = Reader::new(&claim, "Tiki id claim")
            .parsed(attr::TRANSACTION_ID, TransactionId::parse)?;
        self.transaction(&transaction_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_condition_is_a_decision() {
        assert_eq!(
            classify(&["None", "ConditionalCheckFailed"]),
            Cancellation::ConditionFailed(vec![false, true])
        );
    }

    #[test]
    fn throttling_and_conflicts_are_transient_never_a_decision() {
        for reason in TRANSIENT_REASONS {
            assert!(matches!(
                classify(&["ConditionalCheckFailed", reason]),
                Cancellation::Transient(r) if r == reason
            ));
        }
    }

    #[test]
    fn any_other_reason_is_a_fault() {
        assert!(matches!(
            classify(&["ValidationError", "None"]),
            Cancellation::Fault(_)
        ));
    }

    #[test]
    fn backoff_is_capped_exponential_with_full_jitter() {
        assert_eq!(backoff(1, 1.0), Duration::from_millis(40));
        assert_eq!(backoff(3, 1.0), Duration::from_millis(160));
        assert_eq!(backoff(30, 1.0), Duration::from_millis(1_000));
        assert_eq!(backoff(3, 0.0), Duration::ZERO);
        assert_eq!(backoff(3, 0.5), Duration::from_millis(80));
        let waits: std::collections::HashSet<_> =
            (0..20).map(|_| backoff(4, fastrand::f64())).collect();
        assert!(waits.len() > 1, "jittered waits differ");
    }
}
