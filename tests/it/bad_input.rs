//! Bad input of every kind gets a clear error envelope and writes nothing.

use tikivip_api::MAX_BODY_BYTES;
use tikivip_it::*;

/// Creates a transaction from `body`; expects a refusal with `status` and `code`.
async fn assert_create_refused(body: impl Into<Vec<u8>>, status: u16, code: i64) {
    let api = TikiApi::new().await;
    let body = body.into();
    let reply = api.post("/v1/transactions", body.clone()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (status, code),
        "{}: {:?}",
        String::from_utf8_lossy(&body),
        reply.body
    );
    assert!(!reply.body["message"].as_str().unwrap().is_empty());
    assert!(reply.body["data"].is_null());
    assert_eq!(
        item_count(&api.store).await,
        0,
        "a refused create wrote something"
    );
}

fn with_amount(amount: &str) -> String {
    format!(
        r#"{{"tiki_transaction_id":"{}","transaction_amount":{amount}}}"#,
        tiki_id()
    )
}

#[tokio::test]
async fn an_amount_of_zero_is_refused() {
    assert_create_refused(with_amount("0"), 400, 5).await;
}

#[tokio::test]
async fn a_negative_amount_is_refused() {
    assert_create_refused(with_amount("-100"), 400, 5).await;
}

#[tokio::test]
async fn a_fractional_amount_is_refused() {
    assert_create_refused(with_amount("1000.5"), 400, 5).await;
    assert_create_refused(with_amount("1000.0"), 400, 5).await;
}

#[tokio::test]
async fn an_amount_given_as_a_string_is_refused() {
    assert_create_refused(with_amount("\"1000\""), 400, 5).await;
}

#[tokio::test]
async fn a_null_amount_is_refused() {
    assert_create_refused(with_amount("null"), 400, 5).await;
}

#[tokio::test]
async fn an_absurdly_large_amount_is_refused() {
    assert_create_refused(with_amount("100000000001"), 400, 5).await;
    assert_create_refused(with_amount("1e30"), 400, 5).await;
    assert_create_refused(with_amount("99999999999999999999999999"), 400, 5).await;
}

#[tokio::test]
async fn a_missing_field_is_refused_by_name() {
    let api = TikiApi::new().await;
    let reply = api
        .post("/v1/transactions", r#"{"transaction_amount":1000}"#)
        .await;
    assert_eq!((reply.status.as_u16(), reply.code()), (400, 1));
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("tiki_transaction_id"),
        "{:?}",
        reply.body
    );
    let reply = api
        .post(
            "/v1/transactions",
            format!(r#"{{"tiki_transaction_id":"{}"}}"#, tiki_id()),
        )
        .await;
    assert_eq!((reply.status.as_u16(), reply.code()), (400, 1));
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("transaction_amount"),
        "{:?}",
        reply.body
    );
    assert_eq!(item_count(&api.store).await, 0);
}

#[tokio::test]
async fn an_empty_or_invalid_id_is_refused() {
    assert_create_refused(
        r#"{"tiki_transaction_id":"","transaction_amount":1000}"#,
        400,
        1,
    )
    .await;
    assert_create_refused(
        r#"{"tiki_transaction_id":"a b","transaction_amount":1000}"#,
        400,
        1,
    )
    .await;
    assert_create_refused(
        r#"{"tiki_transaction_id":42,"transaction_amount":1000}"#,
        400,
        1,
    )
    .await;
}

#[tokio::test]
async fn malformed_json_is_refused() {
    for body in [
        "",
        "{",
        "[]",
        "null",
        "{\"tiki_transaction_id\":",
        "not json at all",
    ] {
        assert_create_refused(body, 400, 1).await;
    }
}

#[tokio::test]
async fn non_utf8_json_is_refused() {
    let mut body = br#"{"tiki_transaction_id":"t"#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(br#"","transaction_amount":1000}"#);
    assert_create_refused(body, 400, 1).await;
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_it_is_read() {
    let padding = "x".repeat(MAX_BODY_BYTES);
    let body = format!(
        r#"{{"tiki_transaction_id":"{}","transaction_amount":1000,"description":"{padding}"}}"#,
        tiki_id()
    );
    assert_create_refused(body, 413, 1).await;
}

#[tokio::test]
async fn an_overlong_text_field_is_refused() {
    let body = serde_json::json!({"tiki_transaction_id": tiki_id(), "transaction_amount": 1000, "description": "d".repeat(501)});
    assert_create_refused(body.to_string(), 400, 1).await;
}

#[tokio::test]
async fn a_refund_with_bad_input_fails_with_500_and_writes_nothing() {
    let api = TikiApi::new().await;
    let id = api.paid(&tiki_id(), 100_000).await;
    let txn = api.lookup(&id).await.ok().clone();
    let items_before = item_count(&api.store).await;
    let good = refund_body(&txn, 1_000, "bad-1", "r");
    let cases = [
        (good.replace("1000", "0"), 5),
        (good.replace("1000", "-1"), 5),
        (good.replace("1000", "10.5"), 5),
        (good.replace("1000", "\"1000\""), 5),
        (good.replace("\"reason\":\"r\",", ""), 1),
        (
            good.replace("\"request_id\":\"bad-1\"", "\"request_id\":null"),
            1,
        ),
        ("{".to_owned(), 1),
    ];
    for (body, code) in cases {
        let reply = api.post("/v1/refunds", body.clone()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (500, code),
            "{body}: {:?}",
            reply.body
        );
    }
    assert_eq!(item_count(&api.store).await, items_before);
    assert_eq!(api.lookup(&id).await.ok()["refunded_amount"], 0);
}
