//! The day's files: archived to S3 first, then delivered to Tiki's SFTP
//! under their final names, idempotently.

use std::collections::HashSet;

use futures::future::join_all;
use reconciliation::Error;
use tikivip_domain::reconciliation::ReconDay;
use tikivip_it::reconciliation::*;
use time::macros::datetime;

const DAY: &str = "2026-11-20";

fn day() -> ReconDay {
    DAY.parse().unwrap()
}

/// `count` transactions created during the day, paid in part.
async fn busy_day(stack: &ReconStack, count: usize) {
    for chunk in (0..count).collect::<Vec<_>>().chunks(25) {
        join_all(chunk.iter().map(|i| async move {
            let at = datetime!(2026-11-20 08:00 +7) + time::Duration::seconds(*i as i64);
            let txn = stack.created_at(at, 10_000 + *i as u64).await;
            if i % 3 == 0 {
                paid_at(stack.store(), &txn, at + time::Duration::minutes(1)).await;
            }
        }))
        .await;
    }
}

/// The data rows of a delivered file (its header dropped).
fn data_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_day_is_split_at_the_row_limit_and_every_row_is_delivered_exactly_once() {
    let stack = ReconStack::new(&[("RECONCILIATION_ROWS_PER_FILE", "400")]).await;
    busy_day(&stack, 1_000).await;
    let report = stack.run(day()).await.unwrap();

    let names: Vec<_> = report.files.iter().map(|f| f.name.clone()).collect();
    assert_eq!(
        names,
        ["1", "2", "3"].map(|n| format!("tikivip_{PARTNER}_20261120_{n}"))
    );
    assert_eq!(report.delivered_now, names);
    let delivered = stack.inbound_files();
    assert_eq!(
        delivered.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        names
    );
    let counts: Vec<_> = delivered.iter().map(|(_, b)| data_lines(b).len()).collect();
    assert_eq!(counts, [400, 400, 200]);
    let ids: HashSet<String> = delivered
        .iter()
        .flat_map(|(_, bytes)| data_lines(bytes))
        .map(|line| line.split(',').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1_000, "every transaction once");
}

#[tokio::test]
async fn the_archive_in_s3_holds_the_delivered_bytes() {
    let stack = ReconStack::new(&[]).await;
    busy_day(&stack, 10).await;
    let report = stack.run(day()).await.unwrap();
    for (name, bytes) in stack.inbound_files() {
        let key = format!("reconciliation/20261120/{name}");
        let archived = stack
            .job
            .files
            .archive
            .get_bytes(&key)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(archived, bytes, "{name}");
    }
    assert_eq!(report.files.len(), 1);
    let recorded = stack.store().deliveries(day()).await.unwrap();
    assert_eq!(recorded.len(), 1, "the delivery is recorded for operators");
    assert_eq!(recorded[0].sha256, report.files[0].sha256);
}

#[tokio::test]
async fn running_a_day_again_redelivers_the_archived_bytes_never_a_second_version() {
    let stack = ReconStack::new(&[]).await;
    busy_day(&stack, 20).await;
    let first = stack.run(day()).await.unwrap();
    let delivered = stack.inbound_files();

    // A late write into the closed day (a clock far off, an operator's
    // mistake) must not make a second version of a delivered file.
    stack
        .created_at(datetime!(2026-11-20 23:00 +7), 5_000)
        .await;
    let again = stack.run(day()).await.unwrap();
    assert_eq!(
        again.files, first.files,
        "the archived manifest, not a new one"
    );
    assert!(again.delivered_now.is_empty(), "nothing left to deliver");

    // Tiki lost the file: clearing its delivery record re-sends the same bytes.
    for (name, _) in &delivered {
        std::fs::remove_file(stack.inbound.join(name)).unwrap();
    }
    forget_deliveries(&stack).await;
    let resent = stack.run(day()).await.unwrap();
    assert_eq!(resent.delivered_now.len(), first.files.len());
    assert_eq!(stack.inbound_files(), delivered, "byte for byte");
}

