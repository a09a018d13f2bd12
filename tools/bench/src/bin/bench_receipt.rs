//! `bench-receipt`: how fast the local API (`make dev`) answers Tiki's Tini
//! App order notifications. Tiki resends a notification it has no answer to
//! within 15 s, so the receipt must answer before anything slow happens: it
//! records the message with its processing in the outbox and answers; the
//! confirmation with Tiki's order API runs afterwards, from the queue.
//!
//! Notifications go one after another (each its own order, which the Tiki
//! simulator's order API is told of first, untimed), signed as Tiki signs
//! them; each latency is the whole HTTP exchange as Tiki sees it.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use tiki_simulator::{SimOrder, TiniAppPlatform, notification};
use tikivip_bench::Error;
use tikivip_bench::events::Client;
use tikivip_bench::stats::{Machine, Summary};
use tikivip_signing::Secret;
use time::OffsetDateTime;

#[derive(Parser, Debug)]
#[command(about = "Receipt latency of Tini App order notifications through the local API")]
struct Args {
    /// The API, as `make dev` serves it.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    base_url: String,
    /// The Tiki simulator `make dev` started (its control API).
    #[arg(long, default_value = "http://127.0.0.1:4010")]
    simulator_url: String,
    /// Notifications sent, one after another.
    #[arg(long, default_value_t = 200)]
    count: usize,
    /// Where the results go (JSON).
    #[arg(long, default_value = "target/bench/receipt.json")]
    out: PathBuf,
}

#[derive(Debug, Serialize)]
struct Report {
    machine: Machine,
    server: String,
    sent: usize,
    /// Answers other than 200, and no answer at all.
    errors: Vec<String>,
    latency: Summary,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let tiniapp = Client::dev_tiniapp();
    let platform = TiniAppPlatform::new(&tiniapp.id, Secret::new(tiniapp.secret.as_bytes()));
    let control = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(args.count);
    let mut errors = Vec::new();
    for n in 0..args.count {
        let order = SimOrder::new(
            format!("bench-{}", uuid::Uuid::now_v7().simple()),
            "online_paid",
            99_000,
        );
        control
            .post(format!(
                "{}/_sim/tiniapp/orders",
                args.simulator_url.trim_end_matches('/')
            ))
            .json(&order)
            .send()
            .await?
            .error_for_status()?;
        let body = notification(
            &uuid::Uuid::now_v7().to_string(),
            &order,
            OffsetDateTime::now_utc(),
        );
        let started = Instant::now();
        let delivery = platform.notify(&args.base_url, &body).await;
        latencies.push(started.elapsed());
        if delivery.http_status != 200 {
            errors.push(format!(
                "notification {n}: HTTP {} {}",
                delivery.http_status, delivery.body
            ));
        }
    }
    let report = Report {
        machine: Machine::this(),
        server: args.base_url.clone(),
        sent: args.count,
        errors,
        latency: Summary::of(&latencies),
    };
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    eprintln!(
        "{} notifications: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} errors; written to {}",
        report.sent,
        report.latency.p50_ms,
        report.latency.p99_ms,
        report.latency.max_ms,
        report.errors.len(),
        args.out.display()
    );
    if !report.errors.is_empty() {
        return Err(format!(
            "{} notifications were not answered 200",
            report.errors.len()
        )
        .into());
    }
    Ok(())
}
