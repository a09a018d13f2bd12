//! The receipt: answered fast, recorded once however often and however
//! concurrently Tiki sends, refused with nothing stored when it can never be
//! valid; Tiki's resends stop at the first answer.

use std::time::{Duration, Instant};

use http::StatusCode;
use serde_json::json;
use tiki_simulator::{Fault, FaultRoute, SimOrder, TiniAppPlatform, notification};
use tikivip_domain::tiniapp::{MessageState, MessageVerdict, OrderStatus};
use tikivip_it::stack::{Running, TINIAPP_CLIENT_ID};
use tikivip_it::tiniapp::{ago, message_id, order};
use tikivip_signing::Secret;

use super::{WITHIN, stack};

#[tokio::test]
async fn a_notification_is_answered_confirmed_applied_and_published_once() {
    let running = stack().await;
    let order = order("online_paid");
    running.tiki_holds(&order);
    let id = message_id();
    let delivery = running.notify(&id, &order, ago(5)).await;
    assert_eq!(delivery.http_status, 200, "{:?}", delivery.body);
    assert_eq!(delivery.body["code"], 0);
    assert_eq!(delivery.body["data"]["message_id"], id.as_str());
    assert_eq!(delivery.body["data"]["duplicate"], false);

    let message = running.processed(&id).await;
    assert_eq!(message.state, MessageState::Processed);
    assert_eq!(message.verdict, Some(MessageVerdict::Applied));
    let stored = running.order(&order.id).await.expect("an order record");
    assert_eq!(stored.status, OrderStatus::OnlinePaid);
    assert_eq!(stored.grand_total.get(), 99_000);

    let events = running.published().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(event["event_type"], "tiniapp.order.status_changed");
    assert_eq!(event["order_id"], order.id.as_str());
    assert_eq!(event["status"], "online_paid");
    assert_eq!(event["previous_status"], serde_json::Value::Null);
    assert_eq!(event["grand_total"], 99_000);
    assert_eq!(event["extra"], json!({"plan": "tikivip", "months": "1"}));
    assert_eq!(event["message_id"], id.as_str());
}

#[tokio::test]
async fn a_repeated_notification_is_stored_once_processed_once_and_published_once() {
    let running = stack().await;
    let order = order("online_paid");
    running.tiki_holds(&order);
    let id = message_id();
    let created_at = ago(5);
    let first = running.notify(&id, &order, created_at).await;
    assert_eq!(first.body["data"]["duplicate"], false);
    for _ in 0..2 {
        let again = running.notify(&id, &order, created_at).await;
        assert_eq!(again.http_status, 200, "a repeat is answered 2xx");
        assert_eq!(again.body["data"]["duplicate"], true);
    }
    once_stored_processed_and_published(&running, &id, &order).await;
}

#[tokio::test]
async fn ten_racing_copies_are_stored_once_processed_once_and_published_once() {
    let running = stack().await;
    let order = order("online_paid");
    running.tiki_holds(&order);
    let id = message_id();
    let body = notification(&id, &order, ago(5));
    let deliveries = running
        .tiniapp()
        .notify_racing(&running.api, &body, 10)
        .await;
    assert!(
        deliveries.iter().all(|d| d.http_status == 200),
        "{deliveries:?}"
    );
    let firsts = deliveries
        .iter()
        .filter(|d| d.body["data"]["duplicate"] == false)
        .count();
    assert_eq!(firsts, 1, "one copy records the message");
    once_stored_processed_and_published(&running, &id, &order).await;
}

#[tokio::test]
async fn a_bad_signature_is_refused_401_and_nothing_is_stored() {
    let running = stack().await;
    let order = order("online_paid");
    running.tiki_holds(&order);
    let body = notification(&message_id(), &order, ago(5));
    for impostor in [
        TiniAppPlatform::new(TINIAPP_CLIENT_ID, Secret::new("not-the-secret")),
        TiniAppPlatform::new("another-client", Secret::new("test-tiniapp-secret")),
    ] {
        let delivery = impostor.notify(&running.api, &body).await;
        assert_eq!(delivery.http_status, 401, "{:?}", delivery.body);
        assert_ne!(delivery.body["code"], 0);
    }
    // A TikiVIP key never works on a Tini App route.
    let reply = running
        .post(&tikivip_it::tiki_signer(), "/v1/tiniapp/ipn", &body)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(running.stored_messages().await, 0);
}

