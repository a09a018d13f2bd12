//! An order's status moves only forward, by `message_created_at`, never out
//! of a final status, and is Tiki's, not the notification's.

use tikivip_domain::tiniapp::{MessageVerdict, OrderStatus};
use tikivip_it::tiniapp::{ago, message_id, order};

use super::{order_as, stack};

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
