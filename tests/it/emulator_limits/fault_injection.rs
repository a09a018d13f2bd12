//! The emulator front's control API: injected cancellations and errors.

use super::*;

#[tokio::test]
async fn emulator_injects_transaction_cancellations_on_demand() {
    let client = emulator_client().await;
    let table = fresh_table(&client).await;
    let pending = inject_transaction_faults(&table, "ThrottlingError", 2).await;
    assert_eq!(pending.pending.len(), 1);
    let write = || {
        client
            .transact_write_items()
            .transact_items(put(&table, HashMap::from([("pk".to_owned(), s("a"))])))
            .transact_items(put(&table, HashMap::from([("pk".to_owned(), s("b"))])))
            .send()
    };

    for _ in 0..2 {
        let error = write().await.expect_err("cancelled").into_service_error();
        assert_eq!(error.code(), Some("TransactionCanceledException"));
        assert_eq!(
            error.message(),
            Some(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError, ThrottlingError]"
            )
        );
        let TransactWriteItemsError::TransactionCanceledException(cancelled) = &error else {
            panic!("expected a cancellation, got {error:?}");
        };
        let codes: Vec<_> = cancelled
            .cancellation_reasons()
            .iter()
            .map(|r| {
                (
                    r.code().unwrap_or_default(),
                    r.message().unwrap_or_default(),
                )
            })
            .collect();
        let throttled = (
            "ThrottlingError",
            "Throughput exceeds the current capacity of your table or index.",
        );
        assert_eq!(codes, [throttled, throttled]);
        assert!(
            get(&client, &table, "a").await.is_none(),
            "a cancelled transaction applies nothing"
        );
    }
    write().await.expect("the third transaction applies");
    assert!(get(&client, &table, "b").await.is_some());

    let faults = emulator::faults(&table).await;
    assert_eq!(
        (faults.calls("TransactWriteItems"), faults.injected),
        (3, 2)
    );
    assert!(faults.pending.is_empty());
    assert_eq!(transaction_calls(&table).await, 3);

    // Another table's transactions are not touched; clearing resets the counters.
    let other = fresh_table(&client).await;
    inject_transaction_faults(&other, "TransactionConflict", 1).await;
    write().await.expect("faults are per table");
    clear_faults(&table).await;
    clear_faults(&other).await;
    assert_eq!(
        emulator::faults(&table).await.calls("TransactWriteItems"),
        0
    );
    assert!(emulator::faults(&other).await.pending.is_empty());
}

#[tokio::test]
async fn emulator_injects_errors_that_the_sdk_retries() {
    let config = emulator_client()
        .await
        .config()
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = fresh_table(&client).await;

    // Two throttled attempts, then the SDK's third goes through.
    inject_errors(&table, "GetItem", "ThrottlingException", 2).await;
    get(&client, &table, "a").await;
    let faults = emulator::faults(&table).await;
    assert_eq!((faults.calls("GetItem"), faults.injected), (3, 2));

    // More errors than the SDK has attempts: the last one surfaces.
    clear_faults(&table).await;
    inject_errors(&table, "PutItem", "InternalServerError", 5).await;
    let (code, _) = refused!(
        client
            .put_item()
            .table_name(&table)
            .set_item(Some(item_of_size("a", 10)))
            .send()
    );
    assert_eq!(code, "InternalServerError");
    clear_faults(&table).await;
    inject_errors(
        &table,
        "UpdateItem",
        "ProvisionedThroughputExceededException",
        5,
    )
    .await;
    let (code, _) = refused!(
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET e = :e")
            .expression_attribute_values(":e", s("y"))
            .send()
    );
    assert_eq!(code, "ProvisionedThroughputExceededException");
    let faults = emulator::faults(&table).await;
    assert_eq!((faults.calls("UpdateItem"), faults.injected), (3, 3));
    assert_eq!(faults.pending[0]["count"], 2);
    assert!(
        get(&client, &table, "a").await.is_none(),
        "nothing was applied"
    );
}

#[tokio::test]
async fn emulator_control_api_refuses_what_it_cannot_inject() {
    let http = reqwest::Client::new();
    let url = format!("{}/_emulator/faults", tikivip_it::emulator_endpoint());
    for body in [
        serde_json::json!({"operation": "TransactWriteItems", "table": "t", "cancellation_reason": "Bogus"}),
        serde_json::json!({"operation": "GetItem", "table": "t", "cancellation_reason": "ThrottlingError"}),
        serde_json::json!({"operation": "GetItem", "table": "t", "error": "ThrottlingException", "count": 0}),
        serde_json::json!({"operation": "GetItem", "error": "ThrottlingException"}),
    ] {
        let response = http.post(&url).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
    }
}
