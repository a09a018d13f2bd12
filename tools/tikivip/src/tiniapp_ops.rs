//! The operator's view of Tini App orders: `tikivip tiniapp-order ID` prints
//! the order and its message history, `tikivip tiniapp-set-aside` the messages
//! whose order Tiki's order API did not know.

use tikivip_domain::{TiniAppMessageId, TiniAppOrderId};
use tikivip_store::Store;

use crate::Error;

/// The order and every message received about it, as pretty JSON.
pub async fn order(store: &Store, id: &str) -> Result<String, Error> {
    let id = TiniAppOrderId::parse(id)?;
    let view = store
        .tiniapp_order_view(&id)
        .await?
        .ok_or_else(|| format!("no Tini App order {id} and no message about it"))?;
    Ok(serde_json::to_string_pretty(&view)?)
}

/// The messages set aside: Tiki's order API did not know their order.
pub async fn set_aside(store: &Store) -> Result<Vec<TiniAppMessageId>, Error> {
    Ok(store.tiniapp_messages_set_aside().await?)
}
