//! Chains of attempts: a spent schedule never restarts by itself; a redrive makes one new chain.

use http::StatusCode;
use std::time::Duration;
use tiki_simulator::{Fault, FaultRoute};
use tikivip_domain::{IpnState, Timestamp};
use tikivip_it::stack::{JobState, Running};
use tikivip_it::*;
use tikivip_tools::ops;

use super::*;

async fn exhausted(running: &Running) -> String {
    running.tiki().fail(
        FaultRoute::Ipn,
        100,
        Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
    );
    let id = paid(running, &tiki_id()).await;
    assert_eq!(ended(running, &id).await, IpnState::Exhausted);
    id
}

#[tokio::test]
async fn a_copy_arriving_after_the_schedule_was_spent_does_not_restart_it() {
    let running = Running::start("1").await;
    let id = exhausted(&running).await;
    let attempts = running.ipns(&id).len();
    let job = running.job(&id).await;
    let copy = tikivip_queue::IpnMessage {
        transaction_id: txn_id(&id),
        chain: job.chain,
    };
    running.stack.queue.enqueue(&copy).await.unwrap();
    running.dispatch_for(Duration::from_secs(3)).await;
    assert_eq!(running.job(&id).await.state, IpnState::Exhausted);
    assert_eq!(running.ipns(&id).len(), attempts, "no attempt was made");
}

#[tokio::test]
async fn a_redrive_makes_exactly_one_new_chain_of_attempts() {
    let running = Running::start("1").await;
    let id = exhausted(&running).await;
    let store = &running.stack.store;
    let spent = running.job(&id).await.chain;
    let now = Timestamp::now_utc();
    // Two redrives of the same spent chain (two copies of its dead letter).
    let tid = txn_id(&id);
    let (a, b) = tokio::join!(
        store.reopen_ipn(&tid, spent, now),
        store.reopen_ipn(&tid, spent, now)
    );
    let reopened: Vec<u32> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(reopened, [spent + 1], "one of the two reopens the job");
    let job = running.job(&id).await;
    assert_eq!(
        (job.state, job.chain, job.attempts),
        (IpnState::Pending, spent + 1, 0)
    );
}

#[tokio::test]
async fn redrive_sets_aside_a_message_it_cannot_read_and_goes_on() {
    let running = Running::start("1").await;
    let id = exhausted(&running).await;
    let sqs = running.stack.queue.client();
    sqs.send_message()
        .queue_url(running.stack.queue.dead_letter_url())
        .message_body("not an IPN job")
        .send()
        .await
        .unwrap();
    running.tiki().reset();
    let redriven = ops::redrive(&running.stack.store, &running.stack.queue)
        .await
        .unwrap();
    assert_eq!(redriven.moved, [txn_id(&id)]);
    assert_eq!(redriven.set_aside.len(), 1, "{redriven:?}");
    assert!(redriven.set_aside[0].reason.contains("not an IPN job"));
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
}
