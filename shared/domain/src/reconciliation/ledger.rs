use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::iter::Peekable;

use super::{ReconDay, ReconciliationRow};
use crate::{Timestamp, Transaction, TransactionId};

/// Each day's ledger is spread over this many partitions, so that a busy day
/// never makes a hot partition; a day is read by querying every shard.
pub const SHARD_COUNT: u8 = 16;

/// The version a settlement leaves: it is always the first change after the
/// creation (version 0), since only a PENDING transaction settles.
pub const SETTLEMENT_VERSION: u32 = 1;

/// The change a ledger entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Created,
    Settled,
    Refunded,
    /// A refund an operator made by hand and recorded afterwards.
    RefundedByOperator,
}

impl ChangeKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "CREATED",
            ChangeKind::Settled => "SETTLED",
            ChangeKind::Refunded => "REFUNDED",
            ChangeKind::RefundedByOperator => "REFUNDED_BY_OPERATOR",
        }
    }
}

/// An immutable record of one money-changing write: the transaction as that
/// write left it, on the day the write happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub row: ReconciliationRow,
    pub kind: ChangeKind,
    /// The transaction's version after the change: 0 when created, +1 when
    /// settled, +1 for each refund. The same write's condition makes each
    /// version happen once, so entries of one transaction are totally ordered
    /// without trusting clocks.
    pub version: u32,
}

impl LedgerEntry {
    /// The entry for `txn` as the write of `kind` leaves it, at `txn.updated_at`.
    pub fn after(txn: &Transaction, kind: ChangeKind) -> LedgerEntry {
        LedgerEntry {
            row: ReconciliationRow {
                tiki_transaction_id: txn.tiki_id.clone(),
                transaction_id: txn.id.clone(),
                amount: txn.amount,
                status: txn.status,
                refunded_amount: txn.refunded,
                created_at: txn.created_at,
                updated_at: txn.updated_at,
            },
            kind,
            version: version_of(txn),
        }
    }

    /// The day whose file this change belongs to.
    pub fn day(&self) -> ReconDay {
        ReconDay::of(self.at())
    }

    pub fn at(&self) -> Timestamp {
        self.row.updated_at
    }

    pub fn shard(&self) -> u8 {
        shard_of(&self.row.transaction_id)
    }
}

fn version_of(txn: &Transaction) -> u32 {
    let settled = if txn.status.is_final() {
        SETTLEMENT_VERSION
    } else {
        0
    };
    settled.saturating_add(u32::try_from(txn.refunds.len()).unwrap_or(u32::MAX))
}

/// The shard of a transaction's entries: FNV-1a of its id, stable across
/// builds and platforms (a file regenerated later must read the same shards).
pub fn shard_of(id: &TransactionId) -> u8 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in id.as_str().bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % u32::from(SHARD_COUNT)) as u8
}

/// A day's rows from its shards, streaming: each shard yields its entries
/// ordered by transaction id, then version (the order of the store's sort
/// key); the result is every transaction of the day once, in transaction-id
/// order, as its last entry of the day left it. Memory holds one entry per
/// shard, however long the day.
pub fn day_rows<I, E>(shards: Vec<I>) -> DayRows<I, E>
where
    I: Iterator<Item = Result<LedgerEntry, E>>,
{
    let mut merge = DayRows {
        shards: shards.into_iter().map(Iterator::peekable).collect(),
        heads: BinaryHeap::new(),
        failed: None,
    };
    for index in 0..merge.shards.len() {
        merge.enqueue(index);
    }
    merge
}

/// The iterator of [`day_rows`].
pub struct DayRows<I: Iterator<Item = Result<LedgerEntry, E>>, E> {
    shards: Vec<Peekable<I>>,
    /// The next transaction id of each shard that has one, smallest first.
    heads: BinaryHeap<Reverse<(TransactionId, usize)>>,
    failed: Option<E>,
}

impl<I: Iterator<Item = Result<LedgerEntry, E>>, E> DayRows<I, E> {
    fn enqueue(&mut self, index: usize) {
        match self.shards[index].peek() {
            Some(Ok(entry)) => {
                let id = entry.row.transaction_id.clone();
                self.heads.push(Reverse((id, index)));
            }
            Some(Err(_)) => {
                if let Some(Err(err)) = self.shards[index].next() {
                    self.failed.get_or_insert(err);
                }
            }
            None => {}
        }
    }

    /// The last entry of the transaction at the head of shard `index`.
    fn last_of(&mut self, index: usize, id: &TransactionId) -> Option<LedgerEntry> {
        let shard = &mut self.shards[index];
        let mut last = None;
        while let Some(Ok(entry)) = shard.peek() {
            if &entry.row.transaction_id != id {
                break;
            }
            last = shard.next().and_then(Result::ok);
        }
        last
    }
}

impl<I: Iterator<Item = Result<LedgerEntry, E>>, E> Iterator for DayRows<I, E> {
    type Item = Result<ReconciliationRow, E>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(err) = self.failed.take() {
            self.heads.clear();
            return Some(Err(err));
        }
        let Reverse((id, index)) = self.heads.pop()?;
        let last = self.last_of(index, &id);
        self.enqueue(index);
        match last {
            Some(entry) => Some(Ok(entry.row)),
            None => self.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        NewTransaction, Refund, RefundId, RequestId, TikiTransactionId, TransactionStatus, Vnd,
    };
    use time::macros::datetime;

