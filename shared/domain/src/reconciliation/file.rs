//! A day's files, written as a stream and split at the row limit.

use std::io::{self, Write};

use sha2::{Digest, Sha256};

use super::format::{Column, LineEnding, ReconciliationFormat};
use super::time_format::push_u64;
use super::{ReconDay, ReconciliationRow};
use crate::Error;

/// A file once written: what the archive and the delivery need to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenFile {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    /// Hex, of the file's bytes.
    pub sha256: String,
}

/// Counts and hashes what goes through it to `inner`.
struct Digesting<W> {
    inner: W,
    bytes: u64,
    sha256: Sha256,
}

impl<W: Write> Write for Digesting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.bytes += written as u64;
        self.sha256.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct OpenFile<W: Write> {
    name: String,
    rows: u64,
    csv: csv::Writer<Digesting<W>>,
}

/// Writes a day's rows into `tikivip_{partner}_{YYYYMMDD}_{n}` files of at
/// most `rows_per_file` rows each, every file with the header if there is
/// one. `open` makes the sink of each file by name. Memory holds one row
/// and the writers' buffers, however many rows the day has.
///
/// A day without rows still gets its file `_1` (the header alone), so Tiki
/// can tell "nothing happened" from "nothing arrived".
pub struct DayFileWriter<F, W: Write> {
    format: ReconciliationFormat,
    day: ReconDay,
    open: F,
    current: Option<OpenFile<W>>,
    written: Vec<WrittenFile>,
    /// One reusable buffer per column: no allocation per row.
    fields: Vec<Vec<u8>>,
}

impl<F, W> DayFileWriter<F, W>
where
    F: FnMut(&str) -> io::Result<W>,
    W: Write,
{
    pub fn new(format: ReconciliationFormat, day: ReconDay, open: F) -> Self {
        let fields = vec![Vec::with_capacity(64); format.file().columns().len()];
        DayFileWriter {
            format,
            day,
            open,
            current: None,
            written: Vec::new(),
            fields,
        }
    }

    pub fn write(&mut self, row: &ReconciliationRow) -> Result<(), Error> {
        let full = self
            .current
            .as_ref()
            .is_none_or(|file| file.rows >= u64::from(self.format.rows_per_file()));
        if full {
            self.close_current()?;
            self.open_next()?;
        }
        let layout = self.format.file();
        for (field, column) in self.fields.iter_mut().zip(layout.columns()) {
            field.clear();
            match column {
                Column::TikiTransactionId => {
                    field.extend_from_slice(row.tiki_transaction_id.as_str().as_bytes());
                }
                Column::TransactionId => {
                    field.extend_from_slice(row.transaction_id.as_str().as_bytes());
                }
                Column::TransactionAmount => push_u64(field, row.amount.get()),
                Column::Status => {
                    field.extend_from_slice(layout.statuses().name(row.status).as_bytes());
                }
                Column::CreatedAt => layout.time_format().write(row.created_at, field)?,
                Column::UpdatedAt => layout.time_format().write(row.updated_at, field)?,
                Column::RefundedAmount => push_u64(field, row.refunded_amount.get()),
                Column::Skipped => {}
            }
        }
        let Some(file) = self.current.as_mut() else {
            return Err(Error::File("no file open".into()));
        };
        file.csv
            .write_record(&self.fields)
            .map_err(|e| write_failed(&file.name, e))?;
        file.rows += 1;
        Ok(())
    }

    /// Closes the last file; the files written, in order.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, Error> {
        if self.current.is_none() && self.written.is_empty() {
            self.open_next()?;
        }
        self.close_current()?;
        Ok(self.written)
    }

    fn open_next(&mut self) -> Result<(), Error> {
        let counter = u32::try_from(self.written.len() + 1)
            .map_err(|_| Error::File("too many files for one day".into()))?;
        let name = self.format.file_name(self.day, counter);
        let sink = (self.open)(&name).map_err(|e| write_failed(&name, e.into()))?;
        let layout = self.format.file();
        let terminator = match self.format.line_ending() {
            LineEnding::Lf => csv::Terminator::Any(b'\n'),
            LineEnding::Crlf => csv::Terminator::CRLF,
        };
        let mut csv = csv::WriterBuilder::new()
            .delimiter(layout.delimiter())
            .terminator(terminator)
            .quote_style(csv::QuoteStyle::Necessary)
            .buffer_capacity(64 * 1024)
            .from_writer(Digesting {
                inner: sink,
                bytes: 0,
                sha256: Sha256::new(),
            });
        if layout.header() {
            csv.write_record(layout.columns().iter().map(|c| c.name()))
                .map_err(|e| write_failed(&name, e))?;
        }
        self.current = Some(OpenFile { name, rows: 0, csv });
        Ok(())
    }

    fn close_current(&mut self) -> Result<(), Error> {
        let Some(file) = self.current.take() else {
            return Ok(());
        };
        let digesting = file
            .csv
            .into_inner()
            .map_err(|e| write_failed(&file.name, e.into_error().into()))?;
        self.written.push(WrittenFile {
            name: file.name,
            rows: file.rows,
            bytes: digesting.bytes,
            sha256: hex::encode(digesting.sha256.finalize()),
        });
        Ok(())
    }
}

