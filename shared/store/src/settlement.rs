//! Payment results in: the PENDING → SUCCESS | FAILURE transition, the IPN job
//! it starts, and the audit trail of every result received.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use tikivip_domain::reconciliation::ChangeKind;
use tikivip_domain::{
    Error as Refusal, EventId, IpnState, PaymentOutcome, PaymentResult, RecordedPaymentResult,
    Settlement, Timestamp, Transaction, TransactionId, TransactionStatus, Verdict,
};

use crate::codec::{
    Item, Reader, attention, attr, ipn_attr, item_with_key, n, rfc3339, s, timestamp,
};
use crate::schema::{
    PAYMENT_RESULT_PREFIX, payment_result_key, transaction_key, transaction_partition,
};
use crate::transactions::Transacted;
use crate::{Error, Store};

impl Store {
    /// Applies a payment result: PENDING → SUCCESS or FAILURE, once, with the
    /// paid amount equal to the transaction's. The same write starts the IPN
    /// job and puts it in the outbox, so a settled transaction always has
    /// exactly one job, whatever happens to the process afterwards.
    ///
    /// A result repeating the current status is a [`Settlement::Duplicate`] and
    /// changes nothing; a contradicting one is refused. Either way the result is
    /// recorded in the transaction's audit trail.
    pub async fn settle(
        &self,
        result: &PaymentResult,
        now: Timestamp,
    ) -> Result<(Settlement, Transaction), Error> {
        let txn = self
            .transaction(&result.transaction_id)
            .await?
            .ok_or(Refusal::TransactionNotFound)?;
        let (decision, txn) = match txn.settle(result, now) {
            Ok(Settlement::Settled(next)) => {
                if self.write_settlement(&txn, next, result, now).await? {
                    return Ok((Settlement::Settled(next), settled(txn, next, result, now)));
                }
                // Another result settled it first: decide again against what it holds.
                let current = self
                    .transaction(&result.transaction_id)
                    .await?
                    .ok_or(Refusal::TransactionNotFound)?;
                (current.settle(result, now), current)
            }
            other => (other, txn),
        };
        match decision {
            Ok(Settlement::Duplicate) => {
                self.record_payment_result(result, &Verdict::Duplicate, now)
                    .await?;
                Ok((Settlement::Duplicate, txn))
            }
            Ok(Settlement::Settled(_)) => Err(Error::Contention),
            Err(refusal) => {
                self.record_payment_result(result, &Verdict::Refused(refusal.to_string()), now)
                    .await?;
                Err(refusal.into())
            }
        }
    }

    /// Whether the transition was written (false: the transaction was no
    /// longer PENDING with that amount).
    async fn write_settlement(
        &self,
        txn: &Transaction,
        next: TransactionStatus,
        result: &PaymentResult,
        now: Timestamp,
    ) -> Result<bool, Error> {
        let mut set = "SET #status = :next, updated_at = :now, ipn_state = :ipn_pending, \
                       ipn_attempts = :zero, ipn_chain = :zero, attention = :outbox, attention_at = :now"
            .to_owned();
        let mut values = HashMap::from([
            (":next".to_owned(), s(next.as_str())),
            (":now".to_owned(), timestamp(now)),
            (
                ":pending".to_owned(),
                s(TransactionStatus::Pending.as_str()),
            ),
            (":amount".to_owned(), n(txn.amount)),
            (":ipn_pending".to_owned(), s(IpnState::Pending.as_str())),
            (":zero".to_owned(), AttributeValue::N("0".into())),
            (":outbox".to_owned(), s(attention::IPN_OUTBOX)),
        ]);
        if let Some(method) = &result.partner_banking_method {
            set.push_str(", partner_banking_method = :method");
            values.insert(":method".to_owned(), s(method.as_str()));
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(item_with_key(transaction_key(&txn.id))))
            .update_expression(set)
            .condition_expression("#status = :pending AND amount = :amount")
            .expression_attribute_names("#status", attr::STATUS)
            .set_expression_attribute_values(Some(values))
            .build()?;
        let audit = self.put(
            payment_result_item(result, &Verdict::Accepted, now),
            "attribute_not_exists(pk)",
        )?;
        let writes = vec![
            TransactWriteItem::builder().update(update).build(),
            audit,
            self.ledger_put(
                &settled(txn.clone(), next, result, now),
                ChangeKind::Settled,
            )?,
        ];
        Ok(matches!(
            self.transact(writes).await?,
            Transacted::Committed
        ))
    }

    async fn record_payment_result(
        &self,
        result: &PaymentResult,
        verdict: &Verdict,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(payment_result_item(result, verdict, now)))
            .send()
            .await?;
        Ok(())
    }

    /// The audit trail of payment results for a transaction, oldest first.
    pub async fn payment_results(
        &self,
        id: &TransactionId,
    ) -> Result<Vec<RecordedPaymentResult>, Error> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", transaction_partition(id))
            .expression_attribute_values(":prefix", s(PAYMENT_RESULT_PREFIX))
            .send()
            .await?;
        output.items().iter().map(recorded_payment_result).collect()
    }
}

fn settled(
    mut txn: Transaction,
    next: TransactionStatus,
    result: &PaymentResult,
    now: Timestamp,
) -> Transaction {
    txn.status = next;
    txn.updated_at = now;
    if result.partner_banking_method.is_some() {
        txn.partner_banking_method = result.partner_banking_method.clone();
    }
    txn
}

fn payment_result_item(result: &PaymentResult, verdict: &Verdict, now: Timestamp) -> Item {
    let received_at = rfc3339(now);
    let mut item = item_with_key(payment_result_key(&result.transaction_id, &received_at));
    item.insert(
        attr::TRANSACTION_ID.into(),
        s(result.transaction_id.as_str()),
    );
    item.insert(ipn_attr::EVENT_ID.into(), s(result.event_id.as_str()));
    item.insert(ipn_attr::OUTCOME.into(), s(result.outcome.as_str()));
    item.insert(attr::AMOUNT.into(), n(result.amount));
    item.insert(ipn_attr::VERDICT.into(), s(verdict.as_str()));
    if let Verdict::Refused(reason) = verdict {
        item.insert(ipn_attr::REASON.into(), s(reason.as_str()));
    }
    if let Some(method) = &result.partner_banking_method {
        item.insert(attr::PARTNER_BANKING_METHOD.into(), s(method.as_str()));
    }
    item.insert(ipn_attr::OCCURRED_AT.into(), timestamp(result.occurred_at));
    item.insert(ipn_attr::RECEIVED_AT.into(), s(received_at));
    item
}

fn recorded_payment_result(item: &Item) -> Result<RecordedPaymentResult, Error> {
    let r = Reader::new(item, "payment result");
    let verdict = match r.s(ipn_attr::VERDICT)? {
        "ACCEPTED" => Verdict::Accepted,
        "DUPLICATE" => Verdict::Duplicate,
        "REFUSED" => Verdict::Refused(r.opt_s(ipn_attr::REASON)?.unwrap_or_default().to_owned()),
        other => {
            return Err(Error::corrupt(
                "payment result",
                format!("unknown verdict {other}"),
            ));
        }
    };
    Ok(RecordedPaymentResult {
        event_id: r.parsed(ipn_attr::EVENT_ID, EventId::parse)?,
        outcome: r.parsed(ipn_attr::OUTCOME, PaymentOutcome::parse)?,
        amount: r.vnd(attr::AMOUNT)?,
        verdict,
        received_at: r.timestamp(ipn_attr::RECEIVED_AT)?,
    })
}
