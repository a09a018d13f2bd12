//! SPEC Part 1 "Tini App order IPN" and `POST /v1/tiniapp/ipn`: Tiki's order
//! notifications received fast, recorded once, confirmed with Tiki's order
//! API (the simulator), applied forward only, and published once — through
//! the real emulator, real HTTP and real SQS.

use std::time::{Duration, Instant};

use http::StatusCode;
use serde_json::json;
use tiki_simulator::{Fault, FaultRoute, SimOrder, TiniAppPlatform, notification};
use tikivip_domain::tiniapp::{MessageState, MessageVerdict, Order, OrderStatus, TiniAppMessage};
use tikivip_domain::{Timestamp, TiniAppMessageId};
use tikivip_it::stack::{Running, TINIAPP_CLIENT_ID};
use tikivip_it::tiniapp::{ago, message_id, order};
use tikivip_signing::Secret;
use tikivip_store::Applied;

const WITHIN: Duration = Duration::from_secs(30);

async fn stack() -> Running {
    Running::start("1,1,1").await
}

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
    running.processed(&id).await;
    running.process_for(Duration::from_secs(2)).await;
    assert_eq!(running.stored_messages().await, 1);
    assert_eq!(running.tiki().order_calls(&order.id), 1, "one processing");
    assert_eq!(running.published().await.len(), 1);
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
    running.processed(&id).await;
    running.process_for(Duration::from_secs(2)).await;
    assert_eq!(running.stored_messages().await, 1);
    assert_eq!(running.tiki().order_calls(&order.id), 1, "one processing");
    assert_eq!(running.published().await.len(), 1);
}

#[tokio::test]
async fn an_older_message_never_overwrites_a_newer_status() {
    let running = stack().await;
    let mut held = order("online_paid");
    running.tiki_holds(&held);
    let (newer, older) = (message_id(), message_id());
    running.notify(&newer, &held, ago(10)).await;
    running.processed(&newer).await;

    // The older one arrives late; Tiki's API by then even says `processing`,
    // a step forward: it is still older than the status it would replace.
    held.status = "processing".into();
    running.tiki_holds(&held);
    running
        .notify(&older, &order_as(&held, "waiting_for_payment"), ago(60))
        .await;
    let message = running.processed(&older).await;
    assert_eq!(message.verdict, Some(MessageVerdict::Unchanged));
    let stored = running.order(&held.id).await.unwrap();
    assert_eq!(
        stored.status,
        OrderStatus::OnlinePaid,
        "the newer status stays"
    );
    assert_eq!(stored.last_message_id.as_str(), newer);
    assert_eq!(running.published().await.len(), 1);
}

#[tokio::test]
async fn a_newer_message_moves_the_order_forward_and_says_from_what() {
    let running = stack().await;
    let mut held = order("waiting_for_payment");
    running.tiki_holds(&held);
    let (first, second) = (message_id(), message_id());
    running.notify(&first, &held, ago(60)).await;
    running.processed(&first).await;
    held.status = "online_paid".into();
    running.tiki_holds(&held);
    running.notify(&second, &held, ago(10)).await;
    running.processed(&second).await;
    let events = running.published().await;
    let moves: Vec<_> = events
        .iter()
        .map(|e| (e.previous_status, e.status))
        .collect();
    assert_eq!(
        moves,
        [
            (None, OrderStatus::WaitingForPayment),
            (
                Some(OrderStatus::WaitingForPayment),
                OrderStatus::OnlinePaid
            )
        ]
    );
}

#[tokio::test]
async fn a_final_status_never_changes() {
    let running = stack().await;
    let mut held = order("canceled");
    running.tiki_holds(&held);
    let (canceled, later) = (message_id(), message_id());
    running.notify(&canceled, &held, ago(60)).await;
    running.processed(&canceled).await;
    held.status = "completed".into();
    running.tiki_holds(&held);
    running.notify(&later, &held, ago(5)).await;
    let message = running.processed(&later).await;
    assert_eq!(message.verdict, Some(MessageVerdict::Unchanged));
    assert_eq!(
        running.order(&held.id).await.unwrap().status,
        OrderStatus::Canceled
    );
    assert_eq!(running.published().await.len(), 1);
}

