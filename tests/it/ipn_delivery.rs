//! SPEC Part 2, "Outbound IPN": the dispatcher delivers every settlement to
//! Tiki (the simulator), through real SQS redelivery.

use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use ipn_dispatcher::Dispatcher;
use tiki_simulator::{Fault, FaultRoute, ForcedStatus, TikiRoute};
use tikivip_api::Handler;
use tikivip_domain::{IpnState, ResultCode, RetrySchedule, TransactionId};
use tikivip_it::stack::{JobState, Running, payment_result};
use tikivip_it::*;
use tikivip_queue::IpnQueue;
use tikivip_signing::{HeaderFamily, Secret, Signer, Verifier};
use tikivip_tiki_client::{TikiClient, TikiEnvironment};
use tikivip_tools::sqs_source::poll_once;

const WITHIN: Duration = Duration::from_secs(30);

async fn paid(running: &Running, tiki: &str) -> String {
    let id = running.create(tiki, 99_000).await;
    running.pay(&id, "SUCCESS", 99_000, "ev-1").await.ok();
    id
}

/// A paid transaction whose first `failures` IPNs Tiki answers with 502, and
/// of which Tiki's status API reports `tiki_reports`.
async fn paid_while_ipns_fail(failures: u32, tiki_reports: ForcedStatus) -> (Running, String) {
    let running = Running::start("1,1,1,1,1").await;
    let tiki = tiki_id();
    running.tiki().fail(
        FaultRoute::Ipn,
        failures,
        Fault::http_status(StatusCode::BAD_GATEWAY),
    );
    running.tiki().force_status(&tiki, tiki_reports);
    let id = paid(&running, &tiki).await;
    (running, id)
}

#[tokio::test]
async fn a_settlement_is_delivered_to_tiki_once_with_a_signed_ipn() {
    let running = Running::start("1,1,1").await;
    let tiki = tiki_id();
    let id = paid(&running, &tiki).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    let ipns = running.ipns(&id);
    assert_eq!(ipns.len(), 1);
    assert_eq!(
        ipns[0].body,
        serde_json::json!({
            "reference_transaction_id": tiki,
            "transaction_amount": 99_000,
            "transaction_id": id,
            "status": "SUCCESS",
            "partner_banking_method": "WALLET",
        })
    );
    assert_eq!(running.tiki().rejected_count(TikiRoute::Ipn), 0);
}

#[tokio::test]
async fn tiki_answering_503_then_500_then_0_gets_three_attempts_and_nothing_after() {
    let running = Running::start("1,1,1").await;
    running.tiki().fail(
        FaultRoute::Ipn,
        1,
        Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
    );
    running.tiki().fail(
        FaultRoute::Ipn,
        1,
        Fault::http_status(StatusCode::INTERNAL_SERVER_ERROR),
    );
    let id = paid(&running, &tiki_id()).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    running.dispatch_for(Duration::from_secs(3)).await;
    let answers: Vec<u16> = running
        .ipns(&id)
        .iter()
        .map(|ipn| ipn.answer.http_status)
        .collect();
    assert_eq!(answers, vec![503, 500, 200]);
    assert_eq!(running.job(&id).await.attempts, 3);
}

#[tokio::test]
async fn tiki_answering_code_2_is_retried() {
    let running = Running::start("1,1,1").await;
    running
        .tiki()
        .fail(FaultRoute::Ipn, 1, Fault::code(ResultCode::SystemError));
    let id = paid(&running, &tiki_id()).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    assert_eq!(running.ipns(&id).len(), 2);
}

