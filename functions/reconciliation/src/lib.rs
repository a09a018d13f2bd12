//! The daily reconciliation job. For a closed day it
//! 1. writes the day's files to S3, once ([`archive_day`]): the archive is
//!    the source of every delivery, so a re-run sends the same bytes;
//! 2. uploads to Tiki's SFTP `INBOUND` the files not yet delivered
//!    ([`deliver`]), recording each delivery;
//! 3. reads Tiki's result files from `OUTBOUND` not yet read, compares them
//!    with the day's rows and reports every mismatch ([`results`]).

pub mod archive_day;
pub mod deliver;
mod error;
pub mod results;
pub mod settings;

use serde::{Deserialize, Serialize};
use tikivip_archive::Archive;
use tikivip_domain::reconciliation::{ReconDay, ReconciliationFormat};
use tikivip_domain::{CLOCK_SKEW, Timestamp};
use tikivip_store::Store;

pub use archive_day::{ArchivedFile, Manifest};
pub use error::Error;
pub use settings::TikiDrop;

/// What one run is asked to do: the schedule sends `{}`, for yesterday.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RunRequest {
    /// `YYYY-MM-DD`; by default the Vietnamese day before the run.
    #[serde(default)]
    pub day: Option<String>,
}

/// What a run did, returned to the invoker and logged.
#[derive(Clone, Debug, Serialize)]
pub struct DayReport {
    pub day: String,
    pub files: Vec<ArchivedFile>,
    /// Files uploaded by this run (the others were delivered before).
    pub delivered_now: Vec<String>,
    /// Tiki's result files read by this run, with their mismatches.
    pub results: Vec<results::ResultsReport>,
}

/// What makes and keeps a day's files: the ledger, the archive, the format.
#[derive(Clone, Debug)]
pub struct DayFiles {
    pub store: Store,
    pub archive: Archive,
    pub format: ReconciliationFormat,
}

impl DayFiles {
    pub async fn from_env(aws: &aws_config::SdkConfig) -> Result<Self, Error> {
        // The RECONCILIATION_* settings (README "Daily reconciliation with Tiki").
        let env_setting = |name: &str| std::env::var(name).ok();
        Ok(DayFiles {
            store: Store::from_env(aws).await?,
            archive: Archive::from_env(aws)?,
            format: ReconciliationFormat::from_vars(env_setting)?,
        })
    }
}

/// The job's clients and settings, built once per process.
pub struct Reconciliation {
    pub files: DayFiles,
    pub tiki: TikiDrop,
}

impl Reconciliation {
    pub async fn from_env() -> Result<Self, Error> {
        let aws = tikivip_api::load_aws_config().await;
        Ok(Reconciliation {
            files: DayFiles::from_env(&aws).await?,
            tiki: TikiDrop::from_env(&aws).await?,
        })
    }

    /// The day a request names, or the day before `now`; refused while the
    /// day is not over (with the clock skew a late write may have).
    pub fn day_of(request: &RunRequest, now: Timestamp) -> Result<ReconDay, Error> {
        let day = match &request.day {
            Some(day) => day.parse::<ReconDay>()?,
            None => ReconDay::of(now)
                .previous()
                .ok_or_else(|| Error::DayNotOver("the calendar has no earlier day".into()))?,
        };
        if now < day.end() + CLOCK_SKEW {
            return Err(Error::DayNotOver(format!(
                "{day} is not over until {} (and {} minutes of clock skew)",
                day.end(),
                CLOCK_SKEW.whole_minutes()
            )));
        }
        Ok(day)
    }

    /// Archives, delivers and compares one day; safe to run again at any time.
    pub async fn run(&self, request: &RunRequest, now: Timestamp) -> Result<DayReport, Error> {
        let day = Self::day_of(request, now)?;
        let manifest = archive_day::archive_day(&self.files, day).await?;
        let mut sftp = self.tiki.connect().await?;
        let delivered_now =
            deliver::deliver(&self.files, &self.tiki, &mut sftp, &manifest, now).await;
        // Results are read even when a delivery failed: they concern earlier days.
        let results = results::read_new_results(&self.files, &self.tiki, &mut sftp, now).await;
        let closed = sftp.close().await;
        let report = DayReport {
            day: day.to_string(),
            files: manifest.files,
            delivered_now: delivered_now?,
            results: results?,
        };
        closed?;
        tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "reconciliation run done");
        Ok(report)
    }
}
