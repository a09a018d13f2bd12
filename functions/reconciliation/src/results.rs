//! Step 3: Tiki's result files from `OUTBOUND`, compared with our days.
//!
//! Each result file names its day (`..._{YYYYMMDD}...`). One not yet read is
//! compared with that day's rows, and every mismatch is logged, counted
//! (`ReconciliationMismatches`, which an alarm watches) and written to
//! `reconciliation/{YYYYMMDD}/mismatches/{file}.json`; the file is then
//! recorded as read, so a later run does not report it again.

use serde::Serialize;
use tikivip_api::metrics::{self, Metric};
use tikivip_domain::Timestamp;
use tikivip_domain::reconciliation::{Mismatch, ReconDay, compare, day_rows, read_tiki_rows};
use tikivip_sftp::Sftp;
use tikivip_store::ResultsRead;

use crate::archive_day::day_prefix;
use crate::{DayFiles, Error, TikiDrop};

/// What one of Tiki's result files showed.
#[derive(Clone, Debug, Serialize)]
pub struct ResultsReport {
    pub day: String,
    pub tiki_file: String,
    pub mismatches: Vec<Mismatch>,
}

pub fn report_key(day: ReconDay, tiki_file: &str) -> String {
    format!("{}mismatches/{tiki_file}.json", day_prefix(day))
}

/// The day a result file's name gives: its first `YYYYMMDD` token.
pub fn day_in_name(name: &str) -> Option<ReconDay> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|token| token.len() == 8)
        .find_map(|token| token.parse().ok())
}

/// Reads every result file in `OUTBOUND` not read before.
pub async fn read_new_results(
    job: &DayFiles,
    tiki: &TikiDrop,
    sftp: &mut Sftp,
    now: Timestamp,
) -> Result<Vec<ResultsReport>, Error> {
    let mut reports = Vec::new();
    for name in sftp.list(&tiki.outbound).await? {
        let Some(day) = day_in_name(&name) else {
            tracing::warn!(file = %name, "a file in OUTBOUND names no day (YYYYMMDD); left alone");
            continue;
        };
        let read = job.store.results_read(day).await?;
        if read.iter().any(|r| r.file == name) {
            continue;
        }
        let bytes = sftp.download(&tiki.outbound, &name).await?;
        let report = compare_day(job, day, &name, bytes).await?;
        job.archive
            .put_bytes(
                &report_key(day, &name),
                serde_json::to_vec_pretty(&report).map_err(std::io::Error::other)?,
            )
            .await?;
        for mismatch in &report.mismatches {
            tracing::warn!(%day, tiki_file = %name, %mismatch, "reconciliation mismatch");
        }
        metrics::record(
            Metric::ReconciliationMismatches,
            report.mismatches.len() as u64,
        );
        job.store
            .record_results_read(
                day,
                &ResultsRead {
                    file: name.clone(),
                    mismatches: report.mismatches.len() as u64,
                    read_at: now,
                },
            )
            .await?;
        reports.push(report);
    }
    Ok(reports)
}

/// Tiki's file for `day` against the day's rows, as the ledger has them.
pub async fn compare_day(
    job: &DayFiles,
    day: ReconDay,
    tiki_file: &str,
    bytes: Vec<u8>,
) -> Result<ResultsReport, Error> {
    let theirs = read_tiki_rows(&job.format, bytes.as_slice())?;
    let runtime = tokio::runtime::Handle::current();
    let shards = job.store.ledger_shards(day);
    let mismatches = tokio::task::spawn_blocking(move || {
        let shards: Vec<_> = shards
            .into_iter()
            .map(|shard| shard.blocking(runtime.clone()))
            .collect();
        // Streamed: a failed read stops the day's rows and fails the comparison.
        let mut failed = None;
        let ours = day_rows(shards).map_while(|row| row.map_err(|e| failed = Some(e)).ok());
        let mismatches = compare(ours, theirs);
        match failed {
            Some(err) => Err(Error::from(err)),
            None => Ok(mismatches),
        }
    })
    .await
    .map_err(|e| Error::Io(std::io::Error::other(e)))??;
    Ok(ResultsReport {
        day: day.to_string(),
        tiki_file: tiki_file.to_owned(),
        mismatches,
    })
}
