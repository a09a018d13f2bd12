//! SQS: the visibility window from the receive, delays, message and batch sizes.

use super::*;

pub(super) async fn fresh_queue(client: &aws_sdk_sqs::Client) -> (String, String) {
    let name = unique("it-limits");
    let url = client
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create the queue")
        .queue_url
        .unwrap();
    (name, url)
}

/// Sends one message and receives it: its receipt handle.
pub(super) async fn received(client: &aws_sdk_sqs::Client, url: &str, visibility: i32) -> String {
    client
        .send_message()
        .queue_url(url)
        .message_body("job")
        .send()
        .await
        .unwrap();
    receive(client, url, visibility).await
}

pub(super) async fn receive(client: &aws_sdk_sqs::Client, url: &str, visibility: i32) -> String {
    let messages = client
        .receive_message()
        .queue_url(url)
        .visibility_timeout(visibility)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    messages[0].receipt_handle.clone().unwrap()
}

#[tokio::test]
async fn sqs_visibility_ends_at_most_the_window_after_the_receive() {
    let client = sqs_client().await;
    let (name, url) = fresh_queue(&client).await;
    set_visibility_window(&name, 4).await;
    let handle = received(&client, &url, 30).await;
    let hide = |seconds: i32| {
        client
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&handle)
            .visibility_timeout(seconds)
            .send()
    };

    hide(3)
        .await
        .expect("3 s after the receive is within its 4 s window");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (code, message) = refused!(hide(3));
    assert_eq!(code, "InvalidParameterValue");
    assert_eq!(
        message,
        "Value 3 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [4 seconds]."
    );
    hide(1).await.expect("what the window still allows passes");

    // The batch form refuses the entry, as a failed entry of the batch.
    let entry = |id: &str, seconds: i32| {
        ChangeMessageVisibilityBatchRequestEntry::builder()
            .id(id)
            .receipt_handle(&handle)
            .visibility_timeout(seconds)
            .build()
            .unwrap()
    };
    let batch = client
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(entry("beyond", 3))
        .entries(entry("within", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        batch
            .successful()
            .iter()
            .map(|e| e.id())
            .collect::<Vec<_>>(),
        ["within"]
    );
    let failed = batch.failed();
    assert_eq!(
        (failed[0].id(), failed[0].code()),
        ("beyond", "InvalidParameterValue")
    );
}

#[tokio::test]
async fn sqs_visibility_window_counts_from_the_latest_receive() {
    let client = sqs_client().await;
    let (name, url) = fresh_queue(&client).await;
    set_visibility_window(&name, 3).await;
    received(&client, &url, 1).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // The message is back; received again, it has a window of its own.
    let handle = receive(&client, &url, 1).await;
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(2)
        .send()
        .await
        .expect("2 s from the second receive is within its window");
}

#[tokio::test]
async fn sqs_visibility_timeout_is_at_most_12_hours() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;
    let handle = received(&client, &url, 30).await;
    let hide = |seconds: i32| {
        client
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&handle)
            .visibility_timeout(seconds)
            .send()
    };

    let (code, _) = refused!(hide(43_201));
    assert_eq!(code, "InvalidParameterValue");
    let (code, _) = refused!(hide(-1));
    assert_eq!(code, "InvalidParameterValue");
    hide(43_190).await.expect("within 12 hours of the receive");
    // The receive's own visibility timeout is held to the same range.
    let (code, _) = refused!(
        client
            .receive_message()
            .queue_url(&url)
            .visibility_timeout(43_201)
            .send()
    );
    assert_eq!(code, "InvalidParameterValue");
    // And so is a queue's default.
    let (code, message) = refused!(
        client
            .create_queue()
            .queue_name(unique("it-limits"))
            .attributes(QueueAttributeName::VisibilityTimeout, "43201")
            .send()
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidAttributeValue",
            "Invalid value for the parameter VisibilityTimeout."
        )
    );
}

