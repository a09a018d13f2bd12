//! Every alarm, and what feeds it.

use serde_json::{Value, json};
use std::process::Command;

use super::*;

#[test]
fn the_alarms_watch_the_dead_letter_queue_the_queue_and_every_function() {
    let alarms = of_type("AWS::CloudWatch::Alarm");
    for (id, alarm) in &alarms {
        assert!(
            one_or_many(&alarm["Properties"]["AlarmActions"]).contains(&reference("AlarmTopic")),
            "{id} notifies the topic"
        );
    }
    let watching = |metric: &str, dimension: Value| {
        alarms.values().any(|a| {
            a["Properties"]["MetricName"] == metric
                && one_or_many(&a["Properties"]["Dimensions"])
                    .iter()
                    .any(|d| d["Value"] == dimension)
        })
    };
    assert!(watching(
        "ApproximateNumberOfMessagesVisible",
        get_att("IpnDeadLetterQueue", "QueueName")
    ));
    assert!(watching(
        "ApproximateAgeOfOldestMessage",
        get_att("IpnQueue", "QueueName")
    ));
    for (binary, (id, _)) in functions() {
        assert!(
            watching("Errors", reference(id)),
            "no Errors alarm for {binary}"
        );
    }
    let api_5xx = alarms.values().any(|a| {
        a["Properties"]["Metrics"]
            .as_array()
            .is_some_and(|metrics| {
                metrics.iter().any(|m| {
                    m["MetricStat"]["Metric"]["MetricName"] == "5xx"
                        && m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
                            == reference("HttpApi")
                })
            })
    });
    assert!(api_5xx, "an alarm on the API's 5xx rate");
}

pub(super) const LOG_CHILD: &str = "TIKIVIP_TEMPLATE_TEST_LOG_CHILD";
pub(super) const REFUND_REQUIRED_MESSAGE: &str =
    "Tiki will not honour this payment: refund the customer";

/// The metric filter's JSON path and value: `{ $.a.b = "v" }`.
pub(super) fn json_filter(pattern: &str) -> (Vec<String>, String) {
    let inner = pattern
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .expect("{ … }");
    let (path, value) = inner.split_once('=').expect("a = comparison");
    let path = path.trim().strip_prefix("$.").expect("a $. selector");
    (
        path.split('.').map(str::to_owned).collect(),
        value.trim().trim_matches('"').to_owned(),
    )
}

#[test]
fn the_refund_required_alarm_counts_the_dispatchers_log_line() {
    if std::env::var_os(LOG_CHILD).is_some() {
        // In a process of its own: the dispatcher's logging, as in Lambda.
        tikivip_api::init_tracing();
        tracing::error!(
            transaction_id = "0190f1c2-0000-7000-8000-000000000000",
            alert = "refund_required",
            "{REFUND_REQUIRED_MESSAGE}"
        );
        return;
    }

    // The dispatcher raises exactly this alert.
    let dispatcher = read(&workspace().join("functions/ipn-dispatcher/src/lib.rs"));
    assert!(dispatcher.contains("alert = \"refund_required\""));

    let filters = of_type("AWS::Logs::MetricFilter");
    let (_, filter) = filters
        .iter()
        .find(|(_, f)| {
            f["Properties"]["MetricTransformations"][0]["MetricName"] == "RefundRequired"
        })
        .expect("a RefundRequired metric filter");
    let p = &filter["Properties"];
    let (dispatcher_id, f) = function("ipn-dispatcher");
    assert_eq!(
        p["LogGroupName"], f["Properties"]["LoggingConfig"]["LogGroup"],
        "the filter reads {dispatcher_id}'s log group"
    );
    let transform = &p["MetricTransformations"][0];
    let alarmed = of_type("AWS::CloudWatch::Alarm").values().any(|a| {
        a["Properties"]["MetricName"] == transform["MetricName"]
            && a["Properties"]["Namespace"] == transform["MetricNamespace"]
    });
    assert!(alarmed, "an alarm on {transform}");

    // What init_tracing really prints, against what the filter selects.
    let test_name = module_path!()
        .split_once("::")
        .map_or("", |(_, m)| m)
        .to_owned()
        + "::the_refund_required_alarm_counts_the_dispatchers_log_line";
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            test_name.as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(LOG_CHILD, "1")
        .env("RUST_LOG", "info")
        .output()
        .expect("run the child");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line: Value = stdout
        .lines()
        // libtest may print "test … " before it on the same line.
        .filter_map(|l| l.find('{').map(|at| &l[at..]))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        // init_tracing may log lines of its own first.
        .find(|line| line["fields"]["message"] == REFUND_REQUIRED_MESSAGE)
        .unwrap_or_else(|| panic!("no JSON log line of the alert in {stdout}"));
    let (path, value) = json_filter(p["FilterPattern"].as_str().unwrap());
    let selected = path.iter().fold(&line, |v, key| &v[key]);
    assert_eq!(
        selected,
        &json!(value),
        "filter {path:?} = {value:?} against {line}"
    );
}
