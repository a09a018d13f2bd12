//! Receipt: a Tini App message recorded once, its processing in the outbox
//! until it is on the queue, and the message read back as stored.

use aws_sdk_dynamodb::types::AttributeValue;
use tikivip_domain::tiniapp::{
    MessageState, MessageVerdict, OrderStatus, RecordedMessage, TiniAppMessage,
};
use tikivip_domain::wire::parse_json;
use tikivip_domain::{Timestamp, TiniAppMessageId, TiniAppOrderId};

use super::{MESSAGE_PREFIX, attention, attr, history_key, message_key, optional};
use crate::codec::{Item, Reader, item_with_key, s, timestamp};
use crate::schema::{ATTENTION_KEY, ATTENTION_SORT_KEY, PARTITION_KEY};
use crate::transactions::{NOT_EXISTS, Transacted};
use crate::{Error, Store};

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
