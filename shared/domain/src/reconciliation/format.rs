//! The shape of the day files, read from settings.
//!
//! Tiki's contract fixes only the file name, the 500,000-row limit and six
//! columns; the rest was left to a meeting, so it is configuration with
//! defaults rather than code.

use std::fmt;

use super::ReconDay;
use super::time_format::TimeFormat;
use crate::{Error, TransactionStatus};

/// Tiki's limit on the rows of one file.
pub const TIKI_MAX_ROWS_PER_FILE: u32 = 500_000;

const PREFIX: &str = "RECONCILIATION_";
const RESULTS_PREFIX: &str = "RECONCILIATION_RESULTS_";
const DEFAULT_COLUMNS: &str = "tiki_transaction_id,transaction_id,transaction_amount,status,created_at,updated_at,refunded_amount";

/// A column a day file can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    TikiTransactionId,
    TransactionId,
    TransactionAmount,
    Status,
    CreatedAt,
    UpdatedAt,
    /// The sum refunded so far: refunds do not add rows.
    RefundedAmount,
    /// `-`, in Tiki's result files only: a column of theirs that is not read
    /// (a reason, say).
    Skipped,
}

impl Column {
    /// The columns Tiki's contract requires in our files.
    pub const REQUIRED: [Column; 6] = [
        Column::TikiTransactionId,
        Column::TransactionId,
        Column::TransactionAmount,
        Column::Status,
        Column::CreatedAt,
        Column::UpdatedAt,
    ];

    /// The columns a result file must carry for the comparison to mean anything.
    pub const REQUIRED_IN_RESULTS: [Column; 4] = [
        Column::TikiTransactionId,
        Column::TransactionId,
        Column::TransactionAmount,
        Column::Status,
    ];

    /// The name in headers and in the settings.
    pub const fn name(self) -> &'static str {
        match self {
            Column::TikiTransactionId => "tiki_transaction_id",
            Column::TransactionId => "transaction_id",
            Column::TransactionAmount => "transaction_amount",
            Column::Status => "status",
            Column::CreatedAt => "created_at",
            Column::UpdatedAt => "updated_at",
            Column::RefundedAmount => "refunded_amount",
            Column::Skipped => "-",
        }
    }

    fn from_name(name: &str) -> Option<Column> {
        [
            Column::TikiTransactionId,
            Column::TransactionId,
            Column::TransactionAmount,
            Column::Status,
            Column::CreatedAt,
            Column::UpdatedAt,
            Column::RefundedAmount,
            Column::Skipped,
        ]
        .into_iter()
        .find(|column| column.name() == name)
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How lines end in our files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LineEnding {
    #[default]
    Lf,
    Crlf,
}

/// The words a file uses for each status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusNames {
    pending: String,
    success: String,
    failure: String,
}

impl StatusNames {
    pub fn name(&self, status: TransactionStatus) -> &str {
        match status {
            TransactionStatus::Pending => &self.pending,
            TransactionStatus::Success => &self.success,
            TransactionStatus::Failure => &self.failure,
        }
    }

    pub fn parse(&self, name: &str) -> Option<TransactionStatus> {
        [
            TransactionStatus::Pending,
            TransactionStatus::Success,
            TransactionStatus::Failure,
        ]
        .into_iter()
        .find(|status| self.name(*status) == name)
    }
}

/// The CSV layout of one kind of file: ours, or Tiki's results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvLayout {
    columns: Vec<Column>,
    delimiter: u8,
    header: bool,
    time_format: TimeFormat,
    statuses: StatusNames,
}

impl CsvLayout {
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Whether the first line names the columns.
    pub fn header(&self) -> bool {
        self.header
    }

    pub fn time_format(&self) -> TimeFormat {
        self.time_format
    }

    pub fn statuses(&self) -> &StatusNames {
        &self.statuses
    }

    pub fn has(&self, column: Column) -> bool {
        self.columns.contains(&column)
    }

