//! IPN delivery as it must behave on real AWS: Tiki's answers are hints and
//! its status the truth, delivered never goes back, SQS's limits hold (the
//! emulator front enforces them), transient DynamoDB cancellations are not
//! decisions, and refunds made by hand are closed out through the same write.

use std::time::Duration;

use tiki_simulator::Fault;
use tikivip_domain::{IpnState, ResultCode, TransactionId};
use tikivip_it::stack::Running;
use tikivip_tools::ops;

pub(super) const WITHIN: Duration = Duration::from_secs(30);
pub(super) const AMOUNT: u64 = 99_000;

pub(super) async fn paid(running: &Running, tiki: &str) -> String {
    let id = running.create(tiki, AMOUNT).await;
    running.pay(&id, "SUCCESS", AMOUNT, "ev-1").await.ok();
    id
}

/// Runs the dispatcher until the job has left PENDING; returns its end.
pub(super) async fn ended(running: &Running, id: &str) -> IpnState {
    struct Ended<'a>(&'a str);
    impl tikivip_it::stack::AsyncCheck for Ended<'_> {
        async fn check(&mut self, running: &Running) -> bool {
            running.job(self.0).await.state != IpnState::Pending
        }
    }
    running.dispatch_until(WITHIN, Ended(id)).await;
    running.job(id).await.state
}

pub(super) fn rejection(code: u8) -> Fault {
    Fault::code(ResultCode::from_code(code.into()).unwrap())
}

pub(super) fn txn_id(id: &str) -> TransactionId {
    TransactionId::parse(id).unwrap()
}

pub(super) async fn refunds_required(running: &Running) -> Vec<String> {
    ops::refunds_required(&running.stack.store)
        .await
        .unwrap()
        .into_iter()
        .map(|txn| txn.id.to_string())
        .collect()
}

mod chains_of_attempts;
mod hand_refunds;
mod implausible_values;
mod sqs_visibility_window;
mod status_is_the_truth;
mod transient_cancellations;
