use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use tikivip_domain::reconciliation::ChangeKind;
use tikivip_domain::{
    Error as Refusal, Fingerprint, Refund, RefundOrigin, RefundReceipt, RefundRequest, Timestamp,
    Transaction, TransactionStatus,
};

use crate::codec::{Reader, attr, item_with_key, n, refund_to_value, s, timestamp};
use crate::schema::{refund_request_key, transaction_key};
use crate::transactions::{NOT_EXISTS, Transacted};
use crate::{Error, Store};

/// The answer to a refund request, and whether this call made the refund
/// (false: a replay of one made before).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refunded {
    pub receipt: RefundReceipt,
    pub is_new: bool,
}

impl Store {
    /// Makes a full or partial refund, idempotently on `request_id`.
    ///
    /// One `TransactWriteItems` records the `request_id` (only if unused) and
    /// adds the refund to its transaction (only while SUCCESS, while the total
    /// stays within the amount, and while it holds exactly the refunds read
    /// before), so concurrent refunds can never over-refund, racing replays make
    /// one refund, and the answer follows from the transaction as read: two
    /// calls in all. A replay with the same body gets the first
    /// answer back; with another body it is refused. A refused refund leaves no
    /// trace, so its `request_id` may be tried again.
    pub async fn refund(&self, request: &RefundRequest, now: Timestamp) -> Result<Refunded, Error> {
        let fingerprint = request.fingerprint();
        // A refund whose condition fails is decided again against the transaction
        // as it now stands. Each lost race means another refund was appended, and
        // a transaction holds at most MAX_REFUNDS, so this loop always ends in a
        // refund or a refusal.
        for _ in 0..=Transaction::MAX_REFUNDS {
            let txn = self
                .transaction(&request.transaction_id)
                .await?
                .ok_or(Refusal::TransactionNotFound)?;
            if let Err(refusal) = txn.check_refund(request) {
                // A replay of a refund made earlier gets its first answer,
                // whatever the transaction holds now (fully refunded, say).
                return match self.replayed_refund(request, &fingerprint).await? {
                    Some(receipt) => Ok(Refunded {
                        receipt,
                        is_new: false,
                    }),
                    None => Err(refusal.into()),
                };
            }
            let refund = request.refund(now);
            let kind = match refund.origin {
                RefundOrigin::Tiki => ChangeKind::Refunded,
                RefundOrigin::Operator { .. } => ChangeKind::RefundedByOperator,
            };
            let after = txn
                .clone()
                .with_refund(refund.clone())
                .ok_or_else(|| Error::corrupt("transaction", "refund total out of range"))?;
            let writes = vec![
                self.put(
                    self.refund_request_item(request, &refund, &fingerprint),
                    NOT_EXISTS,
                )?,
                self.add_refund(&txn, &refund)?,
                self.ledger_put(&after, kind)?,
            ];
            match self.transact(writes).await? {
                Transacted::Committed => {
                    let receipt = after.refund_receipt(&request.request_id).ok_or_else(|| {
                        Error::corrupt("transaction", "refund missing from its transaction")
                    })?;
                    return Ok(Refunded {
                        receipt,
                        is_new: true,
                    });
                }
                Transacted::ConditionFailed(cancelled) if cancelled.failed(0) => {
                    // The request_id was taken meanwhile: a racing replay or a reuse.
                    return self
                        .replayed_refund(request, &fingerprint)
                        .await?
                        .map(|receipt| Refunded {
                            receipt,
                            is_new: false,
                        })
                        .ok_or_else(|| {
                            Error::corrupt("refund request", "vanished after its write")
                        });
                }
                // The transaction changed under us: check again against what it holds.
                Transacted::ConditionFailed(_) => continue,
            }
        }
        Err(Error::Contention)
    }

