//! Tini App order IPN (SPEC.md Part 1, "Tini App order IPN"): the notification
//! Tiki's Tini App platform posts about an order, the order's statuses and the
//! rules by which a stored order may change. Pure rules: the store enforces
//! them inside its writes, the functions do the I/O.
//!
//! A notification is a hint: what is kept is what Tiki's order API confirms,
//! ordered by the notification's `message_created_at`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::wire::parse_json;
use crate::{
    Error, OrderReferenceId, TikiOrderCode, TikiOrderId, Timestamp, TiniAppMessageId,
    TiniAppOrderId, Vnd,
};

/// The longest `extra` accepted: it is stored with the order.
pub const MAX_EXTRA_LEN: usize = 2048;

/// How far ahead of our clock a `message_created_at` may be: the signature
/// window, since the message was signed after it was created.
pub const MAX_CREATED_AHEAD: Duration = Duration::from_secs(5 * 60);

/// How old a `message_created_at` may be. Tiki's resends span about 44 hours
/// (1 min, 5 min, 30 min, 60 min, 6 h, 12 h, 24 h); a week leaves room for a
/// replay by hand, and refuses a date that is a mistake.
pub const MAX_CREATED_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Where a Tini App order stands, as Tiki names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Draft,
    WaitingForPayment,
    WaitingForVerification,
    OnlinePaid,
    Processing,
    OnDelivery,
    /// Final: the user cancelled, or the payment was abandoned.
    Canceled,
    /// Final.
    Completed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::Draft,
        OrderStatus::WaitingForPayment,
        OrderStatus::WaitingForVerification,
        OrderStatus::OnlinePaid,
        OrderStatus::Processing,
        OrderStatus::OnDelivery,
        OrderStatus::Canceled,
        OrderStatus::Completed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Draft => "draft",
            OrderStatus::WaitingForPayment => "waiting_for_payment",
            OrderStatus::WaitingForVerification => "waiting_for_verification",
            OrderStatus::OnlinePaid => "online_paid",
            OrderStatus::Processing => "processing",
            OrderStatus::OnDelivery => "on_delivery",
            OrderStatus::Canceled => "canceled",
            OrderStatus::Completed => "completed",
        }
    }

    pub fn parse(value: &str) -> Result<OrderStatus, Error> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| Error::InvalidRequest(format!("unknown order status {value:?}")))
    }

    /// `completed` and `canceled` are final: nothing moves an order out of them.
    pub const fn is_final(self) -> bool {
        matches!(self, OrderStatus::Completed | OrderStatus::Canceled)
    }

    /// How far along its life an order is. A status may only be followed by
    /// one of a higher rank; both final statuses share the highest rank, so
    /// nothing follows either. The store's write condition compares ranks.
    pub const fn rank(self) -> u8 {
        match self {
            OrderStatus::Draft => 0,
            OrderStatus::WaitingForPayment => 1,
            OrderStatus::WaitingForVerification => 2,
            OrderStatus::OnlinePaid => 3,
            OrderStatus::Processing => 4,
            OrderStatus::OnDelivery => 5,
            OrderStatus::Canceled | OrderStatus::Completed => 6,
        }
    }

    /// The forward-only rule: an order moves to a later stage of its life,
    /// `canceled` or `completed` from any status that is not final, and never
    /// out of a final status. Steps may be skipped (a notification can be lost).
    pub const fn can_move_to(self, next: OrderStatus) -> bool {
        !self.is_final() && next.rank() > self.rank()
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `order.extra`: `k=v;k=v`, read into its pairs. Kept as received too, so
/// that what is stored is what Tiki sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extra {
    raw: String,
    pairs: BTreeMap<String, String>,
}