#[tokio::test]
async fn a_malformed_message_is_refused_4xx_and_nothing_is_stored() {
    let running = stack().await;
    let order = order("online_paid");
    let good = notification(&message_id(), &order, ago(5));
    let mut bad = Vec::new();
    let mut with = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut body = good.clone();
        change(&mut body);
        bad.push(body);
    };
    with(&|b| b["order"]["grand_total"] = json!("99000"));
    with(&|b| b["order"]["grand_total"] = json!(99000.5));
    with(&|b| b["order"]["grand_total"] = json!(-1));
    with(&|b| b["order"]["id"] = json!(12345));
    with(&|b| b["order"]["status"] = json!("paid"));
    with(&|b| b["order"]["extra"] = json!("no-equals-sign"));
    with(&|b| b["message_created_at"] = json!("yesterday"));
    with(&|b| b["message_type"] = json!("ping"));
    with(&|b| {
        b.as_object_mut().unwrap().remove("order");
    });
    with(&|b| {
        b.as_object_mut().unwrap().remove("message_id");
    });
    for body in bad {
        let delivery = running.tiniapp().notify(&running.api, &body).await;
        assert_eq!(delivery.http_status, 400, "{body} got {:?}", delivery.body);
        assert_eq!(delivery.body["code"], 1, "{body}");
    }
    assert_eq!(running.stored_messages().await, 0);
}

#[tokio::test]
async fn the_answer_comes_back_before_the_slow_confirmation_runs() {
    let running = stack().await;
    let order = order("online_paid");
    running.tiki_holds(&order);
    running
        .tiki()
        .fail(FaultRoute::Order, 1, Fault::delay(Duration::from_secs(3)));
    // The processor runs beside the API, as in AWS and in `make dev`.
    let processor = running.stack.tiniapp_processor.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let source = tokio::spawn(tikivip_tools::sqs_source::run(
        running.stack.tiniapp_jobs.client().clone(),
        running.stack.tiniapp_jobs.queue_url().to_owned(),
        move |event| {
            let processor = processor.clone();
            async move { processor.handle(event).await }
        },
        async {
            let _ = stopped.await;
        },
    ));
    let id = message_id();
    let started = Instant::now();
    let delivery = running.notify(&id, &order, ago(5)).await;
    let answered_in = started.elapsed();
    assert_eq!(delivery.http_status, 200);
    assert!(
        answered_in < Duration::from_millis(1500),
        "answered in {answered_in:?}"
    );
    assert_eq!(
        running.message(&id).await.unwrap().state,
        MessageState::Received,
        "confirmation still running after the answer"
    );
    let deadline = Instant::now() + WITHIN;
    while running.message(&id).await.unwrap().state == MessageState::Received {
        assert!(Instant::now() < deadline, "never processed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(started.elapsed() >= Duration::from_secs(3));
    let _ = stop.send(());
    source.await.unwrap();
    assert_eq!(running.published().await.len(), 1);
}

#[tokio::test]
async fn the_platform_resends_after_a_5xx_and_stops_at_the_first_answer() {
    // The simulator's sending side: an answer stops it, no answer (nothing
    // listens on port 9) is resent after each delay, as Tiki resends.
    let running = stack().await;
    let order = order("online_paid");
    running.tiki_holds(&order);
    let body = notification(&message_id(), &order, ago(5));
    let deliveries = running
        .tiniapp()
        .notify_with_resends(
            &running.api,
            &body,
            &[Duration::from_millis(10), Duration::from_millis(10)],
        )
        .await;
    assert_eq!(deliveries.len(), 1, "a 200 is not resent");
    let refused = running
        .tiniapp()
        .notify_with_resends(
            "http://127.0.0.1:9",
            &body,
            &[Duration::from_millis(10), Duration::from_millis(10)],
        )
        .await;
    assert_eq!(
        refused.iter().map(|d| d.http_status).collect::<Vec<_>>(),
        [0, 0, 0],
        "no answer is resent on the schedule"
    );
}

/// After the copies of message `id`: one stored message, one call to Tiki's
/// order API, one published event, also once the processor has had time
/// for any second processing.
async fn once_stored_processed_and_published(running: &Running, id: &str, order: &SimOrder) {
    running.processed(id).await;
    running.process_for(Duration::from_secs(2)).await;
    assert_eq!(running.stored_messages().await, 1);
    assert_eq!(running.tiki().order_calls(&order.id), 1, "one processing");
    assert_eq!(running.published().await.len(), 1);
}
