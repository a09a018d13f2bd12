//! Domain types to DynamoDB items and back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use tikivip_domain::wire::Text;
use tikivip_domain::{
    Customer, Refund, RefundId, RefundOrigin, RequestId, TikiTransactionId, Timestamp, Transaction,
    TransactionId, Vnd,
};
use time::format_description::well_known::Rfc3339;

use crate::Error;
use crate::schema::Key;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Attribute names used in items and in expressions.
pub(crate) mod attr {
    pub const TRANSACTION_ID: &str = "transaction_id";
    pub const TIKI_TRANSACTION_ID: &str = "tiki_transaction_id";
    pub const AMOUNT: &str = "amount";
    /// `status` is a DynamoDB reserved word: expressions name it `#status`.
    pub const STATUS: &str = "status";
    pub const REFUNDED_AMOUNT: &str = "refunded_amount";
    pub const REFUNDS: &str = "refunds";
    pub const PARTNER_BANKING_METHOD: &str = "partner_banking_method";
    pub const DESCRIPTION: &str = "description";
    pub const CUSTOMER: &str = "customer";
    pub const REDIRECT_URL: &str = "redirect_url";
    pub const CREATED_AT: &str = "created_at";
    pub const UPDATED_AT: &str = "updated_at";
    pub const FINGERPRINT: &str = "fingerprint";
    pub const REFUND_ID: &str = "refund_id";
    pub const REQUEST_ID: &str = "request_id";
    pub const REASON: &str = "reason";
    pub const IDENTIFY_CODE: &str = "identify_code";
    pub const PHONE: &str = "phone";
    pub const FULLNAME: &str = "fullname";
    pub const MADE_BY: &str = "made_by";
    pub const OPERATOR: &str = "operator";
    pub const OPERATOR_REFERENCE: &str = "operator_reference";
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(amount: Vnd) -> AttributeValue {
    AttributeValue::N(amount.get().to_string())
}

/// One fixed-width RFC 3339 form in UTC, nanoseconds always written, so that
/// stored timestamps (sort keys, the sweeper's bounds) sort as text.
const SORTABLE: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
);

/// A timestamp as stored. Never fails: a time whose UTC form would fall
/// outside years 0..=9999 (a plausibility check refuses such results, but the
/// audit trail still records them) keeps the offset it was received with.
pub(crate) fn rfc3339(at: Timestamp) -> String {
    at.checked_to_offset(time::UtcOffset::UTC)
        .filter(|utc| (0..=9999).contains(&utc.year()))
        .and_then(|utc| utc.format(SORTABLE).ok())
        .or_else(|| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| at.unix_timestamp_nanos().to_string())
}

pub(crate) fn timestamp(at: Timestamp) -> AttributeValue {
    s(rfc3339(at))
}