fn write_failed(name: &str, e: csv::Error) -> Error {
    Error::File(format!("writing {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconciliation::testing::{format_with, row};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;

    type Files = Rc<RefCell<HashMap<String, Vec<u8>>>>;

    /// A sink per file, kept in memory.
    struct Kept {
        name: String,
        files: Files,
    }

    impl Write for Kept {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.files
                .borrow_mut()
                .entry(self.name.clone())
                .or_default()
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn day() -> ReconDay {
        "2023-04-14".parse().unwrap()
    }

    fn write_all(format: ReconciliationFormat, rows: u64) -> (Vec<WrittenFile>, Files) {
        let files: Files = Rc::default();
        let sinks = files.clone();
        let mut writer = DayFileWriter::new(format, day(), move |name: &str| {
            sinks.borrow_mut().insert(name.to_owned(), Vec::new());
            Ok(Kept {
                name: name.to_owned(),
                files: sinks.clone(),
            })
        });
        for n in 0..rows {
            writer.write(&row(n)).unwrap();
        }
        (writer.finish().unwrap(), files)
    }

    /// Counts rows without keeping them: Tiki's real limit, fast.
    fn count_files(rows: u64) -> Vec<WrittenFile> {
        let mut writer = DayFileWriter::new(format_with(&[]), day(), |_: &str| Ok(io::sink()));
        let one = row(1);
        for _ in 0..rows {
            writer.write(&one).unwrap();
        }
        writer.finish().unwrap()
    }

    #[test]
    fn exactly_500000_rows_make_one_file_and_500001_make_two() {
        let files = count_files(500_000);
        assert_eq!(files.iter().map(|f| f.rows).collect::<Vec<_>>(), [500_000]);
        let files = count_files(500_001);
        assert_eq!(
            files.iter().map(|f| f.rows).collect::<Vec<_>>(),
            [500_000, 1]
        );
        assert_eq!(files[1].name, "tikivip_vnptmoney_20230414_2");
    }

    #[test]
    fn a_split_day_has_every_row_exactly_once() {
        let (written, files) = write_all(
            format_with(&[("RECONCILIATION_ROWS_PER_FILE", "400")]),
            1_000,
        );
        assert_eq!(
            written.iter().map(|f| f.rows).collect::<Vec<_>>(),
            [400, 400, 200]
        );
        let files = files.borrow();
        let mut ids = Vec::new();
        for file in &written {
            let text = String::from_utf8(files[&file.name].clone()).unwrap();
            let mut lines = text.lines();
            assert!(
                lines.next().unwrap().starts_with("tiki_transaction_id,"),
                "a header in each"
            );
            ids.extend(lines.map(|l| l.split(',').nth(1).unwrap().to_owned()));
        }
        let expected: Vec<String> = (0..1_000)
            .map(|n| row(n).transaction_id.to_string())
            .collect();
        assert_eq!(ids, expected);
    }

    #[test]
    fn the_same_rows_always_make_the_same_bytes() {
        let (first, _) = write_all(format_with(&[]), 50);
        let (again, _) = write_all(format_with(&[]), 50);
        assert_eq!(first, again);
        let (other, _) = write_all(format_with(&[]), 51);
        assert_ne!(first[0].sha256, other[0].sha256);
    }

    #[test]
    fn the_recorded_size_and_hash_are_those_of_the_bytes_written() {
        let (written, files) = write_all(format_with(&[]), 10);
        let bytes = &files.borrow()[&written[0].name];
        assert_eq!(written[0].bytes, bytes.len() as u64);
        assert_eq!(written[0].sha256, hex::encode(Sha256::digest(bytes)));
    }

    #[test]
    fn an_empty_day_gives_one_file_with_the_header_only() {
        let (written, files) = write_all(format_with(&[]), 0);
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].name, "tikivip_vnptmoney_20230414_1");
        assert_eq!(written[0].rows, 0);
        assert_eq!(
            String::from_utf8(files.borrow()[&written[0].name].clone()).unwrap(),
            "tiki_transaction_id,transaction_id,transaction_amount,status,created_at,updated_at,refunded_amount\n"
        );
    }

    #[test]
    fn a_row_is_written_in_the_agreed_columns_and_time_format() {
        let (written, files) = write_all(format_with(&[]), 1);
        let text = String::from_utf8(files.borrow()[&written[0].name].clone()).unwrap();
        let line = text.lines().nth(1).unwrap();
        let r = row(0);
        assert_eq!(
            line,
            format!(
                "{},{},100000,SUCCESS,2023-04-14T08:00:00.000+07:00,2023-04-14T08:00:00.000+07:00,0",
                r.tiki_transaction_id, r.transaction_id
            )
        );
    }

    #[test]
    fn other_settings_change_the_delimiter_line_ending_and_statuses() {
        let (written, files) = write_all(
            format_with(&[
                ("RECONCILIATION_DELIMITER", ";"),
                ("RECONCILIATION_LINE_ENDING", "crlf"),
                ("RECONCILIATION_HEADER", "false"),
                ("RECONCILIATION_STATUS_SUCCESS", "PAID"),
                ("RECONCILIATION_TIME_FORMAT", "unix_millis"),
            ]),
            1,
        );
        let text = String::from_utf8(files.borrow()[&written[0].name].clone()).unwrap();
        assert!(text.ends_with("\r\n"), "{text:?}");
        let fields: Vec<&str> = text.trim_end().split(';').collect();
        assert_eq!(fields[3], "PAID");
        assert_eq!(fields[4], "1681434000000");
    }

    #[test]
    fn a_value_holding_the_delimiter_or_a_quote_is_quoted() {
        let format = format_with(&[("RECONCILIATION_DELIMITER", "-")]);
        let (written, files) = write_all(format, 1);
        let text = String::from_utf8(files.borrow()[&written[0].name].clone()).unwrap();
        // The dates hold `-`, the delimiter here: they are quoted.
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .contains("\"2023-04-14T08:00:00.000+07:00\""),
            "{text}"
        );
    }

    #[test]
    fn a_failing_sink_fails_the_write() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::Error::other("disk full"))
            }
        }
        let mut writer = DayFileWriter::new(format_with(&[]), day(), |_: &str| Ok(Broken));
        writer.write(&row(0)).unwrap_or(());
        assert!(matches!(writer.finish(), Err(Error::File(_))));
    }
}
