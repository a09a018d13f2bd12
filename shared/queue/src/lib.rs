//! The queue of IPN jobs on SQS.
//!
//! A message names one settled transaction and the chain of attempts it
//! belongs to; the dispatcher reads the job itself from the transaction. A
//! dead letter also carries the IPN, so that it says on its own what was not
//! delivered.
//! Retry delays use SQS itself: a failed message is hidden for the delay
//! (its visibility timeout) and reported as a batch item failure.

pub mod batch;
mod error;
mod message;
mod outbox;
mod queue;
mod redrive;
pub mod tiniapp;

pub use error::Error;
pub use message::{DeadLetter, IpnMessage, Received, parse, received};
pub use outbox::{Outbox, Swept};
pub use queue::{IpnQueue, MAX_HIDE, MAX_RECEIVE_COUNT, VISIBILITY_WINDOW};
pub use redrive::{Redriven, SetAside, chain_for_redrive};
