//! Payment results in: the PENDING → SUCCESS | FAILURE transition, the IPN job
//! it starts, and the audit trail of every result received.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use tikivip_domain::{
    Error as Refusal, EventId, IpnState, PaymentOutcome, PaymentResult, RecordedPaymentResult,
    Settlement, Timestamp, TransactionId, TransactionStatus, Verdict,
};

use crate::codec::{
    Item, Reader, attention, attr, ipn_attr, item_with_key, n, rfc3339, s, timestamp,
    transaction_from_item,
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
    /// The write comes first and nothing is read before it: its condition
    /// holds every rule, and only when it fails is the transaction (returned
    /// by the failed condition itself) judged, to tell a duplicate from a
    /// refusal. A result repeating the current status is a
    /// [`Settlement::Duplicate`] and changes nothing; a contradicting one is
    /// refused. Either way the result is recorded in the audit trail.
    pub async fn settle(
        &self,
        result: &PaymentResult,
        now: Timestamp,
    ) -> Result<Settlement, Error> {
        let next = result.outcome.status();
        let decision = match result.check_not_in_the_future(now) {
            // Refused before any write; a result for an unknown transaction
            // has no audit trail to go in.
            Err(refusal) => match self.transaction(&result.transaction_id).await? {
                Some(_) => Err(refusal),
                None => return Err(Refusal::TransactionNotFound.into()),
            },
            Ok(()) => match self.write_settlement(result, next, now).await? {
                Written::Settled => return Ok(Settlement::Settled(next)),
                Written::Refused(Some(item)) => transaction_from_item(&item)?.settle(result, now),
                Written::Refused(None) => return Err(Refusal::TransactionNotFound.into()),
            },
        };
        match decision {
            Ok(Settlement::Duplicate) => {
                self.record_payment_result(result, &Verdict::Duplicate, now)
                    .await?;
                Ok(Settlement::Duplicate)
            }
            // The condition failed on a transaction the rules would settle:
            // it changed between the check and now; the caller may retry.
            Ok(Settlement::Settled(_)) => Err(Error::Contention),
            Err(refusal) => {
                self.record_payment_result(result, &Verdict::Refused(refusal.to_string()), now)
                    .await?;
                Err(refusal.into())
            }
        }
    }

    /// The transition, its audit record and its ledger entry, in one write
    /// whose condition is every rule of a settlement.
    async fn write_settlement(
        &self,
        result: &PaymentResult,
        next: TransactionStatus,
        now: Timestamp,
    ) -> Result<Written, Error> {
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
            (":amount".to_owned(), n(result.amount)),
            (
                ":created_by".to_owned(),
                timestamp(result.created_no_later_than()),
            ),
            (":ipn_pending".to_owned(), s(IpnState::Pending.as_str())),
            (":zero".to_owned(), AttributeValue::N("0".into())),
            (":outbox".to_owned(), s(attention::IPN_OUTBOX)),
        ]);
        if let Some(method) = &result.partner_banking_method {
            set.push_str(", partner_banking_method = :method");
            values.insert(":method".to_owned(), s(method.as_str()));
        }
        // Timestamps are stored fixed-width in UTC, so they compare as strings.
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(item_with_key(transaction_key(&result.transaction_id))))
            .update_expression(set)
            .condition_expression(
                "#status = :pending AND amount = :amount AND created_at <= :created_by",
            )
            .expression_attribute_names("#status", attr::STATUS)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()?;
        let audit = self.put(
            payment_result_item(result, &Verdict::Accepted, now),
            "attribute_not_exists(pk)",
        )?;
        let writes = vec![
            TransactWriteItem::builder().update(update).build(),
            audit,
            self.settled_ledger_put(result, next, now)?,
        ];
        Ok(match self.transact(writes).await? {
            Transacted::Committed => Written::Settled,
            Transacted::ConditionFailed(mut cancelled) if cancelled.failed(0) => {
                Written::Refused(cancelled.current(0))
            }
            Transacted::ConditionFailed(_) => {
                return Err(Error::corrupt("payment result", "its audit key is taken"));
            }
        })
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

/// How the settling write ended.
enum Written {
    Settled,
    /// Its condition failed, on this transaction (`None`: there is none).
    Refused(Option<Item>),
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
