//! Processing: a message's failed attempts, its setting aside, and the
//! confirmed order applied under the rule with its event and the message's end.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use tikivip_domain::tiniapp::{MessageState, MessageVerdict, Order, OrderEvent};
use tikivip_domain::{Timestamp, TiniAppMessageId};

use super::orders::order_to_item;
use super::{MESSAGE_PREFIX, attention, attr, event_key, message_key, rank};
use crate::codec::{Reader, item_with_key, s, timestamp};
use crate::error::applied;
use crate::schema::{ATTENTION_KEY, ATTENTION_SORT_KEY, PARTITION_KEY};
use crate::transactions::{NOT_EXISTS, Transacted};
use crate::{Error, Store};

/// What applying a confirmed message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The order took the confirmed status; its event is in the outbox.
    Changed(Box<OrderEvent>),
    /// Older than the order's status, or not a step forward: nothing changed.
    Unchanged,
    /// The message had been processed already (a redelivery).
    AlreadyProcessed,
}

/// A change of the order written under contention gives up after this many
/// rounds; the message is then processed again from the queue.
const APPLY_ROUNDS: u32 = 5;

impl Store {
    /// Records a failed call to Tiki's order API (or, with `exhausted`, the
    /// last one of the schedule). Only a message still RECEIVED moves.
    pub async fn record_tiniapp_attempt(
        &self,
        id: &TiniAppMessageId,
        attempts: u32,
        last_error: &str,
        exhausted: bool,
    ) -> Result<bool, Error> {
        let next = if exhausted {
            MessageState::Exhausted
        } else {
            MessageState::Received
        };
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_with_key(message_key(id))))
            .update_expression("SET attempts = :attempts, last_error = :error, #state = :next")
            .condition_expression("#state = :received")
            .expression_attribute_names("#state", attr::STATE)
            .expression_attribute_values(":attempts", AttributeValue::N(attempts.to_string()))
            .expression_attribute_values(":error", s(last_error))
            .expression_attribute_values(":next", s(next.as_str()))
            .expression_attribute_values(":received", s(MessageState::Received.as_str()));
        applied(update.send().await)
    }

    /// Sets a message aside: Tiki's order API does not know its order. It
    /// stays in the attention index for an operator.
    pub async fn set_tiniapp_message_aside(
        &self,
        id: &TiniAppMessageId,
        now: Timestamp,
    ) -> Result<bool, Error> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_with_key(message_key(id))))
            .update_expression(
                "SET #state = :aside, verdict = :unknown, attention = :attention, attention_at = :now",
            )
            .condition_expression("#state = :received")
            .expression_attribute_names("#state", attr::STATE)
            .expression_attribute_values(":aside", s(MessageState::SetAside.as_str()))
            .expression_attribute_values(":unknown", s(MessageVerdict::UnknownOrder.as_str()))
            .expression_attribute_values(":attention", s(attention::TINIAPP_UNKNOWN_ORDER))
            .expression_attribute_values(":now", timestamp(now))
            .expression_attribute_values(":received", s(MessageState::Received.as_str()));
        applied(update.send().await)
    }

    /// Applies a message Tiki's order API has confirmed as `order`: the
    /// order, the change's event (in the outbox) and the message's end are
    /// one `TransactWriteItems`. The order's write carries the rule
    /// ([`Order::accepts`]) as its condition — newer `message_created_at`,
    /// higher status rank — and the status it was read with, so that the
    /// event's `previous_status` is exact under concurrent messages.
    pub async fn apply_tiniapp_order(&self, order: &Order) -> Result<Applied, Error> {
        let id = &order.last_message_id;
        for _ in 0..APPLY_ROUNDS {
            let current = self.tiniapp_order(&order.order_id).await?;
            if !Order::accepts(current.as_ref(), order.status, order.as_of) {
                return Ok(
                    match self
                        .finish_message(order, MessageVerdict::Unchanged)
                        .await?
                    {
                        true => Applied::Unchanged,
                        false => Applied::AlreadyProcessed,
                    },
                );
            }
            let event = OrderEvent::of_change(order, current.as_ref().map(|c| c.status));
            let order_write = self.order_put(order, current.as_ref())?;
            let mut event_item = item_with_key(event_key(&event));
            event_item.insert(attr::ORDER_ID.into(), s(order.order_id.as_str()));
            event_item.insert(attr::MESSAGE_ID.into(), s(id.as_str()));
            event_item.insert(
                attr::EVENT.into(),
                s(serde_json::to_string(&event).expect("order events serialise")),
            );
            event_item.insert(ATTENTION_KEY.into(), s(attention::TINIAPP_EVENT_OUTBOX));
            event_item.insert(ATTENTION_SORT_KEY.into(), timestamp(order.updated_at));
            let writes = vec![
                order_write,
                self.put(event_item, NOT_EXISTS)?,
                self.message_end(order, MessageVerdict::Applied)?,
            ];
            match self.transact(writes).await? {
                Transacted::Committed => return Ok(Applied::Changed(Box::new(event))),
                Transacted::ConditionFailed(cancelled) => {
                    if cancelled.failed(2) {
                        return Ok(Applied::AlreadyProcessed);
                    }
                    // The order moved since it was read: decide again.
                }
            }
        }
        Err(Error::Contention)
    }

    /// Messages set aside because Tiki's order API did not know their order.
    pub async fn tiniapp_messages_set_aside(&self) -> Result<Vec<TiniAppMessageId>, Error> {
        self.attention(attention::TINIAPP_UNKNOWN_ORDER, None)
            .await?
            .iter()
            .map(|item| {
                let pk = Reader::new(item, "Tini App set-aside entry").s(PARTITION_KEY)?;
                TiniAppMessageId::parse(pk.strip_prefix(MESSAGE_PREFIX).unwrap_or(pk))
                    .map_err(|e| Error::corrupt("Tini App set-aside entry", e.to_string()))
            })
            .collect()
    }

    /// The order's write: a put of the whole record, under the rule.
    fn order_put(&self, order: &Order, read: Option<&Order>) -> Result<TransactWriteItem, Error> {
        let mut values = HashMap::from([
            (":rank".to_owned(), rank(order.status)),
            (":as_of".to_owned(), timestamp(order.as_of)),
        ]);
        let condition = match read {
            None => NOT_EXISTS.to_owned(),
            Some(read) => {
                values.insert(":read_as_of".to_owned(), timestamp(read.as_of));
                values.insert(":read_status".to_owned(), s(read.status.as_str()));
                "status_rank < :rank AND as_of < :as_of \
                 AND as_of = :read_as_of AND #status = :read_status"
                    .to_owned()
            }
        };
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(order_to_item(order)))
            .condition_expression(condition);
        if read.is_some() {
            put = put
                .expression_attribute_names("#status", attr::STATUS)
                .set_expression_attribute_values(Some(values));
        }
        Ok(TransactWriteItem::builder().put(put.build()?).build())
    }

    /// The message's end, in the same write as its effect.
    fn message_end(
        &self,
        order: &Order,
        verdict: MessageVerdict,
    ) -> Result<TransactWriteItem, Error> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(item_with_key(message_key(&order.last_message_id))))
            .update_expression(
                "SET #state = :processed, verdict = :verdict, confirmed_status = :confirmed",
            )
            .condition_expression("#state = :received")
            .expression_attribute_names("#state", attr::STATE)
            .expression_attribute_values(":processed", s(MessageState::Processed.as_str()))
            .expression_attribute_values(":verdict", s(verdict.as_str()))
            .expression_attribute_values(":confirmed", s(order.status.as_str()))
            .expression_attribute_values(":received", s(MessageState::Received.as_str()))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Ends a message that changes nothing; false if it had ended already.
    async fn finish_message(&self, order: &Order, verdict: MessageVerdict) -> Result<bool, Error> {
        let writes = vec![self.message_end(order, verdict)?];
        Ok(matches!(
            self.transact(writes).await?,
            Transacted::Committed
        ))
    }
}
