//! `tikivip reconcile`: one day's reconciliation by hand. The files are
//! made by the function's own code, so a day produced here has the bytes
//! the schedule would have archived and sent.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use reconciliation::archive_day::{self, ArchivedFile};
use reconciliation::results::report_key;
use reconciliation::{DayFiles, Reconciliation, RunRequest, TikiDrop};
use tikivip_archive::Archive;
use tikivip_domain::Timestamp;
use tikivip_domain::reconciliation::{ReconDay, ReconciliationFormat};
use tikivip_store::Store;

use crate::Error;
use crate::aws::AwsArgs;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReconcileArgs {
    #[command(subcommand)]
    pub show: Option<Show>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand)]
pub enum Show {
    /// Print the mismatch reports of a day (Tiki's result files compared)
    Mismatches {
        #[arg(long)]
        date: String,
        #[command(flatten)]
        target: ArchiveTarget,
    },
}

/// Where a day's files go.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Destination {
    /// Written to a local folder only (`--dir`); nothing archived or sent
    Local,
    /// Archived to S3 (once), not sent
    S3,
    /// Archived to S3 and delivered to Tiki's SFTP, results read: what the schedule does
    Sftp,
}

#[derive(Args)]
pub struct RunArgs {
    /// The day, YYYY-MM-DD (a Vietnamese calendar day, over)
    #[arg(long)]
    pub date: Option<String>,
    #[arg(long, value_enum, default_value = "local")]
    pub to: Destination,
    /// With `--to local`: the folder the files are written to; with
    /// `--local-sftp`: where the delivered files are copied
    #[arg(long, default_value = "reconciliation")]
    pub dir: PathBuf,
    /// Development only (`make reconcile`): deliver to an OpenSSH server
    /// started for this run on 127.0.0.1, creating the local table and bucket
    /// if needed; the day may be today (its files are then as of now)
    #[arg(long, requires = "to")]
    pub local_sftp: bool,
    #[command(flatten)]
    pub target: ArchiveTarget,
}

/// The table and the bucket; the format from the `RECONCILIATION_*`
/// variables, as the function reads them.
#[derive(Args)]
pub struct ArchiveTarget {
    /// The DynamoDB table (the stack's TableName output)
    #[arg(long, env = "TABLE_NAME", default_value = crate::dev_defaults::TABLE_NAME)]
    pub table: String,
    /// The archive bucket (the stack's ArchiveBucketName output)
    #[arg(long, env = "ARCHIVE_BUCKET", default_value = crate::dev_defaults::ARCHIVE_BUCKET)]
    pub bucket: String,
    #[command(flatten)]
    pub aws: AwsArgs,
}

impl ArchiveTarget {
    async fn day_files(&self) -> Result<(DayFiles, aws_config::SdkConfig), Error> {
        let aws = self.aws.load().await;
        let env_setting = |name: &str| std::env::var(name).ok();
        let format = ReconciliationFormat::from_vars(env_setting)?;
        let files = DayFiles {
            store: Store::new(aws_sdk_dynamodb::Client::new(&aws), &self.table),
            archive: Archive::new(aws_sdk_s3::Client::new(&aws), &self.bucket),
            format,
        };
        Ok((files, aws))
    }
}

pub async fn run(args: ReconcileArgs) -> Result<(), Error> {
    match args.show {
        Some(Show::Mismatches { date, target }) => mismatches(&date, &target).await,
        None => {
            let date = args
                .run
                .date
                .clone()
                .ok_or("--date YYYY-MM-DD is required")?;
            produce(&date, &args.run).await
        }
    }
}

