//! Tini App order notifications: each message recorded once with its
//! processing in the outbox, one order per Tini App order id whose status
//! moves only forward (the rule is the write's condition), and each accepted
//! change's event in the outbox until it is published.
//!
//! | item | `pk` | `sk` |
//! |---|---|---|
//! | message | `TINIAPP_MSG#{message_id}` | `MSG` |
//! | order | `TINIAPP_ORDER#{order_id}` | `ORDER` |
//! | message history entry | `TINIAPP_ORDER#{order_id}` | `MSG#{message_created_at}#{message_id}` |
//! | status change event | `TINIAPP_ORDER#{order_id}` | `EVENT#{message_created_at}#{message_id}` |
//!
//! Outbox markers in the sparse `attention` index: `TINIAPP_OUTBOX` on a
//! message not yet on the processing queue, `TINIAPP_EVENT_OUTBOX` on an event
//! not yet published, `TINIAPP_UNKNOWN_ORDER` on a message set aside.

use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use tikivip_domain::tiniapp::{
    Extra, MessageState, MessageVerdict, Order, OrderEvent, OrderStatus, OrderView,
    RecordedMessage, TiniAppMessage,
};
use tikivip_domain::wire::parse_json;
use tikivip_domain::{
    OrderReferenceId, TikiOrderCode, TikiOrderId, Timestamp, TiniAppMessageId, TiniAppOrderId,
};

use crate::codec::{Item, Reader, item_with_key, n, rfc3339, s, timestamp};
use crate::schema::{ATTENTION_KEY, ATTENTION_SORT_KEY, Key, PARTITION_KEY, SORT_KEY};
use crate::transactions::{NOT_EXISTS, Transacted};
use crate::{Error, Store};

/// Values of the `attention` index for Tini App items.
pub mod attention {
    pub const TINIAPP_OUTBOX: &str = "TINIAPP_OUTBOX";
    pub const TINIAPP_EVENT_OUTBOX: &str = "TINIAPP_EVENT_OUTBOX";
    pub const TINIAPP_UNKNOWN_ORDER: &str = "TINIAPP_UNKNOWN_ORDER";
}

mod attr {
    pub const MESSAGE_ID: &str = "message_id";
    pub const ORDER_ID: &str = "order_id";
    pub const BODY: &str = "body";
    pub const NOTIFIED_STATUS: &str = "notified_status";
    pub const CONFIRMED_STATUS: &str = "confirmed_status";
    pub const MESSAGE_CREATED_AT: &str = "message_created_at";
    pub const RECEIVED_AT: &str = "received_at";
    /// `state` is a DynamoDB reserved word: expressions name it `#state`.
    pub const STATE: &str = "state";
    pub const VERDICT: &str = "verdict";
    pub const ATTEMPTS: &str = "attempts";
    pub const LAST_ERROR: &str = "last_error";
    pub const STATUS: &str = "status";
    pub const STATUS_RANK: &str = "status_rank";
    pub const GRAND_TOTAL: &str = "grand_total";
    pub const TIKI_ORDER_ID: &str = "tiki_order_id";
    pub const TIKI_ORDER_CODE: &str = "tiki_order_code";
    pub const REFERENCE_ID: &str = "reference_id";
    pub const EXTRA: &str = "extra";
    pub const AS_OF: &str = "as_of";
    pub const LAST_MESSAGE_ID: &str = "last_message_id";
    pub const UPDATED_AT: &str = "updated_at";
    pub const EVENT: &str = "event";
}

const MESSAGE_PREFIX: &str = "TINIAPP_MSG#";
const ORDER_PREFIX: &str = "TINIAPP_ORDER#";
const HISTORY_PREFIX: &str = "MSG#";
const EVENT_PREFIX: &str = "EVENT#";

fn key(pk: String, sk: String) -> Key {
    [
        (PARTITION_KEY, AttributeValue::S(pk)),
        (SORT_KEY, AttributeValue::S(sk)),
    ]
}

fn message_key(id: &TiniAppMessageId) -> Key {
    key(format!("{MESSAGE_PREFIX}{id}"), "MSG".into())
}