#[tokio::test]
async fn sqs_delay_is_at_most_900_seconds() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;

    let (code, _) = refused!(
        client
            .send_message()
            .queue_url(&url)
            .message_body("job")
            .delay_seconds(901)
            .send()
    );
    assert_eq!(code, "InvalidParameterValue");
    client
        .send_message()
        .queue_url(&url)
        .message_body("job")
        .delay_seconds(900)
        .send()
        .await
        .expect("900 s passes");

    // In a batch, the entry fails.
    let entry = |id: &str, delay: i32| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body("job")
            .delay_seconds(delay)
            .build()
            .unwrap()
    };
    let batch = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("beyond", 901))
        .entries(entry("within", 900))
        .send()
        .await
        .unwrap();
    assert_eq!(
        batch
            .successful()
            .iter()
            .map(|e| e.id())
            .collect::<Vec<_>>(),
        ["within"]
    );
    assert_eq!(
        (batch.failed()[0].id(), batch.failed()[0].code()),
        ("beyond", "InvalidParameterValue")
    );

    // A queue's default delay: at creation and later.
    let (code, message) = refused!(
        client
            .create_queue()
            .queue_name(unique("it-limits"))
            .attributes(QueueAttributeName::DelaySeconds, "901")
            .send()
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidAttributeValue",
            "Invalid value for the parameter DelaySeconds."
        )
    );
    let (code, _) = refused!(
        client
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::DelaySeconds, "901")
            .send()
    );
    assert_eq!(code, "InvalidAttributeValue");
    client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::DelaySeconds, "900")
        .send()
        .await
        .expect("900 s passes");
}

#[tokio::test]
async fn sqs_message_is_at_most_256_kib_attributes_included() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;
    // An attribute counts its name, its type and its value: 1 + 6 + 1.
    let attribute = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("v")
        .build()
        .unwrap();
    let send = |body_len: usize| {
        client
            .send_message()
            .queue_url(&url)
            .message_body("x".repeat(body_len))
            .message_attributes("a", attribute.clone())
            .send()
    };

    send(262_144 - 8).await.expect("exactly 256 KiB passes");
    let (code, message) = refused!(send(262_144 - 7));
    assert_eq!(code, "InvalidParameterValue");
    assert_eq!(
        message,
        "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes."
    );

    // A batch is held to the same total.
    let entry = |id: &str, len: usize| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body("x".repeat(len))
            .build()
            .unwrap()
    };
    let (code, _) = refused!(
        client
            .send_message_batch()
            .queue_url(&url)
            .entries(entry("a", 131_072))
            .entries(entry("b", 131_073))
            .send()
    );
    assert_eq!(code, "AWS.SimpleQueueService.BatchRequestTooLong");
    client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a", 131_072))
        .entries(entry("b", 131_072))
        .send()
        .await
        .expect("256 KiB in all passes");
}

#[tokio::test]
async fn sqs_batches_have_at_most_10_entries() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;
    let sends = |n: usize| {
        (0..n)
            .map(|i| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .message_body("job")
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let too_many = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest";

    let (code, _) = refused!(
        client
            .send_message_batch()
            .queue_url(&url)
            .set_entries(Some(sends(11)))
            .send()
    );
    assert_eq!(code, too_many);
    client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(sends(10)))
        .send()
        .await
        .expect("10 entries pass");

    let mut handles = Vec::new();
    while handles.len() < 10 {
        let batch = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        handles.extend(
            batch
                .messages()
                .iter()
                .filter_map(|m| m.receipt_handle.clone()),
        );
    }
    let hides = |n: usize| {
        (0..n)
            .map(|i| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .receipt_handle(&handles[i % handles.len()])
                    .visibility_timeout(30)
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let (code, _) = refused!(
        client
            .change_message_visibility_batch()
            .queue_url(&url)
            .set_entries(Some(hides(11)))
            .send()
    );
    assert_eq!(code, too_many);
    let hidden = client
        .change_message_visibility_batch()
        .queue_url(&url)
        .set_entries(Some(hides(10)))
        .send()
        .await
        .expect("10 entries pass");
    assert_eq!(hidden.successful().len(), 10);

    let deletes = |n: usize| {
        (0..n)
            .map(|i| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .receipt_handle(format!("{}-{i}", handles[i % handles.len()]))
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let (code, _) = refused!(
        client
            .delete_message_batch()
            .queue_url(&url)
            .set_entries(Some(deletes(11)))
            .send()
    );
    assert_eq!(code, too_many);
    let deleted = client
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(
            handles
                .iter()
                .enumerate()
                .map(|(i, handle)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(handle)
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .send()
        .await
        .expect("10 entries pass");
    assert_eq!(deleted.successful().len(), 10);
}

#[tokio::test]
async fn sqs_receive_takes_1_to_10_messages() {
    let client = sqs_client().await;
    let (_, url) = fresh_queue(&client).await;
    for n in [0, 11] {
        let (code, _) = refused!(
            client
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(n)
                .send()
        );
        assert_eq!(code, "InvalidParameterValue", "{n} messages");
    }
    client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("10 passes");
}
