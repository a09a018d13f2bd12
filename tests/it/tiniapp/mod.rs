//! SPEC Part 1 "Tini App order IPN" and `POST /v1/tiniapp/ipn`: Tiki's order
//! notifications received fast, recorded once, confirmed with Tiki's order
//! API (the simulator), applied forward only, and published once — through
//! the real emulator, real HTTP and real SQS.

mod crashes;
mod operators;
mod order_api;
mod ordering;
mod receipt;

use std::time::Duration;

use tiki_simulator::SimOrder;
use tikivip_it::stack::Running;

const WITHIN: Duration = Duration::from_secs(30);

async fn stack() -> Running {
    Running::start("1,1,1").await
}

/// The same order with another status, as a notification may claim.
fn order_as(order: &SimOrder, status: &str) -> SimOrder {
    SimOrder {
        status: status.into(),
        ..order.clone()
    }
}
