//! Throttling and conflicts are retried with backoff, never taken for a failed condition.

use http::StatusCode;
use std::time::Duration;
use tikivip_it::emulator::{inject_transaction_faults, transaction_calls};
use tikivip_it::*;

use super::*;

#[tokio::test]
async fn a_throttled_create_is_retried_and_succeeds() {
    let api = TikiApi::new().await;
    inject_transaction_faults(api.store.table(), "ThrottlingError", 2).await;
    let reply = api.create(&tiki_id(), AMOUNT).await;
    reply.ok();
    assert_eq!(transaction_calls(api.store.table()).await, 3);
}

#[tokio::test]
async fn a_create_throttled_through_every_retry_is_a_system_error_not_corruption() {
    let api = TikiApi::new().await;
    inject_transaction_faults(api.store.table(), "ThrottlingError", 100).await;
    let reply = api.create(&tiki_id(), AMOUNT).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::INTERNAL_SERVER_ERROR, 2)
    );
    // One attempt and six retries, then the caller is told to retry.
    assert_eq!(transaction_calls(api.store.table()).await, 7);
    assert_eq!(item_count(&api.store).await, 0, "nothing was written");
}

#[tokio::test]
async fn a_refund_cancelled_by_conflicts_through_every_retry_answers_500() {
    let api = TikiApi::new().await;
    let id = api.paid(&tiki_id(), AMOUNT).await;
    let txn = api.lookup(&id).await.ok().clone();
    let before = transaction_calls(api.store.table()).await;
    inject_transaction_faults(api.store.table(), "TransactionConflict", 100).await;
    let started = std::time::Instant::now();
    let reply = api.refund(&txn, 10_000, "r-1").await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::INTERNAL_SERVER_ERROR, 2)
    );
    assert_eq!(
        transaction_calls(api.store.table()).await - before,
        7,
        "one attempt and six retries"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it backed off, boundedly"
    );
    tikivip_it::emulator::clear_faults(api.store.table()).await;
    let after = api.lookup(&id).await;
    assert_eq!(after.ok()["refunded_amount"], 0, "nothing was refunded");
    // The same request_id is free: nothing was decided.
    api.refund(&txn, 10_000, "r-1").await.ok();
}