#[tokio::test]
async fn tiki_rejecting_with_code_5_requires_a_refund_and_stops_the_retries() {
    let running = Running::start("1,1,1").await;
    running
        .tiki()
        .fail(FaultRoute::Ipn, 1, Fault::code(ResultCode::InvalidAmount));
    let id = paid(&running, &tiki_id()).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::RefundRequired))
        .await;
    running.dispatch_for(Duration::from_secs(3)).await;
    assert_eq!(running.ipns(&id).len(), 1, "no attempt after a rejection");
    let needing = tikivip_tools::ops::refunds_required(&running.stack.store)
        .await
        .unwrap();
    assert_eq!(
        needing.iter().map(|t| t.id.to_string()).collect::<Vec<_>>(),
        vec![id.clone()]
    );
    assert!(
        running
            .job(&id)
            .await
            .last_error
            .unwrap()
            .contains("code 5")
    );
}

#[tokio::test]
async fn after_three_failures_tiki_reporting_failure_requires_a_refund() {
    let (running, id) = paid_while_ipns_fail(10, ForcedStatus::Failure).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::RefundRequired))
        .await;
    assert_eq!(
        running.ipns(&id).len(),
        3,
        "the status API is asked after the third failure"
    );
}

#[tokio::test]
async fn after_three_failures_tiki_not_knowing_the_payment_requires_a_refund() {
    let (running, id) = paid_while_ipns_fail(10, ForcedStatus::NotFound).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::RefundRequired))
        .await;
}

#[tokio::test]
async fn after_three_failures_tiki_reporting_success_counts_as_delivered() {
    let (running, id) = paid_while_ipns_fail(10, ForcedStatus::Success).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    assert_eq!(running.ipns(&id).len(), 3);
}

#[tokio::test]
async fn tiki_reporting_pending_keeps_the_retries_going() {
    let (running, id) = paid_while_ipns_fail(4, ForcedStatus::Pending).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    assert_eq!(running.ipns(&id).len(), 5);
}

#[tokio::test]
async fn tiki_always_down_ends_in_the_dead_letter_queue_and_redrive_brings_it_back() {
    let running = Running::start("1,1,1").await;
    // Four attempts fail (the schedule allows four), and the status API is down.
    running.tiki().fail(
        FaultRoute::Ipn,
        4,
        Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
    );
    running.tiki().fail(
        FaultRoute::Status,
        10,
        Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
    );
    let id = paid(&running, &tiki_id()).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Exhausted))
        .await;
    assert_eq!(running.ipns(&id).len(), 4);
    let queue = &running.stack.queue;
    let dead = queue
        .client()
        .receive_message()
        .queue_url(queue.dead_letter_url())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let letter: serde_json::Value =
        serde_json::from_str(dead.messages()[0].body().unwrap()).unwrap();
    assert_eq!(
        (
            letter["transaction_id"].as_str(),
            letter["attempts"].as_u64()
        ),
        (Some(id.as_str()), Some(4))
    );
    assert_eq!(
        letter["ipn"]["status"], "SUCCESS",
        "the letter carries the IPN itself"
    );
    assert!(letter["last_error"].as_str().unwrap().contains("503"));

    let moved = tikivip_tools::ops::redrive(&running.stack.store, queue)
        .await
        .unwrap();
    assert_eq!(moved.moved, vec![TransactionId::parse(&id).unwrap()]);
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    assert_eq!(running.ipns(&id).len(), 5);
}

/// SQS's own redrive (the console's "Start DLQ redrive") moves the message
/// back without telling the store: the job must still be delivered.
#[tokio::test]
async fn a_dead_letter_moved_back_by_sqs_itself_is_delivered() {
    let running = Running::start("1").await;
    running.tiki().fail(
        FaultRoute::Ipn,
        2,
        Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
    );
    let id = paid(&running, &tiki_id()).await;
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Exhausted))
        .await;
    let queue = &running.stack.queue;
    let sqs = queue.client();
    let dead = sqs
        .receive_message()
        .queue_url(queue.dead_letter_url())
        .send()
        .await
        .unwrap();
    let letter = &dead.messages()[0];
    sqs.send_message()
        .queue_url(queue.queue_url())
        .message_body(letter.body().unwrap())
        .send()
        .await
        .unwrap();
    sqs.delete_message()
        .queue_url(queue.dead_letter_url())
        .receipt_handle(letter.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    assert_eq!(running.ipns(&id).len(), 3);
    assert_eq!(running.job(&id).await.attempts, 1, "a fresh schedule");
}

