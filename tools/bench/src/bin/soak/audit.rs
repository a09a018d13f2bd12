//! The audit at the end of a soak: what the table, the queues and the Tiki
//! simulator hold, against what the callers were answered. Every line of
//! `failures` is a rule broken; a sound run has none.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use tiki_simulator::SimulatorHandle;
use tikivip_bench::Error;
use tikivip_domain::{IpnState, Transaction, TransactionId, TransactionStatus};
use tikivip_store::Store;

use crate::traffic::{Answer, Failure, Known, KnownTransaction};

/// A fault window or a crash: from its start to its end.
pub type Window = (Instant, Instant);

/// How long after a window a failure is still the window's: the callers'
/// backoff and a held call (4 s) end after it.
const AFTERMATH: Duration = Duration::from_secs(8);

#[derive(Default)]
pub struct Audit {
    pub transactions: usize,
    pub settled: usize,
    pub delivered_once: usize,
    /// Delivered, and Tiki had it more than once (an answer lost on the way
    /// back; Tiki's side is idempotent on the transaction).
    pub delivered_more_than_once: usize,
    /// Not delivered yet: in the outbox or on the queue.
    pub waiting: usize,
    /// Ended without delivery, by state, each with its reason.
    pub ended: BTreeMap<&'static str, usize>,
    pub dead_letters: u64,
    pub refunds: usize,
    pub failures: Vec<String>,
    pub system_errors_in_windows: usize,
}

pub struct Tables<'a> {
    pub store: &'a Store,
    pub dynamodb: &'a aws_sdk_dynamodb::Client,
    pub sqs: &'a aws_sdk_sqs::Client,
    pub queue_url: &'a str,
    pub dead_letter_url: &'a str,
}

/// Messages on a queue, visible or not.
pub async fn queued(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<u64, Error> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(A::ApproximateNumberOfMessagesDelayed)
        .send()
        .await?;
    Ok(attributes
        .attributes()
        .map(|a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0))
}