impl Extra {
    /// Pairs separated by `;` (empty parts, as after a trailing `;`, are
    /// skipped), each `key=value` with a non-empty key, split at its first
    /// `=`; a key given twice is refused. The empty string has no pairs.
    pub fn parse(raw: &str) -> Result<Extra, Error> {
        let refuse = |why: String| Err(Error::InvalidRequest(format!("order.extra: {why}")));
        if raw.len() > MAX_EXTRA_LEN {
            return refuse(format!("longer than {MAX_EXTRA_LEN} bytes"));
        }
        let mut pairs = BTreeMap::new();
        for part in raw.split(';').filter(|part| !part.trim().is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return refuse(format!("{part:?} is not key=value"));
            };
            let key = key.trim();
            if key.is_empty() {
                return refuse(format!("{part:?} has no key"));
            }
            if pairs
                .insert(key.to_owned(), value.trim().to_owned())
                .is_some()
            {
                return refuse(format!("key {key:?} is given twice"));
            }
        }
        Ok(Extra {
            raw: raw.to_owned(),
            pairs,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn pairs(&self) -> &BTreeMap<String, String> {
        &self.pairs
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.get(key).map(String::as_str)
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Extra::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// Published as its pairs.
impl Serialize for Extra {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.pairs.serialize(serializer)
    }
}

/// `grand_total`: an int64 on the wire, of whole đồng, zero (a free order)
/// up to [`Vnd::MAX`]. Negatives, fractions, strings and absurd sizes are refused.
pub fn grand_total(value: i64) -> Result<Vnd, Error> {
    let dong = u64::try_from(value).map_err(|_| {
        Error::InvalidAmount(format!("order.grand_total must not be negative: {value}"))
    })?;
    Vnd::new(dong).map_err(|e| Error::InvalidAmount(format!("order.grand_total: {e}")))
}

fn deserialize_grand_total<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vnd, D::Error> {
    grand_total(i64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

/// An optional id Tiki may send as `""` (an order not placed yet): unknown.
fn empty_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => {
            T::deserialize(serde::de::value::StringDeserializer::<D::Error>::new(value)).map(Some)
        }
    }
}

/// `message_type`: Tiki sends only notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    Notification,
}

/// `order`, as the notification describes it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OrderNotice {
    pub id: TiniAppOrderId,
    pub status: OrderStatus,
    #[serde(deserialize_with = "deserialize_grand_total")]
    pub grand_total: Vnd,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub tiki_order_id: Option<TikiOrderId>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub tiki_order_code: Option<TikiOrderCode>,
    #[serde(default)]
    pub extra: Extra,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub reference_id: Option<OrderReferenceId>,
}

/// A Tini App order notification, as posted to `POST /v1/tiniapp/ipn`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TiniAppMessage {
    pub message_id: TiniAppMessageId,
    pub message_type: MessageType,
    #[serde(with = "time::serde::rfc3339")]
    pub message_created_at: Timestamp,
    pub order: OrderNotice,
}

impl TiniAppMessage {
    /// Reads a notification strictly: every field of its type, a known
    /// status, an `order`, and a `message_created_at` that is plausible at
    /// `now` (see [`TiniAppMessage::check_created_at`]). Unknown fields are
    /// ignored: Tiki may add some, and a refusal would never be resent.
    pub fn parse(body: &[u8], now: Timestamp) -> Result<TiniAppMessage, Error> {
        let message: TiniAppMessage = parse_json(body)?;
        message.check_created_at(now)?;
        Ok(message)
    }

    /// Not more than [`MAX_CREATED_AHEAD`] ahead of `now` nor older than
    /// [`MAX_CREATED_AGE`].
    pub fn check_created_at(&self, now: Timestamp) -> Result<(), Error> {
        let at = self.message_created_at;
        if at > now + MAX_CREATED_AHEAD {
            return Err(Error::InvalidRequest(format!(
                "message_created_at {at} is in the future"
            )));
        }
        if at < now - MAX_CREATED_AGE {
            return Err(Error::InvalidRequest(format!(
                "message_created_at {at} is older than {} days",
                MAX_CREATED_AGE.as_secs() / 86_400
            )));
        }
        Ok(())
    }
}

/// What Tiki's order API says of an order: the state that is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmedOrder {
    pub status: OrderStatus,
    pub grand_total: Vnd,
    pub tiki_order_id: Option<TikiOrderId>,
    pub tiki_order_code: Option<TikiOrderCode>,
    pub reference_id: Option<OrderReferenceId>,
}

