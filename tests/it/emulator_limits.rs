//! The emulator front (`scripts/moto_server.py`) holds our code to AWS's
//! limits, answering with AWS's error codes, and injects DynamoDB faults on
//! demand. Each test breaks one limit through the real SDK, and shows that a
//! call just within it passes. Each runs on a table or queue of its own.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, TransactWriteItem, Update,
};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry,
};
use tikivip_it::emulator::{
    self, clear_faults, inject_errors, inject_transaction_faults, set_visibility_window,
    sqs_client, transaction_calls,
};
use tikivip_it::emulator_client;

/// The code and message of the service error a call ends in.
macro_rules! refused {
    ($call:expr) => {{
        let error = $call
            .await
            .expect_err("the emulator should refuse this call")
            .into_service_error();
        (
            error.code().unwrap_or_default().to_owned(),
            error.message().unwrap_or_default().to_owned(),
        )
    }};
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

// --- DynamoDB

/// A table of its own, keyed by `pk` (a string) alone, so that item sizes are
/// easy to count: the key `{"pk": "a"}` is 3 bytes.
async fn fresh_table(client: &aws_sdk_dynamodb::Client) -> String {
    let table = unique("it-limits");
    client
        .create_table()
        .table_name(&table)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create the table");
    table
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The item `pk` with one string attribute `d` that brings it to `size`
/// bytes as DynamoDB counts them (`pk` of one character: 3; `d`: 1 + length).
fn item_of_size(pk: &str, size: usize) -> HashMap<String, AttributeValue> {
    assert_eq!(pk.len(), 1);
    HashMap::from([("pk".into(), s(pk)), ("d".into(), s("x".repeat(size - 4)))])
}

async fn get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
) -> Option<HashMap<String, AttributeValue>> {
    client
        .get_item()
        .table_name(table)
        .key("pk", s(pk))
        .consistent_read(true)
        .send()
        .await
        .expect("get the item")
        .item
}

fn put(table: &str, item: HashMap<String, AttributeValue>) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .build()
                .unwrap(),
        )
        .build()
}

#[tokio::test]
async fn dynamodb_item_is_at_most_400_kb_counted_as_aws_counts() {
    let client = emulator_client().await;
    let table = fresh_table(&client).await;
    // Every kind of value, sized by AWS's rules: names + values; a number is
    // 1 byte per two significant digits + 1; a list or map 3 bytes, + 1 per
    // element; a boolean 1.
    let item = |filler: usize| {
        HashMap::from([
            ("pk".to_owned(), s("a")), // 2 + 1
            (
                "m".to_owned(),
                AttributeValue::M(HashMap::from([("k".to_owned(), s("x".repeat(filler)))])),
            ), // 1 + 3 + (1 + 1 + filler)
            ("n".to_owned(), AttributeValue::N("-123.4500".into())), // 1 + (3 + 1): 5 digits
            ("b".to_owned(), AttributeValue::Bool(true)), // 1 + 1
            (
                "l".to_owned(),
                AttributeValue::L(vec![AttributeValue::N("1".into()), s("ab")]),
            ), // 1 + 3 + (1 + 2) + (1 + 2)
        ])
    };
    let overhead = 3 + (5 + 1) + 5 + 2 + 10;
    let within = 409_600 - overhead;

    client
        .put_item()
        .table_name(&table)
        .set_item(Some(item(within)))
        .send()
        .await
        .expect("an item of exactly 400 KB is stored");

    let (code, message) = refused!(
        client
            .put_item()
            .table_name(&table)
            .set_item(Some(item(within + 1)))
            .send()
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(message, "Item size has exceeded the maximum allowed size");
    // The refused write left the stored item as it was.
    let stored = get(&client, &table, "a").await.unwrap();
    assert_eq!(
        stored["m"].as_m().unwrap()["k"].as_s().unwrap().len(),
        within
    );
}

#[tokio::test]
async fn dynamodb_update_may_not_grow_an_item_beyond_400_kb() {
    let client = emulator_client().await;
    let table = fresh_table(&client).await;
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(item_of_size("a", 409_590)))
        .send()
        .await
        .unwrap();
    let update = |value: String| {
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET e = :e")
            .expression_attribute_values(":e", s(value))
            .send()
    };

    // `e` and 10 characters: 11 bytes, one too many.
    let (code, message) = refused!(update("y".repeat(10)));
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Item size to update has exceeded the maximum allowed size"
    );
    assert!(
        !get(&client, &table, "a").await.unwrap().contains_key("e"),
        "the refused update is undone"
    );

    update("y".repeat(9))
        .await
        .expect("an update to exactly 400 KB passes");
    assert!(get(&client, &table, "a").await.unwrap().contains_key("e"));
}

