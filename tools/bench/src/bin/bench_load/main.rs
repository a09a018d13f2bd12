//! `bench-load`: the local API (`make dev`) under a signed, open-loop load, as
//! a ratio to the emulator it runs on.
//!
//! The emulator (moto, one Python process) has a capacity of its own, which
//! is not the product's. So the run first measures it: the AWS calls of the
//! same mix, made by the same store code, replayed straight to the emulator
//! by a closed loop of workers. Then the API takes the mix at 80 % of that
//! capacity, and the figures are its errors (none allowed) and the stack's
//! own CPU per request against the emulator's at that rate.
//!
//! Requests go out at a fixed rate whatever the answers do (open loop), and
//! each latency runs from when its request was *due*, so a server that falls
//! behind is charged for the queue it builds (no coordinated omission).
//!
//! The mix is creates, look-ups (by our id and by Tiki's) and refunds, one
//! third each. Every request is signed right before the run (a signature is
//! valid five minutes): each create carries its own `tiki_transaction_id`,
//! each refund its own `request_id` against transactions paid beforehand.

mod cpu;
mod mix;
mod open_loop;
mod replay;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde::Serialize;
use tikivip_bench::Error;
use tikivip_store::Store;

use mix::pay;
use open_loop::{Report, Target, describe, http_client, run};
use replay::{Capacity, emulator_capacity};

#[derive(Parser, Debug)]
#[command(
    about = "The emulator's capacity for the mix's calls, then a signed open-loop load (create / look-up / refund) on the local API at a share of it"
)]
struct Args {
    /// The API, as `make dev` serves it.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    base_url: String,
    /// Requests per second; by default the share `load` of the emulator's
    /// capacity measured first.
    #[arg(long)]
    rate: Option<u32>,
    /// The share of the emulator's measured capacity to run the API at.
    #[arg(long, default_value_t = 0.8)]
    load: f64,
    /// Seconds of load on the API.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Transactions paid before the run, for the refunds and look-ups (enough
    /// that each gets a handful of refunds, as in life, not dozens).
    #[arg(long, default_value_t = 1000)]
    paid: usize,
    /// Wait up to this many seconds for the API to answer before starting.
    #[arg(long, default_value_t = 300)]
    wait_ready: u64,
    /// Where the results go (JSON).
    #[arg(long, default_value = "target/bench/load.json")]
    out: PathBuf,
    /// How the API was started, for the report.
    #[arg(long, default_value = "make dev")]
    server: String,
    /// The table `make dev` serves (TABLE_NAME), for the replay straight to
    /// the emulator.
    #[arg(long, env = "TABLE_NAME")]
    table: String,
    /// Seconds of the replay that measures the emulator's capacity.
    #[arg(long, default_value_t = 20)]
    capacity_seconds: u64,
    /// Concurrent callers of the replay: enough to keep the emulator busy.
    #[arg(long, default_value_t = 16)]
    capacity_callers: usize,
    /// A request unanswered this long is an error (the functions' timeout
    /// in the template is 10 s).
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[derive(Debug, Serialize)]
struct Output {
    #[serde(flatten)]
    run: Report,
    emulator: Capacity,
    /// The share of the capacity the run was offered.
    load: f64,
    /// CPU per request during the run, ms: the stack's, the emulator's.
    stack_cpu_ms: f64,
    emulator_cpu_ms: f64,
}

async fn wait_ready(base: &str, seconds: u64) -> Result<(), Error> {
    let authority = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let addr: SocketAddr = authority.parse().map_err(|e| format!("{authority}: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if Instant::now() > deadline {
            return Err(format!("nothing answers on {base} after {seconds} s").into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let base = args.base_url.trim_end_matches('/').to_owned();
    let port: u16 = base
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(80);
    wait_ready(&base, args.wait_ready).await?;
    let http = http_client();
    let timeout = Duration::from_secs(args.timeout);

    eprintln!(
        "paying {} transactions for the refunds and look-ups…",
        args.paid
    );
    let paid = pay(&http, &base, args.paid).await?;
    let target = Target {
        http,
        base,
        port,
        paid,
        timeout,
    };
    // Let the IPNs of those payments go out before the runs (the dispatcher
    // delivers ~100 a second here).
    tokio::time::sleep(Duration::from_secs(3 + args.paid as u64 / 100)).await;

    let store = Store::new(
        aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await),
        &args.table,
    );
    eprintln!(
        "the emulator's capacity: the mix's calls replayed straight to it, {} callers for {} s…",
        args.capacity_callers, args.capacity_seconds
    );
    let emulator = emulator_capacity(
        &store,
        &Arc::new(target.paid.clone()),
        port,
        args.capacity_callers,
        args.capacity_seconds,
    )
    .await;
    eprintln!(
        "emulator: {:.1} req/s ({} requests, {} errors); CPU {:?}",
        emulator.rate, emulator.requests, emulator.errors, emulator.cpu_percent
    );
    // Let the emulator drain what the closed loop left queued.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let rate = args
        .rate
        .unwrap_or(((emulator.rate * args.load).floor() as u32).max(1));
    eprintln!(
        "{rate} req/s for {} s, {} requests signed…",
        args.duration,
        u64::from(rate) * args.duration
    );
    let mut report = run(&target, rate, args.duration, emulator.requests / 3 + 1).await;
    report.server = args.server.clone();
    eprintln!("run: {}", describe(&report));
    let per_request = |name: &str| {
        let share = report
            .cpu_percent
            .iter()
            .find(|(n, _)| n.starts_with(name))
            .map_or(f64::NAN, |(_, pct)| *pct);
        // % of a core over the run → ms of CPU per request.
        share / 100.0 * 1000.0 / report.achieved_rate
    };
    let (stack_cpu_ms, emulator_cpu_ms) = (per_request("tikivip"), per_request("moto"));
    eprintln!(
        "CPU per request: stack {stack_cpu_ms:.2} ms, emulator {emulator_cpu_ms:.2} ms ({:.2}×)",
        stack_cpu_ms / emulator_cpu_ms
    );
    let dir = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let output = Output {
        run: report,
        emulator,
        load: args.load,
        stack_cpu_ms,
        emulator_cpu_ms,
    };
    std::fs::write(&args.out, serde_json::to_string_pretty(&output)?)?;
    eprintln!("written to {}", args.out.display());
    Ok(())
}