/// One order, as stored: Tiki's confirmed state as of the newest message
/// accepted for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Order {
    pub order_id: TiniAppOrderId,
    pub status: OrderStatus,
    pub grand_total: Vnd,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiki_order_id: Option<TikiOrderId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiki_order_code: Option<TikiOrderCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<OrderReferenceId>,
    pub extra: Extra,
    /// The `message_created_at` of the message that set this status: what a
    /// later message is ordered against.
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: Timestamp,
    pub last_message_id: TiniAppMessageId,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

impl Order {
    /// The rule of every change: a message changes an order only if it is
    /// newer than the one that set the order's status, and Tiki's status
    /// moves forward ([`OrderStatus::can_move_to`]). The first message of an
    /// order always sets it. The store's write condition is this rule.
    pub fn accepts(current: Option<&Order>, status: OrderStatus, as_of: Timestamp) -> bool {
        match current {
            None => true,
            Some(order) => as_of > order.as_of && order.status.can_move_to(status),
        }
    }

    /// The order a confirmed message makes.
    pub fn confirmed(
        message: &TiniAppMessage,
        confirmed: &ConfirmedOrder,
        now: Timestamp,
    ) -> Order {
        Order {
            order_id: message.order.id.clone(),
            status: confirmed.status,
            grand_total: confirmed.grand_total,
            tiki_order_id: confirmed
                .tiki_order_id
                .clone()
                .or_else(|| message.order.tiki_order_id.clone()),
            tiki_order_code: confirmed
                .tiki_order_code
                .clone()
                .or_else(|| message.order.tiki_order_code.clone()),
            reference_id: confirmed
                .reference_id
                .clone()
                .or_else(|| message.order.reference_id.clone()),
            extra: message.order.extra.clone(),
            as_of: message.message_created_at,
            last_message_id: message.message_id.clone(),
            updated_at: now,
        }
    }
}

/// Where the processing of a received message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageState {
    /// Recorded; its confirmation with Tiki's order API is to come.
    Received,
    /// Confirmed and applied (or found to change nothing).
    Processed,
    /// Tiki's order API does not know the order: set aside, with an alert.
    SetAside,
    /// Tiki's order API stayed unreachable for the whole schedule: the
    /// message is in the dead-letter queue.
    Exhausted,
}

impl MessageState {
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageState::Received => "RECEIVED",
            MessageState::Processed => "PROCESSED",
            MessageState::SetAside => "SET_ASIDE",
            MessageState::Exhausted => "EXHAUSTED",
        }
    }

    pub fn parse(value: &str) -> Result<MessageState, Error> {
        Ok(match value {
            "RECEIVED" => MessageState::Received,
            "PROCESSED" => MessageState::Processed,
            "SET_ASIDE" => MessageState::SetAside,
            "EXHAUSTED" => MessageState::Exhausted,
            other => {
                return Err(Error::InvalidRequest(format!(
                    "unknown message state {other:?}"
                )));
            }
        })
    }
}

impl fmt::Display for MessageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the processing of a message did to its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageVerdict {
    /// The order took Tiki's confirmed status: an event was published.
    Applied,
    /// Older than the order's status, or Tiki's status is not a step
    /// forward: nothing changed.
    Unchanged,
    /// Tiki's order API does not know the order.
    UnknownOrder,
}

impl MessageVerdict {
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageVerdict::Applied => "APPLIED",
            MessageVerdict::Unchanged => "UNCHANGED",
            MessageVerdict::UnknownOrder => "UNKNOWN_ORDER",
        }
    }

    pub fn parse(value: &str) -> Result<MessageVerdict, Error> {
        Ok(match value {
            "APPLIED" => MessageVerdict::Applied,
            "UNCHANGED" => MessageVerdict::Unchanged,
            "UNKNOWN_ORDER" => MessageVerdict::UnknownOrder,
            other => {
                return Err(Error::InvalidRequest(format!(
                    "unknown message verdict {other:?}"
                )));
            }
        })
    }
}

