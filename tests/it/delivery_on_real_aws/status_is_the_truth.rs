//! Tiki's answers are hints; its status API is the truth, and delivered never goes back.

use http::StatusCode;
use tiki_simulator::{Fault, FaultRoute, ForcedStatus};
use tikivip_domain::{IpnState, Timestamp};
use tikivip_it::stack::Running;
use tikivip_it::*;
use tikivip_tools::ops;

use super::*;

#[tokio::test]
async fn a_rejection_after_tiki_has_the_payment_is_delivered_not_refunded() {
    let running = Running::start("1,1,1").await;
    let tiki = tiki_id();
    // A repeat Tiki took before: it rejects it, but its status shows the payment.
    running.tiki().fail(FaultRoute::Ipn, 1, rejection(1));
    running.tiki().force_status(&tiki, ForcedStatus::Success);
    let id = paid(&running, &tiki).await;
    assert_eq!(ended(&running, &id).await, IpnState::Delivered);
    assert!(refunds_required(&running).await.is_empty());
    assert_eq!(running.ipns(&id).len(), 1, "no further attempt");
}

#[tokio::test]
async fn a_rejection_tikis_status_confirms_requires_a_refund() {
    let running = Running::start("1,1,1").await;
    running.tiki().fail(FaultRoute::Ipn, 1, rejection(5));
    // Tiki never recorded the payment: its status stays PENDING.
    let id = paid(&running, &tiki_id()).await;
    assert_eq!(ended(&running, &id).await, IpnState::RefundRequired);
    assert_eq!(refunds_required(&running).await, vec![id.clone()]);
    let job = running.job(&id).await;
    assert!(
        job.last_error
            .as_deref()
            .unwrap()
            .contains("status API reports PENDING"),
        "{job:?}"
    );
}

#[tokio::test]
async fn a_rejection_while_the_status_api_is_down_is_retried_not_refunded() {
    let running = Running::start("1,1,1").await;
    running.tiki().fail(FaultRoute::Ipn, 1, rejection(5));
    running.tiki().fail(
        FaultRoute::Status,
        1,
        Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
    );
    let id = paid(&running, &tiki_id()).await;
    assert_eq!(ended(&running, &id).await, IpnState::Delivered);
    assert_eq!(running.ipns(&id).len(), 2, "the rejection was retried");
    assert!(refunds_required(&running).await.is_empty());
}

#[tokio::test]
async fn tiki_reporting_success_for_a_failed_payment_is_an_unpaid_success_alert() {
    let running = Running::start("1,1,1").await;
    let tiki = tiki_id();
    let id = running.create(&tiki, AMOUNT).await;
    running.pay(&id, "FAILURE", AMOUNT, "ev-1").await.ok();
    running.tiki().fail(FaultRoute::Ipn, 1, rejection(6));
    running.tiki().force_status(&tiki, ForcedStatus::Success);
    assert_eq!(ended(&running, &id).await, IpnState::UnpaidSuccess);
    let alerts = ops::ipn_alerts(&running.stack.store).await.unwrap();
    assert_eq!(alerts.len(), 1);
    let printed = ops::alerts_listing(&alerts).render(tikivip_tools::output::Output::Json);
    let line: serde_json::Value = serde_json::from_str(printed.trim_end()).unwrap();
    assert_eq!(
        (line["alert"].as_str(), line["transaction_id"].as_str()),
        (Some("UNPAID_SUCCESS"), Some(id.as_str()))
    );
    assert!(
        refunds_required(&running).await.is_empty(),
        "nothing to refund"
    );
}

#[tokio::test]
async fn a_job_recorded_as_delivered_never_turns_into_refund_required_or_pending() {
    let running = Running::start("1,1,1").await;
    let id = paid(&running, &tiki_id()).await;
    let store = &running.stack.store;
    let now = Timestamp::now_utc();
    let mut job = running.job(&id).await;
    // Two copies of one job, each having read it PENDING: one saw Tiki take it…
    job.state = IpnState::Delivered;
    job.attempts = 1;
    let mut other = job.clone();
    assert!(
        store
            .record_ipn_progress(&txn_id(&id), &job, now)
            .await
            .unwrap()
    );
    // …the other a rejection its status check confirmed, or a retry.
    for state in [
        IpnState::RefundRequired,
        IpnState::Pending,
        IpnState::Exhausted,
    ] {
        other.state = state;
        assert!(
            !store
                .record_ipn_progress(&txn_id(&id), &other, now)
                .await
                .unwrap(),
            "{state} was written over DELIVERED"
        );
    }
    assert_eq!(running.job(&id).await.state, IpnState::Delivered);
    assert!(refunds_required(&running).await.is_empty());
}

#[tokio::test]
async fn of_two_copies_with_different_answers_delivered_wins_whichever_writes_first() {
    let running = Running::start("1,1,1").await;
    let id = paid(&running, &tiki_id()).await;
    let store = &running.stack.store;
    let now = Timestamp::now_utc();
    let mut refused = running.job(&id).await;
    refused.state = IpnState::RefundRequired;
    let mut delivered = refused.clone();
    delivered.state = IpnState::Delivered;
    assert!(
        store
            .record_ipn_progress(&txn_id(&id), &refused, now)
            .await
            .unwrap()
    );
    assert_eq!(refunds_required(&running).await, vec![id.clone()]);
    assert!(
        store
            .record_ipn_progress(&txn_id(&id), &delivered, now)
            .await
            .unwrap()
    );
    assert_eq!(running.job(&id).await.state, IpnState::Delivered);
    assert!(
        refunds_required(&running).await.is_empty(),
        "off the refund-required list"
    );
}
