//! A batch of queue messages as Lambda hands it to a consumer: each message
//! is handled on its own, side by side, and those to keep are reported as
//! batch item failures, so that one bad message never retries its neighbours.

use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;

/// What became of one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Delete it: its work is over (done, set aside or dead-lettered).
    Done,
    /// Leave it on the queue (as hidden as we made it): a batch item failure.
    Again,
}

/// Anything that stops a message from being handled now; SQS offers it again.
#[derive(Debug)]
pub struct Fault(pub String);

impl<E: std::fmt::Display> From<E> for Fault {
    fn from(err: E) -> Self {
        Fault(err.to_string())
    }
}

/// Handles every message of `event` with `handle`; answers with the messages
/// to keep. A fault is logged (as `what` could not be handled) and keeps its
/// message.
pub async fn handle_batch<'a, F, Fut>(
    event: &'a SqsEvent,
    what: &str,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(&'a SqsMessage) -> Fut,
    Fut: Future<Output = Result<Disposition, Fault>>,
{
    let outcomes = join_all(event.records.iter().map(&handle)).await;
    let mut response = SqsBatchResponse::default();
    for (message, outcome) in event.records.iter().zip(outcomes) {
        let disposition = outcome.unwrap_or_else(|Fault(reason)| {
            tracing::error!(message_id = ?message.message_id, %reason, "{what} could not be handled; SQS will offer it again");
            Disposition::Again
        });
        if disposition == Disposition::Again {
            response.add_failure(message.message_id.clone().unwrap_or_default());
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message kept (to try again, or after a fault) is reported alone;
    /// the rest of its batch is deleted.
    #[tokio::test]
    async fn only_the_messages_to_keep_are_batch_item_failures() {
        let record = |id: &str| serde_json::json!({"messageId": id, "body": id});
        let event: SqsEvent = serde_json::from_value(serde_json::json!({
            "Records": [record("done"), record("again"), record("fault")]
        }))
        .expect("an SQS event");
        let response = handle_batch(&event, "test message", |message| async move {
            match message.body.as_deref() {
                Some("done") => Ok(Disposition::Done),
                Some("again") => Ok(Disposition::Again),
                _ => Err(Fault("store unreachable".into())),
            }
        })
        .await;
        let kept: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.as_str())
            .collect();
        assert_eq!(kept, ["again", "fault"]);
    }
}
