//! Step 2: the archived files on Tiki's SFTP `INBOUND`.
//!
//! Each file goes from S3 to SFTP as a stream, under a temporary name renamed
//! at the end (so Tiki never sees half a file), and is recorded as delivered
//! with its SHA-256. A file already recorded is not sent again; a run that
//! died mid-way sends the rest.

use std::collections::HashSet;

use tikivip_domain::Timestamp;
use tikivip_domain::reconciliation::ReconDay;
use tikivip_sftp::Sftp;
use tikivip_store::Delivery;

use crate::archive_day::{Manifest, file_key};
use crate::{DayFiles, Error, TikiDrop};

/// Delivers the manifest's files not yet delivered; their names.
pub async fn deliver(
    job: &DayFiles,
    tiki: &TikiDrop,
    sftp: &mut Sftp,
    manifest: &Manifest,
    now: Timestamp,
) -> Result<Vec<String>, Error> {
    let day: ReconDay = manifest.day.parse()?;
    let delivered: HashSet<(String, String)> = job
        .store
        .deliveries(day)
        .await?
        .into_iter()
        .map(|d| (d.file, d.sha256))
        .collect();
    let mut sent = Vec::new();
    for file in &manifest.files {
        if delivered.contains(&(file.name.clone(), file.sha256.clone())) {
            continue;
        }
        let reader = job
            .archive
            .reader(&file_key(day, &file.name))
            .await?
            .ok_or_else(|| {
                Error::ArchiveConflict(format!("{} is in the manifest but not in S3", file.name))
            })?;
        let bytes = sftp
            .upload_stream(&tiki.inbound, &file.name, reader)
            .await?;
        if bytes != file.bytes {
            return Err(Error::ArchiveConflict(format!(
                "{} is {} bytes in the manifest but {bytes} were read from S3",
                file.name, file.bytes
            )));
        }
        job.store
            .record_delivery(
                day,
                &Delivery {
                    file: file.name.clone(),
                    sha256: file.sha256.clone(),
                    delivered_at: now,
                },
            )
            .await?;
        tracing::info!(%day, file = %file.name, rows = file.rows, "file delivered to Tiki");
        sent.push(file.name.clone());
    }
    Ok(sent)
}