    /// The layout under `prefix`; unset settings take `defaults`' values, or
    /// the built-in defaults.
    fn from_vars(
        get: &impl Fn(&str) -> Option<String>,
        prefix: &str,
        defaults: Option<&CsvLayout>,
    ) -> Result<CsvLayout, Error> {
        let results = defaults.is_some();
        let var = |key: &str| {
            let name = format!("{prefix}{key}");
            let value = get(&name);
            (name, value)
        };

        let (name, value) = var("COLUMNS");
        let columns = match (value, defaults) {
            (Some(value), _) => parse_columns(&name, &value, results)?,
            (None, Some(defaults)) => defaults.columns.clone(),
            (None, None) => parse_columns(&name, DEFAULT_COLUMNS, results)?,
        };

        let (name, value) = var("DELIMITER");
        let delimiter = match (value, defaults) {
            (Some(value), _) => parse_delimiter(&name, &value)?,
            (None, Some(defaults)) => defaults.delimiter,
            (None, None) => b',',
        };

        let (name, value) = var("HEADER");
        let header = match (value, defaults) {
            (Some(value), _) => match value.trim() {
                "true" => true,
                "false" => false,
                other => return Err(refused(&name, other, "`true` or `false`")),
            },
            (None, Some(defaults)) => defaults.header,
            (None, None) => true,
        };

        let (name, value) = var("TIME_FORMAT");
        let time_format = match (value, defaults) {
            (Some(value), _) => TimeFormat::from_name(value.trim()).ok_or_else(|| {
                refused(
                    &name,
                    &value,
                    &TimeFormat::NAMES.map(|n| format!("`{n}`")).join(", "),
                )
            })?,
            (None, Some(defaults)) => defaults.time_format,
            (None, None) => TimeFormat::default(),
        };

        let status = |key: &str, builtin: &str, default: Option<&str>| {
            let (name, value) = var(key);
            match (value, default) {
                (Some(value), _) => parse_status(&name, &value),
                (None, Some(default)) => Ok(default.to_owned()),
                (None, None) => Ok(builtin.to_owned()),
            }
        };
        let statuses = StatusNames {
            pending: status(
                "STATUS_PENDING",
                "PENDING",
                defaults.map(|d| d.statuses.pending.as_str()),
            )?,
            success: status(
                "STATUS_SUCCESS",
                "SUCCESS",
                defaults.map(|d| d.statuses.success.as_str()),
            )?,
            failure: status(
                "STATUS_FAILURE",
                "FAILURE",
                defaults.map(|d| d.statuses.failure.as_str()),
            )?,
        };
        let StatusNames {
            pending,
            success,
            failure,
        } = &statuses;
        if pending == success || pending == failure || success == failure {
            return Err(Error::Config(format!(
                "{prefix}STATUS_PENDING, {prefix}STATUS_SUCCESS and {prefix}STATUS_FAILURE \
                 must be three different words; they are {pending:?}, {success:?} and {failure:?}"
            )));
        }

        Ok(CsvLayout {
            columns,
            delimiter,
            header,
            time_format,
            statuses,
        })
    }
}

/// The agreed shape of the day files we send Tiki and of the result files
/// Tiki sends back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconciliationFormat {
    partner_name: String,
    file: CsvLayout,
    rows_per_file: u32,
    line_ending: LineEnding,
    file_extension: String,
    results: CsvLayout,
}

