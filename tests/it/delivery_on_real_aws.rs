//! IPN delivery as it must behave on real AWS: Tiki's answers are hints and
//! its status the truth, delivered never goes back, SQS's limits hold (the
//! emulator front enforces them), transient DynamoDB cancellations are not
//! decisions, and refunds made by hand are closed out through the same write.

use std::time::Duration;

use http::StatusCode;
use serde_json::json;
use tiki_simulator::{Fault, FaultRoute, ForcedStatus};
use tikivip_domain::{IpnState, RefundRequest, ResultCode, Timestamp, TransactionId, Vnd};
use tikivip_it::emulator::{inject_transaction_faults, set_visibility_window, transaction_calls};
use tikivip_it::stack::{JobState, Running, partner_signer};
use tikivip_it::*;
use tikivip_tools::ops;

const WITHIN: Duration = Duration::from_secs(30);
const AMOUNT: u64 = 99_000;

async fn paid(running: &Running, tiki: &str) -> String {
    let id = running.create(tiki, AMOUNT).await;
    running.pay(&id, "SUCCESS", AMOUNT, "ev-1").await.ok();
    id
}

/// Runs the dispatcher until the job has left PENDING; returns its end.
async fn ended(running: &Running, id: &str) -> IpnState {
    struct Ended<'a>(&'a str);
    impl tikivip_it::stack::AsyncCheck for Ended<'_> {
        async fn check(&mut self, running: &Running) -> bool {
            running.job(self.0).await.state != IpnState::Pending
        }
    }
    running.dispatch_until(WITHIN, Ended(id)).await;
    running.job(id).await.state
}

fn rejection(code: u8) -> Fault {
    Fault::code(ResultCode::from_code(code.into()).unwrap())
}

fn txn_id(id: &str) -> TransactionId {
    TransactionId::parse(id).unwrap()
}

async fn refunds_required(running: &Running) -> Vec<String> {
    ops::refunds_required(&running.stack.store)
        .await
        .unwrap()
        .into_iter()
        .map(|txn| txn.id.to_string())
        .collect()
}

// ------------------------------------------------ Tiki's status is the truth

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
    let line: serde_json::Value =
        serde_json::from_str(&ops::alert_line(&alerts[0].0, &alerts[0].1)).unwrap();
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

// ------------------------------------------------------ chains of attempts

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
        ipn: job.ipn.clone(),
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

// --------------------------------------------------- SQS's 12-hour window

#[tokio::test]
async fn every_step_of_the_default_schedule_scaled_down_passes_the_12_hour_rule() {
    // The default schedule with SQS's 12 h window scaled to 4 s: the steps
    // at half, one and two windows must be hidden in parts, each within it.
    let running = Running::start_hiding("1,1,1,1,2,4,8", Duration::from_secs(3)).await;
    let queue_name = running
        .stack
        .queue
        .queue_url()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    set_visibility_window(&queue_name, 4).await;
    running.tiki().fail(
        FaultRoute::Ipn,
        100,
        Fault::http_status(StatusCode::BAD_GATEWAY),
    );
    let id = paid(&running, &tiki_id()).await;
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while running.job(&id).await.state == IpnState::Pending {
        assert!(std::time::Instant::now() < until, "the job stalled");
        running
            .stack
            .dispatch_once(Duration::from_secs(1))
            .await
            .unwrap();
    }
    let job = running.job(&id).await;
    assert_eq!((job.state, job.attempts), (IpnState::Exhausted, 8));
    assert_eq!(running.ipns(&id).len(), 8, "every step was attempted");
}

#[tokio::test]
async fn a_hide_beyond_the_window_from_the_receive_is_refused_as_aws_does() {
    let running = Running::start("1").await;
    let queue = &running.stack.queue;
    let queue_name = queue.queue_url().rsplit('/').next().unwrap().to_owned();
    set_visibility_window(&queue_name, 4).await;
    let id = running.create(&tiki_id(), AMOUNT).await;
    queue
        .enqueue(&tikivip_queue::IpnMessage {
            transaction_id: txn_id(&id),
            ipn: tikivip_domain::Ipn {
                reference_transaction_id: tikivip_domain::TikiTransactionId::parse("t").unwrap(),
                transaction_amount: Vnd::new(AMOUNT).unwrap(),
                transaction_id: txn_id(&id),
                status: tikivip_domain::TransactionStatus::Success,
                partner_banking_method: None,
            },
            chain: 0,
        })
        .await
        .unwrap();
    let received = queue
        .client()
        .receive_message()
        .queue_url(queue.queue_url())
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let handle = received.messages()[0].receipt_handle().unwrap().to_owned();
    let unbounded = queue.clone().with_max_hide(Duration::from_secs(10));
    let err = unbounded
        .retry_after(&handle, Duration::from_secs(8))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("InvalidParameterValue"), "{err}");
    assert!(
        queue
            .retry_after(&handle, Duration::from_secs(3))
            .await
            .is_ok()
    );
}

