//! Tiki's result files, and the comparison with our day.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use serde::Serialize;

use super::ReconciliationRow;
use super::format::{Column, CsvLayout, ReconciliationFormat};
use crate::{Error, TikiTransactionId, TransactionId, TransactionStatus, Vnd};

/// A row of Tiki's result file: Tiki's view of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TikiRow {
    pub tiki_transaction_id: TikiTransactionId,
    pub transaction_id: TransactionId,
    pub amount: Vnd,
    pub status: TransactionStatus,
    /// If Tiki's file carries the column.
    pub refunded_amount: Option<Vnd>,
}

/// Reads Tiki's result file in the agreed results layout. A malformed row
/// refuses the whole file, naming its line: a half-read file would hide
/// mismatches.
pub fn read_tiki_rows(
    format: &ReconciliationFormat,
    input: impl Read,
) -> Result<Vec<TikiRow>, Error> {
    let layout = format.results();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(layout.delimiter())
        .has_headers(layout.header())
        .trim(csv::Trim::All)
        .from_reader(input);
    if layout.header() {
        check_header(layout, reader.headers().map_err(|e| malformed(1, e))?)?;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            malformed(line, e)
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        rows.push(tiki_row(layout, &record).map_err(|reason| malformed(line, reason))?);
    }
    Ok(rows)
}

fn malformed(line: u64, reason: impl fmt::Display) -> Error {
    Error::File(format!("Tiki's result file, line {line}: {reason}"))
}

/// The header, where it names known columns, must name the configured ones:
/// columns read in the wrong order would compare the wrong values.
fn check_header(layout: &CsvLayout, header: &csv::StringRecord) -> Result<(), Error> {
    for (at, column) in layout.columns().iter().enumerate() {
        let found = header.get(at).unwrap_or("");
        if *column != Column::Skipped && found != column.name() {
            return Err(malformed(
                1,
                format!("column {} is {found:?}, the settings say {column}", at + 1),
            ));
        }
    }
    Ok(())
}

fn tiki_row(layout: &CsvLayout, record: &csv::StringRecord) -> Result<TikiRow, String> {
    let columns = layout.columns();
    if record.len() != columns.len() {
        return Err(format!(
            "{} values, {} columns expected",
            record.len(),
            columns.len()
        ));
    }
    let value = |wanted: Column| {
        columns
            .iter()
            .position(|c| *c == wanted)
            .and_then(|at| record.get(at))
    };
    let required = |wanted: Column| value(wanted).ok_or_else(|| format!("no {wanted}"));
    let amount = |text: &str, column: Column| {
        text.parse::<u64>()
            .ok()
            .and_then(|n| Vnd::new(n).ok())
            .ok_or_else(|| format!("{column} {text:?} is not an amount in VND"))
    };
    let status = required(Column::Status)?;
    Ok(TikiRow {
        tiki_transaction_id: TikiTransactionId::parse(required(Column::TikiTransactionId)?)
            .map_err(|e| e.to_string())?,
        transaction_id: TransactionId::parse(required(Column::TransactionId)?)
            .map_err(|e| e.to_string())?,
        amount: amount(
            required(Column::TransactionAmount)?,
            Column::TransactionAmount,
        )?,
        status: layout
            .statuses()
            .parse(status)
            .ok_or_else(|| format!("unknown status {status:?}"))?,
        refunded_amount: value(Column::RefundedAmount)
            .map(|text| amount(text, Column::RefundedAmount))
            .transpose()?,
    })
}

/// A transaction on which Tiki and we disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub transaction_id: TransactionId,
    pub tiki_transaction_id: TikiTransactionId,
    #[serde(flatten)]
    pub kind: MismatchKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "mismatch", rename_all = "snake_case")]
pub enum MismatchKind {
    /// In our file, not in Tiki's.
    MissingAtTiki,
    /// In Tiki's file, not in our day.
    MissingAtPartner,
    /// Listed more than once by Tiki.
    DuplicateAtTiki,
    TikiTransactionId {
        theirs: TikiTransactionId,
    },
    Amount {
        ours: Vnd,
        theirs: Vnd,
    },
    Status {
        ours: TransactionStatus,
        theirs: TransactionStatus,
    },
    RefundedAmount {
        ours: Vnd,
        theirs: Vnd,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (Tiki {}): ",
            self.transaction_id, self.tiki_transaction_id
        )?;
        match &self.kind {
            MismatchKind::MissingAtTiki => f.write_str("missing at Tiki"),
            MismatchKind::MissingAtPartner => f.write_str("missing at the partner"),
            MismatchKind::DuplicateAtTiki => f.write_str("listed twice by Tiki"),
            MismatchKind::TikiTransactionId { theirs } => {
                write!(f, "Tiki names it {theirs}")
            }
            MismatchKind::Amount { ours, theirs } => {
                write!(f, "amount {ours} VND here, {theirs} VND at Tiki")
            }
            MismatchKind::Status { ours, theirs } => write!(f, "{ours} here, {theirs} at Tiki"),
            MismatchKind::RefundedAmount { ours, theirs } => {
                write!(f, "refunded {ours} VND here, {theirs} VND at Tiki")
            }
        }
    }
}