impl ReconciliationFormat {
    /// The format from settings, `get` giving each one's value (the
    /// functions read their environment). Surrounding spaces
    /// are ignored, except in a delimiter. A bad value is an
    /// [`Error::Config`] naming the variable and the values it accepts.
    ///
    /// | Variable | Default | Accepts |
    /// |---|---|---|
    /// | `RECONCILIATION_PARTNER_NAME` | required | 1 to 64 of `A-Z a-z 0-9 -`, as Tiki gave it |
    /// | `RECONCILIATION_COLUMNS` | `tiki_transaction_id,transaction_id,transaction_amount,status,created_at,updated_at,refunded_amount` | those names, comma-separated, in the file's order, each once; all but `refunded_amount` required |
    /// | `RECONCILIATION_DELIMITER` | `,` | one ASCII punctuation character other than `"`, a space, or `tab` |
    /// | `RECONCILIATION_HEADER` | `true` | `true`, `false`: whether each file starts with the column names |
    /// | `RECONCILIATION_TIME_FORMAT` | `rfc3339_vietnam` | `rfc3339_vietnam` (`2023-04-14T09:30:00.123+07:00`), `rfc3339_utc` (`2023-04-14T02:30:00.123Z`), `unix_millis` |
    /// | `RECONCILIATION_STATUS_PENDING` | `PENDING` | a word of up to 64 printable characters; the three differ |
    /// | `RECONCILIATION_STATUS_SUCCESS` | `SUCCESS` | idem |
    /// | `RECONCILIATION_STATUS_FAILURE` | `FAILURE` | idem |
    /// | `RECONCILIATION_ROWS_PER_FILE` | `500000` | 1 to 500000 (Tiki's limit) |
    /// | `RECONCILIATION_LINE_ENDING` | `lf` | `lf`, `crlf` |
    /// | `RECONCILIATION_FILE_EXTENSION` | none | up to 16 letters or digits, without the dot (`csv` names `…_1.csv`) |
    ///
    /// Tiki's result files are read with `RECONCILIATION_RESULTS_COLUMNS`,
    /// `_DELIMITER`, `_HEADER`, `_TIME_FORMAT` and `_STATUS_PENDING|SUCCESS|FAILURE`,
    /// each defaulting to the value of our own file's setting: by default
    /// Tiki's answer is Tiki's own view of the day in our layout. Its columns
    /// must include `tiki_transaction_id`, `transaction_id`,
    /// `transaction_amount` and `status`, and may include `-` for a column
    /// that is not read; either RFC 3339 format reads any offset.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<ReconciliationFormat, Error> {
        let name = format!("{PREFIX}PARTNER_NAME");
        let partner_name = match get(&name) {
            None => {
                return Err(Error::Config(format!(
                    "{name} is required: the partner name Tiki gave, in every file name"
                )));
            }
            Some(value) => parse_partner_name(&name, value.trim())?,
        };

        let file = CsvLayout::from_vars(&get, PREFIX, None)?;

        let name = format!("{PREFIX}ROWS_PER_FILE");
        let rows_per_file = match get(&name) {
            None => TIKI_MAX_ROWS_PER_FILE,
            Some(value) => value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|rows| (1..=TIKI_MAX_ROWS_PER_FILE).contains(rows))
                .ok_or_else(|| {
                    refused(
                        &name,
                        &value,
                        &format!(
                            "a whole number from 1 to {TIKI_MAX_ROWS_PER_FILE} (Tiki's limit)"
                        ),
                    )
                })?,
        };

        let name = format!("{PREFIX}LINE_ENDING");
        let line_ending = match get(&name).as_deref().map(str::trim) {
            None | Some("lf") => LineEnding::Lf,
            Some("crlf") => LineEnding::Crlf,
            Some(other) => return Err(refused(&name, other, "`lf` or `crlf`")),
        };

        let name = format!("{PREFIX}FILE_EXTENSION");
        let file_extension = match get(&name) {
            None => String::new(),
            Some(value) => {
                let value = value.trim();
                if value.len() > 16 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(refused(
                        &name,
                        value,
                        "up to 16 letters or digits, without the dot, or nothing",
                    ));
                }
                value.to_owned()
            }
        };

        let results = CsvLayout::from_vars(&get, RESULTS_PREFIX, Some(&file))?;

        Ok(ReconciliationFormat {
            partner_name,
            file,
            rows_per_file,
            line_ending,
            file_extension,
            results,
        })
    }

    pub fn partner_name(&self) -> &str {
        &self.partner_name
    }

    /// The layout of the files we write.
    pub fn file(&self) -> &CsvLayout {
        &self.file
    }

    /// The layout of Tiki's result files.
    pub fn results(&self) -> &CsvLayout {
        &self.results
    }

    pub fn rows_per_file(&self) -> u32 {
        self.rows_per_file
    }

    pub fn line_ending(&self) -> LineEnding {
        self.line_ending
    }

    /// Without the dot; empty for none, as in Tiki's example.
    pub fn file_extension(&self) -> &str {
        &self.file_extension
    }

    /// `tikivip_{PartnerName}_{YYYYMMDD}_{counter}` (plus `.{extension}` if
    /// one is set): the day of the data, and the file's number within the
    /// day, from 1.
    pub fn file_name(&self, day: ReconDay, counter: u32) -> String {
        let mut name = format!("tikivip_{}_{}_{counter}", self.partner_name, day.compact());
        if !self.file_extension.is_empty() {
            name.push('.');
            name.push_str(&self.file_extension);
        }
        name
    }
}

