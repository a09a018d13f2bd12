use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::Error;

/// The longest id accepted from outside; ids become parts of storage keys.
const MAX_ID_LEN: usize = 128;

fn check_external_id(kind: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidRequest(format!("{kind} must not be empty")));
    }
    if value.len() > MAX_ID_LEN {
        return Err(Error::InvalidRequest(format!(
            "{kind} is longer than {MAX_ID_LEN} characters"
        )));
    }
    // Visible ASCII only: ids travel in URLs, keys and CSV files.
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidRequest(format!(
            "{kind} may hold only visible ASCII characters"
        )));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses an id received from outside.
            pub fn parse(value: impl Into<String>) -> Result<Self, Error> {
                let value = value.into();
                check_external_id($kind, &value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Self::parse(value).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// The partner's id of a transaction (ours), given to Tiki at creation.
    TransactionId,
    "transaction_id"
);
id_type!(
    /// Tiki's id of a transaction.
    TikiTransactionId,
    "tiki_transaction_id"
);
id_type!(
    /// Tiki's idempotency key of a refund request.
    RequestId,
    "request_id"
);
id_type!(
    /// Our id of one refund.
    RefundId,
    "refund_id"
);
id_type!(
    /// The payment core's id of one payment-result event.
    EventId,
    "event_id"
);

id_type!(
    /// The Tini App platform's id of one order notification (`message_id`):
    /// a message is recorded once under it.
    TiniAppMessageId,
    "message_id"
);
id_type!(
    /// The Tini App platform's id of an order (`order.id`), the id its order
    /// API is asked with (`GET /order?order_id=…`); one order record each.
    TiniAppOrderId,
    "order.id"
);
id_type!(
    /// Tiki's marketplace id of the order behind a Tini App order.
    TikiOrderId,
    "order.tiki_order_id"
);
id_type!(
    /// Tiki's human-readable code of that order.
    TikiOrderCode,
    "order.tiki_order_code"
);
id_type!(
    /// The Tini App's own reference of the order, given when it was created.
    OrderReferenceId,
    "order.reference_id"
);

/// A new id, unique and roughly ordered by time (UUID v7 as 32 hex digits).
fn fresh(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

impl TransactionId {
    pub fn generate() -> Self {
        Self(fresh("T"))
    }
}

impl RefundId {
    pub fn generate() -> Self {
        Self(fresh("R"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = TransactionId::generate();
        let b = TransactionId::generate();
        assert_ne!(a, b);
        assert!(TransactionId::parse(a.as_str()).is_ok());
    }

    #[test]
    fn refuses_empty_long_and_invisible_ids() {
        assert!(TikiTransactionId::parse("").is_err());
        assert!(TikiTransactionId::parse("x".repeat(129)).is_err());
        assert!(TikiTransactionId::parse("a b").is_err());
        assert!(TikiTransactionId::parse("é").is_err());
        assert!(TikiTransactionId::parse("88062110977884170").is_ok());
    }
}