/// Every disagreement between our day and Tiki's rows, ordered by
/// transaction id. Ours are streamed; Tiki's are held by id.
pub fn compare(
    ours: impl Iterator<Item = ReconciliationRow>,
    theirs: impl IntoIterator<Item = TikiRow>,
) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    let mut by_id: HashMap<TransactionId, TikiRow> = HashMap::new();
    for row in theirs {
        if let Some(earlier) = by_id.insert(row.transaction_id.clone(), row) {
            mismatches.push(Mismatch {
                transaction_id: earlier.transaction_id,
                tiki_transaction_id: earlier.tiki_transaction_id,
                kind: MismatchKind::DuplicateAtTiki,
            });
        }
    }
    for row in ours {
        let mismatch = |kind| Mismatch {
            transaction_id: row.transaction_id.clone(),
            tiki_transaction_id: row.tiki_transaction_id.clone(),
            kind,
        };
        let Some(tiki) = by_id.remove(&row.transaction_id) else {
            mismatches.push(mismatch(MismatchKind::MissingAtTiki));
            continue;
        };
        if tiki.tiki_transaction_id != row.tiki_transaction_id {
            mismatches.push(mismatch(MismatchKind::TikiTransactionId {
                theirs: tiki.tiki_transaction_id,
            }));
        }
        if tiki.amount != row.amount {
            mismatches.push(mismatch(MismatchKind::Amount {
                ours: row.amount,
                theirs: tiki.amount,
            }));
        }
        if tiki.status != row.status {
            mismatches.push(mismatch(MismatchKind::Status {
                ours: row.status,
                theirs: tiki.status,
            }));
        }
        if let Some(theirs) = tiki.refunded_amount.filter(|t| *t != row.refunded_amount) {
            mismatches.push(mismatch(MismatchKind::RefundedAmount {
                ours: row.refunded_amount,
                theirs,
            }));
        }
    }
    mismatches.extend(by_id.into_values().map(|tiki| Mismatch {
        transaction_id: tiki.transaction_id,
        tiki_transaction_id: tiki.tiki_transaction_id,
        kind: MismatchKind::MissingAtPartner,
    }));
    mismatches.sort_by(|a, b| a.transaction_id.cmp(&b.transaction_id));
    mismatches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconciliation::file::DayFileWriter;
    use crate::reconciliation::testing::{format_with, row};

    /// Our own file for `rows`, as bytes: Tiki's copy of it.
    fn our_file(rows: &[ReconciliationRow]) -> Vec<u8> {
        let bytes = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let day = "2023-04-14".parse().unwrap();
        let sink = bytes.clone();
        let mut writer = DayFileWriter::new(format_with(&[]), day, move |_: &str| {
            Ok(Shared(sink.clone()))
        });
        for r in rows {
            writer.write(r).unwrap();
        }
        writer.finish().unwrap();
        bytes.take()
    }

    struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn kinds(mismatches: &[Mismatch]) -> Vec<(String, MismatchKind)> {
        mismatches
            .iter()
            .map(|m| (m.transaction_id.to_string(), m.kind.clone()))
            .collect()
    }

    #[test]
    fn tikis_copy_of_our_own_file_shows_no_mismatch() {
        let rows: Vec<_> = (0..20).map(row).collect();
        let theirs = read_tiki_rows(&format_with(&[]), our_file(&rows).as_slice()).unwrap();
        assert_eq!(theirs.len(), 20);
        assert!(compare(rows.into_iter(), theirs).is_empty());
    }

    #[test]
    fn planted_mismatches_are_each_reported_and_nothing_else() {
        let rows: Vec<_> = (0..6).map(row).collect();
        let mut theirs = read_tiki_rows(&format_with(&[]), our_file(&rows).as_slice()).unwrap();
        theirs.remove(0); // missing at Tiki
        theirs[0].amount = Vnd::new(1).unwrap();
        theirs[1].status = TransactionStatus::Failure;
        theirs[2].refunded_amount = Some(Vnd::new(5).unwrap());
        let mut stranger = theirs[3].clone();
        stranger.transaction_id = TransactionId::parse("T-unknown").unwrap();
        theirs.push(stranger);
        let found = compare(rows.clone().into_iter(), theirs);
        let id = |n: u64| rows[n as usize].transaction_id.to_string();
        let mut expected = vec![
            (id(0), MismatchKind::MissingAtTiki),
            (
                id(1),
                MismatchKind::Amount {
                    ours: rows[1].amount,
                    theirs: Vnd::new(1).unwrap(),
                },
            ),
            (
                id(2),
                MismatchKind::Status {
                    ours: TransactionStatus::Success,
                    theirs: TransactionStatus::Failure,
                },
            ),
            (
                id(3),
                MismatchKind::RefundedAmount {
                    ours: Vnd::ZERO,
                    theirs: Vnd::new(5).unwrap(),
                },
            ),
            ("T-unknown".to_owned(), MismatchKind::MissingAtPartner),
        ];
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(kinds(&found), expected);
    }

    #[test]
    fn a_row_listed_twice_by_tiki_is_reported() {
        let rows: Vec<_> = (0..2).map(row).collect();
        let mut theirs = read_tiki_rows(&format_with(&[]), our_file(&rows).as_slice()).unwrap();
        theirs.push(theirs[0].clone());
        let found = compare(rows.into_iter(), theirs);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, MismatchKind::DuplicateAtTiki);
    }

    #[test]
    fn a_malformed_row_refuses_the_file_naming_its_line() {
        let rows: Vec<_> = (0..3).map(row).collect();
        let text = String::from_utf8(our_file(&rows)).unwrap();
        for (bad, why) in [
            (text.replacen(",100000,", ",12.5,", 1), "amount"),
            (text.replacen(",SUCCESS,", ",PAID,", 1), "status"),
            (text.replacen(",SUCCESS,", ",SUCCESS,extra,", 1), "values"),
        ] {
            match read_tiki_rows(&format_with(&[]), bad.as_bytes()) {
                Err(Error::File(message)) => {
                    assert!(message.contains("line 2"), "{why}: {message}");
                }
                other => panic!("{why}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_header_naming_other_columns_is_refused() {
        let rows: Vec<_> = (0..1).map(row).collect();
        let text = String::from_utf8(our_file(&rows)).unwrap();
        let swapped = text.replacen(
            "tiki_transaction_id,transaction_id",
            "transaction_id,tiki_transaction_id",
            1,
        );
        assert!(matches!(
            read_tiki_rows(&format_with(&[]), swapped.as_bytes()),
            Err(Error::File(_))
        ));
    }

    #[test]
    fn tikis_own_layout_is_read_from_its_settings() {
        let format = format_with(&[
            (
                "RECONCILIATION_RESULTS_COLUMNS",
                "transaction_id,tiki_transaction_id,transaction_amount,status,-",
            ),
            ("RECONCILIATION_RESULTS_DELIMITER", "tab"),
            ("RECONCILIATION_RESULTS_HEADER", "false"),
            ("RECONCILIATION_RESULTS_STATUS_SUCCESS", "OK"),
        ]);
        let r = row(0);
        let text = format!(
            "{}\t{}\t100000\tOK\tmatched by Tiki\n",
            r.transaction_id, r.tiki_transaction_id
        );
        let theirs = read_tiki_rows(&format, text.as_bytes()).unwrap();
        assert_eq!(theirs[0].status, TransactionStatus::Success);
        assert_eq!(theirs[0].refunded_amount, None);
        assert!(compare(std::iter::once(r), theirs).is_empty());
    }

    #[test]
    fn a_mismatch_reads_as_a_sentence() {
        let r = row(0);
        let m = Mismatch {
            transaction_id: r.transaction_id.clone(),
            tiki_transaction_id: r.tiki_transaction_id.clone(),
            kind: MismatchKind::Amount {
                ours: Vnd::new(10).unwrap(),
                theirs: Vnd::new(9).unwrap(),
            },
        };
        assert!(
            m.to_string().ends_with("amount 10 VND here, 9 VND at Tiki"),
            "{m}"
        );
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["mismatch"], "amount");
        assert_eq!(json["ours"], 10);
    }
}
