//! Orders and events: an order and its message history read back, the events
//! of its accepted changes and their outbox, and the order's item both ways.

use tikivip_domain::tiniapp::{Extra, Order, OrderEvent, OrderStatus, OrderView, RecordedMessage};
use tikivip_domain::{
    OrderReferenceId, TikiOrderCode, TikiOrderId, Timestamp, TiniAppMessageId, TiniAppOrderId,
};

use super::{
    EVENT_PREFIX, HISTORY_PREFIX, ORDER_PREFIX, attention, attr, event_key, key, optional,
    order_key, rank,
};
use crate::codec::{Item, Reader, item_with_key, n, s, timestamp};
use crate::schema::{PARTITION_KEY, SORT_KEY};
use crate::{Error, Store};

impl Store {
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
}

fn put_opt(item: &mut Item, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        item.insert(name.to_owned(), s(value));
    }
}

pub(super) fn order_to_item(order: &Order) -> Item {
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

fn event_from_item(item: &Item) -> Result<OrderEvent, Error> {
    let r = Reader::new(item, "Tini App order event");
    serde_json::from_str(r.s(attr::EVENT)?)
        .map_err(|e| Error::corrupt("Tini App order event", e.to_string()))
}
