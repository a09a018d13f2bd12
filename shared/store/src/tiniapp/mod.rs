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

use aws_sdk_dynamodb::types::AttributeValue;
use tikivip_domain::tiniapp::{OrderEvent, OrderStatus, TiniAppMessage};
use tikivip_domain::{TiniAppMessageId, TiniAppOrderId};

use crate::codec::{Reader, item_with_key, rfc3339, s};
use crate::error::applied;
use crate::schema::{Key, PARTITION_KEY, SORT_KEY};
use crate::{Error, Store};

mod orders;
mod processing;
mod receipt;

pub use processing::Applied;
pub use receipt::{Receipt, StoredMessage};

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

impl Store {
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
        applied(update.send().await).map(|_| ())
    }
}

fn rank(status: OrderStatus) -> AttributeValue {
    AttributeValue::N(status.rank().to_string())
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
