//! DynamoDB persistence for transactions and refunds.
//!
//! One table, single-table design (see [`schema`]). Every money rule is enforced
//! *inside* a write, by a condition expression or a `TransactWriteItems`, never by
//! a read followed by a write: a read only lets us explain a refusal.

mod codec;
mod error;
mod ipn_jobs;
mod refunds;
pub mod schema;
mod settlement;
mod transactions;

use aws_sdk_dynamodb::Client;

pub use error::Error;
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
    pub async fn from_env() -> Result<Self, Error> {
        let table = std::env::var("TABLE_NAME")
            .map_err(|_| Error::Config("TABLE_NAME is not set".into()))?;
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Store::new(Client::new(&config), table))
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
