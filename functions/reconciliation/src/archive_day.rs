//! Step 1: the day's files, written to S3 once.
//!
//! Objects: `reconciliation/{YYYYMMDD}/{file name}` for each file, and
//! `reconciliation/{YYYYMMDD}/manifest.json` last, listing them. A day with
//! a manifest is archived: later runs deliver what it lists and never
//! regenerate. A run that died before the manifest regenerates the same
//! bytes (the day's ledger no longer changes) and finds its earlier objects
//! already there with the same SHA-256.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tikivip_archive::Archived;
use tikivip_domain::reconciliation::{DayFileWriter, ReconDay, day_rows};

use crate::{DayFiles, Error};

/// One archived file of a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedFile {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// The list of a day's files, written after them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub day: String,
    pub files: Vec<ArchivedFile>,
}

pub fn day_prefix(day: ReconDay) -> String {
    format!("reconciliation/{}/", day.compact())
}

pub fn file_key(day: ReconDay, name: &str) -> String {
    format!("{}{name}", day_prefix(day))
}

fn manifest_key(day: ReconDay) -> String {
    file_key(day, "manifest.json")
}

/// The day's manifest, archiving the day first if it is not yet.
pub async fn archive_day(job: &DayFiles, day: ReconDay) -> Result<Manifest, Error> {
    if let Some(manifest) = archived_manifest(job, day).await? {
        return Ok(manifest);
    }
    let folder = std::env::temp_dir().join(format!(
        "reconciliation-{}-{}",
        day.compact(),
        std::process::id()
    ));
    let result = write_and_archive(job, day, &folder).await;
    // Lambda's /tmp outlives the invocation: leave nothing behind.
    let _ = std::fs::remove_dir_all(&folder);
    result
}

/// The manifest of a day archived earlier, if any.
pub async fn archived_manifest(job: &DayFiles, day: ReconDay) -> Result<Option<Manifest>, Error> {
    let Some(bytes) = job.archive.get_bytes(&manifest_key(day)).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::ArchiveConflict(format!("the manifest of {day} does not read: {e}")))
}

async fn write_and_archive(
    job: &DayFiles,
    day: ReconDay,
    folder: &Path,
) -> Result<Manifest, Error> {
    let files = write_day(job, day, folder.to_owned(), Arc::default()).await?;
    for file in &files {
        let outcome = job
            .archive
            .put_once(
                &file_key(day, &file.name),
                &folder.join(&file.name),
                &file.sha256,
            )
            .await?;
        check_archived(outcome, &file.name)?;
    }
    let manifest = Manifest {
        day: day.to_string(),
        files,
    };
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let outcome = job
        .archive
        .put_bytes_once(&manifest_key(day), bytes, &sha256)
        .await?;
    check_archived(outcome, "manifest.json")?;
    tracing::info!(%day, files = manifest.files.len(), "day archived");
    Ok(manifest)
}

fn check_archived(outcome: Archived, name: &str) -> Result<(), Error> {
    match outcome {
        Archived::Written | Archived::AlreadyThere => Ok(()),
        Archived::Differs => Err(Error::ArchiveConflict(format!(
            "{name} is archived with other bytes than the day's as written now; \
             the archived file is kept and nothing is delivered"
        ))),
    }
}

/// Streams the day's ledger into files in `folder` (made if missing): the
/// merge and the CSV writer are synchronous, so they run on a blocking
/// thread that drives the shard queries on this runtime.
pub async fn write_day(
    job: &DayFiles,
    day: ReconDay,
    folder: PathBuf,
    rows_written: Arc<AtomicU64>,
) -> Result<Vec<ArchivedFile>, Error> {
    let runtime = tokio::runtime::Handle::current();
    let shards = job.store.ledger_shards(day);
    let format = job.format.clone();
    std::fs::create_dir_all(&folder)?;
    tokio::task::spawn_blocking(move || {
        let shards = shards
            .into_iter()
            .map(|shard| shard.blocking(runtime.clone()))
            .collect();
        let mut writer = DayFileWriter::new(format, day, |name: &str| {
            File::create(folder.join(name)).map(BufWriter::new)
        });
        for row in day_rows(shards) {
            writer.write(&row?)?;
            rows_written.fetch_add(1, Ordering::Relaxed);
        }
        let files = writer.finish()?;
        let files: Vec<ArchivedFile> = files
            .into_iter()
            .map(|f| ArchivedFile {
                name: f.name,
                rows: f.rows,
                bytes: f.bytes,
                sha256: f.sha256,
            })
            .collect();
        let rows: u64 = files.iter().map(|f| f.rows).sum();
        tikivip_api::metrics::record(tikivip_api::metrics::Metric::ReconciliationRows, rows);
        Ok(files)
    })
    .await
    .map_err(|e| Error::Io(std::io::Error::other(e)))?
}
