//! The emulator front's control API (`scripts/moto_server.py`, under
//! `/_emulator/` on the emulator's own port): DynamoDB faults injected on
//! demand, the calls each table saw, and SQS's visibility window per queue.
//! Every helper panics on an unexpected answer: they are for tests.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::emulator_endpoint;

/// What the front holds for one table: faults still to inject, how many it
/// injected, and the calls it saw per DynamoDB operation (each attempt of a
/// retried call counts).
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    pub pending: Vec<Value>,
    pub injected: u64,
    pub calls: BTreeMap<String, u64>,
}

impl Faults {
    /// Calls of `operation` that named the table.
    pub fn calls(&self, operation: &str) -> u64 {
        self.calls.get(operation).copied().unwrap_or(0)
    }
}

async fn control(method: reqwest::Method, path_and_query: &str, body: Option<Value>) -> Value {
    let url = format!(
        "{}/_emulator/{path_and_query}",
        emulator_endpoint().trim_end_matches('/')
    );
    let mut request = reqwest::Client::new().request(method.clone(), &url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status();
    let answer: Value = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: answer is not JSON: {e}"));
    assert!(
        status.is_success(),
        "{method} {url} answered {status}: {answer}"
    );
    answer
}

fn faults_from(answer: Value) -> Faults {
    Faults {
        pending: answer["pending"].as_array().cloned().unwrap_or_default(),
        injected: answer["injected"].as_u64().unwrap_or(0),
        calls: answer["calls"]
            .as_object()
            .map(|calls| {
                calls
                    .iter()
                    .map(|(op, n)| (op.clone(), n.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The next `count` TransactWriteItems naming `table` are not applied and
/// answer TransactionCanceledException, every item with `reason`
/// (`ThrottlingError`, `TransactionConflict`, `ProvisionedThroughputExceeded`,
/// `ValidationError`, `ConditionalCheckFailed`).
pub async fn inject_transaction_faults(table: &str, reason: &str, count: u32) -> Faults {
    let body = json!({"operation": "TransactWriteItems", "table": table, "cancellation_reason": reason, "count": count});
    faults_from(control(reqwest::Method::POST, "faults", Some(body)).await)
}

/// The next `count` calls of `operation` (e.g. `GetItem`, `UpdateItem`,
/// `PutItem`) on `table` answer `error`: `ProvisionedThroughputExceededException`
/// or `ThrottlingException` (400) or `InternalServerError` (500).
pub async fn inject_errors(table: &str, operation: &str, error: &str, count: u32) -> Faults {
    let body = json!({"operation": operation, "table": table, "error": error, "count": count});
    faults_from(control(reqwest::Method::POST, "faults", Some(body)).await)
}

/// The faults still pending on `table` and its counters.
pub async fn faults(table: &str) -> Faults {
    faults_from(control(reqwest::Method::GET, &format!("faults?table={table}"), None).await)
}

/// TransactWriteItems calls that named `table` so far (injected ones too).
pub async fn transaction_calls(table: &str) -> u64 {
    faults(table).await.calls("TransactWriteItems")
}

/// Forgets `table`'s pending faults and its counters.
pub async fn clear_faults(table: &str) {
    control(
        reqwest::Method::DELETE,
        &format!("faults?table={table}"),
        None,
    )
    .await;
}

/// Messages received from `queue_name` from now on may stay hidden until
/// `seconds` after their receive (SQS: 43,200), so that a test can scale the
/// 12-hour rule down.
pub async fn set_visibility_window(queue_name: &str, seconds: u32) {
    let body = json!({"queue_name": queue_name, "seconds": seconds});
    control(reqwest::Method::POST, "sqs/visibility-window", Some(body)).await;
}

/// An SQS client for the emulator (loopback only, as [`crate::emulator_client`]).
pub async fn sqs_client() -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(emulator_endpoint())
        .region(aws_config::Region::new("ap-southeast-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::for_tests())
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}
