//! The IPN queue, its dead-letter queue and its consumer.

use serde_json::{Value, json};
use std::time::Duration;

use super::*;

#[test]
fn the_ipn_queue_has_the_queue_crates_redrive_policy() {
    let queue = &resource("IpnQueue")["Properties"];
    let dead = &resource("IpnDeadLetterQueue")["Properties"];
    assert_eq!(
        queue["RedrivePolicy"],
        json!({
            "deadLetterTargetArn": get_att("IpnDeadLetterQueue", "Arn"),
            "maxReceiveCount": tikivip_queue::MAX_RECEIVE_COUNT,
        })
    );
    // `IpnQueue::named` finds the dead-letter queue as NAME-dead-letter.
    let name = queue["QueueName"]["Fn::Sub"]
        .as_str()
        .expect("QueueName: !Sub …");
    assert_eq!(dead["QueueName"]["Fn::Sub"], format!("{name}-dead-letter"));

    // Kept long enough for the whole default schedule, at its longest (jitter
    // +10%), plus a last visibility hop.
    const FOURTEEN_DAYS: u64 = 14 * 24 * 3600;
    assert_eq!(
        as_u64(&queue["MessageRetentionPeriod"], "retention"),
        FOURTEEN_DAYS
    );
    assert_eq!(
        as_u64(&dead["MessageRetentionPeriod"], "retention"),
        FOURTEEN_DAYS
    );
    let schedule = tikivip_domain::RetrySchedule::default();
    let span: Duration = schedule.longest() + tikivip_queue::MAX_HIDE;
    assert!(
        span.as_secs() < FOURTEEN_DAYS,
        "the schedule spans {span:?}"
    );
    // Delays beyond one receive's hide are hidden again at the next receive;
    // SQS must not dead-letter a pending job for receiving it that often.
    let receives = schedule.receives_needed(tikivip_queue::MAX_HIDE);
    assert!(
        receives < tikivip_queue::MAX_RECEIVE_COUNT,
        "{receives} receives per job, maxReceiveCount {}",
        tikivip_queue::MAX_RECEIVE_COUNT
    );

    // Lambda's advice for an SQS source: visibility ≥ 6 × the function's timeout;
    // and the timeout allows the two calls to Tiki an attempt may make.
    let (id, dispatcher) = function("ipn-dispatcher");
    let timeout = as_u64(property(dispatcher, "Timeout").unwrap(), "Timeout");
    let visibility = as_u64(&queue["VisibilityTimeout"], "VisibilityTimeout");
    assert!(
        visibility >= 6 * timeout,
        "visibility {visibility} s < 6 × {timeout} s"
    );
    // SQS's 12 h window counts from the receive; the dispatcher hides from
    // when it runs. The margin between the two covers Lambda's batching
    // window (at most 5 min) and the function's whole run.
    let margin = tikivip_queue::VISIBILITY_WINDOW - tikivip_queue::MAX_HIDE;
    assert!(
        margin.as_secs() >= 300 + timeout,
        "{margin:?} of margin for a 5 min batching window and a {timeout} s run"
    );
    let tiki_ms = as_u64(
        &environment(dispatcher)["TIKI_TIMEOUT_MS"],
        "TIKI_TIMEOUT_MS",
    );
    assert!(
        2 * tiki_ms + 5_000 <= timeout * 1_000,
        "{id}: {timeout} s for 2 × {tiki_ms} ms"
    );
}

#[test]
fn the_dispatcher_reports_batch_item_failures_at_bounded_concurrency() {
    let (id, f) = function("ipn-dispatcher");
    let sqs: Vec<&Value> = f["Properties"]["Events"]
        .as_object()
        .unwrap()
        .values()
        .filter(|e| e["Type"] == "SQS")
        .collect();
    assert_eq!(sqs.len(), 1, "{id} has one SQS source");
    let p = &sqs[0]["Properties"];
    assert_eq!(p["Queue"], get_att("IpnQueue", "Arn"));
    assert_eq!(
        p["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(p["BatchSize"], 10);
    let concurrency = &p["ScalingConfig"]["MaximumConcurrency"];
    let bounds = match concurrency["Ref"].as_str() {
        Some(parameter) => {
            let p = &template()["Parameters"][parameter];
            let bound = |k: &str| as_u64(&p[k], k);
            (bound("MinValue"), bound("MaxValue"), bound("Default"))
        }
        None => {
            let n = as_u64(concurrency, "MaximumConcurrency");
            (n, n, n)
        }
    };
    let (min, max, default) = bounds;
    assert!(
        2 <= min && max <= 5 && (min..=max).contains(&default),
        "{bounds:?}"
    );
    // Nothing else consumes the queue.
    for (binary, (other, f)) in functions() {
        if other != id {
            let events = f["Properties"]["Events"].as_object();
            assert!(
                events.is_none_or(|e| e
                    .values()
                    .all(|e| e["Properties"]["Queue"] != get_att("IpnQueue", "Arn"))),
                "{binary} must not consume the IPN queue"
            );
        }
    }
}

#[test]
fn the_sweeper_runs_every_minute() {
    let (id, f) = function("ipn-outbox-sweeper");
    let schedules: Vec<&Value> = f["Properties"]["Events"]
        .as_object()
        .unwrap()
        .values()
        .filter(|e| e["Type"] == "Schedule")
        .collect();
    assert_eq!(schedules.len(), 1, "{id}");
    assert_eq!(schedules[0]["Properties"]["Schedule"], "rate(1 minute)");
}
