//! The payment domain of the TikiVIP partner backend, free of AWS and HTTP.
//!
//! Everything a payment engineer needs to check is here: amounts ([`Vnd`]), ids,
//! the transaction lifecycle ([`TransactionStatus`]), refund rules, Tiki's result
//! codes and the answer envelope. Storage and transport crates enforce these rules;
//! they do not define them.

mod error;
mod ids;
mod ipn;
mod money;
mod payment;
pub mod reconciliation;
mod refund;
mod result_code;
mod retry_schedule;
mod status;
pub mod tiniapp;
mod transaction;
mod webview;
pub mod wire;

pub use error::Error;
pub use ids::{
    EventId, OrderReferenceId, RefundId, RequestId, TikiOrderCode, TikiOrderId, TikiTransactionId,
    TiniAppMessageId, TiniAppOrderId, TransactionId,
};
pub use ipn::{Attempt, Ipn, IpnJob, IpnState, Next, STATUS_CHECK_AFTER, TikiRecord, TikiView};
pub use money::Vnd;
pub use payment::{
    CLOCK_SKEW, PaymentOutcome, PaymentResult, RecordedPaymentResult, Settlement, Verdict,
};
pub use refund::{Fingerprint, Refund, RefundOrigin, RefundReceipt, RefundRequest};
pub use result_code::{Envelope, ResultCode};
pub use retry_schedule::RetrySchedule;
pub use status::TransactionStatus;
pub use transaction::{Customer, NewTransaction, Transaction};
pub use webview::{
    CheckoutReturn, FullName, IdentifyCode, Phone, WebviewRequest, WebviewUrls, way_back,
};

/// Timestamps are instants with an offset, written as RFC 3339 on the wire.
pub type Timestamp = time::OffsetDateTime;