#[tokio::test]
async fn dynamodb_transaction_items_are_at_most_400_kb() {
    let client = emulator_client().await;
    let table = fresh_table(&client).await;

    // A Put too large is refused as the request it is.
    let (code, message) = refused!(
        client
            .transact_write_items()
            .transact_items(put(&table, item_of_size("a", 409_601)))
            .send()
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "Item size has exceeded the maximum allowed size"
        )
    );

    client
        .transact_write_items()
        .transact_items(put(&table, item_of_size("a", 409_600)))
        .send()
        .await
        .expect("an item of exactly 400 KB passes");

    // An Update that would grow an item too large cancels the transaction,
    // with a ValidationError reason on its item; nothing is applied.
    let grow = TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(&table)
                .key("pk", s("a"))
                .update_expression("SET e = :e")
                .expression_attribute_values(":e", s("y"))
                .build()
                .unwrap(),
        )
        .build();
    let error = client
        .transact_write_items()
        .transact_items(grow)
        .transact_items(put(&table, item_of_size("b", 10)))
        .send()
        .await
        .expect_err("the transaction is cancelled")
        .into_service_error();
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = &error else {
        panic!("expected a cancellation, got {error:?}");
    };
    let reasons: Vec<_> = cancelled
        .cancellation_reasons()
        .iter()
        .map(|r| {
            (
                r.code().unwrap_or_default(),
                r.message().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "ValidationError",
                "Item size to update has exceeded the maximum allowed size"
            ),
            ("None", "")
        ]
    );
    assert!(
        get(&client, &table, "b").await.is_none(),
        "a cancelled transaction applies nothing"
    );
    assert!(!get(&client, &table, "a").await.unwrap().contains_key("e"));
}

#[tokio::test]
async fn dynamodb_transaction_has_at_most_100_actions() {
    let client = emulator_client().await;
    let table = fresh_table(&client).await;
    let actions = |n: usize| {
        (0..n)
            .map(|i| {
                put(
                    &table,
                    HashMap::from([("pk".to_owned(), s(format!("item-{i}")))]),
                )
            })
            .collect::<Vec<_>>()
    };

    let (code, message) = refused!(
        client
            .transact_write_items()
            .set_transact_items(Some(actions(101)))
            .send()
    );
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with("1 validation error detected: Value '[")
            && message.ends_with(
                "]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100"
            ),
        "{message}"
    );
    assert!(get(&client, &table, "item-0").await.is_none());

    client
        .transact_write_items()
        .set_transact_items(Some(actions(100)))
        .send()
        .await
        .expect("100 actions pass");
    assert!(get(&client, &table, "item-99").await.is_some());
}

#[tokio::test]
async fn dynamodb_transaction_is_at_most_4_mb() {
    let client = emulator_client().await;
    let table = fresh_table(&client).await;
    let actions = |n: usize| {
        (0..n)
            .map(|i| {
                put(
                    &table,
                    item_of_size(&((b'a' + i as u8) as char).to_string(), 400_000),
                )
            })
            .collect::<Vec<_>>()
    };

    // 11 × 400,000 bytes: over 4 MB (4,194,304).
    let (code, message) = refused!(
        client
            .transact_write_items()
            .set_transact_items(Some(actions(11)))
            .send()
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "Transaction request cannot be larger than 4 MB"
        )
    );
    assert!(get(&client, &table, "a").await.is_none());

    client
        .transact_write_items()
        .set_transact_items(Some(actions(10)))
        .send()
        .await
        .expect("4,000,000 bytes pass");
}

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

// --- SQS

async fn fresh_queue(client: &aws_sdk_sqs::Client) -> (String, String) {
    let name = unique("it-limits");
    let url = client
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create the queue")
        .queue_url
        .unwrap();
    (name, url)
}