/// Every transaction id in the table.
async fn transaction_ids(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<String>, Error> {
    let mut ids = Vec::new();
    let mut start = None;
    loop {
        let page = dynamodb
            .scan()
            .table_name(table)
            .filter_expression("sk = :txn")
            .expression_attribute_values(":txn", AttributeValue::S("TXN".into()))
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await?;
        for item in page.items() {
            if let Some(AttributeValue::S(id)) = item.get("transaction_id") {
                ids.push(id.clone());
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(ids);
        }
    }
}

pub async fn run(
    tables: Tables<'_>,
    simulator: &SimulatorHandle,
    known: &Known,
    failures: &[Failure],
    windows: &[Window],
) -> Result<Audit, Error> {
    let mut audit = Audit::default();
    let outbox: HashSet<String> = tables
        .store
        .ipn_outbox()
        .await?
        .into_iter()
        .map(|(id, _)| id.to_string())
        .collect();
    let on_queue = queued(tables.sqs, tables.queue_url).await?;
    audit.dead_letters = queued(tables.sqs, tables.dead_letter_url).await?;
    let known_by_id: HashMap<&str, _> = known
        .transactions
        .iter()
        .map(|t| (t.id.as_str(), t))
        .collect();
    let ids = transaction_ids(tables.dynamodb, tables.store.table()).await?;
    for id in known_by_id.keys() {
        if !ids.iter().any(|i| i == id) {
            audit
                .failures
                .push(format!("{id}: created for Tiki, not in the table"));
        }
    }
    audit.transactions = ids.len();
    for id in &ids {
        let txn_id = TransactionId::parse(id.as_str())?;
        let Some(txn) = tables.store.transaction(&txn_id).await? else {
            continue;
        };
        audit.refunds += txn.refunds.len();
        let mut fail = |why: String| audit.failures.push(format!("{id}: {why}"));
        for finding in money_findings(&txn, known_by_id.get(id.as_str()).copied()) {
            fail(finding);
        }
        // The IPN: delivered, waiting, or ended with a reason.
        let job = tables.store.ipn_job(&txn_id).await?;
        if txn.status == TransactionStatus::Pending {
            if job.is_some() {
                fail("an IPN job for a transaction not settled".into());
            }
            continue;
        }
        audit.settled += 1;
        let received = simulator.ipns_for(id);
        for ipn in &received {
            if ipn.body["status"].as_str() != Some(txn.status.as_str()) {
                fail(format!(
                    "Tiki received {} for a {} transaction",
                    ipn.body, txn.status
                ));
            }
        }
        let tiki_has = received
            .iter()
            .filter(|ipn| ipn.answer.http_status == 200 && ipn.answer.body["code"] == 0)
            .count();
        let Some(job) = job else {
            fail("settled without an IPN job".into());
            continue;
        };
        match job.state {
            IpnState::Delivered if tiki_has == 0 => fail("delivered, yet Tiki has no IPN".into()),
            IpnState::Delivered if tiki_has == 1 => audit.delivered_once += 1,
            IpnState::Delivered => audit.delivered_more_than_once += 1,
            IpnState::Pending if outbox.contains(id) || on_queue > 0 => audit.waiting += 1,
            IpnState::Pending => fail("IPN pending, in neither the outbox nor the queue".into()),
            ended if job.last_error.is_none() => fail(format!("IPN {ended} without a reason")),
            ended => *audit.ended.entry(ended.as_str()).or_default() += 1,
        }
    }
    for unexpected in known.mismatches.iter().chain(&known.unexpected_refusals) {
        audit.failures.push(unexpected.clone());
    }
    for failure in failures {
        if explained(failure, windows) {
            audit.system_errors_in_windows += 1;
        } else {
            audit.failures.push(format!(
                "a system error outside every fault window: {}",
                failure.what
            ));
        }
    }
    Ok(audit)
}

/// A failure sent or answered within a window, or its aftermath.
fn explained(failure: &Failure, windows: &[Window]) -> bool {
    windows
        .iter()
        .any(|(from, to)| failure.sent <= *to + AFTERMATH && failure.answered >= *from)
}

/// The money rules on one stored transaction: refunds within the amount and
/// summed, and the refunds and the status as its callers were answered.
fn money_findings(txn: &Transaction, asked: Option<&KnownTransaction>) -> Vec<String> {
    let mut findings = Vec::new();
    let listed: u64 = txn.refunds.iter().map(|r| r.amount.get()).sum();
    if txn.refunded.get() != listed || listed > txn.amount.get() {
        findings.push(format!(
            "refunded {} of {}, refunds listed {listed}",
            txn.refunded, txn.amount
        ));
    }
    let Some(asked) = asked else {
        return findings;
    };
    for refund in &asked.refunds {
        let stored = txn
            .refunds
            .iter()
            .find(|r| r.request_id.as_str() == refund.request_id);
        let id = &refund.request_id;
        match (&refund.answer, stored) {
            (Some(Answer::Ok(_)), Some(stored)) if stored.amount.get() != refund.amount => {
                findings.push(format!("refund {id} stored for another amount"))
            }
            (Some(Answer::Ok(_)), None) => {
                findings.push(format!("refund {id} answered, not in the table"))
            }
            (Some(Answer::Refused(code)), Some(_)) => findings.push(format!(
                "refund {id} refused (code {code}), yet in the table"
            )),
            _ => {}
        }
    }
    for stored in &txn.refunds {
        if !asked
            .refunds
            .iter()
            .any(|r| r.request_id == stored.request_id.as_str())
        {
            findings.push(format!(
                "refund {} that nobody asked for",
                stored.request_id
            ));
        }
    }
    if let Some(settled) = &asked.settled
        && txn.status.as_str() != settled
    {
        findings.push(format!("{} in the table, {settled} answered", txn.status));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::KnownRefund;
    use tikivip_bench::inprocess::transaction;
    use tikivip_domain::{Refund, RefundId, RefundOrigin, RequestId, Timestamp, Vnd};

    fn refund(request_id: &str, amount: u64) -> Refund {
        Refund {
            refund_id: RefundId::parse(format!("R-{request_id}")).unwrap(),
            request_id: RequestId::parse(request_id).unwrap(),
            amount: Vnd::new(amount).unwrap(),
            reason: tikivip_domain::wire::Text::new("soak").unwrap(),
            origin: RefundOrigin::default(),
            created_at: Timestamp::now_utc(),
        }
    }

    fn asked(refunds: &[(&str, u64, Option<Answer>)]) -> KnownTransaction {
        KnownTransaction {
            id: "T1".into(),
            tiki_id: "tiki-1".into(),
            amount: 10_000_000,
            payment_sent: true,
            settled: Some("SUCCESS".into()),
            refunds: refunds
                .iter()
                .map(|(id, amount, answer)| KnownRefund {
                    request_id: (*id).into(),
                    amount: *amount,
                    answer: answer.clone(),
                })
                .collect(),
        }
    }

    fn stored(refunds: &[(&str, u64)]) -> Transaction {
        let mut txn = transaction(TransactionStatus::Success);
        for (id, amount) in refunds {
            txn = txn.with_refund(refund(id, *amount)).unwrap();
        }
        txn
    }

    #[test]
    fn refunds_as_answered_and_stored_pass() {
        let ok = Some(Answer::Ok(serde_json::json!({})));
        let asked = asked(&[
            ("a", 1_000, ok),
            ("b", 2_000, Some(Answer::Refused(5))),
            ("c", 5, None),
        ]);
        assert_eq!(
            money_findings(&stored(&[("a", 1_000)]), Some(&asked)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_refund_lost_refused_yet_stored_or_unasked_is_found() {
        let ok = Some(Answer::Ok(serde_json::json!({})));
        let asked = asked(&[("a", 1_000, ok), ("b", 2_000, Some(Answer::Refused(5)))]);
        let findings = money_findings(&stored(&[("b", 2_000), ("x", 3_000)]), Some(&asked));
        assert_eq!(findings.len(), 3, "{findings:?}");
        let mut failed = stored(&[]);
        failed.status = TransactionStatus::Failure;
        assert_eq!(money_findings(&failed, Some(&asked)).len(), 2);
    }

    #[test]
    fn a_failure_outside_every_window_is_unexplained() {
        let now = Instant::now();
        let failure = |after: u64| Failure {
            sent: now + Duration::from_secs(after),
            answered: now + Duration::from_secs(after + 1),
            what: String::new(),
        };
        let windows = [(now, now + Duration::from_secs(20))];
        assert!(explained(&failure(5), &windows));
        assert!(explained(&failure(25), &windows), "within the aftermath");
        assert!(!explained(&failure(40), &windows));
    }
}