pub(crate) fn item_with_key(key: Key) -> Item {
    key.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn put_text<const MAX: usize>(item: &mut Item, name: &str, text: &Option<Text<MAX>>) {
    if let Some(text) = text {
        item.insert(name.to_owned(), s(text.as_str()));
    }
}

pub(crate) fn refund_to_value(refund: &Refund) -> AttributeValue {
    let mut map = HashMap::from([
        (attr::REFUND_ID.to_owned(), s(refund.refund_id.as_str())),
        (attr::REQUEST_ID.to_owned(), s(refund.request_id.as_str())),
        (attr::AMOUNT.to_owned(), n(refund.amount)),
        (attr::REASON.to_owned(), s(refund.reason.as_str())),
        (attr::CREATED_AT.to_owned(), timestamp(refund.created_at)),
    ]);
    // Tiki's refunds carry no origin: the common case stays as small as it was.
    if let RefundOrigin::Operator {
        operator,
        reference,
    } = &refund.origin
    {
        map.insert(attr::MADE_BY.to_owned(), s("operator"));
        map.insert(attr::OPERATOR.to_owned(), s(operator.as_str()));
        map.insert(attr::OPERATOR_REFERENCE.to_owned(), s(reference.as_str()));
    }
    AttributeValue::M(map)
}

pub(crate) fn transaction_to_item(txn: &Transaction, key: Key) -> Item {
    let mut item = item_with_key(key);
    item.insert(attr::TRANSACTION_ID.into(), s(txn.id.as_str()));
    item.insert(attr::TIKI_TRANSACTION_ID.into(), s(txn.tiki_id.as_str()));
    item.insert(attr::AMOUNT.into(), n(txn.amount));
    item.insert(attr::STATUS.into(), s(txn.status.as_str()));
    item.insert(attr::REFUNDED_AMOUNT.into(), n(txn.refunded));
    item.insert(
        attr::REFUNDS.into(),
        AttributeValue::L(txn.refunds.iter().map(refund_to_value).collect()),
    );
    put_text(
        &mut item,
        attr::PARTNER_BANKING_METHOD,
        &txn.partner_banking_method,
    );
    put_text(&mut item, attr::DESCRIPTION, &txn.description);
    put_text(&mut item, attr::REDIRECT_URL, &txn.redirect_url);
    if let Some(customer) = &txn.customer {
        let mut map = Item::new();
        put_text(&mut map, attr::IDENTIFY_CODE, &customer.identify_code);
        put_text(&mut map, attr::PHONE, &customer.phone);
        put_text(&mut map, attr::FULLNAME, &customer.fullname);
        item.insert(attr::CUSTOMER.into(), AttributeValue::M(map));
    }
    item.insert(attr::CREATED_AT.into(), timestamp(txn.created_at));
    item.insert(attr::UPDATED_AT.into(), timestamp(txn.updated_at));
    item
}

/// Reads typed attributes out of an item, naming the entity in every error.
pub(crate) struct Reader<'a> {
    item: &'a Item,
    entity: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(item: &'a Item, entity: &'static str) -> Self {
        Reader { item, entity }
    }

    fn corrupt(&self, reason: String) -> Error {
        Error::corrupt(self.entity, reason)
    }

    pub(crate) fn opt_s(&self, name: &str) -> Result<Option<&'a str>, Error> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(value)) => Ok(Some(value)),
            Some(_) => Err(self.corrupt(format!("{name} is not a string"))),
        }
    }

    pub(crate) fn s(&self, name: &str) -> Result<&'a str, Error> {
        self.opt_s(name)?
            .ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub(crate) fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&'a str) -> Result<T, tikivip_domain::Error>,
    ) -> Result<T, Error> {
        parse(self.s(name)?).map_err(|e| self.corrupt(format!("{name}: {e}")))
    }

    pub(crate) fn text<const MAX: usize>(&self, name: &str) -> Result<Option<Text<MAX>>, Error> {
        self.opt_s(name)?
            .map(|v| Text::new(v).map_err(|e| self.corrupt(format!("{name}: {e}"))))
            .transpose()
    }

    pub(crate) fn vnd(&self, name: &str) -> Result<Vnd, Error> {
        match self.item.get(name) {
            Some(AttributeValue::N(value)) => value
                .parse()
                .ok()
                .and_then(|v| Vnd::new(v).ok())
                .ok_or_else(|| self.corrupt(format!("{name} is not an amount: {value}"))),
            _ => Err(self.corrupt(format!("{name} is missing or not a number"))),
        }
    }

    pub(crate) fn timestamp(&self, name: &str) -> Result<Timestamp, Error> {
        let value = self.s(name)?;
        Timestamp::parse(value, &Rfc3339)
            .map_err(|e| self.corrupt(format!("{name} is not RFC 3339: {e}")))
    }

    fn map(&self, name: &str) -> Result<Option<&'a Item>, Error> {
        match self.item.get(name) {
            None => Ok(None),
            Some(AttributeValue::M(map)) => Ok(Some(map)),
            Some(_) => Err(self.corrupt(format!("{name} is not a map"))),
        }
    }

    fn list(&self, name: &str) -> Result<&'a [AttributeValue], Error> {
        match self.item.get(name) {
            Some(AttributeValue::L(list)) => Ok(list),
            _ => Err(self.corrupt(format!("{name} is missing or not a list"))),
        }
    }
}

