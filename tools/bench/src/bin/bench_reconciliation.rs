//! `bench-reconciliation`: how fast a day's reconciliation file is written,
//! and in how much memory.
//!
//! 1. The file writer alone: generated rows written to local files with the
//!    default format, at Tiki's row limit; rows per second, and the peak RSS
//!    (`VmHWM`) after a tenth of the rows and after all of them, to show that
//!    memory does not grow with the day.
//! 2. End to end through the emulator: a day of transactions created through
//!    the store (untimed), then the day's files written from the sharded
//!    ledger (queries, merge, CSV) and archived to S3, timed.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use futures::StreamExt;
use reconciliation::DayFiles;
use reconciliation::archive_day::{archive_day, write_day};
use serde::Serialize;
use tikivip_archive::Archive;
use tikivip_bench::Error;
use tikivip_bench::stats::Machine;
use tikivip_domain::reconciliation::{
    DayFileWriter, ReconDay, ReconciliationFormat, ReconciliationRow,
};
use tikivip_domain::{NewTransaction, TikiTransactionId, TransactionId, TransactionStatus, Vnd};
use tikivip_store::Store;
use time::macros::datetime;

#[derive(Parser, Debug)]
#[command(about = "Rows per second and peak memory of the daily reconciliation file")]
struct Args {
    /// Rows written by the file writer alone.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Transactions of the day written through the emulator (0: skip).
    #[arg(long, default_value_t = 10_000)]
    emulator_rows: u64,
    /// Where the results go (JSON).
    #[arg(long, default_value = "target/bench/reconciliation.json")]
    out: PathBuf,
}

#[derive(Debug, Serialize)]
struct Report {
    machine: Machine,
    writer: WriterFigures,
    emulator: Option<EmulatorFigures>,
}

#[derive(Debug, Serialize)]
struct WriterFigures {
    rows: u64,
    files: usize,
    bytes: u64,
    seconds: f64,
    rows_per_second: f64,
    /// Peak RSS after a tenth of the rows, and after all of them.
    peak_rss_mb_at_tenth: f64,
    peak_rss_mb: f64,
}

#[derive(Debug, Serialize)]
struct EmulatorFigures {
    rows: u64,
    /// Ledger queries, merge and CSV, to local files.
    write_seconds: f64,
    write_rows_per_second: f64,
    /// The whole archiving step: the day written and put in S3.
    archive_seconds: f64,
    archive_rows_per_second: f64,
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn format() -> Result<ReconciliationFormat, Error> {
    Ok(ReconciliationFormat::from_vars(|name| {
        (name == "RECONCILIATION_PARTNER_NAME").then(|| "benchpartner".to_owned())
    })?)
}

fn row(n: u64) -> Result<ReconciliationRow, Error> {
    let at = datetime!(2026-11-20 08:00 +7) + time::Duration::milliseconds(n as i64);
    Ok(ReconciliationRow {
        tiki_transaction_id: TikiTransactionId::parse(format!("tiki-{n:012}"))?,
        transaction_id: TransactionId::parse(format!("T{n:032x}"))?,
        amount: Vnd::new(10_000 + n % 1_000_000)?,
        status: if n.is_multiple_of(3) {
            TransactionStatus::Success
        } else {
            TransactionStatus::Pending
        },
        refunded_amount: Vnd::ZERO,
        created_at: at,
        updated_at: at,
    })
}

fn writer_figures(rows: u64) -> Result<WriterFigures, Error> {
    let folder = std::env::temp_dir().join(format!("bench-reconciliation-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let day: ReconDay = "2026-11-20".parse()?;
    let started = Instant::now();
    let mut writer = DayFileWriter::new(format()?, day, |name: &str| {
        File::create(folder.join(name)).map(BufWriter::new)
    });
    let mut at_tenth = 0.0;
    for n in 0..rows {
        writer.write(&row(n)?)?;
        if n == rows / 10 {
            at_tenth = peak_rss_mb();
        }
    }
    let files = writer.finish()?;
    let seconds = started.elapsed().as_secs_f64();
    let figures = WriterFigures {
        rows,
        files: files.len(),
        bytes: files.iter().map(|f| f.bytes).sum(),
        seconds,
        rows_per_second: rows as f64 / seconds,
        peak_rss_mb_at_tenth: at_tenth,
        peak_rss_mb: peak_rss_mb(),
    };
    let _ = std::fs::remove_dir_all(&folder);
    Ok(figures)
}

async fn emulator_figures(rows: u64) -> Result<EmulatorFigures, Error> {
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("ap-southeast-1"))
        .load()
        .await;
    let name = format!("bench-recon-{}", uuid::Uuid::now_v7().simple());
    let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), &name);
    store.create_table().await?;
    let archive = Archive::new(aws_sdk_s3::Client::new(&aws), &name);
    archive.create_bucket().await?;
    let day: ReconDay = "2026-11-20".parse()?;
    futures::stream::iter(0..rows)
        .map(|n| {
            let store = store.clone();
            async move {
                let new = NewTransaction {
                    id: TransactionId::generate(),
                    tiki_id: TikiTransactionId::parse(format!("tiki-{n:012}"))?,
                    amount: Vnd::new(10_000 + n)?,
                    description: None,
                    customer: None,
                    redirect_url: None,
                    created_at: day.start() + time::Duration::milliseconds(n as i64),
                };
                store.create_transaction(new).await?;
                Ok::<_, Error>(())
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let files = DayFiles {
        store,
        archive,
        format: format()?,
    };
    let folder = std::env::temp_dir().join(format!("bench-recon-e2e-{}", std::process::id()));
    let started = Instant::now();
    let written = write_day(&files, day, folder.clone(), Arc::default()).await?;
    let write_seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&folder);
    assert_eq!(
        written.iter().map(|f| f.rows).sum::<u64>(),
        rows,
        "every row"
    );
    let started = Instant::now();
    archive_day(&files, day).await?;
    let archive_seconds = started.elapsed().as_secs_f64();
    Ok(EmulatorFigures {
        rows,
        write_seconds,
        write_rows_per_second: rows as f64 / write_seconds,
        archive_seconds,
        archive_rows_per_second: rows as f64 / archive_seconds,
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let writer = writer_figures(args.rows)?;
    eprintln!(
        "writer: {} rows in {:.2} s ({:.0} rows/s), peak RSS {:.1} MB ({:.1} MB at a tenth)",
        writer.rows,
        writer.seconds,
        writer.rows_per_second,
        writer.peak_rss_mb,
        writer.peak_rss_mb_at_tenth
    );
    let emulator = if args.emulator_rows > 0 {
        let figures = emulator_figures(args.emulator_rows).await?;
        eprintln!(
            "emulator: {} rows written in {:.2} s ({:.0} rows/s), archived in {:.2} s",
            figures.rows,
            figures.write_seconds,
            figures.write_rows_per_second,
            figures.archive_seconds
        );
        Some(figures)
    } else {
        None
    };
    let report = Report {
        machine: Machine::this(),
        writer,
        emulator,
    };
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_vec_pretty(&report)?)?;
    Ok(())
}
