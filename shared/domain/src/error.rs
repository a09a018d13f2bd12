use crate::{ResultCode, TransactionStatus, Vnd};

/// Every way a request can break a rule of the payment domain.
///
/// Each variant knows its Tiki result code; the message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request could not be read: malformed JSON, a missing field, a bad id.
    #[error("{0}")]
    InvalidRequest(String),
    /// An amount that is not a positive whole number of VND within bounds.
    #[error("{0}")]
    InvalidAmount(String),
    #[error("transaction not found")]
    TransactionNotFound,
    /// No Tini App order of that id is stored.
    #[error("order not found")]
    OrderNotFound,
    /// The request names a transaction that exists but is not the one it claims.
    #[error("{0}")]
    NotThisTransaction(String),
    /// A create with a known `tiki_transaction_id` but another amount.
    #[error(
        "tiki_transaction_id already has a transaction of {existing} VND; {requested} VND differs"
    )]
    AmountMismatch { existing: Vnd, requested: Vnd },
    #[error("only a SUCCESS transaction can be refunded; this one is {0}")]
    NotRefundable(TransactionStatus),
    #[error("refund of {requested} VND exceeds the {remaining} VND that remain refundable")]
    RefundExceedsRemaining { requested: Vnd, remaining: Vnd },
    #[error("request_id was already used for a different refund")]
    RequestIdReused,
    #[error("a transaction holds at most {0} refunds")]
    TooManyRefunds(usize),
    /// A payment result that contradicts what the transaction already holds.
    #[error("{0}")]
    ContradictingPaymentResult(String),
    /// A setting (an environment variable) outside the values it accepts; the
    /// message names the variable and what it accepts.
    #[error("{0}")]
    Config(String),
    /// A reconciliation file that could not be written or read: an I/O
    /// failure, or a malformed row of Tiki's (the message gives its line).
    #[error("{0}")]
    File(String),
}

impl Error {
    pub fn code(&self) -> ResultCode {
        match self {
            Error::InvalidRequest(_) | Error::RequestIdReused | Error::TooManyRefunds(_) => {
                ResultCode::InvalidRequest
            }
            Error::InvalidAmount(_)
            | Error::AmountMismatch { .. }
            | Error::RefundExceedsRemaining { .. } => ResultCode::InvalidAmount,
            Error::TransactionNotFound | Error::OrderNotFound => ResultCode::NotFound,
            Error::NotThisTransaction(_) => ResultCode::NotThePartners,
            Error::NotRefundable(TransactionStatus::Failure) => ResultCode::Cancelled,
            Error::NotRefundable(_) | Error::ContradictingPaymentResult(_) => {
                ResultCode::InvalidRequest
            }
            // Our own set-up or batch work, not the caller's request.
            Error::Config(_) | Error::File(_) => ResultCode::SystemError,
        }
    }
}
