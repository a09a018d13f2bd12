//! The IPN job kept on each settled transaction: the outbox, progress of
//! attempts, and the transactions that need a refund.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use tikivip_domain::{Ipn, IpnJob, IpnState, Timestamp, Transaction, TransactionId};

use crate::codec::{
    Item, Reader, attention, attr, ipn_attr, item_with_key, rfc3339, s, timestamp,
    transaction_from_item,
};
use crate::error::applied;
use crate::schema::{ATTENTION_INDEX, ATTENTION_KEY, ATTENTION_SORT_KEY, transaction_key};
use crate::{Error, Store};

impl Store {
    /// The IPN job of a transaction; `None` while it is not settled.
    pub async fn ipn_job(&self, id: &TransactionId) -> Result<Option<IpnJob>, Error> {
        let Some(item) = self.get(transaction_key(id)).await? else {
            return Ok(None);
        };
        let txn = transaction_from_item(&item)?;
        let Some(ipn) = Ipn::for_settled(&txn) else {
            return Ok(None);
        };
        let r = Reader::new(&item, "IPN job");
        Ok(Some(IpnJob {
            ipn,
            state: r.parsed(ipn_attr::STATE, IpnState::parse)?,
            chain: r.opt_u32(ipn_attr::CHAIN)?.unwrap_or(0),
            attempts: r.opt_u32(ipn_attr::ATTEMPTS)?.unwrap_or(0),
            last_error: r.opt_s(ipn_attr::LAST_ERROR)?.map(str::to_owned),
            next_attempt_at: r.opt_timestamp(ipn_attr::NEXT_ATTEMPT_AT)?,
        }))
    }

    /// Every IPN job in the outbox, oldest first, with the time its
    /// transaction was settled: jobs the dispatcher has not attempted yet,
    /// usually because the receiver that settled it died or the queue was
    /// down, or because the dispatcher has not reached it yet.
    pub async fn ipn_outbox(&self) -> Result<Vec<(TransactionId, Timestamp)>, Error> {
        let items = self.attention(attention::IPN_OUTBOX, None).await?;
        items
            .iter()
            .map(|item| {
                let r = Reader::new(item, "outbox entry");
                Ok((
                    r.parsed(attr::TRANSACTION_ID, TransactionId::parse)?,
                    r.timestamp(ATTENTION_SORT_KEY)?,
                ))
            })
            .collect()
    }

    /// Takes the job out of the outbox once it is on the queue.
    pub async fn mark_ipn_enqueued(&self, id: &TransactionId) -> Result<(), Error> {
        let update = self
            .update_transaction(id)
            .update_expression("REMOVE attention, attention_at")
            .condition_expression("attention = :outbox")
            .expression_attribute_values(":outbox", s(attention::IPN_OUTBOX));
        // Not applied: already out of the outbox (the sweeper and the receiver
        // both released it).
        applied(update.send().await).map(|_| ())
    }

