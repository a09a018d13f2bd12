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

pub(super) fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

mod dynamodb_limits;
mod fault_injection;
mod sqs_limits;

#[allow(unused_imports)]
use dynamodb_limits::*;
