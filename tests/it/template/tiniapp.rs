//! The Tini App functions and queues.

use serde_json::{Value, json};

use super::*;

#[test]
fn the_tiniapp_processor_consumes_its_own_queue_and_publishes_on_a_fifo_queue() {
    let (id, f) = function("tiniapp-processor");
    let sqs: Vec<&Value> = f["Properties"]["Events"]
        .as_object()
        .unwrap()
        .values()
        .filter(|e| e["Type"] == "SQS")
        .collect();
    assert_eq!(sqs.len(), 1, "{id} has one SQS source");
    let p = &sqs[0]["Properties"];
    assert_eq!(p["Queue"], get_att("TiniAppQueue", "Arn"));
    assert_eq!(
        p["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    let queue = &resource("TiniAppQueue")["Properties"];
    assert_eq!(
        queue["RedrivePolicy"],
        json!({
            "deadLetterTargetArn": get_att("TiniAppDeadLetterQueue", "Arn"),
            "maxReceiveCount": tikivip_queue::MAX_RECEIVE_COUNT,
        })
    );
    let timeout = as_u64(property(f, "Timeout").unwrap(), "Timeout");
    let visibility = as_u64(&queue["VisibilityTimeout"], "VisibilityTimeout");
    assert!(
        visibility >= 6 * timeout,
        "{visibility} s < 6 × {timeout} s"
    );
    let tiki_ms = as_u64(&environment(f)["TIKI_TIMEOUT_MS"], "TIKI_TIMEOUT_MS");
    assert!(
        tiki_ms + 5_000 <= timeout * 1_000,
        "{id}: one order API call"
    );
    assert_eq!(environment(f)["TIKI_ENVIRONMENT"], reference("Stage"));

    // SQS deduplicates only on a FIFO queue, with our own ids.
    let events = &resource("TiniAppEventsQueue")["Properties"];
    assert_eq!(events["FifoQueue"], true);
    assert_eq!(events["ContentBasedDeduplication"], false);
    assert!(
        events["QueueName"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(".fifo")
    );
}

#[test]
fn the_tiniapp_unknown_order_alarm_counts_the_processors_log_line() {
    let filter = &resource("TiniAppUnknownOrderMetricFilter")["Properties"];
    let (path, value) = json_filter(filter["FilterPattern"].as_str().unwrap());
    assert_eq!(path, ["fields", "alert"]);
    let processor = read(&workspace().join("functions/tiniapp-processor/src/lib.rs"));
    assert!(
        processor.contains(&format!("alert = \"{value}\"")),
        "the processor logs alert = {value}"
    );
    assert_eq!(
        filter["LogGroupName"],
        reference("TiniAppProcessorLogGroup")
    );
}
