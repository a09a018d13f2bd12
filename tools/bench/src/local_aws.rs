//! The local AWS (moto) the measured functions talk to: a table, the IPN
//! and Tini App queues and the secrets of one benchmark, each under a fresh name.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use tikivip_domain::wire::parse_json;
use tikivip_domain::{
    NewTransaction, PaymentResult, TikiTransactionId, Timestamp, Transaction, TransactionId, Vnd,
};
use tikivip_queue::IpnQueue;
use tikivip_queue::tiniapp::OrderEvents;
use tikivip_store::Store;
use time::format_description::well_known::Rfc3339;

use crate::Error;

/// The dummy credentials every local client signs with (moto checks none).
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
pub const REGION: &str = "ap-southeast-1";

/// The SDK configuration for the emulator at `endpoint`, whatever the shell's
/// AWS settings: nothing here can reach a real account.
pub async fn config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "tikivip-bench",
        ))
        .load()
        .await
}

/// A new table, created as the store creates it.
pub async fn table(config: &SdkConfig, name: &str) -> Result<Store, Error> {
    let store = Store::new(aws_sdk_dynamodb::Client::new(config), name);
    store.create_table().await?;
    Ok(store)
}

/// The IPN queue `name` and its dead-letter queue.
pub async fn queue(config: &SdkConfig, name: &str) -> Result<IpnQueue, Error> {
    Ok(IpnQueue::create(
        aws_sdk_sqs::Client::new(config),
        name,
        std::time::Duration::from_secs(60),
    )
    .await?)
}

/// The FIFO queue of Tini App order events `name`.fifo.
pub async fn order_events(config: &SdkConfig, name: &str) -> Result<OrderEvents, Error> {
    Ok(OrderEvents::create(aws_sdk_sqs::Client::new(config), name).await?)
}

/// A Secrets Manager secret holding `value`; its ARN.
pub async fn secret(config: &SdkConfig, name: &str, value: &str) -> Result<String, Error> {
    let created = aws_sdk_secretsmanager::Client::new(config)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await?;
    created
        .arn
        .ok_or_else(|| format!("secret {name} has no ARN").into())
}

/// A new PENDING transaction of `amount`, stored.
pub async fn pending(store: &Store, amount: u64) -> Result<Transaction, Error> {
    let new = NewTransaction {
        id: TransactionId::generate(),
        tiki_id: TikiTransactionId::parse(format!("bench-{}", uuid::Uuid::now_v7().simple()))?,
        amount: Vnd::new(amount)?,
        description: None,
        customer: None,
        redirect_url: None,
        created_at: Timestamp::now_utc(),
    };
    Ok(store.create_transaction(new).await?.transaction)
}

/// A payment result (SUCCESS) for `txn`, as JSON.
pub fn payment_result_json(txn: &Transaction) -> String {
    serde_json::json!({
        "transaction_id": txn.id.as_str(),
        "status": "SUCCESS",
        "amount": txn.amount.get(),
        "event_id": format!("evt-{}", uuid::Uuid::now_v7().simple()),
        "occurred_at": Timestamp::now_utc().format(&Rfc3339).expect("formats"),
    })
    .to_string()
}

/// A new transaction of `amount`, paid (SUCCESS, its IPN job in the outbox).
pub async fn paid(store: &Store, amount: u64) -> Result<Transaction, Error> {
    let txn = pending(store, amount).await?;
    let result: PaymentResult = parse_json(payment_result_json(&txn).as_bytes())?;
    store.settle(&result, Timestamp::now_utc()).await?;
    Ok(store
        .transaction(&txn.id)
        .await?
        .expect("a settled transaction is stored"))
}
