//! SPEC Part 2, refund: `POST /v1/refunds`.

use http::Method;
use tikivip_domain::PaymentOutcome;
use tikivip_it::*;

async fn paid_transaction(api: &TikiApi, amount: u64) -> serde_json::Value {
    let id = api.paid(&tiki_id(), amount).await;
    api.lookup(&id).await.ok().clone()
}

fn assert_refused(reply: &Reply, code: i64) {
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (500, code),
        "{:?}",
        reply.body
    );
    assert!(reply.body["data"].is_null());
}

#[tokio::test]
async fn a_full_refund_refunds_the_whole_amount() {
    let api = TikiApi::new().await;
    let txn = paid_transaction(&api, 100_000).await;
    let reply = api.refund(&txn, 100_000, "full-1").await;
    let data = reply.ok();
    assert!(data["refund_id"].is_string());
    assert_eq!(data["request_id"], "full-1");
    assert_eq!(data["transaction_id"], txn["transaction_id"]);
    assert_eq!(data["refund_amount"], 100_000);
    assert_eq!(data["refunded_amount"], 100_000);
    assert_eq!(data["remaining_amount"], 0);
}

#[tokio::test]
async fn partial_refunds_add_up_to_the_refunded_amount() {
    let api = TikiApi::new().await;
    let txn = paid_transaction(&api, 100_000).await;
    let first = api.refund(&txn, 30_000, "p-1").await.ok().clone();
    let second = api.refund(&txn, 45_000, "p-2").await.ok().clone();
    assert_eq!(
        (
            first["refunded_amount"].as_u64(),
            first["remaining_amount"].as_u64()
        ),
        (Some(30_000), Some(70_000))
    );
    assert_eq!(
        (
            second["refunded_amount"].as_u64(),
            second["remaining_amount"].as_u64()
        ),
        (Some(75_000), Some(25_000))
    );
}

#[tokio::test]
async fn only_a_success_transaction_can_be_refunded() {
    let api = TikiApi::new().await;
    let pending_id = api.created(&tiki_id(), 10_000).await;
    let pending = api.lookup(&pending_id).await.ok().clone();
    assert_refused(&api.refund(&pending, 10_000, "pending-1").await, 1);

    let failed_id = api.created(&tiki_id(), 10_000).await;
    api.settle(&failed_id, PaymentOutcome::Failure, 10_000)
        .await;
    let failed = api.lookup(&failed_id).await.ok().clone();
    assert_refused(&api.refund(&failed, 10_000, "failed-1").await, 6);
    assert_eq!(api.lookup(&failed_id).await.ok()["refunded_amount"], 0);
}

#[tokio::test]
async fn refunds_never_exceed_the_transaction_amount() {
    let api = TikiApi::new().await;
    let txn = paid_transaction(&api, 100_000).await;
    assert_refused(&api.refund(&txn, 100_001, "over-1").await, 5);
    api.refund(&txn, 60_000, "part-1").await.ok();
    assert_refused(&api.refund(&txn, 40_001, "over-2").await, 5);
    let data = api
        .lookup(txn["transaction_id"].as_str().unwrap())
        .await
        .ok()
        .clone();
    assert_eq!(data["refunded_amount"], 60_000);
    assert_eq!(data["refunds"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_replayed_request_id_with_the_same_body_returns_the_first_answer() {
    let api = TikiApi::new().await;
    let txn = paid_transaction(&api, 100_000).await;
    let first = api.refund(&txn, 10_000, "replay-1").await.ok().clone();
    api.refund(&txn, 90_000, "rest-1").await.ok();
    // The first answer, not one recomputed from today's totals.
    let replay = api.refund(&txn, 10_000, "replay-1").await.ok().clone();
    assert_eq!(replay, first);
    assert_eq!(
        api.lookup(txn["transaction_id"].as_str().unwrap())
            .await
            .ok()["refunded_amount"],
        100_000
    );
}

#[tokio::test]
async fn a_replay_with_reformatted_json_is_still_a_replay() {
    let api = TikiApi::new().await;
    let txn = paid_transaction(&api, 100_000).await;
    let body = refund_body(&txn, 10_000, "fmt-1", "customer asked");
    let first = api.post("/v1/refunds", body.clone()).await.ok().clone();
    let spaced = body.replace(",", ",\n  ").replace(":", " : ");
    assert_eq!(api.post("/v1/refunds", spaced).await.ok(), &first);
}

#[tokio::test]
async fn a_reused_request_id_with_another_body_fails_and_changes_nothing() {
    let api = TikiApi::new().await;
    let txn = paid_transaction(&api, 100_000).await;
    api.refund(&txn, 10_000, "reuse-1").await.ok();
    assert_refused(&api.refund(&txn, 20_000, "reuse-1").await, 1);
    let other_reason = refund_body(&txn, 10_000, "reuse-1", "another reason");
    assert_refused(&api.post("/v1/refunds", other_reason).await, 1);
    let data = api
        .lookup(txn["transaction_id"].as_str().unwrap())
        .await
        .ok()
        .clone();
    assert_eq!(data["refunded_amount"], 10_000);
    assert_eq!(data["refunds"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_refund_is_not_remembered() {
    let api = TikiApi::new().await;
    let txn = paid_transaction(&api, 100_000).await;
    api.refund(&txn, 95_000, "big-1").await.ok();
    assert_refused(&api.refund(&txn, 10_000, "again-1").await, 5);
    // The same request_id, now for an amount that fits, goes through.
    let data = api.refund(&txn, 5_000, "again-1").await.ok().clone();
    assert_eq!(
        (
            data["refunded_amount"].as_u64(),
            data["remaining_amount"].as_u64()
        ),
        (Some(100_000), Some(0))
    );
}

#[tokio::test]
async fn a_refund_of_an_unknown_transaction_is_not_found() {
    let api = TikiApi::new().await;
    let ghost = serde_json::json!({"tiki_transaction_id": "t-ghost", "transaction_id": "T-ghost"});
    assert_refused(&api.refund(&ghost, 1_000, "ghost-1").await, 3);
    assert_eq!(item_count(&api.store).await, 0);
}

#[tokio::test]
async fn a_refund_naming_another_tiki_transaction_is_refused() {
    let api = TikiApi::new().await;
    let mut txn = paid_transaction(&api, 100_000).await;
    txn["tiki_transaction_id"] = "someone-elses".into();
    assert_refused(&api.refund(&txn, 1_000, "foreign-1").await, 4);
}

#[tokio::test]
async fn every_refund_failure_answers_500_once_signed_and_401_unsigned() {
    let api = TikiApi::new().await;
    let txn = paid_transaction(&api, 100_000).await;
    assert_refused(&api.post("/v1/refunds", "{not json").await, 1);
    let unsigned = api
        .send(unsigned(
            Method::POST,
            "/v1/refunds",
            refund_body(&txn, 1, "u-1", "r").into(),
        ))
        .await;
    assert_eq!(unsigned.status.as_u16(), 401);
    assert_eq!(
        api.lookup(txn["transaction_id"].as_str().unwrap())
            .await
            .ok()["refunded_amount"],
        0
    );
}
