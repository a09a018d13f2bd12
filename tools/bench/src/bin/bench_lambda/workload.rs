//! The events each function is sent, as a fresh caller would send them; the
//! state they need (transactions to refund, to settle, to notify; orders and
//! received messages) is made first and is not timed.

use tiki_simulator::{SimOrder, notification};
use tikivip_bench::Error;
use tikivip_bench::events::{Client, HttpCall, scheduled_event, sqs_event};
use tikivip_bench::local_aws::{self, REGION, payment_result_json};
use tikivip_domain::tiniapp::{ConfirmedOrder, Order, OrderStatus, TiniAppMessage};
use tikivip_domain::{Timestamp, TiniAppOrderId, Transaction, Vnd};
use tikivip_queue::tiniapp::TiniAppJob;
use tikivip_queue::{IpnMessage, IpnQueue};
use tikivip_store::Store;

use crate::functions::{Function, Kind};
use crate::{Place, World};

/// `n` events for `function`.
pub async fn events(
    world: &World,
    function: &Function,
    place: &Place,
    n: usize,
) -> Result<Vec<String>, Error> {
    let tiki = Client::dev_tiki();
    let partner = Client::dev_partner();
    let mut events = Vec::with_capacity(n);
    match function.kind {
        Kind::Create => {
            for _ in 0..n {
                let body = serde_json::json!({
                    "tiki_transaction_id": format!("bench-{}", fresh_id()),
                    "transaction_amount": 99_000,
                    "description": "TikiVIP 12 tháng"
                });
                events.push(
                    HttpCall::post(
                        "/v1/transactions",
                        "POST /v1/transactions",
                        body.to_string(),
                    )
                    .signed_event(&tiki),
                );
            }
        }
        Kind::Get => {
            let txn = place.transaction.as_ref().expect("a known transaction");
            for i in 0..n {
                let call = if i % 2 == 0 {
                    HttpCall::get(
                        &format!("/v1/transactions/{}", txn.id),
                        "GET /v1/transactions/{transaction_id}",
                    )
                    .with_path_parameter("transaction_id", txn.id.as_str())
                } else {
                    HttpCall::get(
                        &format!("/v1/transactions?tiki_transaction_id={}", txn.tiki_id),
                        "GET /v1/transactions",
                    )
                };
                events.push(call.signed_event(&tiki));
            }
        }
        Kind::Refund => {
            // At most 50 refunds of 1 000 on each paid transaction of 1 000 000.
            let mut txn = None;
            for i in 0..n {
                if i % 50 == 0 {
                    txn = Some(local_aws::paid(&place.store, 1_000_000).await?);
                }
                let txn: &Transaction = txn.as_ref().expect("made above");
                let body = serde_json::json!({
                    "tiki_transaction_id": txn.tiki_id.as_str(),
                    "transaction_amount": 1_000,
                    "transaction_id": txn.id.as_str(),
                    "reason": "customer asked",
                    "request_id": format!("r-{}", fresh_id()),
                });
                events.push(
                    HttpCall::post("/v1/refunds", "POST /v1/refunds", body.to_string())
                        .signed_event(&tiki),
                );
            }
        }
        Kind::PaymentResult => {
            for _ in 0..n {
                let txn = local_aws::pending(&place.store, 99_000).await?;
                events.push(
                    HttpCall::post("/v1/ipn", "POST /v1/ipn", payment_result_json(&txn))
                        .signed_event(&partner),
                );
            }
        }
        Kind::Dispatch => {
            for _ in 0..n {
                let txn = local_aws::paid(&place.store, 99_000).await?;
                let message = IpnMessage {
                    transaction_id: txn.id.clone(),
                    chain: 0,
                };
                events.push(sqs_event(
                    &queue_arn(&place.queue),
                    &[serde_json::to_string(&message)?],
                ));
            }
        }
        Kind::Sweep => {
            for _ in 0..n {
                events.push(scheduled_event());
            }
        }
        Kind::Webview => {
            for i in 0..n {
                let body = serde_json::json!({
                    "identify_code": format!("user-{i}-{}", fresh_id()),
                    "identify_phone": "0912345678",
                    "identify_fullname": "Nguyễn Văn A",
                });
                events.push(
                    HttpCall::post("/v1/webview", "POST /v1/webview", body.to_string())
                        .signed_event(&partner),
                );
            }
        }
        Kind::TiniAppNotification => {
            for _ in 0..n {
                let order = SimOrder::new(format!("o-{}", fresh_id()), "online_paid", 99_000);
                let body = notification(&fresh_id(), &order, Timestamp::now_utc());
                events.push(
                    HttpCall::post("/v1/tiniapp/ipn", "POST /v1/tiniapp/ipn", body.to_string())
                        .signed_event(&Client::dev_tiniapp()),
                );
            }
        }
        Kind::TiniAppOrder => {
            let id = place.order.as_ref().expect("a known order");
            for _ in 0..n {
                events.push(
                    HttpCall::get(
                        &format!("/v1/tiniapp/orders/{id}"),
                        "GET /v1/tiniapp/orders/{id}",
                    )
                    .with_path_parameter("id", id.as_str())
                    .signed_event(&partner),
                );
            }
        }
        Kind::TiniAppProcess => {
            // Each a received message of an order Tiki's order API knows.
            for _ in 0..n {
                let order = SimOrder::new(format!("o-{}", fresh_id()), "online_paid", 99_000);
                world.simulator.handle().put_order(order.clone());
                let message = received(&place.store, &order).await?;
                let job = TiniAppJob {
                    message_id: message.message_id,
                };
                events.push(sqs_event(
                    &queue_arn(&place.queue),
                    &[serde_json::to_string(&job)?],
                ));
            }
        }
    }
    Ok(events)
}

/// A Tini App order, stored as the processor leaves it; its id.
pub async fn stored_order(store: &Store) -> Result<TiniAppOrderId, Error> {
    let order = SimOrder::new(format!("o-{}", fresh_id()), "online_paid", 99_000);
    let message = received(store, &order).await?;
    let confirmed = ConfirmedOrder {
        status: OrderStatus::OnlinePaid,
        grand_total: Vnd::new(99_000)?,
        tiki_order_id: None,
        tiki_order_code: None,
        reference_id: None,
    };
    store
        .apply_tiniapp_order(&Order::confirmed(
            &message,
            &confirmed,
            Timestamp::now_utc(),
        ))
        .await?;
    Ok(message.order.id)
}

/// A notification of `order`, recorded as `tiniapp-ipn` records it.
async fn received(store: &Store, order: &SimOrder) -> Result<TiniAppMessage, Error> {
    let body = notification(&fresh_id(), order, Timestamp::now_utc()).to_string();
    let message = TiniAppMessage::parse(body.as_bytes(), Timestamp::now_utc())?;
    store
        .record_tiniapp_message(&message, body.as_bytes(), Timestamp::now_utc())
        .await?;
    Ok(message)
}

/// The ARN Lambda's event source names the queue by.
fn queue_arn(queue: &IpnQueue) -> String {
    format!(
        "arn:aws:sqs:{REGION}:123456789012:{}",
        queue.queue_url().rsplit('/').next().unwrap_or("ipn")
    )
}

fn fresh_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}
