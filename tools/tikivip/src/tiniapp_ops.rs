//! The operator's view of Tini App orders: `tikivip tiniapp-order ID` prints
//! the order and its message history, `tikivip tiniapp-set-aside` the messages
//! whose order Tiki's order API did not know.

use serde_json::{Value, json};
use tikivip_domain::tiniapp::OrderView;
use tikivip_domain::{TiniAppMessageId, TiniAppOrderId};
use tikivip_store::Store;

use crate::Error;
use crate::output::{self, Listing, Output};

/// The order and every message received about it.
pub async fn order(store: &Store, id: &str) -> Result<OrderView, Error> {
    let id = TiniAppOrderId::parse(id)?;
    store
        .tiniapp_order_view(&id)
        .await?
        .ok_or_else(|| format!("no Tini App order {id} and no message about it").into())
}

/// An order as `tikivip tiniapp-order` prints it. JSON: one line, the same
/// document as the `data` of `GET /v1/tiniapp/orders/{id}` (its times are
/// RFC 3339 in UTC too). Table: the order as stored (`-` where Tiki never
/// confirmed it), a blank line, then its messages, oldest first.
pub fn render_order(view: &OrderView, format: Output) -> Result<String, Error> {
    if format == Output::Json {
        return Ok(format!("{}\n", serde_json::to_string(view)?));
    }
    let mut order = Listing::new(&[
        "order_id",
        "status",
        "grand_total",
        "tiki_order_id",
        "tiki_order_code",
        "reference_id",
        "as_of",
        "updated_at",
        "extra",
    ]);
    order.push(match &view.order {
        Some(o) => vec![
            json!(o.order_id),
            json!(o.status),
            json!(o.grand_total),
            json!(o.tiki_order_id),
            json!(o.tiki_order_code),
            json!(o.reference_id),
            json!(output::time(o.as_of)),
            json!(output::time(o.updated_at)),
            json!(o.extra),
        ],
        None => [json!(view.order_id)]
            .into_iter()
            .chain(std::iter::repeat_n(Value::Null, 8))
            .collect(),
    });
    let mut messages = Listing::new(&[
        "message_id",
        "notified_status",
        "confirmed_status",
        "message_created_at",
        "received_at",
        "state",
        "verdict",
        "attempts",
        "last_error",
    ]);
    for m in &view.messages {
        messages.push(vec![
            json!(m.message_id),
            json!(m.notified_status),
            json!(m.confirmed_status),
            json!(output::time(m.message_created_at)),
            json!(output::time(m.received_at)),
            json!(m.state),
            json!(m.verdict),
            json!(m.attempts),
            json!(m.last_error),
        ]);
    }
    Ok(format!(
        "{}\n{}",
        order.render(Output::Table),
        messages.render(Output::Table)
    ))
}

/// The messages set aside: Tiki's order API did not know their order.
pub async fn set_aside(store: &Store) -> Result<Vec<TiniAppMessageId>, Error> {
    Ok(store.tiniapp_messages_set_aside().await?)
}

/// The set-aside messages as `tikivip tiniapp-set-aside` lists them.
pub fn set_aside_listing(ids: &[TiniAppMessageId]) -> Listing {
    let mut listing = Listing::new(&["message_id"]);
    for id in ids {
        listing.push(vec![json!(id)]);
    }
    listing
}
