//! The bodies of SPEC.md Part 2, as they travel, and how they are read.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::{
    Customer, Error, Refund, TikiTransactionId, Timestamp, Transaction, TransactionId,
    TransactionStatus, Vnd,
};

/// Free text of at most `MAX` characters, from outside.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        if value.chars().count() > MAX {
            return Err(Error::InvalidRequest(format!(
                "text is longer than {MAX} characters"
            )));
        }
        Ok(Text(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Free text may be personal (a phone number, a name): it never reaches a log whole.
impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Text({} chars)", self.0.chars().count())
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Text::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// Whether `body` is, at least at its start, a JSON object. Every body and
/// every answer of the protocol is one; serde would also read a struct from
/// an array of its fields in order (`["8806…", 99000]` as a create, `[0]` as
/// Tiki's code 0), which no peer sends and the spec does not allow.
pub fn is_json_object(body: &[u8]) -> bool {
    body.trim_ascii_start().first() == Some(&b'{')
}

/// Reads a JSON body into `T`, naming the field at fault in the error. Only a
/// JSON object is read (see [`is_json_object`]).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if !is_json_object(body) {
        return Err(Error::InvalidRequest(
            "malformed JSON: the body must be a JSON object".into(),
        ));
    }
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let reason = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("malformed JSON: {inner}")
            }
            _ if path == "." => inner.to_string(),
            _ => format!("{path}: {inner}"),
        };
        if path.ends_with("amount") {
            Error::InvalidAmount(reason)
        } else {
            Error::InvalidRequest(reason)
        }
    })?;
    json.end()
        .map_err(|e| Error::InvalidRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// `POST /v1/transactions`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CreateTransactionRequest {
    pub tiki_transaction_id: TikiTransactionId,
    pub transaction_amount: Vnd,
    #[serde(default)]
    pub description: Option<Text<500>>,
    #[serde(default)]
    pub customer: Option<Customer>,
    #[serde(default)]
    pub redirect_url: Option<Text<2048>>,
}

/// The answer to a create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedTransaction {
    pub transaction_id: TransactionId,
    pub tiki_transaction_id: TikiTransactionId,
    pub transaction_amount: Vnd,
    pub status: TransactionStatus,
    pub payment_url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

/// The answer to a look-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransactionView {
    pub transaction_id: TransactionId,
    pub tiki_transaction_id: TikiTransactionId,
    pub transaction_amount: Vnd,
    pub status: TransactionStatus,
    pub refunded_amount: Vnd,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_banking_method: Option<Text<100>>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    pub refunds: Vec<Refund>,
    /// Where the payment screen sends the user back to Tiki when the payment
    /// ends: the create's `redirect_url`, or the checkout-result URL of the
    /// user's webview request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<Text<2048>>,
}

impl From<Transaction> for TransactionView {
    fn from(txn: Transaction) -> Self {
        TransactionView {
            transaction_id: txn.id,
            tiki_transaction_id: txn.tiki_id,
            transaction_amount: txn.amount,
            status: txn.status,
            refunded_amount: txn.refunded,
            partner_banking_method: txn.partner_banking_method,
            created_at: txn.created_at,
            updated_at: txn.updated_at,
            refunds: txn.refunds,
            redirect_url: txn.redirect_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResultCode;

    fn create(body: &str) -> Result<CreateTransactionRequest, Error> {
        parse_json(body.as_bytes())
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_refused() {
        for body in [r#"["88062110977884170", 99000]"#, "99000", "null", ""] {
            assert!(
                matches!(create(body), Err(Error::InvalidRequest(_))),
                "{body:?}"
            );
        }
        assert!(create(r#" {"tiki_transaction_id":"1","transaction_amount":1}"#).is_ok());
    }

    #[test]
    fn a_bad_amount_is_an_invalid_amount_naming_the_field() {
        let err = create(r#"{"tiki_transaction_id":"t","transaction_amount":1.5}"#).unwrap_err();
        assert_eq!(err.code(), ResultCode::InvalidAmount);
        assert!(err.to_string().contains("transaction_amount"), "{err}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let err = create(r#"{"transaction_amount":15}"#).unwrap_err();
        assert_eq!(err.code(), ResultCode::InvalidRequest);
        assert!(err.to_string().contains("tiki_transaction_id"), "{err}");
    }

    #[test]
    fn malformed_json_and_trailing_garbage_are_refused() {
        for body in [
            "{",
            "",
            "[1]",
            r#"{"tiki_transaction_id":"t","transaction_amount":1} x"#,
        ] {
            assert!(create(body).is_err(), "{body:?} was accepted");
        }
        assert!(
            parse_json::<CreateTransactionRequest>(b"{\"tiki_transaction_id\":\"\xff\"}").is_err()
        );
    }

    #[test]
    fn text_is_bounded_in_characters() {
        assert!(Text::<3>::new("ấấấ").is_ok());
        assert!(Text::<3>::new("abcd").is_err());
    }
}
