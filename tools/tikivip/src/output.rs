//! How the command line prints what it lists, and every time it prints.
//!
//! - [`time`]: every printed time is RFC 3339 in UTC, with its offset written
//!   `Z` (`2026-12-05T08:30:00.123456789Z`; a fraction only when there is one).
//!   It is the form of the API's answers, so a time the CLI prints can be
//!   compared with one from a look-up or a log line as text. The table's
//!   stored form (fixed-width, nanoseconds always written) is never printed.
//! - [`Listing`]: the rows of a command that lists things, printed as
//!   `--output json` (JSON Lines: one object per row, for `jq`) or
//!   `--output table` (aligned columns under a header). Without `--output`,
//!   a table on a terminal and JSON Lines otherwise (a pipe, a file).

use std::io::IsTerminal;

use clap::{Args, ValueEnum};
use serde_json::Value;
use tikivip_domain::Timestamp;
use time::UtcOffset;
use time::format_description::well_known::Rfc3339;

/// A time as the CLI prints it: RFC 3339, in UTC (`Z`). A time whose UTC form
/// RFC 3339 cannot write (outside years 0–9999) keeps its own offset.
pub fn time(at: Timestamp) -> String {
    at.checked_to_offset(UtcOffset::UTC)
        .and_then(|utc| utc.format(&Rfc3339).ok())
        .or_else(|| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| at.unix_timestamp_nanos().to_string())
}

/// How a listing is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// One JSON object per line (JSON Lines), for `jq` and scripts.
    Json,
    /// Aligned columns under a header, for people.
    Table,
}

#[derive(Args, Debug, Clone, Copy)]
pub struct OutputArgs {
    /// [default: table on a terminal, json otherwise]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output: Option<Output>,
}

impl OutputArgs {
    /// The format asked for; without one, a table for a person at a terminal
    /// and JSON Lines for a pipe or a file.
    pub fn format(&self) -> Output {
        self.output.unwrap_or_else(|| {
            if std::io::stdout().is_terminal() {
                Output::Table
            } else {
                Output::Json
            }
        })
    }
}

/// Rows under named columns. A cell is JSON: a string, a number, or `null`
/// for nothing (a `-` in a table).
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    columns: Vec<&'static str>,
    rows: Vec<Vec<Value>>,
}

impl Listing {
    pub fn new(columns: &[&'static str]) -> Self {
        Listing {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row: one cell per column, in the columns' order.
    pub fn push(&mut self, cells: Vec<Value>) {
        assert_eq!(
            cells.len(),
            self.columns.len(),
            "one cell per column of {:?}",
            self.columns
        );
        self.rows.push(cells);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The listing as `format` prints it, each line ending with a newline.
    pub fn render(&self, format: Output) -> String {
        match format {
            Output::Json => self.json_lines(),
            Output::Table => self.table(),
        }
    }

    /// Prints the listing to stdout.
    pub fn print(&self, format: Output) {
        print!("{}", self.render(format));
    }

    /// One object per row, its keys in the columns' order.
    fn json_lines(&self) -> String {
        self.rows
            .iter()
            .map(|row| {
                let fields: Vec<String> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(column, cell)| format!("{}:{cell}", Value::from(*column)))
                    .collect();
                format!("{{{}}}\n", fields.join(","))
            })
            .collect()
    }

    /// A header line and one line per row; each column as wide as its widest
    /// cell, numbers aligned right, two spaces between columns.
    fn table(&self) -> String {
        let header: Vec<String> = self.columns.iter().map(|c| (*c).to_owned()).collect();
        let body: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(cell_text).collect())
            .collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                std::iter::once(&header)
                    .chain(&body)
                    .map(|line| line[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let numeric: Vec<bool> = (0..self.columns.len())
            .map(|i| !self.rows.is_empty() && self.rows.iter().all(|row| !row[i].is_string()))
            .collect();
        std::iter::once(&header)
            .chain(&body)
            .map(|line| {
                let cells: Vec<String> = line
                    .iter()
                    .enumerate()
                    .map(|(i, text)| match numeric[i] {
                        true => format!("{text:>width$}", width = widths[i]),
                        false => format!("{text:<width$}", width = widths[i]),
                    })
                    .collect();
                format!("{}\n", cells.join("  ").trim_end())
            })
            .collect()
    }
}

/// A cell as a table shows it: text without quotes, on one line.
fn cell_text(cell: &Value) -> String {
    let text = match cell {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn listing() -> Listing {
        let mut listing = Listing::new(&["transaction_id", "amount", "reason"]);
        listing.push(vec![
            json!("T-1"),
            json!(99000),
            json!("Tiki refused:\ncode 3"),
        ]);
        listing.push(vec![json!("T-22222"), json!(5), Value::Null]);
        listing
    }

    #[test]
    fn every_printed_time_is_rfc3339_in_utc_with_its_offset() {
        // Received in Vietnam's offset, printed in UTC.
        assert_eq!(
            time(datetime!(2026-12-05 15:30:00 +07:00)),
            "2026-12-05T08:30:00Z"
        );
        // As read back from the table (nanoseconds stored): kept, not padded.
        assert_eq!(
            time(datetime!(2026-12-05 08:30:00.120 UTC)),
            "2026-12-05T08:30:00.12Z"
        );
        // Never `time`'s Display form (`2026-12-05 8:30:00.0 +00:00:00`).
        let printed = time(datetime!(2026-12-05 08:30:00 UTC));
        assert_eq!(
            Timestamp::parse(&printed, &Rfc3339).unwrap(),
            datetime!(2026-12-05 08:30:00 UTC)
        );
    }

    #[test]
    fn json_output_is_one_object_per_row_with_keys_in_column_order() {
        let printed = listing().render(Output::Json);
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"transaction_id":"T-1","amount":99000,"reason":"Tiki refused:\ncode 3"}"#,
                r#"{"transaction_id":"T-22222","amount":5,"reason":null}"#,
            ]
        );
        for line in lines {
            serde_json::from_str::<serde_json::Map<String, Value>>(line).unwrap();
        }
        assert_eq!(Listing::new(&["id"]).render(Output::Json), "");
    }

    #[test]
    fn table_output_aligns_columns_under_a_header() {
        assert_eq!(
            listing().render(Output::Table),
            "transaction_id  amount  reason\n\
             T-1              99000  Tiki refused: code 3\n\
             T-22222              5  -\n"
        );
        // Nothing to list: the header alone.
        assert_eq!(
            Listing::new(&["message_id"]).render(Output::Table),
            "message_id\n"
        );
    }

    #[test]
    fn output_is_json_or_table() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            output: OutputArgs,
        }
        let format = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("list").chain(args.iter().copied()))
                .map(|cli| cli.output.format())
        };
        assert_eq!(format(&["--output", "json"]).unwrap(), Output::Json);
        assert_eq!(format(&["--output=table"]).unwrap(), Output::Table);
        assert!(format(&["--output", "yaml"]).is_err());
    }
}