fn order_key(id: &TiniAppOrderId) -> Key {
    key(format!("{ORDER_PREFIX}{id}"), "ORDER".into())
}

fn history_key(message: &TiniAppMessage) -> Key {
    key(
        format!("{ORDER_PREFIX}{}", message.order.id),
        format!(
            "{HISTORY_PREFIX}{}#{}",
            rfc3339(message.message_created_at),
            message.message_id
        ),
    )
}

fn event_key(event: &OrderEvent) -> Key {
    key(
        format!("{ORDER_PREFIX}{}", event.order_id),
        format!(
            "{EVENT_PREFIX}{}#{}",
            rfc3339(event.message_created_at),
            event.message_id
        ),
    )
}

/// A message as stored: the notification itself and where its processing stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    pub message: TiniAppMessage,
    pub record: RecordedMessage,
}

/// How the recording of a received message ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// First time: recorded, its processing in the outbox.
    Recorded,
    /// The message was already recorded: nothing changed.
    Duplicate,
}

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
    /// Records a received message once, keyed on its `message_id`, in one
    /// `TransactWriteItems`: the message with its processing in the outbox,
    /// and its entry in the order's history. A repeat, sequential or racing,
    /// changes nothing.
    pub async fn record_tiniapp_message(
        &self,
        message: &TiniAppMessage,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Receipt, Error> {
        let body = std::str::from_utf8(body)
            .map_err(|_| Error::corrupt("Tini App message", "body is not UTF-8"))?;
        let mut item = item_with_key(message_key(&message.message_id));
        item.insert(attr::MESSAGE_ID.into(), s(message.message_id.as_str()));
        item.insert(attr::ORDER_ID.into(), s(message.order.id.as_str()));
        item.insert(attr::BODY.into(), s(body));
        item.insert(
            attr::NOTIFIED_STATUS.into(),
            s(message.order.status.as_str()),
        );
        item.insert(
            attr::MESSAGE_CREATED_AT.into(),
            timestamp(message.message_created_at),
        );
        item.insert(attr::RECEIVED_AT.into(), timestamp(now));
        item.insert(attr::STATE.into(), s(MessageState::Received.as_str()));
        item.insert(attr::ATTEMPTS.into(), AttributeValue::N("0".into()));
        item.insert(ATTENTION_KEY.into(), s(attention::TINIAPP_OUTBOX));
        item.insert(ATTENTION_SORT_KEY.into(), timestamp(now));
        let mut entry = item_with_key(history_key(message));
        entry.insert(attr::MESSAGE_ID.into(), s(message.message_id.as_str()));
        let writes = vec![self.put(item, NOT_EXISTS)?, self.put(entry, NOT_EXISTS)?];
        Ok(match self.transact(writes).await? {
            Transacted::Committed => Receipt::Recorded,
            Transacted::ConditionFailed(_) => Receipt::Duplicate,
        })
    }

    pub async fn tiniapp_message(
        &self,
        id: &TiniAppMessageId,
    ) -> Result<Option<StoredMessage>, Error> {
        self.get(message_key(id))
            .await?
            .map(|item| stored_message(&item))
            .transpose()
    }

    /// Messages recorded at or before `received_before` whose processing is
    /// not on the queue yet.
    pub async fn tiniapp_outbox(
        &self,
        received_before: Timestamp,
    ) -> Result<Vec<TiniAppMessageId>, Error> {
        self.attention(attention::TINIAPP_OUTBOX, Some(received_before))
            .await?
            .iter()
            .map(|item| {
                let pk = Reader::new(item, "Tini App outbox entry").s(PARTITION_KEY)?;
                let id = pk.strip_prefix(MESSAGE_PREFIX).unwrap_or(pk);
                TiniAppMessageId::parse(id)
                    .map_err(|e| Error::corrupt("Tini App outbox entry", e.to_string()))
            })
            .collect()
    }

    /// Takes a message's processing out of the outbox once it is on the queue.
    pub async fn mark_tiniapp_enqueued(&self, id: &TiniAppMessageId) -> Result<(), Error> {
        self.remove_attention(message_key(id), attention::TINIAPP_OUTBOX)
            .await
    }

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
        conditional(update.send().await)
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
        conditional(update.send().await)
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

    pub async fn tiniapp_order(&self, id: &TiniAppOrderId) -> Result<Option<Order>, Error> {
        self.get(order_key(id))
            .await?
            .map(|item| order_from_item(&item))
            .transpose()
    }

    /// The messages received about an order, oldest `message_created_at` first.
    pub async fn tiniapp_order_history(
        &self,
        id: &TiniAppOrderId,
    ) -> Result<Vec<RecordedMessage>, Error> {
        let mut history = Vec::new();
        for entry in self.query_order_partition(id, HISTORY_PREFIX).await? {
            let message_id = Reader::new(&entry, "Tini App history entry")
                .parsed(attr::MESSAGE_ID, TiniAppMessageId::parse)?;
            if let Some(stored) = self.tiniapp_message(&message_id).await? {
                history.push(stored.record);
            }
        }
        Ok(history)
    }

    /// The order and its message history; `None` when neither exists.
    pub async fn tiniapp_order_view(
        &self,
        id: &TiniAppOrderId,
    ) -> Result<Option<OrderView>, Error> {
        let (order, messages) =
            tokio::try_join!(self.tiniapp_order(id), self.tiniapp_order_history(id))?;
        if order.is_none() && messages.is_empty() {
            return Ok(None);
        }
        Ok(Some(OrderView {
            order_id: id.clone(),
            order,
            messages,
        }))
    }

    /// The events of an order's accepted changes, oldest first.
    pub async fn tiniapp_order_events(
        &self,
        id: &TiniAppOrderId,
    ) -> Result<Vec<OrderEvent>, Error> {
        self.query_order_partition(id, EVENT_PREFIX)
            .await?
            .iter()
            .map(event_from_item)
            .collect()
    }

    /// Events accepted at or before `accepted_before` and not yet published.
    pub async fn tiniapp_event_outbox(
        &self,
        accepted_before: Timestamp,
    ) -> Result<Vec<OrderEvent>, Error> {
        let mut events = Vec::new();
        for entry in self
            .attention(attention::TINIAPP_EVENT_OUTBOX, Some(accepted_before))
            .await?
        {
            let r = Reader::new(&entry, "Tini App event outbox entry");
            let key = key(r.s(PARTITION_KEY)?.to_owned(), r.s(SORT_KEY)?.to_owned());
            if let Some(item) = self.get(key).await? {
                events.push(event_from_item(&item)?);
            }
        }
        Ok(events)
    }

    /// Takes an event out of the outbox once it is published.
    pub async fn mark_tiniapp_event_published(&self, event: &OrderEvent) -> Result<(), Error> {
        self.remove_attention(event_key(event), attention::TINIAPP_EVENT_OUTBOX)
            .await
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

    async fn query_order_partition(
        &self,
        id: &TiniAppOrderId,
        prefix: &str,
    ) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(format!("{ORDER_PREFIX}{id}")))
                .expression_attribute_values(":prefix", s(prefix))
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

    async fn remove_attention(&self, key: Key, marker: &str) -> Result<(), Error> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_with_key(key)))
            .update_expression("REMOVE attention, attention_at")
            .condition_expression("attention = :marker")
            .expression_attribute_values(":marker", s(marker));
        // Not applied: already out of the outbox (released twice).
        conditional(update.send().await).map(|_| ())
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

