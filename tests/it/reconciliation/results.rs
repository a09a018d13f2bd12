//! Tiki's result files in OUTBOUND, compared with our day: every mismatch
//! reported, and nothing else.

use tikivip_domain::reconciliation::{MismatchKind, ReconDay};
use tikivip_it::reconciliation::*;
use time::macros::datetime;

fn day() -> ReconDay {
    "2026-11-20".parse().unwrap()
}

/// Our delivered file with each of `edit`'s changes, as Tiki's result file.
fn planted(ours: &[u8], edit: impl FnOnce(&mut Vec<Vec<String>>)) -> Vec<u8> {
    let text = String::from_utf8(ours.to_vec()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_owned();
    let mut rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    edit(&mut rows);
    let mut out = header;
    out.push('\n');
    for row in rows {
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

async fn paid_day(stack: &ReconStack, count: u64) {
    for i in 0..count {
        let at = datetime!(2026-11-20 10:00 +7) + time::Duration::minutes(i as i64);
        let txn = stack.created_at(at, 20_000 + i).await;
        paid_at(stack.store(), &txn, at + time::Duration::seconds(30)).await;
    }
}

#[tokio::test]
async fn an_outbound_file_with_planted_mismatches_reports_each_one_and_nothing_else() {
    let stack = ReconStack::new(&[]).await;
    paid_day(&stack, 8).await;
    stack.run(day()).await.unwrap();
    let (_, ours) = stack.inbound_files().remove(0);
    let mut expected = Vec::new();
    let theirs = planted(&ours, |rows| {
        let gone = rows.remove(0);
        expected.push((gone[1].clone(), "missing_at_tiki"));
        rows[0][2] = "1".into();
        expected.push((rows[0][1].clone(), "amount"));
        rows[1][3] = "FAILURE".into();
        expected.push((rows[1][1].clone(), "status"));
        let mut stranger = rows[2].clone();
        stranger[0] = "tiki-unknown-1".into();
        stranger[1] = "T00000000000000000000000000000000".into();
        expected.push((stranger[1].clone(), "missing_at_partner"));
        rows.push(stranger);
    });
    let name = format!("tikivip_{PARTNER}_20261120_result_1");
    std::fs::write(stack.outbound.join(&name), theirs).unwrap();

    let report = stack.run(day()).await.unwrap();
    assert_eq!(report.results.len(), 1);
    let mut found: Vec<(String, &str)> = report.results[0]
        .mismatches
        .iter()
        .map(|m| {
            let kind = match m.kind {
                MismatchKind::MissingAtTiki => "missing_at_tiki",
                MismatchKind::MissingAtPartner => "missing_at_partner",
                MismatchKind::Amount { .. } => "amount",
                MismatchKind::Status { .. } => "status",
                _ => "other",
            };
            (m.transaction_id.to_string(), kind)
        })
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected);

    let stored = stack
        .job
        .files
        .archive
        .get_bytes(&reconciliation::results::report_key(day(), &name))
        .await
        .unwrap()
        .expect("the report is in S3");
    let stored: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(stored["mismatches"].as_array().unwrap().len(), 4);
    let read = stack.store().results_read(day()).await.unwrap();
    assert_eq!((read.len(), read[0].mismatches), (1, 4));

    let again = stack.run(day()).await.unwrap();
    assert!(again.results.is_empty(), "a result file is reported once");
}

#[tokio::test]
async fn tikis_copy_of_our_own_file_shows_no_mismatch() {
    let stack = ReconStack::new(&[]).await;
    paid_day(&stack, 5).await;
    stack.run(day()).await.unwrap();
    let (name, ours) = stack.inbound_files().remove(0);
    std::fs::write(stack.outbound.join(format!("{name}_checked")), ours).unwrap();
    let report = stack.run(day()).await.unwrap();
    assert_eq!(report.results.len(), 1);
    assert!(
        report.results[0].mismatches.is_empty(),
        "{:?}",
        report.results[0].mismatches
    );
}