async fn produce(date: &str, args: &RunArgs) -> Result<(), Error> {
    let now = Timestamp::now_utc();
    let request = RunRequest {
        day: Some(date.to_owned()),
    };
    let day = match (args.to, args.local_sftp) {
        // A local folder, or the development stack: today is allowed.
        (Destination::Local, _) | (_, true) => date.parse::<ReconDay>()?,
        _ => Reconciliation::day_of(&request, now)?,
    };
    let (files, aws) = args.target.day_files().await?;
    match args.to {
        Destination::Local => {
            let rows = Arc::new(AtomicU64::new(0));
            let progress = progress_of(rows.clone());
            let written = archive_day::write_day(&files, day, args.dir.clone(), rows).await;
            progress.finish_and_clear();
            print_files(&written?, &format!("{}", args.dir.display()));
        }
        Destination::S3 => {
            let manifest = archive_day::archive_day(&files, day).await?;
            print_files(
                &manifest.files,
                &format!(
                    "s3://{}/{}",
                    files.archive.bucket(),
                    archive_day::day_prefix(day)
                ),
            );
        }
        Destination::Sftp if args.local_sftp => local_sftp(files, &request, &args.dir).await?,
        Destination::Sftp => {
            let job = Reconciliation {
                files,
                tiki: TikiDrop::from_env(&aws).await?,
            };
            let report = job.run(&request, now).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}

/// The whole job against a local OpenSSH server on loopback, as `make
/// reconcile` runs it beside `make dev`; the delivered files are copied to
/// `dir`, since the server's folder goes with it.
async fn local_sftp(
    files: DayFiles,
    request: &RunRequest,
    dir: &std::path::Path,
) -> Result<(), Error> {
    files.store.create_table().await?;
    files.archive.create_bucket().await?;
    let server = tikivip_sftp::test_support::OpenSshServer::start();
    let job = Reconciliation {
        files,
        tiki: TikiDrop {
            sftp: server.settings(),
            inbound: server.mkdir("IF_TIKI_VIP/INBOUND"),
            outbound: server.mkdir("IF_TIKI_VIP/OUTBOUND"),
        },
    };
    // As if run once the day is over: a development day may be today.
    let day: ReconDay = request.day.as_deref().unwrap_or_default().parse()?;
    let after_the_day = day.end() + tikivip_domain::CLOCK_SKEW + time::Duration::SECOND;
    let report = job.run(request, after_the_day).await?;
    std::fs::create_dir_all(dir)?;
    for file in &report.files {
        std::fs::copy(
            std::path::Path::new(&job.tiki.inbound).join(&file.name),
            dir.join(&file.name),
        )?;
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "delivered over SFTP to the local OpenSSH server on 127.0.0.1:{}; copies in {}",
        server.port(),
        dir.display()
    );
    Ok(())
}

/// A spinner counting rows: a day's size is not known before it is read.
fn progress_of(rows: Arc<AtomicU64>) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} rows written ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let ticker = bar.clone();
    tokio::spawn(async move {
        while !ticker.is_finished() {
            ticker.set_message(rows.load(Ordering::Relaxed).to_string());
            ticker.tick();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    bar
}

fn print_files(files: &[ArchivedFile], place: &str) {
    for file in files {
        println!(
            "{}\t{} rows\t{} bytes\tsha256 {}",
            file.name, file.rows, file.bytes, file.sha256
        );
    }
    let rows: u64 = files.iter().map(|f| f.rows).sum();
    eprintln!("{} file(s), {rows} row(s) in {place}", files.len());
}

async fn mismatches(date: &str, target: &ArchiveTarget) -> Result<(), Error> {
    let day: ReconDay = date.parse()?;
    let (files, _) = target.day_files().await?;
    let prefix = report_key(day, "");
    let prefix = prefix.trim_end_matches(".json");
    let keys = files.archive.list(prefix).await?;
    let mut total = 0;
    for key in &keys {
        let Some(bytes) = files.archive.get_bytes(key).await? else {
            continue;
        };
        let report: serde_json::Value = serde_json::from_slice(&bytes)?;
        for mismatch in report["mismatches"].as_array().into_iter().flatten() {
            println!(
                "{}\t{mismatch}",
                report["tiki_file"].as_str().unwrap_or(key)
            );
            total += 1;
        }
    }
    eprintln!(
        "{total} mismatch(es) in {} result file(s) of Tiki for {day}",
        keys.len()
    );
    Ok(())
}