fn refused(name: &str, value: &str, accepted: &str) -> Error {
    Error::Config(format!("{name} is {value:?}; it accepts {accepted}"))
}

fn parse_partner_name(name: &str, value: &str) -> Result<String, Error> {
    // `_` separates the parts of a file name, so it cannot be in one.
    let valid = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return Err(refused(
            name,
            value,
            "the partner name Tiki gave: 1 to 64 of A-Z, a-z, 0-9 and `-`",
        ));
    }
    Ok(value.to_owned())
}

fn parse_columns(name: &str, value: &str, results: bool) -> Result<Vec<Column>, Error> {
    let known = || {
        let mut names: Vec<&str> = Column::REQUIRED.iter().map(|c| c.name()).collect();
        names.push(Column::RefundedAmount.name());
        if results {
            names.push(Column::Skipped.name());
        }
        names.join(", ")
    };
    let mut columns = Vec::new();
    for part in value.split(',').map(str::trim) {
        let column = Column::from_name(part)
            .filter(|column| results || *column != Column::Skipped)
            .ok_or_else(|| {
                Error::Config(format!(
                    "{name} names the unknown column {part:?}; the columns are {}",
                    known()
                ))
            })?;
        if column != Column::Skipped && columns.contains(&column) {
            return Err(Error::Config(format!("{name} names {column} twice")));
        }
        columns.push(column);
    }
    let required: &[Column] = if results {
        &Column::REQUIRED_IN_RESULTS
    } else {
        &Column::REQUIRED
    };
    let missing: Vec<&str> = required
        .iter()
        .filter(|column| !columns.contains(column))
        .map(|column| column.name())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Config(format!(
            "{name} lacks the required column(s) {}",
            missing.join(", ")
        )));
    }
    Ok(columns)
}

fn parse_delimiter(name: &str, value: &str) -> Result<u8, Error> {
    let accepted = "one ASCII punctuation character other than `\"`, a space, or `tab`";
    match value.as_bytes() {
        b"tab" | b"\t" => Ok(b'\t'),
        [b' '] => Ok(b' '),
        [b] if b.is_ascii_punctuation() && *b != b'"' => Ok(*b),
        _ => Err(refused(name, value, accepted)),
    }
}