/// Deletes the day's delivery records, as an operator re-sending a day would.
async fn forget_deliveries(stack: &ReconStack) {
    let client = tikivip_it::emulator_client().await;
    for sk in stack
        .store()
        .deliveries(day())
        .await
        .unwrap()
        .into_iter()
        .map(|d| format!("DELIVERED#{}", d.file))
    {
        client
            .delete_item()
            .table_name(stack.store().table())
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S("RECON#20261120".into()),
            )
            .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_sftp_outage_after_archiving_leaves_the_day_for_the_rerun_to_deliver() {
    let mut stack = ReconStack::new(&[]).await;
    busy_day(&stack, 10).await;
    let port = stack.job.tiki.sftp.port;
    stack.job.tiki.sftp.port = unused_port();
    let failed = stack.run(day()).await;
    assert!(matches!(failed, Err(Error::Sftp(_))), "{failed:?}");
    assert!(stack.inbound_files().is_empty());
    let archived = stack
        .job
        .files
        .archive
        .list("reconciliation/20261120/")
        .await
        .unwrap();
    assert!(
        archived.iter().any(|k| k.ends_with("manifest.json")),
        "{archived:?}"
    );

    stack.job.tiki.sftp.port = port;
    let report = stack.run(day()).await.unwrap();
    assert_eq!(report.delivered_now.len(), 1);
    assert_eq!(stack.inbound_files().len(), 1);
}

#[tokio::test]
async fn an_upload_failing_mid_way_leaves_no_file_under_its_final_name_and_the_rerun_completes_it()
{
    let stack = ReconStack::new(&[("RECONCILIATION_ROWS_PER_FILE", "4")]).await;
    busy_day(&stack, 10).await;
    // The second file's temporary name is taken by a folder: its upload
    // fails after the first file is delivered.
    let second = format!("tikivip_{PARTNER}_20261120_2");
    let blocker = stack.inbound.join(format!("{second}.part"));
    std::fs::create_dir_all(blocker.join("x")).unwrap();
    let failed = stack.run(day()).await;
    assert!(failed.is_err(), "{failed:?}");
    let names: Vec<_> = stack.inbound_files().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, [format!("tikivip_{PARTNER}_20261120_1")]);

    std::fs::remove_dir_all(&blocker).unwrap();
    let report = stack.run(day()).await.unwrap();
    assert_eq!(
        report.delivered_now,
        [2, 3].map(|n| format!("tikivip_{PARTNER}_20261120_{n}")),
        "only what the failed run did not deliver"
    );
    assert_eq!(stack.inbound_files().len(), 3);
}

#[tokio::test]
async fn a_wrong_host_key_refuses_to_connect_and_delivers_nothing() {
    let mut stack = ReconStack::new(&[]).await;
    busy_day(&stack, 3).await;
    stack.job.tiki.sftp.host_key = another_host_key();
    let failed = stack.run(day()).await;
    assert!(
        matches!(
            failed,
            Err(Error::Sftp(tikivip_sftp::Error::HostKeyMismatch { .. }))
        ),
        "{failed:?}"
    );
    assert!(stack.inbound_files().is_empty());
    assert!(stack.store().deliveries(day()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_day_not_over_is_refused() {
    let stack = ReconStack::new(&[]).await;
    let request = reconciliation::RunRequest {
        day: Some(DAY.into()),
    };
    let refused = stack
        .job
        .run(&request, datetime!(2026-11-20 23:00 +7))
        .await;
    assert!(matches!(refused, Err(Error::DayNotOver(_))), "{refused:?}");
    let too_soon = stack
        .job
        .run(&request, datetime!(2026-11-21 00:01 +7))
        .await;
    assert!(
        matches!(too_soon, Err(Error::DayNotOver(_))),
        "within the clock skew"
    );
}

fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