fn rank(status: OrderStatus) -> AttributeValue {
    AttributeValue::N(status.rank().to_string())
}

/// Whether a conditional update was applied: a failed condition is an answer
/// here, not an error.
fn conditional<T>(
    result: Result<T, SdkError<UpdateItemError, HttpResponse>>,
) -> Result<bool, Error> {
    match result {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
        {
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}

fn put_opt(item: &mut Item, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        item.insert(name.to_owned(), s(value));
    }
}

fn order_to_item(order: &Order) -> Item {
    let mut item = item_with_key(order_key(&order.order_id));
    item.insert(attr::ORDER_ID.into(), s(order.order_id.as_str()));
    item.insert(attr::STATUS.into(), s(order.status.as_str()));
    item.insert(attr::STATUS_RANK.into(), rank(order.status));
    item.insert(attr::GRAND_TOTAL.into(), n(order.grand_total));
    put_opt(
        &mut item,
        attr::TIKI_ORDER_ID,
        order.tiki_order_id.as_ref().map(TikiOrderId::as_str),
    );
    put_opt(
        &mut item,
        attr::TIKI_ORDER_CODE,
        order.tiki_order_code.as_ref().map(TikiOrderCode::as_str),
    );
    put_opt(
        &mut item,
        attr::REFERENCE_ID,
        order.reference_id.as_ref().map(OrderReferenceId::as_str),
    );
    item.insert(attr::EXTRA.into(), s(order.extra.as_str()));
    item.insert(attr::AS_OF.into(), timestamp(order.as_of));
    item.insert(
        attr::LAST_MESSAGE_ID.into(),
        s(order.last_message_id.as_str()),
    );
    item.insert(attr::UPDATED_AT.into(), timestamp(order.updated_at));
    item
}

fn optional<T>(
    r: &Reader<'_>,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, tikivip_domain::Error>,
) -> Result<Option<T>, Error> {
    match r.opt_s(name)? {
        None => Ok(None),
        Some(_) => r.parsed(name, parse).map(Some),
    }
}

fn order_from_item(item: &Item) -> Result<Order, Error> {
    let r = Reader::new(item, "Tini App order");
    Ok(Order {
        order_id: r.parsed(attr::ORDER_ID, TiniAppOrderId::parse)?,
        status: r.parsed(attr::STATUS, OrderStatus::parse)?,
        grand_total: r.vnd(attr::GRAND_TOTAL)?,
        tiki_order_id: optional(&r, attr::TIKI_ORDER_ID, |v| TikiOrderId::parse(v))?,
        tiki_order_code: optional(&r, attr::TIKI_ORDER_CODE, |v| TikiOrderCode::parse(v))?,
        reference_id: optional(&r, attr::REFERENCE_ID, |v| OrderReferenceId::parse(v))?,
        extra: r.parsed(attr::EXTRA, Extra::parse)?,
        as_of: r.timestamp(attr::AS_OF)?,
        last_message_id: r.parsed(attr::LAST_MESSAGE_ID, TiniAppMessageId::parse)?,
        updated_at: r.timestamp(attr::UPDATED_AT)?,
    })
}

fn stored_message(item: &Item) -> Result<StoredMessage, Error> {
    let r = Reader::new(item, "Tini App message");
    let message: TiniAppMessage = parse_json(r.s(attr::BODY)?.as_bytes())
        .map_err(|e| Error::corrupt("Tini App message", e.to_string()))?;
    let record = RecordedMessage {
        message_id: r.parsed(attr::MESSAGE_ID, TiniAppMessageId::parse)?,
        order_id: r.parsed(attr::ORDER_ID, TiniAppOrderId::parse)?,
        notified_status: r.parsed(attr::NOTIFIED_STATUS, OrderStatus::parse)?,
        confirmed_status: optional(&r, attr::CONFIRMED_STATUS, OrderStatus::parse)?,
        message_created_at: r.timestamp(attr::MESSAGE_CREATED_AT)?,
        received_at: r.timestamp(attr::RECEIVED_AT)?,
        state: r.parsed(attr::STATE, MessageState::parse)?,
        verdict: optional(&r, attr::VERDICT, MessageVerdict::parse)?,
        attempts: r.opt_u32(attr::ATTEMPTS)?.unwrap_or(0),
        last_error: r.opt_s(attr::LAST_ERROR)?.map(str::to_owned),
    };
    Ok(StoredMessage { message, record })
}

fn event_from_item(item: &Item) -> Result<OrderEvent, Error> {
    let r = Reader::new(item, "Tini App order event");
    serde_json::from_str(r.s(attr::EVENT)?)
        .map_err(|e| Error::corrupt("Tini App order event", e.to_string()))
}