#[tokio::test]
async fn a_failure_result_is_notified_too() {
    let running = Running::start("1,1,1").await;
    let id = running.create(&tiki_id(), 50_000).await;
    running.pay(&id, "FAILURE", 50_000, "ev-1").await.ok();
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    assert_eq!(running.ipns(&id)[0].body["status"], "FAILURE");
}

/// The receiver's write commits, then its enqueue fails (the queue is gone):
/// the job waits in the outbox, and the sweeper delivers it.
#[tokio::test]
async fn a_crash_between_the_write_and_the_enqueue_still_delivers() {
    let running = Running::start("1,1,1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    let queue = &running.stack.queue;
    let broken = IpnQueue::new(
        queue.client().clone(),
        format!("{}-gone", queue.queue_url()),
        queue.dead_letter_url(),
    );
    let partner = Verifier::new(
        HeaderFamily::Partner,
        vec![tikivip_signing::ClientKey {
            client_id: stack_partner_id(),
            secret: Secret::new(tikivip_it::stack::PARTNER_SECRET),
        }],
    );
    let receiver = ipn_receiver::IpnReceiver::new(partner, running.stack.store.clone(), broken);
    let body = payment_result(&id, "SUCCESS", 99_000, "ev-1")
        .to_string()
        .into_bytes();
    let signer = Signer::new(
        HeaderFamily::Partner,
        stack_partner_id(),
        Secret::new(tikivip_it::stack::PARTNER_SECRET),
    );
    let request = signed_by(
        &signer,
        Method::POST,
        "/v1/ipn",
        body,
        std::time::SystemTime::now(),
    );
    let response = receiver.handle(request).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the payment core's result is accepted: {:?}",
        response.body()
    );

    running.dispatch_for(Duration::from_secs(2)).await;
    assert!(running.ipns(&id).is_empty(), "nothing was enqueued");
    let outbox = running.stack.store.ipn_outbox().await.unwrap();
    assert_eq!(
        outbox.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        vec![TransactionId::parse(&id).unwrap()]
    );

    let first = running.stack.sweeper.sweep().await.unwrap();
    assert_eq!((first.waiting, first.released), (1, 1));
    assert_eq!(
        running.stack.sweeper.sweep().await.unwrap().released,
        0,
        "released once"
    );
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    assert_eq!(running.ipns(&id).len(), 1);
}

#[tokio::test]
async fn a_job_released_twice_is_delivered_without_contradiction() {
    let running = Running::start("1,1,1").await;
    let id = paid(&running, &tiki_id()).await;
    // A second copy of the job, as a sweep racing the receiver would make.
    let job = running.job(&id).await;
    let copy = tikivip_queue::IpnMessage {
        transaction_id: TransactionId::parse(&id).unwrap(),
        chain: job.chain,
    };
    running.stack.queue.enqueue(&copy).await.unwrap();
    running
        .dispatch_until(WITHIN, JobState(&id, IpnState::Delivered))
        .await;
    running.dispatch_for(Duration::from_secs(2)).await;
    let ipns = running.ipns(&id);
    assert!(!ipns.is_empty() && ipns.len() <= 2, "{ipns:?}");
    assert!(
        ipns.iter().all(|ipn| ipn.body == ipns[0].body),
        "every copy says the same"
    );
}

