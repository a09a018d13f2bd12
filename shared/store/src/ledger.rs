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
    ChangeKind, LedgerEntry, ReconDay, ReconciliationRow, SETTLEMENT_VERSION, SHARD_COUNT, shard_of,
};
use tikivip_domain::{
    PaymentResult, TikiTransactionId, Timestamp, Transaction, TransactionId, TransactionStatus, Vnd,
};

use crate::codec::{Item, Reader, attr, n, s, timestamp};
use crate::schema::{PARTITION_KEY, SORT_KEY};
use crate::{Error, Store};

const KIND: &str = "change";
const VERSION: &str = "version";

pub(crate) fn ledger_partition(day: ReconDay, shard: u8) -> String {
    format!("LEDGER#{}#{shard:02}", day.compact())
}

/// What a change left behind, as every entry records it.
struct Change {
    transaction_id: TransactionId,
    kind: ChangeKind,
    version: u32,
    amount: Vnd,
    status: TransactionStatus,
    refunded_amount: Vnd,
    updated_at: Timestamp,
}

/// What a transaction's creation fixed for good. A settlement's entry lacks
/// them: the payment result's write comes before any read, and these never
/// change, so the reader takes them from the transaction.
#[derive(Clone)]
struct CreationFacts {
    tiki_transaction_id: TikiTransactionId,
    created_at: Timestamp,
}

impl Change {
    fn item(&self) -> Item {
        let day = ReconDay::of(self.updated_at);
        HashMap::from([
            (
                PARTITION_KEY.to_owned(),
                s(ledger_partition(day, shard_of(&self.transaction_id))),
            ),
            (
                SORT_KEY.to_owned(),
                s(format!("{}#{:05}", self.transaction_id, self.version)),
            ),
            (KIND.to_owned(), s(self.kind.as_str())),
            (
                VERSION.to_owned(),
                AttributeValue::N(self.version.to_string()),
            ),
            (
                attr::TRANSACTION_ID.to_owned(),
                s(self.transaction_id.as_str()),
            ),
            (attr::AMOUNT.to_owned(), n(self.amount)),
            (attr::STATUS.to_owned(), s(self.status.as_str())),
            (attr::REFUNDED_AMOUNT.to_owned(), n(self.refunded_amount)),
            (attr::UPDATED_AT.to_owned(), timestamp(self.updated_at)),
        ])
    }

    fn entry(self, facts: CreationFacts) -> LedgerEntry {
        LedgerEntry {
            row: ReconciliationRow {
                tiki_transaction_id: facts.tiki_transaction_id,
                transaction_id: self.transaction_id,
                amount: self.amount,
                status: self.status,
                refunded_amount: self.refunded_amount,
                created_at: facts.created_at,
                updated_at: self.updated_at,
            },
            kind: self.kind,
            version: self.version,
        }
    }
}

fn entry_item(entry: &LedgerEntry) -> Item {
    let row = &entry.row;
    let mut item = Change {
        transaction_id: row.transaction_id.clone(),
        kind: entry.kind,
        version: entry.version,
        amount: row.amount,
        status: row.status,
        refunded_amount: row.refunded_amount,
        updated_at: row.updated_at,
    }
    .item();
    item.insert(
        attr::TIKI_TRANSACTION_ID.to_owned(),
        s(row.tiki_transaction_id.as_str()),
    );
    item.insert(attr::CREATED_AT.to_owned(), timestamp(row.created_at));
    item
}

fn entry_from_item(item: &Item) -> Result<(Change, Option<CreationFacts>), Error> {
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
    let change = Change {
        transaction_id: r.parsed(attr::TRANSACTION_ID, TransactionId::parse)?,
        kind,
        version,
        amount: r.vnd(attr::AMOUNT)?,
        status: r.parsed(attr::STATUS, str::parse::<TransactionStatus>)?,
        refunded_amount: r.vnd(attr::REFUNDED_AMOUNT)?,
        updated_at: r.timestamp(attr::UPDATED_AT)?,
    };
    let facts = match item.get(attr::TIKI_TRANSACTION_ID) {
        None => None,
        Some(_) => Some(CreationFacts {
            tiki_transaction_id: r.parsed(attr::TIKI_TRANSACTION_ID, TikiTransactionId::parse)?,
            created_at: r.timestamp(attr::CREATED_AT)?,
        }),
    };
    Ok((change, facts))
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
        self.put_entry(entry_item(&LedgerEntry::after(after, kind)))
    }

    /// The ledger entry of a settlement, from the payment result alone (see
    /// [`CreationFacts`]); its write's condition makes the amount the
    /// transaction's and the transaction PENDING, so nothing was refunded.
    pub(crate) fn settled_ledger_put(
        &self,
        result: &PaymentResult,
        next: TransactionStatus,
        now: Timestamp,
    ) -> Result<TransactWriteItem, Error> {
        let change = Change {
            transaction_id: result.transaction_id.clone(),
            kind: ChangeKind::Settled,
            version: SETTLEMENT_VERSION,
            amount: result.amount,
            status: next,
            refunded_amount: Vnd::ZERO,
            updated_at: now,
        };
        self.put_entry(change.item())
    }

    fn put_entry(&self, item: Item) -> Result<TransactWriteItem, Error> {
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
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
            last_facts: None,
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
    /// The creation facts of the last transaction read: a settlement's entry
    /// follows its creation's when both fall on the day.
    last_facts: Option<(TransactionId, CreationFacts)>,
}

impl LedgerShard {
    /// The next entry, reading the next page when this one is used up.
    pub async fn next_entry(&mut self) -> Option<Result<LedgerEntry, Error>> {
        loop {
            if let Some(item) = self.page.next() {
                return Some(self.complete(&item).await);
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

    async fn complete(&mut self, item: &Item) -> Result<LedgerEntry, Error> {
        let (change, facts) = entry_from_item(item)?;
        let facts = match (facts, &self.last_facts) {
            (Some(facts), _) => facts,
            (None, Some((id, facts))) if *id == change.transaction_id => facts.clone(),
            (None, _) => {
                let txn = self
                    .store
                    .transaction(&change.transaction_id)
                    .await?
                    .ok_or_else(|| Error::corrupt("ledger entry", "its transaction is missing"))?;
                CreationFacts {
                    tiki_transaction_id: txn.tiki_id,
                    created_at: txn.created_at,
                }
            }
        };
        self.last_facts = Some((change.transaction_id.clone(), facts.clone()));
        Ok(change.entry(facts))
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