    /// Records a refund an operator made by hand, through the same write as
    /// Tiki's refunds (so the sum never exceeds the amount, and a later refund
    /// from Tiki of the same money is refused), then takes the transaction off
    /// the refund-required list. Idempotent on the operator's reference: run
    /// again after a failure, it finishes what the first run began.
    pub async fn close_out_refund(
        &self,
        request: &RefundRequest,
        now: Timestamp,
    ) -> Result<Refunded, Error> {
        let refunded = self.refund(request, now).await?;
        self.clear_refund_required(&request.transaction_id).await?;
        Ok(refunded)
    }

    /// The `request_id` record: it makes the id single-use and keeps what the
    /// request asked for, to tell a replay from a reuse.
    fn refund_request_item(
        &self,
        request: &RefundRequest,
        refund: &Refund,
        fingerprint: &Fingerprint,
    ) -> HashMap<String, AttributeValue> {
        let mut item = item_with_key(refund_request_key(&request.request_id));
        item.insert(
            attr::TRANSACTION_ID.into(),
            s(request.transaction_id.as_str()),
        );
        item.insert(attr::REFUND_ID.into(), s(refund.refund_id.as_str()));
        item.insert(attr::FINGERPRINT.into(), s(fingerprint.as_str()));
        item.insert(attr::CREATED_AT.into(), timestamp(refund.created_at));
        item
    }

    /// Appends the refund to its transaction as read. DynamoDB conditions have
    /// no arithmetic, so the bound is computed here from the immutable amount:
    /// `refunded_amount <= amount - refund` before the write. The refunds are
    /// append-only, so an unchanged count means an unchanged list.
    fn add_refund(&self, txn: &Transaction, refund: &Refund) -> Result<TransactWriteItem, Error> {
        let max_before =
            txn.max_refunded_before(refund.amount)
                .ok_or(Refusal::RefundExceedsRemaining {
                    requested: refund.amount,
                    remaining: txn.remaining(),
                })?;
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(item_with_key(transaction_key(&txn.id))))
            .update_expression(
                "SET refunded_amount = refunded_amount + :refund, \
                 refunds = list_append(refunds, :new_refund), updated_at = :now",
            )
            .condition_expression(
                "#status = :success AND amount = :amount AND refunded_amount <= :max_before \
                 AND size(refunds) = :refunds_read",
            )
            .expression_attribute_names("#status", attr::STATUS)
            .set_expression_attribute_values(Some(HashMap::from([
                (":refund".to_owned(), n(refund.amount)),
                (
                    ":new_refund".to_owned(),
                    AttributeValue::L(vec![refund_to_value(refund)]),
                ),
                (":now".to_owned(), timestamp(refund.created_at)),
                (
                    ":success".to_owned(),
                    s(TransactionStatus::Success.as_str()),
                ),
                (":amount".to_owned(), n(txn.amount)),
                (":max_before".to_owned(), n(max_before)),
                (
                    ":refunds_read".to_owned(),
                    AttributeValue::N(txn.refunds.len().to_string()),
                ),
            ])))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The first answer to an already-made refund, if `request_id` was used.
    async fn replayed_refund(
        &self,
        request: &RefundRequest,
        fingerprint: &Fingerprint,
    ) -> Result<Option<RefundReceipt>, Error> {
        let Some(record) = self.get(refund_request_key(&request.request_id)).await? else {
            return Ok(None);
        };
        let stored = Reader::new(&record, "refund request").s(attr::FINGERPRINT)?;
        if stored != fingerprint.as_str() {
            return Err(Refusal::RequestIdReused.into());
        }
        self.receipt(request).await.map(Some)
    }

    /// The answer to a recorded refund, derived from its transaction's refunds.
    async fn receipt(&self, request: &RefundRequest) -> Result<RefundReceipt, Error> {
        self.transaction(&request.transaction_id)
            .await?
            .and_then(|txn| txn.refund_receipt(&request.request_id))
            .ok_or_else(|| {
                Error::corrupt(
                    "transaction",
                    "recorded refund missing from its transaction",
                )
            })
    }
}
