//! SPEC Part 2, create: `POST /v1/transactions`.

use tikivip_domain::TransactionId;
use tikivip_it::*;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[tokio::test]
async fn create_returns_a_pending_transaction_with_its_payment_url() {
    let api = TikiApi::new().await;
    let tiki = tiki_id();
    let reply = api.create(&tiki, 99_000).await;
    let data = reply.ok();
    let id = data["transaction_id"].as_str().unwrap();
    assert_eq!(data["tiki_transaction_id"], tiki);
    assert_eq!(data["transaction_amount"], 99_000);
    assert_eq!(data["status"], "PENDING");
    assert_eq!(
        data["payment_url"],
        PAYMENT_URL_TEMPLATE.replace("{transaction_id}", id)
    );
    let created_at = data["created_at"].as_str().unwrap();
    assert!(
        OffsetDateTime::parse(created_at, &Rfc3339).is_ok(),
        "{created_at} is not RFC 3339"
    );
    assert_eq!(reply.body["message"], "success");
}

#[tokio::test]
async fn create_keeps_the_optional_fields() {
    let api = TikiApi::new().await;
    let body = serde_json::json!({
        "tiki_transaction_id": tiki_id(),
        "transaction_amount": 50_000,
        "description": "TikiVIP 1 tháng",
        "customer": {"identify_code": "u-1", "phone": "0900000000", "fullname": "Nguyễn Văn A"},
        "redirect_url": "https://tiki.vn/apps/result",
    });
    let reply = api.post("/v1/transactions", body.to_string()).await;
    let id = reply.ok()["transaction_id"].as_str().unwrap();
    let stored = api
        .store
        .transaction(&TransactionId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.description.unwrap().as_str(), "TikiVIP 1 tháng");
    assert_eq!(
        stored.customer.unwrap().fullname.unwrap().as_str(),
        "Nguyễn Văn A"
    );
}

#[tokio::test]
async fn create_again_with_the_same_amount_returns_the_same_transaction() {
    let api = TikiApi::new().await;
    let tiki = tiki_id();
    let first = api.create(&tiki, 99_000).await.ok().clone();
    let again = api.create(&tiki, 99_000).await.ok().clone();
    assert_eq!(first, again);
    assert_eq!(
        item_count(&api.store).await,
        3,
        "one transaction, its Tiki id claim and its ledger entry"
    );
}

#[tokio::test]
async fn create_again_with_another_amount_fails_and_changes_nothing() {
    let api = TikiApi::new().await;
    let tiki = tiki_id();
    let first = api.create(&tiki, 99_000).await.ok().clone();
    let other = api.create(&tiki, 10_000).await;
    assert_eq!(
        (other.status.as_u16(), other.code()),
        (409, 5),
        "{:?}",
        other.body
    );
    assert!(other.body["data"].is_null());
    let stored = api.lookup(first["transaction_id"].as_str().unwrap()).await;
    assert_eq!(stored.ok()["transaction_amount"], 99_000);
    assert_eq!(item_count(&api.store).await, 3);
}

#[tokio::test]
async fn each_tiki_transaction_gets_its_own_transaction() {
    let api = TikiApi::new().await;
    let a = api.created(&tiki_id(), 1_000).await;
    let b = api.created(&tiki_id(), 1_000).await;
    assert_ne!(a, b);
}
