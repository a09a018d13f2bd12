//! SPEC Part 2, look-up: `GET /v1/transactions/{id}` and `?tiki_transaction_id=`.

use tikivip_domain::PaymentOutcome;
use tikivip_it::*;

#[tokio::test]
async fn lookup_by_partner_id_returns_the_transaction() {
    let api = TikiApi::new().await;
    let tiki = tiki_id();
    let id = api.created(&tiki, 75_000).await;
    let reply = api.lookup(&id).await;
    let data = reply.ok();
    assert_eq!(data["transaction_id"], id.as_str());
    assert_eq!(data["tiki_transaction_id"], tiki);
    assert_eq!(data["transaction_amount"], 75_000);
    assert_eq!(data["status"], "PENDING");
    assert_eq!(data["refunded_amount"], 0);
    assert_eq!(data["refunds"], serde_json::json!([]));
    assert!(data["created_at"].is_string() && data["updated_at"].is_string());
}

#[tokio::test]
async fn lookup_by_tiki_id_returns_the_same_transaction() {
    let api = TikiApi::new().await;
    let tiki = tiki_id();
    let id = api.created(&tiki, 75_000).await;
    let by_tiki = api
        .get(&format!("/v1/transactions?tiki_transaction_id={tiki}"))
        .await;
    assert_eq!(by_tiki.ok(), api.lookup(&id).await.ok());
}

#[tokio::test]
async fn lookup_by_tiki_id_reads_a_percent_encoded_query() {
    let api = TikiApi::new().await;
    let tiki = format!("{}:1", tiki_id());
    let id = api.created(&tiki, 1_000).await;
    let encoded = tiki.replace(':', "%3A");
    let reply = api
        .get(&format!("/v1/transactions?tiki_transaction_id={encoded}"))
        .await;
    assert_eq!(reply.ok()["transaction_id"], id.as_str());
}

#[tokio::test]
async fn lookup_shows_the_settled_status() {
    let api = TikiApi::new().await;
    let paid = api.paid(&tiki_id(), 20_000).await;
    assert_eq!(api.lookup(&paid).await.ok()["status"], "SUCCESS");
    let failed = api.created(&tiki_id(), 20_000).await;
    api.settle(&failed, PaymentOutcome::Failure, 20_000).await;
    assert_eq!(api.lookup(&failed).await.ok()["status"], "FAILURE");
}

#[tokio::test]
async fn lookup_lists_refunds_in_the_order_they_were_made() {
    let api = TikiApi::new().await;
    let id = api.paid(&tiki_id(), 100_000).await;
    let txn = api.lookup(&id).await.ok().clone();
    api.refund(&txn, 30_000, "r-1").await.ok();
    api.refund(&txn, 20_000, "r-2").await.ok();
    let data = api.lookup(&id).await.ok().clone();
    assert_eq!(data["refunded_amount"], 50_000);
    let refunds = data["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 2);
    assert_eq!(
        (
            refunds[0]["request_id"].as_str(),
            refunds[0]["amount"].as_u64()
        ),
        (Some("r-1"), Some(30_000))
    );
    assert_eq!(
        (
            refunds[1]["request_id"].as_str(),
            refunds[1]["amount"].as_u64()
        ),
        (Some("r-2"), Some(20_000))
    );
    for refund in refunds {
        for field in ["refund_id", "request_id", "amount", "reason", "created_at"] {
            assert!(!refund[field].is_null(), "refund lacks {field}");
        }
    }
}

#[tokio::test]
async fn lookup_of_an_unknown_transaction_is_not_found() {
    let api = TikiApi::new().await;
    for path in [
        "/v1/transactions/T-nothing-here",
        "/v1/transactions?tiki_transaction_id=nothing-here",
    ] {
        let reply = api.get(path).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (404, 3),
            "{path}: {:?}",
            reply.body
        );
    }
}

#[tokio::test]
async fn lookup_without_an_id_is_an_invalid_request() {
    let api = TikiApi::new().await;
    for path in [
        "/v1/transactions",
        "/v1/transactions?other=1",
        "/v1/transactions/a/b",
    ] {
        let reply = api.get(path).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, 1),
            "{path}: {:?}",
            reply.body
        );
    }
}
