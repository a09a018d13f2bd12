//! The day ledger behind reconciliation: one immutable entry per
//! money-changing write, put by that write's own `TransactWriteItems`, so a
//! day's file never depends on a scan or on what happened after the day.
//!
//! | `pk` | `sk` |
//! |---|---|
//! | `LEDGER#{YYYYMMDD}#{shard:02}` | `{transaction_id}#{version:05}` |
//!
//! Transaction ids are fixed-width, so each shard's sort key order is
//! transaction id, then version: the order [`day_rows`] merges.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use tikivip_domain::reconciliation::{
    ChangeKind, LedgerEntry, ReconDay, ReconciliationRow, SHARD_COUNT,
};
use tikivip_domain::{TikiTransactionId, Transaction, TransactionId, TransactionStatus};

use crate::codec::{Item, Reader, attr, n, s, timestamp};
use crate::schema::{PARTITION_KEY, SORT_KEY};
use crate::{Error, Store};

const KIND: &str = "change";
const VERSION: &str = "version";

pub(crate) fn ledger_partition(day: ReconDay, shard: u8) -> String {
    format!("LEDGER#{}#{shard:02}", day.compact())
}

fn entry_item(entry: &LedgerEntry) -> Item {
    let row = &entry.row;
    HashMap::from([
        (
            PARTITION_KEY.to_owned(),
            s(ledger_partition(entry.day(), entry.shard())),
        ),
        (
            SORT_KEY.to_owned(),
            s(format!("{}#{:05}", row.transaction_id, entry.version)),
        ),
        (KIND.to_owned(), s(entry.kind.as_str())),
        (
            VERSION.to_owned(),
            AttributeValue::N(entry.version.to_string()),
        ),
        (
            attr::TRANSACTION_ID.to_owned(),
            s(row.transaction_id.as_str()),
        ),
        (
            attr::TIKI_TRANSACTION_ID.to_owned(),
            s(row.tiki_transaction_id.as_str()),
        ),
        (attr::AMOUNT.to_owned(), n(row.amount)),
        (attr::STATUS.to_owned(), s(row.status.as_str())),
        (attr::REFUNDED_AMOUNT.to_owned(), n(row.refunded_amount)),
        (attr::CREATED_AT.to_owned(), timestamp(row.created_at)),
        (attr::UPDATED_AT.to_owned(), timestamp(row.updated_at)),
    ])
}

fn entry_from_item(item: &Item) -> Result<LedgerEntry, Error> {
    let r = Reader::new(item, "ledger entry");
    let kind = match r.s(KIND)? {
        "CREATED" => ChangeKind::Created,
        "SETTLED" => ChangeKind::Settled,
        "REFUNDED" => ChangeKind::Refunded,
        "REFUNDED_BY_OPERATOR" => ChangeKind::RefundedByOperator,
        other => {
            return Err(Error::corrupt(
                "ledger entry",
                format!("unknown change {other}"),
            ));
        }
    };
    let version = match item.get(VERSION) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| Error::corrupt("ledger entry", "version is not a number"))?;
    Ok(LedgerEntry {
        row: ReconciliationRow {
            tiki_transaction_id: r.parsed(attr::TIKI_TRANSACTION_ID, TikiTransactionId::parse)?,
            transaction_id: r.parsed(attr::TRANSACTION_ID, TransactionId::parse)?,
            amount: r.vnd(attr::AMOUNT)?,
            status: r.parsed(attr::STATUS, str::parse::<TransactionStatus>)?,
            refunded_amount: r.vnd(attr::REFUNDED_AMOUNT)?,
            created_at: r.timestamp(attr::CREATED_AT)?,
            updated_at: r.timestamp(attr::UPDATED_AT)?,
        },
        kind,
        version,
    })
}

impl Store {
    /// The ledger entry of a write that leaves `after` behind, to go into
    /// that write's own `TransactWriteItems`. Unconditional: the write's
    /// condition on the transaction makes each version happen once.
    pub(crate) fn ledger_put(
        &self,
        after: &Transaction,
        kind: ChangeKind,
    ) -> Result<TransactWriteItem, Error> {
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(entry_item(&LedgerEntry::after(after, kind))))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// One shard of a day's ledger, in sort key order, page by page.
    pub fn ledger_shard(&self, day: ReconDay, shard: u8) -> LedgerShard {
        LedgerShard {
            store: self.clone(),
            partition: ledger_partition(day, shard),
            page: Vec::new().into_iter(),
            next_page: Some(None),
        }
    }

    /// Every shard of a day's ledger, for [`day_rows`](tikivip_domain::reconciliation::day_rows).
    pub fn ledger_shards(&self, day: ReconDay) -> Vec<LedgerShard> {
        (0..SHARD_COUNT)
            .map(|shard| self.ledger_shard(day, shard))
            .collect()
    }
}

/// A shard's entries, read a page (up to 1 MB) at a time with strongly
/// consistent queries. Pages come through [`LedgerShard::next_page`]; memory
/// holds one page per shard.
pub struct LedgerShard {
    store: Store,
    partition: String,
    page: std::vec::IntoIter<Item>,
    /// `None` once the last page is read; `Some(None)` before the first.
    next_page: Option<Option<Item>>,
}

impl LedgerShard {
    /// The next entry, reading the next page when this one is used up.
    pub async fn next_entry(&mut self) -> Option<Result<LedgerEntry, Error>> {
        loop {
            if let Some(item) = self.page.next() {
                return Some(entry_from_item(&item));
            }
            let start = self.next_page.take()?;
            let query = self
                .store
                .client
                .query()
                .table_name(&self.store.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(self.partition.clone()))
                .set_exclusive_start_key(start)
                .send()
                .await;
            match query {
                Ok(output) => {
                    self.page = output.items.unwrap_or_default().into_iter();
                    self.next_page = output.last_evaluated_key.map(Some);
                }
                Err(err) => return Some(Err(err.into())),
            }
        }
    }

    /// A blocking iterator over the shard for the synchronous merge, driving
    /// the queries on `runtime`. Call from a blocking thread
    /// (`spawn_blocking`), never from inside the runtime.
    pub fn blocking(
        self,
        runtime: tokio::runtime::Handle,
    ) -> impl Iterator<Item = Result<LedgerEntry, Error>> {
        let mut shard = self;
        std::iter::from_fn(move || runtime.block_on(shard.next_entry()))
    }
}
