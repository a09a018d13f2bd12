//! Tiki's order API down or not knowing the order: retried on the schedule,
//! dead-lettered when the schedule is spent, set aside when unknown.

use http::StatusCode;
use tiki_simulator::{Fault, FaultRoute};
use tikivip_domain::TiniAppMessageId;
use tikivip_domain::tiniapp::{MessageState, MessageVerdict};
use tikivip_it::tiniapp::{ago, message_id, order};

use super::stack;

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