#[tokio::test]
async fn a_wrongly_signed_ipn_never_counts_as_delivered() {
    let running = Running::start("1,1,1").await;
    let id = paid(&running, &tiki_id()).await;
    // A dispatcher that signs with a secret Tiki does not know.
    let environment = TikiEnvironment::local(&running.stack.tiki_base_url).unwrap();
    let forger = TikiClient::new(
        environment,
        TIKI_CLIENT_ID,
        Secret::new("not-the-secret"),
        WITHIN,
    )
    .unwrap();
    let store = &running.stack.store;
    let queue = &running.stack.queue;
    let dispatcher = Dispatcher::new(
        store.clone(),
        queue.clone(),
        forger,
        RetrySchedule::parse("1,1,1").unwrap(),
    );
    let deadline = Instant::now() + WITHIN;
    while running.job(&id).await.state != IpnState::Exhausted {
        assert!(
            Instant::now() < deadline,
            "the forged IPNs were not given up on"
        );
        poll_once(
            queue.client(),
            queue.queue_url(),
            Duration::from_secs(1),
            |event| dispatcher.handle(event),
        )
        .await
        .unwrap();
    }
    assert!(running.ipns(&id).is_empty(), "Tiki recorded no IPN");
    assert_eq!(
        running.tiki().rejected_count(TikiRoute::Ipn),
        4,
        "every attempt was refused as badly signed"
    );
}

/// 200 payments, each notified exactly once; prints the time from payment
/// result to the IPN's arrival (a figure for the record, not a pass mark).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_payments_make_exactly_one_ipn_each() {
    let running = Running::start("1,1,1").await;
    let mut ids = Vec::new();
    for _ in 0..200 {
        ids.push(running.create(&tiki_id(), 10_000).await);
    }
    let started = Instant::now();
    let mut paid_at = std::collections::HashMap::new();
    let dispatching = async {
        loop {
            running
                .stack
                .dispatch_once(Duration::from_millis(200))
                .await
                .unwrap();
        }
    };
    let paying = async {
        for id in &ids {
            paid_at.insert(id.clone(), time::OffsetDateTime::now_utc());
            running.pay(id, "SUCCESS", 10_000, "ev").await.ok();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while ids.iter().any(|id| running.ipns(id).is_empty()) {
            assert!(Instant::now() < deadline, "not every IPN arrived");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::select! {
        () = dispatching => unreachable!(),
        () = paying => {}
    }
    let mut latencies: Vec<f64> = ids
        .iter()
        .map(|id| {
            let ipns = running.ipns(id);
            assert_eq!(ipns.len(), 1, "{id}: {ipns:?}");
            (ipns[0].received_at - paid_at[id]).as_seconds_f64() * 1000.0
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    println!(
        "200 payments in {:?}: payment result -> IPN at Tiki p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms; 1 IPN each",
        started.elapsed(),
        latencies[100],
        latencies[180],
        latencies[199]
    );
}

fn stack_partner_id() -> String {
    tikivip_it::stack::PARTNER_CLIENT_ID.to_owned()
}

async fn in_outbox(running: &Running) -> Vec<TransactionId> {
    let outbox = running.stack.store.ipn_outbox().await.unwrap();
    outbox.into_iter().map(|(id, _)| id).collect()
}

/// The receiver only enqueues the job (no second write); the dispatcher's
/// first recorded attempt, even a failed one, takes it out of the outbox, so
/// the sweeper does not release it again.
#[tokio::test]
async fn a_job_leaves_the_outbox_at_its_first_attempt_even_a_failed_one() {
    let running = Running::start("60").await;
    running.tiki().fail(
        FaultRoute::Ipn,
        1,
        Fault::http_status(StatusCode::BAD_GATEWAY),
    );
    let id = paid(&running, &tiki_id()).await;
    assert_eq!(
        in_outbox(&running).await,
        vec![TransactionId::parse(&id).unwrap()],
        "settled and enqueued, not yet attempted"
    );
    running.dispatch_for(Duration::from_secs(2)).await;
    assert_eq!(running.ipns(&id).len(), 1, "one attempt, which failed");
    assert_eq!(running.job(&id).await.state, IpnState::Pending);
    assert!(in_outbox(&running).await.is_empty());
    assert_eq!(running.stack.sweeper.sweep().await.unwrap().released, 0);
}