/// Sends one message and receives it: its receipt handle.
async fn received(client: &aws_sdk_sqs::Client, url: &str, visibility: i32) -> String {
    client
        .send_message()
        .queue_url(url)
        .message_body("job")
        .send()
        .await
        .unwrap();
    receive(client, url, visibility).await
}

async fn receive(client: &aws_sdk_sqs::Client, url: &str, visibility: i32) -> String {
    let messages = client
        .receive_message()
        .queue_url(url)
        .visibility_timeout(visibility)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    messages[0].receipt_handle.clone().unwrap()
}

#[tokio::test]
async fn sqs_visibility_ends_at_most_the_window_after_the_receive() {
    let client = sqs_client().await;
    let (name, url) = fresh_queue(&client).await;
    set_visibility_window(&name, 4).await;
    let handle = received(&client, &url, 30).await;
    let hide = |seconds: i32| {
        client
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&handle)
            .visibility_timeout(seconds)
            .send()
    };

    hide(3)
        .await
        .expect("3 s after the receive is within its 4 s window");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (code, message) = refused!(hide(3));
    assert_eq!(code, "InvalidParameterValue");
    assert_eq!(
        message,
        "Value 3 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [4 seconds]."
    );
    hide(1).await.expect("what the window still allows passes");

    // The batch form refuses the entry, as a failed entry of the batch.
    let entry = |id: &str, seconds: i32| {
        ChangeMessageVisibilityBatchRequestEntry::builder()
            .id(id)
            .receipt_handle(&handle)
            .visibility_timeout(seconds)
            .build()
            .unwrap()
    };
    let batch = client
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(entry("beyond", 3))
        .entries(entry("within", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        batch
            .successful()
            .iter()
            .map(|e| e.id())
            .collect::<Vec<_>>(),
        ["within"]
    );
    let failed = batch.failed();
    assert_eq!(
        (failed[0].id(), failed[0].code()),
        ("beyond", "InvalidParameterValue")
    );
}

#[tokio::test]
async fn sqs_visibility_window_counts_from_the_latest_receive() {
    let client = sqs_client().await;
    let (name, url) = fresh_queue(&client).await;
    set_visibility_window(&name, 3).await;
    received(&client, &url, 1).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // The message is back; received again, it has a window of its own.
    let handle = receive(&client, &url, 1).await;
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(2)
        .send()
        .await
        .expect("2 s from the second receive is within its window");
}

#[tokio::test]
async fn sqs_visibility_timeout_is_at_most_12_hours() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;
    let handle = received(&client, &url, 30).await;
    let hide = |seconds: i32| {
        client
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&handle)
            .visibility_timeout(seconds)
            .send()
    };

    let (code, _) = refused!(hide(43_201));
    assert_eq!(code, "InvalidParameterValue");
    let (code, _) = refused!(hide(-1));
    assert_eq!(code, "InvalidParameterValue");
    hide(43_190).await.expect("within 12 hours of the receive");
    // The receive's own visibility timeout is held to the same range.
    let (code, _) = refused!(
        client
            .receive_message()
            .queue_url(&url)
            .visibility_timeout(43_201)
            .send()
    );
    assert_eq!(code, "InvalidParameterValue");
    // And so is a queue's default.
    let (code, message) = refused!(
        client
            .create_queue()
            .queue_name(unique("it-limits"))
            .attributes(QueueAttributeName::VisibilityTimeout, "43201")
            .send()
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidAttributeValue",
            "Invalid value for the parameter VisibilityTimeout."
        )
    );
}

