//! `make bench`: what the performance budget is measured with (see
//! BENCHMARKS.md).
//!
//! - [`runtime_api`]: a local Lambda Runtime API, to exec each function's
//!   release binary as Lambda does and time its init and first event;
//! - [`events`]: the events AWS sends the functions, signed;
//! - [`inprocess`] and [`fake_aws`]: the in-process path of each route, for the
//!   criterion benches;
//! - [`local_aws`]: tables, queues and secrets in the local emulator;
//! - [`stats`]: percentiles and the machine's description;
//! - [`markdown`]: the generated blocks of BENCHMARKS.md and docs/capacity.md.

pub mod events;
pub mod fake_aws;
pub mod inprocess;
pub mod local_aws;
pub mod markdown;
pub mod runtime_api;
pub mod stats;

/// Any error of the harness, with its message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
