//! The table's layout. The deployment template declares the same key schema;
//! a test holds the two together.
//!
//! | item | `pk` | `sk` | what it is for |
//! |---|---|---|---|
//! | transaction | `TXN#{transaction_id}` | `TXN` | the transaction, its status and its refunds |
//! | Tiki id claim | `TIKI#{tiki_transaction_id}` | `TIKI` | one transaction per Tiki id, and look-up by it |
//! | refund request | `REFUND#{request_id}` | `REFUND` | one refund per `request_id`, and its fingerprint |
//! | payment result | `TXN#{transaction_id}` | `RESULT#{received_at}#{uuid}` | the audit trail of payment results |
//! | checkout return | `WEBVIEW#{identify_code}` | `WEBVIEW` | a user's last webview request: where to send them back after paying |
//!
//! The IPN job of a settled transaction lives on the transaction item
//! (`ipn_state`, `ipn_attempts`, …): the transition and its job are one write.
//!
//! The sparse index [`ATTENTION_INDEX`] holds only items that need someone:
//! `attention = IPN_OUTBOX` (an IPN job not yet on the queue) or
//! `attention = REFUND_REQUIRED` (a payment Tiki will not honour).
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use tikivip_domain::{RequestId, TikiTransactionId, TransactionId};

use crate::{Error, Store};

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";
pub const ATTENTION_INDEX: &str = "attention";
pub const ATTENTION_KEY: &str = "attention";
pub const ATTENTION_SORT_KEY: &str = "attention_at";
/// The index carries the transaction id beside the keys.
pub const ATTENTION_PROJECTED: &str = "transaction_id";

pub(crate) type Key = [(&'static str, AttributeValue); 2];

fn key(pk: String, sk: &str) -> Key {
    [
        (PARTITION_KEY, AttributeValue::S(pk)),
        (SORT_KEY, AttributeValue::S(sk.to_owned())),
    ]
}

pub(crate) fn transaction_key(id: &TransactionId) -> Key {
    key(format!("TXN#{id}"), "TXN")
}

pub(crate) fn tiki_claim_key(id: &TikiTransactionId) -> Key {
    key(format!("TIKI#{id}"), "TIKI")
}

pub(crate) fn refund_request_key(id: &RequestId) -> Key {
    key(format!("REFUND#{id}"), "REFUND")
}

pub(crate) fn checkout_return_key(identify_code: &str) -> Key {
    key(format!("WEBVIEW#{identify_code}"), "WEBVIEW")
}

pub(crate) fn payment_result_key(id: &TransactionId, received_at: &str) -> Key {
    let unique = uuid::Uuid::now_v7().simple();
    key(
        format!("TXN#{id}"),
        &format!("{PAYMENT_RESULT_PREFIX}{received_at}#{unique}"),
    )
}

pub(crate) const PAYMENT_RESULT_PREFIX: &str = "RESULT#";

pub(crate) fn transaction_partition(id: &TransactionId) -> AttributeValue {
    AttributeValue::S(format!("TXN#{id}"))
}

impl Store {
    /// Creates the table with the deployment's key schema (development and
    /// tests; in AWS the template creates it). An existing table is kept.
    pub async fn create_table(&self) -> Result<(), Error> {
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let attention = GlobalSecondaryIndex::builder()
            .index_name(ATTENTION_INDEX)
            .key_schema(key(ATTENTION_KEY, KeyType::Hash)?)
            .key_schema(key(ATTENTION_SORT_KEY, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::Include)
                    .non_key_attributes(ATTENTION_PROJECTED)
                    .build(),
            )
            .build()?;
        let result = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute(PARTITION_KEY)?)
            .attribute_definitions(attribute(SORT_KEY)?)
            .attribute_definitions(attribute(ATTENTION_KEY)?)
            .attribute_definitions(attribute(ATTENTION_SORT_KEY)?)
            .global_secondary_indexes(attention)
            .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
            .key_schema(key(SORT_KEY, KeyType::Range)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }
}