/// One received message, as the order's history shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedMessage {
    pub message_id: TiniAppMessageId,
    pub order_id: TiniAppOrderId,
    /// The status the notification claimed.
    pub notified_status: OrderStatus,
    /// The status Tiki's order API confirmed, once asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_status: Option<OrderStatus>,
    #[serde(with = "time::serde::rfc3339")]
    pub message_created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: Timestamp,
    pub state: MessageState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<MessageVerdict>,
    /// Calls to Tiki's order API that failed so far.
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// What an operator sees of an order: the order as stored (if Tiki ever
/// confirmed it) and every message received about it, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderView {
    pub order_id: TiniAppOrderId,
    pub order: Option<Order>,
    pub messages: Vec<RecordedMessage>,
}

/// An accepted change of an order's status, published once for the
/// partner's own systems (README: "Tini App order events").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// Unique per change: `{order_id}:{message_id}`. Consumers may dedupe on it.
    pub event_id: String,
    pub event_type: String,
    pub order_id: TiniAppOrderId,
    pub status: OrderStatus,
    /// The status before this change; `None` for an order seen the first time.
    pub previous_status: Option<OrderStatus>,
    /// Whole đồng; 0 for a free (or, as Tiki may report it, canceled) order.
    #[serde(deserialize_with = "deserialize_grand_total")]
    pub grand_total: Vnd,
    #[serde(default)]
    pub tiki_order_id: Option<TikiOrderId>,
    #[serde(default)]
    pub tiki_order_code: Option<TikiOrderCode>,
    #[serde(default)]
    pub reference_id: Option<OrderReferenceId>,
    pub extra: BTreeMap<String, String>,
    pub message_id: TiniAppMessageId,
    #[serde(with = "time::serde::rfc3339")]
    pub message_created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub confirmed_at: Timestamp,
}

/// The `event_type` of every [`OrderEvent`].
pub const ORDER_STATUS_CHANGED: &str = "tiniapp.order.status_changed";