fn parse_status(name: &str, value: &str) -> Result<String, Error> {
    let value = value.trim();
    let valid =
        !value.is_empty() && value.chars().count() <= 64 && !value.chars().any(char::is_control);
    if !valid {
        return Err(refused(
            name,
            value,
            "a word of 1 to 64 printable characters",
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconciliation::testing::format_with;

    fn refusal(vars: &[(&str, &str)]) -> String {
        let get = |name: &str| {
            [("RECONCILIATION_PARTNER_NAME", "vnptmoney")]
                .iter()
                .chain(vars)
                .rev()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        match ReconciliationFormat::from_vars(get) {
            Err(Error::Config(message)) => message,
            other => panic!("{vars:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn the_default_file_has_the_six_required_columns_and_refunded_amount_with_a_header() {
        let format = format_with(&[]);
        let names: Vec<&str> = format.file().columns().iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                "tiki_transaction_id",
                "transaction_id",
                "transaction_amount",
                "status",
                "created_at",
                "updated_at",
                "refunded_amount"
            ]
        );
        let file = format.file();
        assert!(file.header());
        assert_eq!(file.delimiter(), b',');
        assert_eq!(file.time_format(), TimeFormat::Rfc3339Vietnam);
        assert_eq!(file.statuses().name(TransactionStatus::Success), "SUCCESS");
        assert_eq!(format.rows_per_file(), TIKI_MAX_ROWS_PER_FILE);
        assert_eq!(format.line_ending(), LineEnding::Lf);
        assert_eq!(format.file_extension(), "");
    }

    #[test]
    fn a_file_name_is_tikivip_partner_day_counter() {
        let format = format_with(&[]);
        let day: ReconDay = "2023-04-14".parse().unwrap();
        assert_eq!(format.file_name(day, 1), "tikivip_vnptmoney_20230414_1");
        assert_eq!(format.file_name(day, 12), "tikivip_vnptmoney_20230414_12");
    }

    #[test]
    fn a_file_extension_follows_a_dot() {
        let format = format_with(&[("RECONCILIATION_FILE_EXTENSION", "csv")]);
        let day: ReconDay = "2023-04-14".parse().unwrap();
        assert_eq!(format.file_name(day, 1), "tikivip_vnptmoney_20230414_1.csv");
    }

    #[test]
    fn the_partner_name_is_required() {
        let message = match ReconciliationFormat::from_vars(|_| None) {
            Err(Error::Config(message)) => message,
            other => panic!("{other:?}"),
        };
        assert!(message.contains("RECONCILIATION_PARTNER_NAME"), "{message}");
    }

    #[test]
    fn each_setting_refuses_bad_values_naming_its_variable() {
        let long = "x".repeat(65);
        let cases: &[(&str, &[&str])] = &[
            (
                "PARTNER_NAME",
                &["", "vnpt_money", "vnpt money", "vnptmoney!", "thành", &long],
            ),
            (
                "COLUMNS",
                &[
                    "",
                    "tiki_transaction_id,transaction_id,transaction_amount,status,created_at",
                    "tiki_transaction_id,transaction_id,transaction_amount,status,created_at,updated_at,amount",
                    "tiki_transaction_id,transaction_id,transaction_amount,status,created_at,updated_at,status",
                    "tiki_transaction_id,transaction_id,transaction_amount,status,created_at,updated_at,-",
                ],
            ),
            (
                "DELIMITER",
                &["", ",,", "\"\"", "\n", "\r", "a", "7", "é", "tabs"],
            ),
            ("HEADER", &["", "yes", "1", "TRUE "]),
            ("TIME_FORMAT", &["", "rfc3339", "iso8601", "unix"]),
            ("STATUS_PENDING", &["", " ", "a\tb", "SUCCESS"]),
            ("STATUS_SUCCESS", &["", "FAILURE"]),
            ("STATUS_FAILURE", &["", "PENDING"]),
            ("ROWS_PER_FILE", &["", "0", "-1", "500001", "1e5", "many"]),
            ("LINE_ENDING", &["", "cr", "LF", "\\n"]),
            (
                "FILE_EXTENSION",
                &[".csv", "c s v", "csv.gz", "abcdefghijklmnopq"],
            ),
            (
                "RESULTS_COLUMNS",
                &[
                    "transaction_id,status",
                    "transaction_id,transaction_id",
                    "reason",
                ],
            ),
            ("RESULTS_DELIMITER", &["", "\""]),
            ("RESULTS_HEADER", &["no"]),
            ("RESULTS_TIME_FORMAT", &["millis"]),
            ("RESULTS_STATUS_SUCCESS", &["", "PENDING"]),
        ];
        for (key, values) in cases {
            let name = format!("RECONCILIATION_{key}");
            for value in *values {
                let message = refusal(&[(&name, value)]);
                let named = if key.starts_with("STATUS_") || key.starts_with("RESULTS_STATUS_") {
                    message.contains(&name)
                } else {
                    message.starts_with(&name)
                };
                assert!(named, "{name}={value:?}: {message}");
            }
        }
    }

    #[test]
    fn rows_per_file_above_tikis_limit_is_refused() {
        let message = refusal(&[("RECONCILIATION_ROWS_PER_FILE", "500001")]);
        assert!(message.contains("500000"), "{message}");
        let format = format_with(&[("RECONCILIATION_ROWS_PER_FILE", "500000")]);
        assert_eq!(format.rows_per_file(), 500_000);
    }

    #[test]
    fn a_refusal_says_what_is_accepted() {
        let message = refusal(&[("RECONCILIATION_TIME_FORMAT", "iso")]);
        for name in TimeFormat::NAMES {
            assert!(message.contains(name), "{message}");
        }
        let message = refusal(&[("RECONCILIATION_COLUMNS", "amount")]);
        assert!(message.contains("transaction_amount"), "{message}");
    }

    #[test]
    fn the_delimiter_may_be_a_tab_a_space_or_punctuation() {
        for (value, byte) in [
            ("tab", b'\t'),
            ("\t", b'\t'),
            (" ", b' '),
            (";", b';'),
            ("|", b'|'),
        ] {
            let format = format_with(&[("RECONCILIATION_DELIMITER", value)]);
            assert_eq!(format.file().delimiter(), byte, "{value:?}");
        }
    }

    #[test]
    fn columns_may_be_reordered_and_refunded_amount_left_out() {
        let format = format_with(&[(
            "RECONCILIATION_COLUMNS",
            "transaction_id, tiki_transaction_id,status,transaction_amount,updated_at,created_at",
        )]);
        assert_eq!(format.file().columns()[0], Column::TransactionId);
        assert!(!format.file().has(Column::RefundedAmount));
    }

    #[test]
    fn tikis_results_default_to_our_own_layout() {
        let format = format_with(&[
            ("RECONCILIATION_DELIMITER", ";"),
            ("RECONCILIATION_HEADER", "false"),
            ("RECONCILIATION_TIME_FORMAT", "unix_millis"),
            ("RECONCILIATION_STATUS_SUCCESS", "OK"),
        ]);
        assert_eq!(format.results(), format.file());
    }

    #[test]
    fn tikis_results_have_their_own_settings() {
        let format = format_with(&[
            (
                "RECONCILIATION_RESULTS_COLUMNS",
                "transaction_id,tiki_transaction_id,transaction_amount,status,-",
            ),
            ("RECONCILIATION_RESULTS_DELIMITER", "tab"),
            ("RECONCILIATION_RESULTS_HEADER", "false"),
            ("RECONCILIATION_RESULTS_TIME_FORMAT", "rfc3339_utc"),
            ("RECONCILIATION_RESULTS_STATUS_FAILURE", "FAILED"),
        ]);
        let results = format.results();
        assert_eq!(results.columns().last(), Some(&Column::Skipped));
        assert_eq!(results.delimiter(), b'\t');
        assert!(!results.header());
        assert_eq!(results.time_format(), TimeFormat::Rfc3339Utc);
        assert_eq!(
            results.statuses().parse("FAILED"),
            Some(TransactionStatus::Failure)
        );
        assert_eq!(format.file(), format_with(&[]).file());
    }
}
