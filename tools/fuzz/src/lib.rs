//! The fuzz targets of every input this backend takes from outside, as plain
//! functions of bytes, so that one definition serves two drivers:
//!
//! - `make fuzz`: libFuzzer (cargo fuzz, tools/fuzz/cargo-fuzz) runs each
//!   target for `FUZZ_SECONDS`, coverage-guided;
//! - `make test`: `tests/corpus.rs` replays each target's seeds and every
//!   input that once failed (`seeds/<target>/`, `regressions/<target>/`).
//!
//! A target panics when its check fails: more than "does not crash" wherever
//! the input says what the answer must be (see each module).

use std::fmt;

pub mod answers;
pub mod bodies;
pub mod handlers;
pub mod signature;

/// Every target, by the name its corpus folders and libFuzzer binary carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Signature,
    BodyCreate,
    BodyRefund,
    BodyPaymentResult,
    BodyWebview,
    BodyTiniappIpn,
    HandlerCreate,
    HandlerGet,
    HandlerRefund,
    HandlerPaymentResult,
    HandlerWebview,
    HandlerTiniappIpn,
    HandlerTiniappOrder,
    AnswerIpn,
    AnswerStatus,
    AnswerWebview,
    AnswerOrder,
}

impl Target {
    pub const ALL: [Target; 17] = [
        Target::Signature,
        Target::BodyCreate,
        Target::BodyRefund,
        Target::BodyPaymentResult,
        Target::BodyWebview,
        Target::BodyTiniappIpn,
        Target::HandlerCreate,
        Target::HandlerGet,
        Target::HandlerRefund,
        Target::HandlerPaymentResult,
        Target::HandlerWebview,
        Target::HandlerTiniappIpn,
        Target::HandlerTiniappOrder,
        Target::AnswerIpn,
        Target::AnswerStatus,
        Target::AnswerWebview,
        Target::AnswerOrder,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Signature => "signature",
            Target::BodyCreate => "body_create",
            Target::BodyRefund => "body_refund",
            Target::BodyPaymentResult => "body_payment_result",
            Target::BodyWebview => "body_webview",
            Target::BodyTiniappIpn => "body_tiniapp_ipn",
            Target::HandlerCreate => "handler_create",
            Target::HandlerGet => "handler_get",
            Target::HandlerRefund => "handler_refund",
            Target::HandlerPaymentResult => "handler_payment_result",
            Target::HandlerWebview => "handler_webview",
            Target::HandlerTiniappIpn => "handler_tiniapp_ipn",
            Target::HandlerTiniappOrder => "handler_tiniapp_order",
            Target::AnswerIpn => "answer_ipn",
            Target::AnswerStatus => "answer_status",
            Target::AnswerWebview => "answer_webview",
            Target::AnswerOrder => "answer_order",
        }
    }

    /// Runs the target on one input; panics when a check fails.
    pub fn run(self, data: &[u8]) {
        match self {
            Target::Signature => signature::check(data),
            Target::BodyCreate => bodies::create(data),
            Target::BodyRefund => bodies::refund(data),
            Target::BodyPaymentResult => bodies::payment_result(data),
            Target::BodyWebview => bodies::webview(data),
            Target::BodyTiniappIpn => bodies::tiniapp_ipn(data),
            Target::HandlerCreate => handlers::run(handlers::Function::Create, data),
            Target::HandlerGet => handlers::run(handlers::Function::Get, data),
            Target::HandlerRefund => handlers::run(handlers::Function::Refund, data),
            Target::HandlerPaymentResult => handlers::run(handlers::Function::PaymentResult, data),
            Target::HandlerWebview => handlers::run(handlers::Function::Webview, data),
            Target::HandlerTiniappIpn => handlers::run(handlers::Function::TiniappIpn, data),
            Target::HandlerTiniappOrder => handlers::run(handlers::Function::TiniappOrder, data),
            Target::AnswerIpn => answers::ipn(data),
            Target::AnswerStatus => answers::status(data),
            Target::AnswerWebview => answers::webview(data),
            Target::AnswerOrder => answers::order(data),
        }
    }
}

/// The JSON of an input a parser accepted, to compare what it read with.
/// serde_json skips a field the type does not name without checking that its
/// strings are UTF-8 (read here as U+FFFD) or that its numbers fit an f64;
/// `None` for the latter, whose input is then checked for panics only.
pub(crate) fn json_of(input: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_str(&String::from_utf8_lossy(input)).ok()
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
