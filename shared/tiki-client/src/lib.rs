//! The one place that calls Tiki's TikiVIP API (SPEC.md Part 1): the IPN API,
//! the transaction status API and the webview URL API.
//!
//! - [`TikiEnvironment`] picks production, sandbox or a local stand-in with a
//!   single setting, so that keys and base URLs of the two Tikis never mix.
//! - [`TikiClient`] signs every call with the `X-Tikivip-*` headers over the
//!   exact bytes sent, and turns whatever comes back into a typed answer or an
//!   [`Error`]; it never panics on an answer.
//! - [`attempt`] and [`view`] translate answers into the domain's terms for the
//!   IPN dispatcher's rules ([`tikivip_domain::IpnJob::next`]).
//!
//! ```no_run
//! # async fn example(tiki: &tikivip_tiki_client::TikiClient, ipn: tikivip_domain::Ipn) {
//! use tikivip_tiki_client::attempt;
//! // `tiki` is built once per process (`TikiClient::new` in a function's
//! // from_env, with the secret from Secrets Manager) and shared.
//! let outcome = attempt(tiki.send_ipn(&ipn).await);
//! # }
//! ```

mod client;
mod environment;
mod error;
mod ipn;
mod status;
mod tiniapp;
mod webview;
mod wire;

pub use client::{TikiClient, timeout_from_env};
pub use environment::{LoopbackUrl, TikiEnvironment};
pub use error::Error;
pub use ipn::{IpnAnswer, attempt};
pub use status::{TikiStatus, view};
pub use tiniapp::{OrderLookup, TiniAppClient};
pub use webview::Webview;

/// Tiki's answers read from the body of an HTTP 200, exactly as the clients
/// read them: for a tool that holds an answer already, and for the fuzz
/// targets (tools/fuzz), which feed them any bytes.
pub mod answer {
    pub use crate::ipn::answer as ipn;
    pub use crate::status::answer as status;
    pub use crate::tiniapp::answer as order;
    pub use crate::webview::answer as webview;
}