// ------------------------------------------ throttling is not a condition

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

// ------------------------------------------ values that parse but cannot be

#[tokio::test]
async fn an_edge_of_calendar_occurred_at_is_refused_and_a_proper_result_still_settles() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), AMOUNT).await;
    for (n, occurred_at) in [
        "9999-12-31T23:59:59.999999999-23:59",
        "0000-01-01T00:00:00+23:59",
        "2000-01-01T00:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({
            "transaction_id": id, "status": "SUCCESS", "amount": AMOUNT,
            "event_id": format!("ev-edge-{n}"), "occurred_at": occurred_at,
        });
        let reply = running.post(&partner_signer(), "/v1/ipn", &body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, 1),
            "{occurred_at}"
        );
        assert!(
            reply.body["message"]
                .as_str()
                .unwrap()
                .contains("occurred_at")
        );
    }
    let trail = running
        .stack
        .store
        .payment_results(&txn_id(&id))
        .await
        .unwrap();
    assert_eq!(trail.len(), 3, "each refusal is in the audit trail");
    assert!(trail.iter().all(|r| r.verdict.as_str() == "REFUSED"));
    let reply = running.pay(&id, "SUCCESS", AMOUNT, "ev-good").await;
    assert_eq!(reply.ok()["status"], "SUCCESS");
}

// ----------------------------------------------- refunds made by hand

#[tokio::test]
async fn an_operator_refund_followed_by_tikis_refund_of_the_same_amount_makes_one_refund() {
    let running = Running::start("1").await;
    running.tiki().fail(FaultRoute::Ipn, 1, rejection(5));
    let tiki = tiki_id();
    let id = paid(&running, &tiki).await;
    assert_eq!(ended(&running, &id).await, IpnState::RefundRequired);

    let hand = ops::HandRefund {
        transaction_id: txn_id(&id),
        amount: Vnd::new(AMOUNT).unwrap(),
        reference: "OPS-42".into(),
        reason: "Tiki refused the IPN".into(),
        operator: "lan@partner".into(),
    };
    let first = ops::record_hand_refund(&running.stack.store, &hand)
        .await
        .unwrap();
    assert!(first.is_new);
    let again = ops::record_hand_refund(&running.stack.store, &hand)
        .await
        .unwrap();
    assert_eq!(
        (again.is_new, &again.receipt),
        (false, &first.receipt),
        "recorded once"
    );
    assert!(refunds_required(&running).await.is_empty(), "off the list");

    // Tiki now asks to refund the same money: refused, not paid twice.
    let txn = json!({"tiki_transaction_id": tiki, "transaction_id": id});
    let body = refund_body(&txn, AMOUNT, "tiki-r-1", "customer asked");
    let reply = running
        .post(
            &tiki_signer(),
            "/v1/refunds",
            &serde_json::from_str(&body).unwrap(),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::INTERNAL_SERVER_ERROR, 5)
    );

    let txn = running
        .stack
        .store
        .transaction(&txn_id(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(txn.refunds.len(), 1);
    assert_eq!(txn.refunded, Vnd::new(AMOUNT).unwrap());
    let view = serde_json::to_value(tikivip_domain::wire::TransactionView::from(txn)).unwrap();
    assert_eq!(view["refunds"][0]["made_by"], "operator");
    assert_eq!(view["refunds"][0]["operator"], "lan@partner");
    assert_eq!(view["refunds"][0]["reference"], "OPS-42");
    // The job's story stays: why the refund was required.
    assert_eq!(running.job(&id).await.state, IpnState::RefundRequired);
}

#[tokio::test]
async fn an_operator_refund_obeys_the_same_rules_as_tikis() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), AMOUNT).await;
    let txn = running
        .stack
        .store
        .transaction(&txn_id(&id))
        .await
        .unwrap()
        .unwrap();
    use tikivip_domain::wire::Text;
    let request = RefundRequest::by_operator(
        &txn,
        Vnd::new(AMOUNT).unwrap(),
        Text::new("by hand").unwrap(),
        Text::new("lan").unwrap(),
        Text::new("OPS-1").unwrap(),
    )
    .unwrap();
    let err = running
        .stack
        .store
        .close_out_refund(&request, Timestamp::now_utc())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("only a SUCCESS transaction"),
        "{err}"
    );
}