impl OrderEvent {
    /// The event of an accepted change from `previous` to `order`.
    pub fn of_change(order: &Order, previous: Option<OrderStatus>) -> OrderEvent {
        OrderEvent {
            event_id: format!("{}:{}", order.order_id, order.last_message_id),
            event_type: ORDER_STATUS_CHANGED.to_owned(),
            order_id: order.order_id.clone(),
            status: order.status,
            previous_status: previous,
            grand_total: order.grand_total,
            tiki_order_id: order.tiki_order_id.clone(),
            tiki_order_code: order.tiki_order_code.clone(),
            reference_id: order.reference_id.clone(),
            extra: order.extra.pairs().clone(),
            message_id: order.last_message_id.clone(),
            message_created_at: order.as_of,
            confirmed_at: order.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResultCode;
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2026-12-02 10:00:00 UTC);

    fn body(status: &str, created_at: &str) -> String {
        format!(
            r#"{{"message_id":"m-1","message_type":"notification","message_created_at":"{created_at}",
              "order":{{"id":"o-1","status":"{status}","grand_total":99000,"tiki_order_id":"123",
              "tiki_order_code":"TK123","extra":"plan=vip;months=1","reference_id":"ref-1"}}}}"#
        )
    }

    fn parse(body: &str) -> Result<TiniAppMessage, Error> {
        TiniAppMessage::parse(body.as_bytes(), NOW)
    }

    #[test]
    fn a_notification_is_read_into_domain_types() {
        let message = parse(&body("online_paid", "2026-12-02T16:59:00+07:00")).unwrap();
        assert_eq!(message.message_id.as_str(), "m-1");
        assert_eq!(message.order.id.as_str(), "o-1");
        assert_eq!(message.order.status, OrderStatus::OnlinePaid);
        assert_eq!(message.order.grand_total, Vnd::new(99_000).unwrap());
        assert_eq!(message.order.extra.get("plan"), Some("vip"));
        assert_eq!(message.order.extra.get("months"), Some("1"));
        assert_eq!(
            message.message_created_at,
            datetime!(2026-12-02 09:59:00 UTC)
        );
    }

    #[test]
    fn an_optional_id_sent_empty_is_unknown() {
        let empty = body("draft", "2026-12-02T09:59:00Z").replace(r#""ref-1""#, r#""""#);
        assert_eq!(parse(&empty).unwrap().order.reference_id, None);
    }

    #[test]
    fn every_status_of_tikis_list_is_known_and_reads_back() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
        }
    }

    #[test]
    fn an_unknown_status_is_refused() {
        for status in ["paid", "ONLINE_PAID", "cancelled", ""] {
            let err = parse(&body(status, "2026-12-02T09:59:00Z")).unwrap_err();
            assert_eq!(err.code(), ResultCode::InvalidRequest, "{status}");
            assert!(err.to_string().contains("order.status"), "{err}");
        }
    }

    #[test]
    fn a_message_without_its_order_is_refused() {
        let err = parse(
            r#"{"message_id":"m","message_type":"notification","message_created_at":"2026-12-02T09:59:00Z"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("order"), "{err}");
    }

    #[test]
    fn fields_of_the_wrong_type_are_refused() {
        let good = body("online_paid", "2026-12-02T09:59:00Z");
        for (from, to) in [
            (r#""grand_total":99000"#, r#""grand_total":"99000""#),
            (r#""grand_total":99000"#, r#""grand_total":99000.5"#),
            (r#""grand_total":99000"#, r#""grand_total":null"#),
            (r#""id":"o-1""#, r#""id":17"#),
            (r#""message_id":"m-1""#, r#""message_id":["m-1"]"#),
            (
                r#""extra":"plan=vip;months=1""#,
                r#""extra":{"plan":"vip"}"#,
            ),
            (
                r#""message_type":"notification""#,
                r#""message_type":"ping""#,
            ),
            (
                r#""message_created_at":"2026-12-02T09:59:00Z""#,
                r#""message_created_at":1764669540"#,
            ),
        ] {
            let bad = good.replace(from, to);
            assert_ne!(bad, good, "{from}");
            assert!(parse(&bad).is_err(), "{to} was accepted");
        }
    }

    #[test]
    fn grand_total_is_a_whole_number_of_dong_from_zero_to_the_bound() {
        assert_eq!(grand_total(0), Ok(Vnd::ZERO));
        assert_eq!(grand_total(99_000), Ok(Vnd::new(99_000).unwrap()));
        for bad in [-1, i64::MIN, 100_000_000_001, i64::MAX] {
            assert_eq!(
                grand_total(bad).unwrap_err().code(),
                ResultCode::InvalidAmount,
                "{bad}"
            );
        }
        let huge =
            body("online_paid", "2026-12-02T09:59:00Z").replace("99000", "9223372036854775808");
        assert!(parse(&huge).is_err(), "beyond int64 is refused");
    }

    #[test]
    fn message_created_at_must_be_rfc3339_and_plausible() {
        assert!(parse(&body("draft", "2026-12-02T10:04:00Z")).is_ok());
        assert!(parse(&body("draft", "2026-11-26T10:00:00Z")).is_ok());
        for bad in [
            "2026-12-02 09:59:00",
            "2026-12-02T09:59:00",
            "yesterday",
            "2026-12-02T10:06:00Z",
            "2026-11-25T09:59:00Z",
        ] {
            assert!(parse(&body("draft", bad)).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn extra_is_read_into_key_value_pairs() {
        let extra = Extra::parse("a=1;b=x=y; c = 3 ;").unwrap();
        let pairs: Vec<_> = extra
            .pairs()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, [("a", "1"), ("b", "x=y"), ("c", "3")]);
        assert_eq!(extra.as_str(), "a=1;b=x=y; c = 3 ;");
        assert!(Extra::parse("").unwrap().pairs().is_empty());
    }

    #[test]
    fn extra_without_a_key_or_with_a_key_twice_is_refused() {
        for bad in ["novalue", "=1", "a=1;a=2", &"k=v;".repeat(500)] {
            assert!(Extra::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn completed_and_canceled_are_final_and_nothing_leaves_them() {
        for final_status in [OrderStatus::Completed, OrderStatus::Canceled] {
            assert!(final_status.is_final());
            for next in OrderStatus::ALL {
                assert!(!final_status.can_move_to(next), "{final_status} → {next}");
            }
        }
    }

    #[test]
    fn statuses_move_only_forward() {
        use OrderStatus::*;
        assert!(Draft.can_move_to(WaitingForPayment));
        assert!(WaitingForPayment.can_move_to(OnlinePaid));
        assert!(OnlinePaid.can_move_to(Processing));
        assert!(Processing.can_move_to(OnDelivery));
        assert!(OnDelivery.can_move_to(Completed));
        assert!(!OnlinePaid.can_move_to(WaitingForPayment));
        assert!(!Processing.can_move_to(Processing), "a repeat is no move");
        assert!(!OnDelivery.can_move_to(Draft));
    }

    #[test]
    fn canceled_and_completed_follow_any_status_that_is_not_final() {
        for status in OrderStatus::ALL.into_iter().filter(|s| !s.is_final()) {
            assert!(status.can_move_to(OrderStatus::Canceled), "{status}");
            assert!(status.can_move_to(OrderStatus::Completed), "{status}");
        }
    }

    fn order(status: OrderStatus, as_of: Timestamp) -> Order {
        Order {
            order_id: TiniAppOrderId::parse("o-1").unwrap(),
            status,
            grand_total: Vnd::new(1).unwrap(),
            tiki_order_id: None,
            tiki_order_code: None,
            reference_id: None,
            extra: Extra::default(),
            as_of,
            last_message_id: TiniAppMessageId::parse("m-0").unwrap(),
            updated_at: as_of,
        }
    }

    #[test]
    fn an_older_message_never_overwrites_a_newer_one() {
        let stored = order(OrderStatus::WaitingForPayment, NOW);
        let older = NOW - Duration::from_secs(1);
        assert!(!Order::accepts(
            Some(&stored),
            OrderStatus::OnlinePaid,
            older
        ));
        assert!(!Order::accepts(Some(&stored), OrderStatus::OnlinePaid, NOW));
        assert!(Order::accepts(
            Some(&stored),
            OrderStatus::OnlinePaid,
            NOW + Duration::from_secs(1)
        ));
    }

    #[test]
    fn the_first_message_of_an_order_sets_it() {
        assert!(Order::accepts(None, OrderStatus::Draft, NOW));
        assert!(Order::accepts(None, OrderStatus::Canceled, NOW));
    }

    #[test]
    fn the_kept_state_is_tikis_not_the_notifications() {
        let message = parse(&body("online_paid", "2026-12-02T09:59:00Z")).unwrap();
        let confirmed = ConfirmedOrder {
            status: OrderStatus::Canceled,
            grand_total: Vnd::new(50_000).unwrap(),
            tiki_order_id: None,
            tiki_order_code: None,
            reference_id: None,
        };
        let order = Order::confirmed(&message, &confirmed, NOW);
        assert_eq!(order.status, OrderStatus::Canceled);
        assert_eq!(order.grand_total, Vnd::new(50_000).unwrap());
        assert_eq!(order.as_of, message.message_created_at);
        assert_eq!(
            order.tiki_order_code.as_ref().map(TikiOrderCode::as_str),
            Some("TK123")
        );
        let event = OrderEvent::of_change(&order, Some(OrderStatus::WaitingForPayment));
        assert_eq!(event.event_id, "o-1:m-1");
        assert_eq!(event.extra["plan"], "vip");
    }

    #[test]
    fn an_event_of_a_zero_total_reads_back_as_published() {
        let message = parse(&body("canceled", "2026-12-02T09:59:00Z")).unwrap();
        let confirmed = ConfirmedOrder {
            status: OrderStatus::Canceled,
            grand_total: Vnd::ZERO,
            tiki_order_id: None,
            tiki_order_code: None,
            reference_id: None,
        };
        let event = OrderEvent::of_change(&Order::confirmed(&message, &confirmed, NOW), None);
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<OrderEvent>(&json).unwrap(), event);
    }
}
