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
//! # async fn example(ipn: tikivip_domain::Ipn, secret: tikivip_signing::Secret) -> Result<(), tikivip_tiki_client::Error> {
//! use tikivip_tiki_client::{TikiClient, TikiEnvironment, attempt, timeout_from_env};
//! // Once per process; the secret comes from Secrets Manager (shared/api).
//! let tiki = TikiClient::new(TikiEnvironment::from_env()?, "client-id", secret, timeout_from_env()?)?;
//! let outcome = attempt(tiki.send_ipn(&ipn).await);
//! # Ok(()) }
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
