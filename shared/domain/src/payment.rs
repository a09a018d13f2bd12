use serde::Deserialize;

use crate::wire::Text;
use crate::{EventId, Timestamp, TransactionId, TransactionStatus, Vnd};

/// How a payment ended, as the partner's payment core reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PaymentOutcome {
    Success,
    Failure,
}

impl PaymentOutcome {
    pub const fn status(self) -> TransactionStatus {
        match self {
            PaymentOutcome::Success => TransactionStatus::Success,
            PaymentOutcome::Failure => TransactionStatus::Failure,
        }
    }
}

/// A payment result from the partner's payment core (`POST /v1/ipn`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PaymentResult {
    pub transaction_id: TransactionId,
    #[serde(rename = "status")]
    pub outcome: PaymentOutcome,
    pub amount: Vnd,
    #[serde(default)]
    pub partner_banking_method: Option<Text<100>>,
    pub event_id: EventId,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: Timestamp,
}

/// What a payment result does to a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// The transaction moves to this final status.
    Settled(TransactionStatus),
    /// The result repeats what the transaction already holds: nothing changes.
    Duplicate,
}
