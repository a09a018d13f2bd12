//! Daily reconciliation with Tiki: which transactions make up a day, the file
//! that carries them to Tiki, and the comparison with Tiki's answer.
//!
//! A day's file is a pure function of what happened during that day. Every
//! money-changing write appends an immutable [`LedgerEntry`] to its day's
//! ledger, in the same transaction as the change; the day's rows are the last
//! entry of each transaction in that ledger, so regenerating a day later
//! produces the same bytes, whatever happened to its transactions since.

mod day;
mod file;
mod format;
mod ledger;
mod results;
#[cfg(test)]
mod testing;
mod time_format;

pub use day::{ReconDay, VIETNAM};
pub use file::{DayFileWriter, WrittenFile};
pub use format::{
    Column, CsvLayout, LineEnding, ReconciliationFormat, StatusNames, TIKI_MAX_ROWS_PER_FILE,
};
pub use ledger::{
    ChangeKind, DayRows, LedgerEntry, SETTLEMENT_VERSION, SHARD_COUNT, day_rows, shard_of,
};
pub use results::{Mismatch, MismatchKind, TikiRow, compare, read_tiki_rows};
pub use time_format::TimeFormat;

use crate::{TikiTransactionId, Timestamp, TransactionId, TransactionStatus, Vnd};

/// One row of a day's file: a transaction as it stood after its last change
/// of that day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconciliationRow {
    pub tiki_transaction_id: TikiTransactionId,
    pub transaction_id: TransactionId,
    pub amount: Vnd,
    pub status: TransactionStatus,
    /// Refunds do not add rows: a refunded payment stays SUCCESS, with the sum
    /// refunded so far in its own column.
    pub refunded_amount: Vnd,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