fn refund_from_value(value: &AttributeValue) -> Result<Refund, Error> {
    let AttributeValue::M(map) = value else {
        return Err(Error::corrupt("refund", "not a map"));
    };
    let r = Reader::new(map, "refund");
    Ok(Refund {
        refund_id: r.parsed(attr::REFUND_ID, RefundId::parse)?,
        request_id: r.parsed(attr::REQUEST_ID, RequestId::parse)?,
        amount: r.vnd(attr::AMOUNT)?,
        reason: r.parsed(attr::REASON, Text::new)?,
        origin: match r.opt_s(attr::MADE_BY)? {
            None => RefundOrigin::Tiki,
            Some("operator") => RefundOrigin::Operator {
                operator: r.parsed(attr::OPERATOR, Text::new)?,
                reference: r.parsed(attr::OPERATOR_REFERENCE, Text::new)?,
            },
            Some(other) => return Err(r.corrupt(format!("unknown refund origin {other:?}"))),
        },
        created_at: r.timestamp(attr::CREATED_AT)?,
    })
}

pub(crate) fn transaction_from_item(item: &Item) -> Result<Transaction, Error> {
    let r = Reader::new(item, "transaction");
    let customer = match r.map(attr::CUSTOMER)? {
        None => None,
        Some(map) => {
            let c = Reader::new(map, "customer");
            Some(Customer {
                identify_code: c.text(attr::IDENTIFY_CODE)?,
                phone: c.text(attr::PHONE)?,
                fullname: c.text(attr::FULLNAME)?,
            })
        }
    };
    Ok(Transaction {
        id: r.parsed(attr::TRANSACTION_ID, TransactionId::parse)?,
        tiki_id: r.parsed(attr::TIKI_TRANSACTION_ID, TikiTransactionId::parse)?,
        amount: r.vnd(attr::AMOUNT)?,
        status: r.parsed(attr::STATUS, str::parse)?,
        refunded: r.vnd(attr::REFUNDED_AMOUNT)?,
        refunds: r
            .list(attr::REFUNDS)?
            .iter()
            .map(refund_from_value)
            .collect::<Result<_, _>>()?,
        partner_banking_method: r.text(attr::PARTNER_BANKING_METHOD)?,
        description: r.text(attr::DESCRIPTION)?,
        customer,
        redirect_url: r.text(attr::REDIRECT_URL)?,
        created_at: r.timestamp(attr::CREATED_AT)?,
        updated_at: r.timestamp(attr::UPDATED_AT)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::transaction_key;
    use tikivip_domain::{NewTransaction, TransactionStatus};

    #[test]
    fn a_transaction_survives_the_round_trip_through_an_item() {
        let now = Timestamp::now_utc().replace_nanosecond(0).unwrap();
        let mut txn = NewTransaction {
            id: TransactionId::generate(),
            tiki_id: TikiTransactionId::parse("tiki-42").unwrap(),
            amount: Vnd::new(99_000).unwrap(),
            description: Some(Text::new("TikiVIP 1 tháng").unwrap()),
            customer: Some(Customer {
                identify_code: Some(Text::new("u-1").unwrap()),
                phone: Some(Text::new("0900000000").unwrap()),
                fullname: None,
            }),
            redirect_url: None,
            created_at: now,
        }
        .into_pending();
        txn.status = TransactionStatus::Success;
        txn.refunds.push(Refund {
            refund_id: RefundId::generate(),
            request_id: RequestId::parse("req-1").unwrap(),
            amount: Vnd::new(1_000).unwrap(),
            reason: Text::new("partial").unwrap(),
            origin: RefundOrigin::Tiki,
            created_at: now,
        });
        txn.refunds.push(Refund {
            refund_id: RefundId::generate(),
            request_id: RequestId::parse("operator:OPS-7").unwrap(),
            amount: Vnd::new(2_000).unwrap(),
            reason: Text::new("Tiki refused the IPN").unwrap(),
            origin: RefundOrigin::Operator {
                operator: Text::new("lan@partner").unwrap(),
                reference: Text::new("OPS-7").unwrap(),
            },
            created_at: now,
        });
        txn.refunded = Vnd::new(3_000).unwrap();
        let item = transaction_to_item(&txn, transaction_key(&txn.id));
        assert_eq!(transaction_from_item(&item).unwrap(), txn);
    }

    #[test]
    fn stored_timestamps_are_one_fixed_width_utc_form_that_sorts_as_text() {
        use time::macros::datetime;
        let times = [
            datetime!(2026-01-01 06:59:59.999999999 +07:00),
            datetime!(2026-01-01 00:00:00 UTC),
            datetime!(2026-01-01 00:00:00.5 UTC),
            datetime!(2026-01-01 07:00:00.000000001 +07:00),
        ];
        let stored: Vec<String> = times.iter().map(|t| rfc3339(*t)).collect();
        assert_eq!(stored[1], "2026-01-01T00:00:00.000000000Z");
        assert!(
            stored.iter().all(|s| s.len() == stored[0].len()),
            "{stored:?}"
        );
        let mut sorted = stored.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [&stored[0], &stored[1], &stored[3], &stored[2]].map(String::clone)
        );
        for s in &stored {
            assert!(Timestamp::parse(s, &Rfc3339).is_ok(), "{s} reads back");
        }
    }

    #[test]
    fn a_timestamp_beyond_the_utc_calendar_is_stored_without_a_panic() {
        use time::macros::datetime;
        let edge = datetime!(9999-12-31 23:59:59 -23:59);
        assert_eq!(rfc3339(edge), "9999-12-31T23:59:59-23:59");
        assert!(!rfc3339(datetime!(0000-01-01 00:00:00 +23:59)).is_empty());
    }
}

/// Attributes of the IPN job kept on a settled transaction, and of the
/// audit trail of payment results.
pub(crate) mod ipn_attr {
    pub const STATE: &str = "ipn_state";
    pub const ATTEMPTS: &str = "ipn_attempts";
    pub const LAST_ERROR: &str = "ipn_last_error";
    pub const NEXT_ATTEMPT_AT: &str = "ipn_next_attempt_at";
    pub const CHAIN: &str = "ipn_chain";
    pub const EVENT_ID: &str = "event_id";
    pub const OUTCOME: &str = "outcome";
    pub const VERDICT: &str = "verdict";
    pub const REASON: &str = "reason";
    pub const OCCURRED_AT: &str = "occurred_at";
    pub const RECEIVED_AT: &str = "received_at";
}

/// Values of the sparse `attention` index.
pub(crate) mod attention {
    pub const IPN_OUTBOX: &str = "IPN_OUTBOX";
    pub const REFUND_REQUIRED: &str = "REFUND_REQUIRED";
    pub const UNPAID_SUCCESS: &str = "UNPAID_SUCCESS";
    pub const STATUS_MISMATCH: &str = "STATUS_MISMATCH";
}

impl Reader<'_> {
    pub(crate) fn opt_u32(&self, name: &str) -> Result<Option<u32>, Error> {
        match self.item.get(name) {
            None => Ok(None),
            Some(AttributeValue::N(value)) => value
                .parse()
                .map(Some)
                .map_err(|_| self.corrupt(format!("{name} is not a count: {value}"))),
            Some(_) => Err(self.corrupt(format!("{name} is not a number"))),
        }
    }

    pub(crate) fn opt_timestamp(&self, name: &str) -> Result<Option<Timestamp>, Error> {
        match self.opt_s(name)? {
            None => Ok(None),
            Some(_) => self.timestamp(name).map(Some),
        }
    }
}