#[tokio::test]
async fn tikis_status_is_kept_when_its_order_api_contradicts_the_notification() {
    let running = stack().await;
    let notified = order("online_paid");
    let mut held = notified.clone();
    held.status = "canceled".into();
    held.grand_total = 0;
    running.tiki_holds(&held);
    let id = message_id();
    running.notify(&id, &notified, ago(5)).await;
    let message = running.processed(&id).await;
    assert_eq!(message.notified_status, OrderStatus::OnlinePaid);
    assert_eq!(message.confirmed_status, Some(OrderStatus::Canceled));
    let stored = running.order(&held.id).await.unwrap();
    assert_eq!(stored.status, OrderStatus::Canceled);
    assert_eq!(stored.grand_total.get(), 0);
    let events = running.published().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, OrderStatus::Canceled);
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
async fn the_order_api_being_down_is_retried_on_the_schedule() {
    let running = stack().await;
    let order = order("online_paid");
    running.tiki_holds(&order);
    running.tiki().fail(
        FaultRoute::Order,
        2,
        Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
    );
    let id = message_id();
    running.notify(&id, &order, ago(5)).await;
    let message = running.processed(&id).await;
    assert_eq!(message.state, MessageState::Processed);
    assert_eq!(message.attempts, 2, "two failed calls recorded");
    assert_eq!(running.tiki().order_calls(&order.id), 3);
    assert_eq!(running.published().await.len(), 1);
}

#[tokio::test]
async fn the_order_api_down_for_the_whole_schedule_dead_letters_the_message() {
    let running = stack().await;
    let order = order("online_paid");
    running.tiki_holds(&order);
    running.tiki().fail(
        FaultRoute::Order,
        10,
        Fault::http_status(StatusCode::BAD_GATEWAY),
    );
    let id = message_id();
    running.notify(&id, &order, ago(5)).await;
    let message = running.processed(&id).await;
    assert_eq!(message.state, MessageState::Exhausted);
    assert_eq!(
        message.attempts, 4,
        "the first call and one after each of 3 delays"
    );
    assert!(running.order(&order.id).await.is_none());
    let letters = running
        .stack
        .tiniapp_jobs
        .client()
        .receive_message()
        .queue_url(running.stack.tiniapp_jobs.dead_letter_url())
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(letters.len(), 1);
    assert!(letters[0].body().unwrap().contains(&id));
}

#[tokio::test]
async fn an_order_tiki_does_not_know_is_set_aside() {
    let running = stack().await;
    let unknown = order("online_paid");
    let id = message_id();
    running.notify(&id, &unknown, ago(5)).await;
    let message = running.processed(&id).await;
    assert_eq!(message.state, MessageState::SetAside);
    assert_eq!(message.verdict, Some(MessageVerdict::UnknownOrder));
    assert!(running.order(&unknown.id).await.is_none());
    assert!(running.published().await.is_empty());
    let aside = running
        .stack
        .store
        .tiniapp_messages_set_aside()
        .await
        .unwrap();
    assert_eq!(aside, [TiniAppMessageId::parse(id).unwrap()]);
}

#[tokio::test]
async fn a_crash_between_the_store_write_and_the_publish_is_published_once_by_the_sweeper() {
    let running = stack().await;
    let held = order("online_paid");
    let id = message_id();
    // The write a processor makes, and then it dies: no publish.
    let body = notification(&id, &held, ago(5)).to_string();
    let message = TiniAppMessage::parse(body.as_bytes(), Timestamp::now_utc()).unwrap();
    let store = &running.stack.store;
    store
        .record_tiniapp_message(&message, body.as_bytes(), Timestamp::now_utc())
        .await
        .unwrap();
    let confirmed = tikivip_domain::tiniapp::ConfirmedOrder {
        status: OrderStatus::OnlinePaid,
        grand_total: tikivip_domain::Vnd::new(99_000).unwrap(),
        tiki_order_id: None,
        tiki_order_code: None,
        reference_id: None,
    };
    let order = Order::confirmed(&message, &confirmed, Timestamp::now_utc());
    assert!(matches!(
        store.apply_tiniapp_order(&order).await.unwrap(),
        Applied::Changed(_)
    ));
    assert!(
        running.published().await.is_empty(),
        "nothing published yet"
    );

    // Two sweeps at once, and one more: the event goes out once.
    let (a, b) = tokio::join!(running.stack.sweeper.sweep(), running.stack.sweeper.sweep());
    a.unwrap();
    b.unwrap();
    running.stack.sweeper.sweep().await.unwrap();
    let events = running.published().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].message_id.as_str(), id);
}