    /// Records where a job stands after an attempt; returns whether it did.
    ///
    /// A job recorded as delivered never moves again, and delivery wins over
    /// any other end: of two copies of one message, one that Tiki took and one
    /// that saw a rejection, the outcome is delivered whichever writes first.
    /// Every other move is from PENDING within the job's current chain of
    /// attempts, so a stale copy cannot undo an end or restart a schedule.
    pub async fn record_ipn_progress(
        &self,
        id: &TransactionId,
        job: &IpnJob,
        now: Timestamp,
    ) -> Result<bool, Error> {
        let mut set = vec![
            "ipn_state = :state",
            "ipn_attempts = :attempts",
            "updated_at = :now",
        ];
        let mut remove = Vec::new();
        let mut values = HashMap::from([
            (":state".to_owned(), s(job.state.as_str())),
            (
                ":attempts".to_owned(),
                AttributeValue::N(job.attempts.to_string()),
            ),
            (":now".to_owned(), timestamp(now)),
        ]);
        match &job.last_error {
            Some(error) => {
                set.push("ipn_last_error = :error");
                values.insert(":error".to_owned(), s(error.as_str()));
            }
            None => remove.push("ipn_last_error"),
        }
        match job.next_attempt_at {
            Some(at) => {
                set.push("ipn_next_attempt_at = :next");
                values.insert(":next".to_owned(), timestamp(at));
            }
            None => remove.push("ipn_next_attempt_at"),
        }
        match attention_for(job.state) {
            Some(flag) => {
                set.extend(["attention = :flag", "attention_at = :now"]);
                values.insert(":flag".to_owned(), s(flag));
            }
            // An attempt proves the job reached the dispatcher: it leaves the
            // outbox (the receiver only enqueues it). Delivered takes it out
            // of every list.
            None => remove.extend(["attention", "attention_at"]),
        }
        let condition = if job.state == IpnState::Delivered {
            values.insert(":delivered".to_owned(), s(IpnState::Delivered.as_str()));
            "ipn_state <> :delivered"
        } else {
            values.insert(":pending".to_owned(), s(IpnState::Pending.as_str()));
            values.insert(
                ":chain".to_owned(),
                AttributeValue::N(job.chain.to_string()),
            );
            "ipn_state = :pending AND ipn_chain = :chain"
        };
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let update = self
            .update_transaction(id)
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values));
        applied(update.send().await)
    }

    /// Gives an exhausted job a fresh schedule, as a new chain of attempts
    /// (a redrive from the dead-letter queue). Only the chain that was spent
    /// can be reopened, once: returns the new chain, or `None` when the job
    /// was not exhausted in that chain (another copy reopened it, or it ended).
    pub async fn reopen_ipn(
        &self,
        id: &TransactionId,
        spent_chain: u32,
        now: Timestamp,
    ) -> Result<Option<u32>, Error> {
        let chain = spent_chain + 1;
        let update = self
            .update_transaction(id)
            .update_expression("SET ipn_state = :pending, ipn_attempts = :zero, ipn_chain = :next_chain, updated_at = :now REMOVE ipn_next_attempt_at")
            .condition_expression("ipn_state = :exhausted AND ipn_chain = :spent_chain")
            .expression_attribute_values(":pending", s(IpnState::Pending.as_str()))
            .expression_attribute_values(":exhausted", s(IpnState::Exhausted.as_str()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":spent_chain", AttributeValue::N(spent_chain.to_string()))
            .expression_attribute_values(":next_chain", AttributeValue::N(chain.to_string()))
            .expression_attribute_values(":now", timestamp(now));
        Ok(applied(update.send().await)?.then_some(chain))
    }

    /// Payments Tiki refused or does not know: each customer must be refunded.
    pub async fn transactions_needing_refund(&self) -> Result<Vec<Transaction>, Error> {
        self.flagged(attention::REFUND_REQUIRED).await
    }

    /// Jobs that ended in an alert someone must look at, with the job: Tiki
    /// reporting SUCCESS for a payment we hold as FAILURE, and status answers
    /// that name another id or amount than ours.
    pub async fn ipn_alerts(&self) -> Result<Vec<(Transaction, IpnJob)>, Error> {
        let mut found = Vec::new();
        for flag in [attention::UNPAID_SUCCESS, attention::STATUS_MISMATCH] {
            for txn in self.flagged(flag).await? {
                if let Some(job) = self.ipn_job(&txn.id).await? {
                    found.push((txn, job));
                }
            }
        }
        Ok(found)
    }

    /// Takes a transaction off the refund-required list once an operator's
    /// refund is recorded. Returns whether it was on it.
    pub async fn clear_refund_required(&self, id: &TransactionId) -> Result<bool, Error> {
        let update = self
            .update_transaction(id)
            .update_expression("REMOVE attention, attention_at")
            .condition_expression("attention = :refund")
            .expression_attribute_values(":refund", s(attention::REFUND_REQUIRED));
        applied(update.send().await)
    }

    async fn flagged(&self, flag: &str) -> Result<Vec<Transaction>, Error> {
        let mut found = Vec::new();
        for item in self.attention(flag, None).await? {
            let id = Reader::new(&item, "attention entry")
                .parsed(attr::TRANSACTION_ID, TransactionId::parse)?;
            if let Some(txn) = self.transaction(&id).await? {
                found.push(txn);
            }
        }
        Ok(found)
    }

    fn update_transaction(&self, id: &TransactionId) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_with_key(transaction_key(id))))
    }

    /// Items of the sparse attention index with this value, oldest first.
    pub(crate) async fn attention(
        &self,
        value: &str,
        until: Option<Timestamp>,
    ) -> Result<Vec<Item>, Error> {
        let mut condition = format!("{ATTENTION_KEY} = :value");
        let mut values = HashMap::from([(":value".to_owned(), s(value))]);
        if let Some(until) = until {
            condition.push_str(&format!(" AND {ATTENTION_SORT_KEY} <= :until"));
            values.insert(":until".to_owned(), s(rfc3339(until)));
        }
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(ATTENTION_INDEX)
                .key_condition_expression(&condition)
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

/// The list an ended job puts its transaction on, if any.
fn attention_for(state: IpnState) -> Option<&'static str> {
    match state {
        IpnState::RefundRequired => Some(attention::REFUND_REQUIRED),
        IpnState::UnpaidSuccess => Some(attention::UNPAID_SUCCESS),
        IpnState::StatusMismatch => Some(attention::STATUS_MISMATCH),
        _ => None,
    }
}
