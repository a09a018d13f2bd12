//! DynamoDB persistence for transactions and refunds.
//!
//! One table, single-table design (see [`schema`]). Every money rule is enforced
//! *inside* a write, by a condition expression or a `TransactWriteItems`, never by
//! a read followed by a write: a read only lets us explain a refusal.

mod codec;
mod error;
mod ipn_jobs;
mod ledger;
mod reconciliation;
mod refunds;
pub mod schema;
mod settlement;
mod tiniapp;
mod transactions;
mod webview;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;

pub use error::Error;
pub use ledger::LedgerShard;
pub use reconciliation::{Delivery, ResultsRead};
pub use refunds::Refunded;
pub use tiniapp::{Applied, Receipt, StoredMessage, attention as tiniapp_attention};
pub use transactions::Created;

/// The transactions table, reached through the AWS SDK.
///
/// The SDK finds its endpoint the usual way, so `AWS_ENDPOINT_URL` points it at a
/// local emulator without any code here knowing.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store {
            client,
            table: table.into(),
        }
    }

    /// A store for the table named by `TABLE_NAME`, with the SDK's default
    /// configuration chain. Call once per process, during init.
    ///
    /// It also makes one cheap call (a `GetItem` of a key no item has; every
    /// function's role allows `GetItem`), so that the connection to DynamoDB
    /// (TCP, TLS) and the SDK's first-call set-up (credentials, endpoint) are
    /// done during init rather than in the first event. Best effort: on a
    /// failure the first real call connects, as it would have anyway.
    pub async fn from_env(aws: &SdkConfig) -> Result<Self, Error> {
        use aws_sdk_dynamodb::config::retry::RetryConfig;
        use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
        use aws_sdk_dynamodb::types::AttributeValue;

        let table = std::env::var("TABLE_NAME")
            .map_err(|_| Error::Config("TABLE_NAME is not set".into()))?;
        let store = Store::new(Client::new(aws), table);
        let warm_up = store
            .client
            .get_item()
            .table_name(&store.table)
            .key(schema::PARTITION_KEY, AttributeValue::S("WARMUP".into()))
            .key(schema::SORT_KEY, AttributeValue::S("WARMUP".into()))
            .customize()
            .config_override(
                aws_sdk_dynamodb::Config::builder()
                    .retry_config(RetryConfig::disabled())
                    .timeout_config(
                        TimeoutConfig::builder()
                            .operation_timeout(std::time::Duration::from_secs(2))
                            .build(),
                    ),
            )
            .send()
            .await;
        match warm_up {
            Ok(_) => tracing::debug!(table = %store.table, "DynamoDB connection opened at init"),
            Err(err) => tracing::warn!(
                table = %store.table,
                error = %aws_sdk_dynamodb::error::DisplayErrorContext(&err),
                "DynamoDB warm-up at init failed; the first call will connect"
            ),
        }
        Ok(store)
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