#[tokio::test]
async fn a_crash_between_the_receipt_and_the_enqueue_is_processed_by_the_sweeper() {
    let running = stack().await;
    let held = order("online_paid");
    running.tiki_holds(&held);
    let id = message_id();
    let body = notification(&id, &held, ago(5)).to_string();
    let message = TiniAppMessage::parse(body.as_bytes(), Timestamp::now_utc()).unwrap();
    // The receiver's write, and then it dies before putting it on the queue.
    running
        .stack
        .store
        .record_tiniapp_message(&message, body.as_bytes(), Timestamp::now_utc())
        .await
        .unwrap();
    running.process_for(Duration::from_secs(1)).await;
    assert_eq!(
        running.message(&id).await.unwrap().state,
        MessageState::Received,
        "nothing on the queue yet"
    );
    running.stack.sweeper.sweep().await.unwrap();
    let processed = running.processed(&id).await;
    assert_eq!(processed.verdict, Some(MessageVerdict::Applied));
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

/// The same order with another status, as a notification may claim.
fn order_as(order: &SimOrder, status: &str) -> SimOrder {
    SimOrder {
        status: status.into(),
        ..order.clone()
    }
}

#[tokio::test]
async fn an_operator_sees_the_order_and_its_messages_signed_with_the_partners_key() {
    let running = stack().await;
    let held = order("online_paid");
    running.tiki_holds(&held);
    let id = message_id();
    running.notify(&id, &held, ago(5)).await;
    running.notify(&id, &held, ago(5)).await;
    running.processed(&id).await;

    let path = format!("/v1/tiniapp/orders/{}", held.id);
    let reply = running
        .get_as(&tikivip_it::stack::partner_signer(), &path)
        .await;
    let data = reply.ok();
    assert_eq!(data["order_id"], held.id.as_str());
    assert_eq!(data["order"]["status"], "online_paid");
    assert_eq!(data["messages"].as_array().unwrap().len(), 1);
    assert_eq!(data["messages"][0]["message_id"], id.as_str());
    assert_eq!(data["messages"][0]["verdict"], "APPLIED");

    // The Tini App key (Tiki holds it too) does not open the partner's records.
    let tiniapp = tikivip_signing::Signer::new(
        tikivip_signing::HeaderFamily::Tiniapp,
        TINIAPP_CLIENT_ID,
        Secret::new(tikivip_it::stack::TINIAPP_SECRET),
    );
    assert_eq!(
        running.get_as(&tiniapp, &path).await.status,
        StatusCode::UNAUTHORIZED
    );
    let missing = running
        .get_as(
            &tikivip_it::stack::partner_signer(),
            "/v1/tiniapp/orders/nobody",
        )
        .await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, 3));

    // The CLI shows the same.
    let view = tikivip_tools::tiniapp_ops::order(&running.stack.store, &held.id)
        .await
        .unwrap();
    let printed =
        tikivip_tools::tiniapp_ops::render_order(&view, tikivip_tools::output::Output::Json)
            .unwrap();
    assert_eq!(printed.lines().count(), 1, "one JSON line: {printed}");
    let printed: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(&printed, data);
    // The table prints the same times as the API, never the stored form.
    let table =
        tikivip_tools::tiniapp_ops::render_order(&view, tikivip_tools::output::Output::Table)
            .unwrap();
    for time in [&data["order"]["as_of"], &data["messages"][0]["received_at"]] {
        assert!(table.contains(time.as_str().unwrap()), "{time} in\n{table}");
    }
}
