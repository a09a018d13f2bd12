//! Lambda's SQS event source, on this machine: receive a batch, hand it to the
//! handler as an `SqsEvent`, delete the messages it did not report in
//! `batchItemFailures`. A failed message stays hidden for whatever visibility
//! the handler gave it (else the queue's), then SQS offers it again — the same
//! semantics the deployed event source mapping has.

use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

use crate::Error;

/// The most messages one Lambda invocation gets from SQS in one receive.
pub const BATCH_SIZE: i32 = 10;

/// Receives one batch (waiting up to `wait` for it) and runs `handler` on it.
/// Returns how many messages the batch held.
pub async fn poll_once<F, Fut>(
    client: &Client,
    queue_url: &str,
    wait: Duration,
    handler: F,
) -> Result<usize, Error>
where
    F: FnOnce(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let received = client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(BATCH_SIZE)
        .wait_time_seconds(wait.as_secs() as i32)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(0);
    }
    let mut event = SqsEvent::default();
    event.records = messages.iter().map(to_event_record).collect();
    let count = event.records.len();
    let handles: Vec<(String, String)> = event
        .records
        .iter()
        .filter_map(|r| Some((r.message_id.clone()?, r.receipt_handle.clone()?)))
        .collect();

    let response = handler(event).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let done: Vec<DeleteMessageBatchRequestEntry> = handles
        .iter()
        .filter(|(id, _)| !failed.contains(&id.as_str()))
        .enumerate()
        .map(|(n, (_, handle))| {
            DeleteMessageBatchRequestEntry::builder()
                .id(n.to_string())
                .receipt_handle(handle)
                .build()
        })
        .collect::<Result<_, _>>()?;
    if !done.is_empty() {
        client
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(done))
            .send()
            .await?;
    }
    Ok(count)
}

/// Polls until `shutdown` resolves, as the event source mapping would.
pub async fn run<F, Fut>(
    client: Client,
    queue_url: String,
    handler: F,
    shutdown: impl Future<Output = ()>,
) where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let polling = async {
        loop {
            if let Err(error) =
                poll_once(&client, &queue_url, Duration::from_secs(1), &handler).await
            {
                tracing::warn!(%error, "receiving from SQS failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    tokio::select! {
        () = polling => {}
        () = shutdown => {}
    }
}

fn to_event_record(message: &aws_sdk_sqs::types::Message) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = message.message_id.clone();
    record.receipt_handle = message.receipt_handle.clone();
    record.body = message.body.clone();
    record.md5_of_body = message.md5_of_body.clone();
    record.attributes = message
        .attributes
        .iter()
        .flatten()
        .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
        .collect();
    record.event_source = Some("aws:sqs".into());
    record
}