    fn created(at: Timestamp) -> Transaction {
        NewTransaction {
            id: TransactionId::generate(),
            tiki_id: TikiTransactionId::parse(format!("tiki-{}", fastrand_id())).unwrap(),
            amount: Vnd::new(100_000).unwrap(),
            description: None,
            customer: None,
            redirect_url: None,
            created_at: at,
        }
        .into_pending()
    }

    fn fastrand_id() -> String {
        uuid::Uuid::now_v7().simple().to_string()
    }

    fn settled(mut txn: Transaction, at: Timestamp) -> Transaction {
        txn.status = TransactionStatus::Success;
        txn.updated_at = at;
        txn
    }

    fn refunded(txn: Transaction, amount: u64, at: Timestamp) -> Transaction {
        txn.with_refund(Refund {
            refund_id: RefundId::generate(),
            request_id: RequestId::parse(fastrand_id()).unwrap(),
            amount: Vnd::new(amount).unwrap(),
            reason: crate::wire::Text::new("asked").unwrap(),
            created_at: at,
            origin: Default::default(),
        })
        .unwrap()
    }

    /// The entries of `entries` split into shards, each in the store's order.
    fn sharded(entries: &[LedgerEntry]) -> Vec<std::vec::IntoIter<Result<LedgerEntry, String>>> {
        (0..SHARD_COUNT)
            .map(|shard| {
                let mut own: Vec<LedgerEntry> = entries
                    .iter()
                    .filter(|e| e.shard() == shard)
                    .cloned()
                    .collect();
                own.sort_by(|a, b| {
                    (&a.row.transaction_id, a.version).cmp(&(&b.row.transaction_id, b.version))
                });
                own.into_iter().map(Ok).collect::<Vec<_>>().into_iter()
            })
            .collect()
    }

    #[test]
    fn every_version_of_a_transaction_is_one_more_than_the_last() {
        let at = datetime!(2023-04-14 10:00 +7);
        let txn = created(at);
        assert_eq!(LedgerEntry::after(&txn, ChangeKind::Created).version, 0);
        let txn = settled(txn, at);
        assert_eq!(LedgerEntry::after(&txn, ChangeKind::Settled).version, 1);
        let txn = refunded(txn, 1_000, at);
        assert_eq!(LedgerEntry::after(&txn, ChangeKind::Refunded).version, 2);
    }

    #[test]
    fn a_change_belongs_to_the_vietnamese_day_it_happened_on() {
        let txn = created(datetime!(2023-04-14 23:59:59.999 +7));
        let late = settled(txn, datetime!(2023-04-15 00:00:00.000 +7));
        assert_eq!(
            LedgerEntry::after(&late, ChangeKind::Settled)
                .day()
                .compact(),
            "20230415"
        );
    }

    #[test]
    fn shards_are_stable_and_spread() {
        let id = TransactionId::parse("T0190000000000000000000000000000").unwrap();
        assert_eq!(shard_of(&id), shard_of(&id.clone()));
        let mut used = [false; SHARD_COUNT as usize];
        for _ in 0..1_000 {
            used[shard_of(&TransactionId::generate()) as usize] = true;
        }
        assert!(used.iter().all(|u| *u), "every shard is used");
    }

    #[test]
    fn a_day_has_each_transaction_once_as_its_last_change_left_it() {
        let at = datetime!(2023-04-14 09:00 +7);
        let mut entries = Vec::new();
        let mut expected = Vec::new();
        for i in 0..200 {
            let txn = created(at);
            entries.push(LedgerEntry::after(&txn, ChangeKind::Created));
            let txn = if i % 2 == 0 {
                let txn = settled(txn, at);
                entries.push(LedgerEntry::after(&txn, ChangeKind::Settled));
                if i % 4 == 0 {
                    let txn = refunded(txn, 500, at);
                    entries.push(LedgerEntry::after(&txn, ChangeKind::Refunded));
                    txn
                } else {
                    txn
                }
            } else {
                txn
            };
            expected.push(LedgerEntry::after(&txn, ChangeKind::Created).row);
        }
        expected.sort_by(|a, b| a.transaction_id.cmp(&b.transaction_id));
        let rows: Vec<_> = day_rows(sharded(&entries))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, expected);
    }

    #[test]
    fn a_day_without_changes_has_no_rows() {
        assert_eq!(day_rows(sharded(&[])).count(), 0);
    }

    #[test]
    fn a_failing_shard_fails_the_day_instead_of_leaving_rows_out() {
        let txn = created(datetime!(2023-04-14 09:00 +7));
        let mut shards = sharded(&[LedgerEntry::after(&txn, ChangeKind::Created)]);
        shards.push(vec![Err("throttled".to_owned())].into_iter());
        let results: Vec<_> = day_rows(shards).collect();
        assert!(results.iter().any(Result::is_err), "{results:?}");
    }
}
