//! The way back to Tiki (SPEC Part 1, items 3 and 7): each transaction keeps
//! where the payment screen sends the user when the payment ends, and the
//! look-up returns it.

use serde_json::{Value, json};
use tikivip_it::stack::{Running, partner_signer};
use tikivip_it::{tiki_id, tiki_signer};

async fn create(running: &Running, body: Value) -> String {
    let reply = running
        .post(&tiki_signer(), "/v1/transactions", &body)
        .await;
    reply.ok()["transaction_id"].as_str().unwrap().to_owned()
}

async fn webview(running: &Running, identify_code: &str) -> Value {
    let body = json!({"identify_code": identify_code, "identify_phone": "0912345678"});
    running
        .post(&partner_signer(), "/v1/webview", &body)
        .await
        .ok()
        .clone()
}

async fn redirect_url(running: &Running, id: &str) -> Value {
    running.get(&format!("/v1/transactions/{id}")).await.ok()["redirect_url"].clone()
}

#[tokio::test]
async fn a_transaction_after_a_webview_sends_the_user_back_to_its_checkout_result() {
    let running = Running::start("1").await;
    let urls = webview(&running, "user-7").await;
    let id = create(
        &running,
        json!({"tiki_transaction_id": tiki_id(), "transaction_amount": 99_000,
               "customer": {"identify_code": "user-7"}}),
    )
    .await;
    assert_eq!(
        redirect_url(&running, &id).await,
        urls["url_checkout_result"]
    );
}

#[tokio::test]
async fn the_redirect_url_given_at_create_wins_over_the_webview() {
    let running = Running::start("1").await;
    webview(&running, "user-8").await;
    let id = create(
        &running,
        json!({"tiki_transaction_id": tiki_id(), "transaction_amount": 99_000,
               "customer": {"identify_code": "user-8"},
               "redirect_url": "https://tiki.vn/apps/tikivip/result?order=1"}),
    )
    .await;
    assert_eq!(
        redirect_url(&running, &id).await,
        "https://tiki.vn/apps/tikivip/result?order=1"
    );
}

#[tokio::test]
async fn the_last_webview_of_the_user_is_the_way_back_and_no_other_users() {
    let running = Running::start("1").await;
    webview(&running, "user-9").await;
    let latest = webview(&running, "user-9").await;
    webview(&running, "someone-else").await;
    let id = create(
        &running,
        json!({"tiki_transaction_id": tiki_id(), "transaction_amount": 10_000,
               "customer": {"identify_code": "user-9"}}),
    )
    .await;
    assert_eq!(
        redirect_url(&running, &id).await,
        latest["url_checkout_result"]
    );

    let stranger = create(
        &running,
        json!({"tiki_transaction_id": tiki_id(), "transaction_amount": 10_000,
               "customer": {"identify_code": "no-webview"}}),
    )
    .await;
    assert_eq!(redirect_url(&running, &stranger).await, Value::Null);
}
