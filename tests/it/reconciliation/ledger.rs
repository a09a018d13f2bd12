//! The day ledger: every money-changing write appends to its day, in the same
//! write, and a day's rows are a pure function of that day.

use reconciliation::archive_day::write_day;
use tikivip_domain::TransactionStatus;
use tikivip_domain::reconciliation::{ReconDay, ReconciliationRow, day_rows};
use tikivip_it::reconciliation::*;
use tikivip_store::Store;
use time::macros::datetime;

async fn rows_of(store: &Store, day: ReconDay) -> Vec<ReconciliationRow> {
    let shards = store.ledger_shards(day);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let shards = shards
            .into_iter()
            .map(|s| s.blocking(runtime.clone()))
            .collect();
        day_rows(shards).collect::<Result<Vec<_>, _>>().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn every_money_changing_write_appends_to_its_days_ledger() {
    let store = tikivip_it::fresh_store().await;
    let day: ReconDay = "2026-11-20".parse().unwrap();
    let txn = created_at(&store, datetime!(2026-11-20 09:00 +7), 200_000).await;
    let txn = paid_at(&store, &txn, datetime!(2026-11-20 09:01 +7)).await;
    refunded_at(&store, &txn, 50_000, datetime!(2026-11-20 10:00 +7)).await;
    let rows = rows_of(&store, day).await;
    assert_eq!(rows.len(), 1, "one row per transaction: {rows:?}");
    let row = &rows[0];
    assert_eq!(row.transaction_id, txn.id);
    assert_eq!(
        row.status,
        TransactionStatus::Success,
        "a refund adds no row and keeps SUCCESS"
    );
    assert_eq!(row.refunded_amount.get(), 50_000);
    assert_eq!(row.updated_at, datetime!(2026-11-20 10:00 +7));
}

#[tokio::test]
async fn a_transaction_at_the_last_millisecond_and_one_at_midnight_land_in_their_own_days() {
    let store = tikivip_it::fresh_store().await;
    let late = created_at(&store, datetime!(2026-11-20 23:59:59.999 +7), 10_000).await;
    let early = created_at(&store, datetime!(2026-11-21 00:00:00.000 +7), 10_000).await;
    let ids = |rows: Vec<ReconciliationRow>| -> Vec<_> {
        rows.into_iter().map(|r| r.transaction_id).collect()
    };
    assert_eq!(
        ids(rows_of(&store, "2026-11-20".parse().unwrap()).await),
        vec![late.id]
    );
    assert_eq!(
        ids(rows_of(&store, "2026-11-21".parse().unwrap()).await),
        vec![early.id]
    );
}

#[tokio::test]
async fn a_refund_on_day_t_plus_2_changes_that_days_file_and_leaves_day_ts_bytes_unchanged() {
    let stack = ReconStack::new(&[]).await;
    let day_t: ReconDay = "2026-11-20".parse().unwrap();
    let day_t2: ReconDay = "2026-11-22".parse().unwrap();
    let txn = stack
        .created_at(datetime!(2026-11-20 12:00 +7), 300_000)
        .await;
    let txn = paid_at(stack.store(), &txn, datetime!(2026-11-20 12:05 +7)).await;
    let folder = tempfile::tempdir().unwrap();
    let before = write_day(
        &stack.job.files,
        day_t,
        folder.path().join("before"),
        Default::default(),
    )
    .await
    .unwrap();

    refunded_at(stack.store(), &txn, 100_000, datetime!(2026-11-22 08:00 +7)).await;

    let after = write_day(
        &stack.job.files,
        day_t,
        folder.path().join("after"),
        Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(before, after, "day T's files are the same bytes");
    let rows = rows_of(stack.store(), day_t2).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].refunded_amount.get(), 100_000);
    assert_eq!(rows[0].status, TransactionStatus::Success);
}

#[tokio::test]
async fn a_refused_write_leaves_no_ledger_entry() {
    let store = tikivip_it::fresh_store().await;
    let day: ReconDay = "2026-11-20".parse().unwrap();
    let txn = created_at(&store, datetime!(2026-11-20 09:00 +7), 10_000).await;
    // Not paid: a refund is refused, and the ledger holds the creation only.
    let refused = store
        .refund(
            &tikivip_domain::RefundRequest {
                tiki_transaction_id: txn.tiki_id.clone(),
                amount: tikivip_domain::Vnd::new(10_000).unwrap(),
                transaction_id: txn.id.clone(),
                reason: tikivip_domain::wire::Text::new("no").unwrap(),
                request_id: tikivip_domain::RequestId::parse("refused-1").unwrap(),
                origin: Default::default(),
            },
            datetime!(2026-11-20 10:00 +7),
        )
        .await;
    assert!(refused.is_err());
    let rows = rows_of(&store, day).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, TransactionStatus::Pending);
    assert_eq!(rows[0].updated_at, datetime!(2026-11-20 09:00 +7));
}

/// A settlement's entry is written from the payment result alone (nothing is
/// read before that write); its row still carries what the creation fixed.
async fn settled_row_carries_the_creation_facts(
    created: time::OffsetDateTime,
    paid: time::OffsetDateTime,
) {
    let store = tikivip_it::fresh_store().await;
    let txn = created_at(&store, created, 70_000).await;
    paid_at(&store, &txn, paid).await;
    let rows = rows_of(&store, ReconDay::of(paid)).await;
    assert_eq!(
        rows,
        vec![ReconciliationRow {
            tiki_transaction_id: txn.tiki_id.clone(),
            transaction_id: txn.id.clone(),
            amount: txn.amount,
            status: TransactionStatus::Success,
            refunded_amount: tikivip_domain::Vnd::ZERO,
            created_at: txn.created_at,
            updated_at: paid,
        }]
    );
}

#[tokio::test]
async fn a_settlement_on_its_creation_day_carries_tikis_id_and_the_creation_time() {
    settled_row_carries_the_creation_facts(
        datetime!(2026-11-20 09:00 +7),
        datetime!(2026-11-20 09:01 +7),
    )
    .await;
}

#[tokio::test]
async fn a_settlement_on_the_day_after_its_creation_carries_tikis_id_and_the_creation_time() {
    settled_row_carries_the_creation_facts(
        datetime!(2026-11-20 23:58 +7),
        datetime!(2026-11-21 00:02 +7),
    )
    .await;
}