#[tokio::test]
async fn sqs_delay_is_at_most_900_seconds() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;

    let (code, _) = refused!(
        client
            .send_message()
            .queue_url(&url)
            .message_body("job")
            .delay_seconds(901)
            .send()
    );
    assert_eq!(code, "InvalidParameterValue");
    client
        .send_message()
        .queue_url(&url)
        .message_body("job")
        .delay_seconds(900)
        .send()
        .await
        .expect("900 s passes");

    // In a batch, the entry fails.
    let entry = |id: &str, delay: i32| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body("job")
            .delay_seconds(delay)
            .build()
            .unwrap()
    };
    let batch = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("beyond", 901))
        .entries(entry("within", 900))
        .send()
        .await
        .unwrap();
    assert_eq!(
        batch
            .successful()
            .iter()
            .map(|e| e.id())
            .collect::<Vec<_>>(),
        ["within"]
    );
    assert_eq!(
        (batch.failed()[0].id(), batch.failed()[0].code()),
        ("beyond", "InvalidParameterValue")
    );

    // A queue's default delay: at creation and later.
    let (code, message) = refused!(
        client
            .create_queue()
            .queue_name(unique("it-limits"))
            .attributes(QueueAttributeName::DelaySeconds, "901")
            .send()
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidAttributeValue",
            "Invalid value for the parameter DelaySeconds."
        )
    );
    let (code, _) = refused!(
        client
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::DelaySeconds, "901")
            .send()
    );
    assert_eq!(code, "InvalidAttributeValue");
    client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::DelaySeconds, "900")
        .send()
        .await
        .expect("900 s passes");
}

#[tokio::test]
async fn sqs_message_is_at_most_256_kib_attributes_included() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;
    // An attribute counts its name, its type and its value: 1 + 6 + 1.
    let attribute = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("v")
        .build()
        .unwrap();
    let send = |body_len: usize| {
        client
            .send_message()
            .queue_url(&url)
            .message_body("x".repeat(body_len))
            .message_attributes("a", attribute.clone())
            .send()
    };

    send(262_144 - 8).await.expect("exactly 256 KiB passes");
    let (code, message) = refused!(send(262_144 - 7));
    assert_eq!(code, "InvalidParameterValue");
    assert_eq!(
        message,
        "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes."
    );

    // A batch is held to the same total.
    let entry = |id: &str, len: usize| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body("x".repeat(len))
            .build()
            .unwrap()
    };
    let (code, _) = refused!(
        client
            .send_message_batch()
            .queue_url(&url)
            .entries(entry("a", 131_072))
            .entries(entry("b", 131_073))
            .send()
    );
    assert_eq!(code, "AWS.SimpleQueueService.BatchRequestTooLong");
    client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a", 131_072))
        .entries(entry("b", 131_072))
        .send()
        .await
        .expect("256 KiB in all passes");
}

#[tokio::test]
async fn sqs_batches_have_at_most_10_entries() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;
    let sends = |n: usize| {
        (0..n)
            .map(|i| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .message_body("job")
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let too_many = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest";

    let (code, _) = refused!(
        client
            .send_message_batch()
            .queue_url(&url)
            .set_entries(Some(sends(11)))
            .send()
    );
    assert_eq!(code, too_many);
    client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(sends(10)))
        .send()
        .await
        .expect("10 entries pass");

    let mut handles = Vec::new();
    while handles.len() < 10 {
        let batch = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        handles.extend(
            batch
                .messages()
                .iter()
                .filter_map(|m| m.receipt_handle.clone()),
        );
    }
    let hides = |n: usize| {
        (0..n)
            .map(|i| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .receipt_handle(&handles[i % handles.len()])
                    .visibility_timeout(30)
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let (code, _) = refused!(
        client
            .change_message_visibility_batch()
            .queue_url(&url)
            .set_entries(Some(hides(11)))
            .send()
    );
    assert_eq!(code, too_many);
    let hidden = client
        .change_message_visibility_batch()
        .queue_url(&url)
        .set_entries(Some(hides(10)))
        .send()
        .await
        .expect("10 entries pass");
    assert_eq!(hidden.successful().len(), 10);

    let deletes = |n: usize| {
        (0..n)
            .map(|i| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .receipt_handle(format!("{}-{i}", handles[i % handles.len()]))
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let (code, _) = refused!(
        client
            .delete_message_batch()
            .queue_url(&url)
            .set_entries(Some(deletes(11)))
            .send()
    );
    assert_eq!(code, too_many);
    let deleted = client
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(
            handles
                .iter()
                .enumerate()
                .map(|(i, handle)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(handle)
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .send()
        .await
        .expect("10 entries pass");
    assert_eq!(deleted.successful().len(), 10);
}

#[tokio::test]
async fn sqs_receive_takes_1_to_10_messages() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;
    for n in [0, 11] {
        let (code, _) = refused!(
            client
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(n)
                .send()
        );
        assert_eq!(code, "InvalidParameterValue", "{n} messages");
    }
    client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("10 passes");
}
