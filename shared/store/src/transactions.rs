use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
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
    /// Cancelled; for each item, whether its condition failed.
    ConditionFailed(Vec<bool>),
}

/// Concurrent transactions on one item are cancelled by DynamoDB with
/// `TransactionConflict`; they are retried this many times.
const CONFLICT_RETRIES: u32 = 8;

pub(crate) const NOT_EXISTS: &str = "attribute_not_exists(pk)";

impl Store {
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Transacted, Error> {
        for attempt in 0..=CONFLICT_RETRIES {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let reasons = match result {
                Ok(_) => return Ok(Transacted::Committed),
                Err(SdkError::ServiceError(ref e))
                    if matches!(
                        e.err(),
                        TransactWriteItemsError::TransactionCanceledException(_)
                    ) =>
                {
                    let TransactWriteItemsError::TransactionCanceledException(cancelled) = e.err()
                    else {
                        unreachable!("matched above")
                    };
                    cancelled
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().unwrap_or("None").to_owned())
                        .collect::<Vec<_>>()
                }
                Err(err) => return Err(err.into()),
            };
            if reasons.iter().any(|code| code == "TransactionConflict") {
                // Back off a little more each time; another writer holds the item.
                tokio::time::sleep(Duration::from_millis(10 << attempt.min(5))).await;
                continue;
            }
            return Ok(Transacted::ConditionFailed(
                reasons
                    .iter()
                    .map(|code| code == "ConditionalCheckFailed")
                    .collect(),
            ));
        }
        Err(Error::Contention)
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
