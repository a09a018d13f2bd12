//! The daily reconciliation file (`bench-reconciliation`).

use std::fmt::Write as _;

use crate::{Args, Row, f, missing, over, read_json};

pub(crate) fn add(args: &Args, summary: &mut Vec<Row>, details: &mut String) {
    let Some(report) = read_json(&args.reconciliation) else {
        summary.push(missing("reconciliation file", &args.reconciliation));
        return;
    };
    let writer = &report["writer"];
    let rows_per_second = f(writer, "rows_per_second");
    let rows = f(writer, "rows");
    summary.push(Row {
        figure: format!(
            "reconciliation: rows per second writing a {rows:.0}-row day to local files"
        ),
        budget: "≥ 200,000 rows/s".into(),
        measured: format!("{rows_per_second:.0} rows/s"),
        verdict: if rows_per_second >= 200_000.0 {
            over(0.0, 1.0)
        } else {
            over(200_000.0 / rows_per_second, 1.0)
        },
    });
    let peak = f(writer, "peak_rss_mb");
    summary.push(Row {
        figure: format!("reconciliation: peak RSS writing {rows:.0} rows (flat in the row count)"),
        budget: "≤ 64 MB".into(),
        measured: format!(
            "{peak:.1} MB ({:.1} MB after a tenth of the rows)",
            f(writer, "peak_rss_mb_at_tenth")
        ),
        verdict: over(peak, 64.0),
    });
    let _ = writeln!(
        details,
        "\n### Reconciliation\n\n| step | rows | seconds | rows/s |\n|---|---|---|---|\n\
         | file writer alone ({} files, {:.1} MB) | {rows:.0} | {:.2} | {rows_per_second:.0} |",
        writer["files"],
        f(writer, "bytes") / 1e6,
        f(writer, "seconds"),
    );
    let emulator = &report["emulator"];
    if emulator.is_object() {
        let _ = writeln!(
            details,
            "| emulator: ledger queries, merge and CSV | {:.0} | {:.2} | {:.0} |\n\
             | emulator: the whole archiving step (files written and put in S3) | {:.0} | {:.2} | {:.0} |",
            f(emulator, "rows"),
            f(emulator, "write_seconds"),
            f(emulator, "write_rows_per_second"),
            f(emulator, "rows"),
            f(emulator, "archive_seconds"),
            f(emulator, "archive_rows_per_second"),
        );
    }
}
