//! Metrics as CloudWatch Embedded Metric Format: one JSON line on stdout per
//! data point, which CloudWatch Logs turns into a metric without an API call
//! (no latency, no extra permission, no client to build at init).

use std::time::{SystemTime, UNIX_EPOCH};

/// The CloudWatch namespace of every metric; the template's alarms use it.
pub const NAMESPACE: &str = "TikiVipPartner";

/// What the functions count. Each name is the metric's name in CloudWatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    TransactionsCreated,
    PaymentResultsAccepted,
    PaymentResultsDuplicate,
    PaymentResultsRefused,
    IpnAttempts,
    IpnDelivered,
    /// A payment Tiki will not honour: the customer must be refunded.
    IpnRefundRequired,
    IpnRejected,
    /// We hold FAILURE and Tiki reports SUCCESS.
    IpnUnpaidSuccess,
    /// Tiki's status answer names another id or amount.
    IpnStatusMismatch,
    IpnDeadLettered,
    /// Jobs in the outbox at a sweep, and the age of the oldest (seconds).
    OutboxWaiting,
    OutboxOldestAgeSeconds,
    /// A job that could not be put on the queue.
    OutboxReleaseFailures,
    /// A handler panicked; the caller got a 500 envelope.
    HandlerPanics,
    Refunds,
    /// In VND.
    RefundedAmount,
    SignatureRefusals,
    /// Rows in a day's reconciliation file.
    ReconciliationRows,
    /// Transactions on which Tiki's results and ours disagree.
    ReconciliationMismatches,
}

impl Metric {
    pub const fn name(self) -> &'static str {
        match self {
            Metric::TransactionsCreated => "TransactionsCreated",
            Metric::PaymentResultsAccepted => "PaymentResultsAccepted",
            Metric::PaymentResultsDuplicate => "PaymentResultsDuplicate",
            Metric::PaymentResultsRefused => "PaymentResultsRefused",
            Metric::IpnAttempts => "IpnAttempts",
            Metric::IpnDelivered => "IpnDelivered",
            Metric::IpnRefundRequired => "IpnRefundRequired",
            Metric::IpnRejected => "IpnRejected",
            Metric::IpnUnpaidSuccess => "IpnUnpaidSuccess",
            Metric::IpnStatusMismatch => "IpnStatusMismatch",
            Metric::IpnDeadLettered => "IpnDeadLettered",
            Metric::OutboxWaiting => "OutboxWaiting",
            Metric::OutboxOldestAgeSeconds => "OutboxOldestAgeSeconds",
            Metric::OutboxReleaseFailures => "OutboxReleaseFailures",
            Metric::HandlerPanics => "HandlerPanics",
            Metric::Refunds => "Refunds",
            Metric::RefundedAmount => "RefundedAmount",
            Metric::SignatureRefusals => "SignatureRefusals",
            Metric::ReconciliationRows => "ReconciliationRows",
            Metric::ReconciliationMismatches => "ReconciliationMismatches",
        }
    }

    const fn unit(self) -> &'static str {
        match self {
            // VND has no CloudWatch unit; "None" keeps the figure as it is.
            Metric::RefundedAmount => "None",
            Metric::OutboxOldestAgeSeconds => "Seconds",
            _ => "Count",
        }
    }
}

/// Records `value` of `metric`, by function (the function's name as Lambda
/// gives it, or "local").
pub fn record(metric: Metric, value: u64) {
    println!(
        "{}",
        emf_line(metric, value, SystemTime::now(), &function_name())
    );
}

pub fn count(metric: Metric) {
    record(metric, 1);
}

fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into())
}

fn emf_line(metric: Metric, value: u64, at: SystemTime, function: &str) -> String {
    let millis = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    serde_json::json!({
        "_aws": {
            "Timestamp": millis,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"], []],
                "Metrics": [{"Name": metric.name(), "Unit": metric.unit()}],
            }],
        },
        "FunctionName": function,
        metric.name(): value,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_point_is_an_emf_document() {
        let at = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        let line: serde_json::Value =
            serde_json::from_str(&emf_line(Metric::RefundedAmount, 30_000, at, "refund")).unwrap();
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_123u64);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(
            directive["Metrics"][0],
            serde_json::json!({"Name": "RefundedAmount", "Unit": "None"})
        );
        // Every dimension named in the directive is a member of the document.
        assert_eq!(directive["Dimensions"][0][0], "FunctionName");
        assert_eq!(line["FunctionName"], "refund");
        assert_eq!(line["RefundedAmount"], 30_000);
    }
}
