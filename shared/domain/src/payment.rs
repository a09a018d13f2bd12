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

/// How far the payment core's clock may be from ours: the signature window.
pub const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

impl PaymentResult {
    /// A result parses with any RFC 3339 time, from year 0 to 9999 in any
    /// offset; a plausible one occurred after its transaction was created and
    /// is not in the future, each within [`CLOCK_SKEW`].
    pub fn check_occurred_at(
        &self,
        created_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), crate::Error> {
        self.check_not_in_the_future(now)?;
        if created_at > self.created_no_later_than() {
            return Err(self.implausible(Some(created_at), now));
        }
        Ok(())
    }

    /// The half of [`Self::check_occurred_at`] that needs no transaction:
    /// checked before the write, whose condition holds the other half
    /// ([`Self::created_no_later_than`]).
    pub fn check_not_in_the_future(&self, now: Timestamp) -> Result<(), crate::Error> {
        if self.occurred_at > now + CLOCK_SKEW {
            return Err(self.implausible(None, now));
        }
        Ok(())
    }

    /// The latest creation time of a transaction this result can settle.
    pub fn created_no_later_than(&self) -> Timestamp {
        self.occurred_at + CLOCK_SKEW
    }

    fn implausible(&self, created_at: Option<Timestamp>, now: Timestamp) -> crate::Error {
        let created = created_at.map_or_else(|| "its creation".to_owned(), |at| at.to_string());
        crate::Error::InvalidRequest(format!(
            "occurred_at {} is outside the plausible range: not before the transaction was created ({created}) nor after now ({now}), each within {} minutes",
            self.occurred_at,
            CLOCK_SKEW.whole_minutes()
        ))
    }
}

/// What a payment result does to a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// The transaction moves to this final status.
    Settled(TransactionStatus),
    /// The result repeats what the transaction already holds: nothing changes.
    Duplicate,
}

/// What became of a payment result; every one is kept in the transaction's audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It settled the transaction.
    Accepted,
    /// It repeated what the transaction already held.
    Duplicate,
    /// It contradicted the transaction and changed nothing.
    Refused(String),
}

impl Verdict {
    pub const fn as_str(&self) -> &'static str {
        match self {
            Verdict::Accepted => "ACCEPTED",
            Verdict::Duplicate => "DUPLICATE",
            Verdict::Refused(_) => "REFUSED",
        }
    }
}

/// One entry of a transaction's audit trail of payment results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedPaymentResult {
    pub event_id: EventId,
    pub outcome: PaymentOutcome,
    pub amount: Vnd,
    pub verdict: Verdict,
    pub received_at: Timestamp,
}

impl PaymentOutcome {
    pub const fn as_str(self) -> &'static str {
        self.status().as_str()
    }

    pub fn parse(value: &str) -> Result<PaymentOutcome, crate::Error> {
        match value {
            "SUCCESS" => Ok(PaymentOutcome::Success),
            "FAILURE" => Ok(PaymentOutcome::Failure),
            other => Err(crate::Error::InvalidRequest(format!(
                "unknown payment outcome {other:?}"
            ))),
        }
    }
}
