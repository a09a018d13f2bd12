//! The table, as the store expects it.

use serde_json::{Value, json};
use tikivip_store::schema;

use super::*;

#[test]
fn the_table_is_the_one_the_store_creates() {
    let tables = of_type("AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1);
    let (id, table) = tables.into_iter().next().unwrap();
    let p = &table["Properties"];
    let key = |name: &str, kind: &str| json!({ "AttributeName": name, "KeyType": kind });
    let string = |name: &str| json!({ "AttributeName": name, "AttributeType": "S" });

    assert_eq!(
        p["KeySchema"],
        json!([
            key(schema::PARTITION_KEY, "HASH"),
            key(schema::SORT_KEY, "RANGE")
        ])
    );
    let mut attributes: Vec<Value> = p["AttributeDefinitions"].as_array().unwrap().clone();
    attributes.sort_by_key(|a| a["AttributeName"].as_str().unwrap().to_owned());
    let mut expected = vec![
        string(schema::PARTITION_KEY),
        string(schema::SORT_KEY),
        string(schema::ATTENTION_KEY),
        string(schema::ATTENTION_SORT_KEY),
    ];
    expected.sort_by_key(|a| a["AttributeName"].as_str().unwrap().to_owned());
    assert_eq!(attributes, expected);
    assert_eq!(
        p["GlobalSecondaryIndexes"],
        json!([{
            "IndexName": schema::ATTENTION_INDEX,
            "KeySchema": [key(schema::ATTENTION_KEY, "HASH"), key(schema::ATTENTION_SORT_KEY, "RANGE")],
            "Projection": { "ProjectionType": "INCLUDE", "NonKeyAttributes": [schema::ATTENTION_PROJECTED] },
        }])
    );
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["DeletionProtectionEnabled"], true);
    assert_eq!(table["DeletionPolicy"], "Retain", "{id}");
    assert!(p["TimeToLiveSpecification"].is_null(), "nothing expires");

    // The sweeper queries the index by the name in the schema.
    let index_arn =
        json!({ "Fn::Sub": format!("${{{id}.Arn}}/index/{}", schema::ATTENTION_INDEX) });
    let statements = role_statements(function("ipn-outbox-sweeper").1);
    assert!(
        statements
            .iter()
            .any(|s| actions(s).contains("dynamodb:Query") && resources_of(s).contains(&index_arn)),
        "the sweeper may query {index_arn}"
    );
}
