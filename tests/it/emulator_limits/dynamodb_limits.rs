//! DynamoDB: item and transaction sizes, as AWS enforces them.

use super::*;

/// A table of its own, keyed by `pk` (a string) alone, so that item sizes are
/// easy to count: the key `{"pk": "a"}` is 3 bytes.
pub(super) async fn fresh_table(client: &aws_sdk_dynamodb::Client) -> String {
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

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The item `pk` with one string attribute `d` that brings it to `size`
/// bytes as DynamoDB counts them (`pk` of one character: 3; `d`: 1 + length).
pub(super) fn item_of_size(pk: &str, size: usize) -> HashMap<String, AttributeValue> {
    assert_eq!(pk.len(), 1);
    HashMap::from([("pk".into(), s(pk)), ("d".into(), s("x".repeat(size - 4)))])
}

pub(super) async fn get(
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

pub(super) fn put(table: &str, item: HashMap<String, AttributeValue>) -> TransactWriteItem {
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

/// The SDK gives every TransactWriteItems a ClientRequestToken and keeps it
/// across its retries: a retry after a lost answer must succeed as on AWS,
/// not fail the conditions its own first attempt made false.
#[tokio::test]
async fn dynamodb_transaction_retried_with_its_token_answers_its_first_success_and_applies_nothing()
{
    let client = emulator_client().await;
    let table = fresh_table(&client).await;
    let first_put = |d: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&table)
                    .set_item(Some(HashMap::from([
                        ("pk".to_owned(), s("t")),
                        ("d".to_owned(), s(d)),
                    ])))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    // Tokens live 10 minutes in the whole emulator, as in an AWS account:
    // each run's are its own (and, as AWS allows, at most 36 characters).
    let run = unique("t");
    let token = |n: u8| format!("{run}{n}");
    let send = |token: String, d: &str| {
        client
            .transact_write_items()
            .transact_items(first_put(d))
            .client_request_token(token)
            .send()
    };
    send(token(1), "1").await.expect("the first call applies");
    send(token(1), "1")
        .await
        .expect("the same call with its token answers success again");
    let (code, _) = refused!(send(token(1), "2"));
    assert_eq!(code, "IdempotentParameterMismatchException");
    let (code, _) = refused!(send(token(2), "1"));
    assert_eq!(
        code, "TransactionCanceledException",
        "a new token is a new call"
    );
    let item = get(&client, &table, "t").await.expect("the item");
    assert_eq!(item["d"], s("1"));
}
