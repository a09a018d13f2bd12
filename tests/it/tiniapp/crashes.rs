//! A crash mid-way loses nothing and repeats nothing: the sweeper finishes
//! what the outbox holds.

use std::time::Duration;

use tiki_simulator::notification;
use tikivip_domain::Timestamp;
use tikivip_domain::tiniapp::{MessageState, MessageVerdict, Order, OrderStatus, TiniAppMessage};
use tikivip_it::tiniapp::{ago, message_id, order};
use tikivip_store::Applied;

use super::stack;

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
