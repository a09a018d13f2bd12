//! `bench-lambda`: execs each function's release binary afresh, many times,
//! under the local Lambda Runtime API, as Lambda starts a new instance; times
//! its init (exec → first `GET /next`) and its first event (event handed out →
//! its response, with its first DynamoDB call), then sends a burst of events
//! to one instance and reads its peak RSS (VmHWM) before killing it.
//!
//! Everything the functions call is local: DynamoDB, SQS and Secrets Manager
//! on the emulator at `AWS_ENDPOINT_URL`, Tiki on the simulator.

mod functions;
mod measure;
mod tls_front;
mod workload;

use std::collections::BTreeMap;
use std::path::PathBuf;

use aws_config::SdkConfig;
use clap::Parser;
use serde::Serialize;
use tiki_simulator::{Simulator, SimulatorConfig};
use tikivip_bench::Error;
use tikivip_bench::events::Client;
use tikivip_bench::local_aws;
use tikivip_bench::stats::Machine;
use tikivip_domain::{TiniAppOrderId, Transaction};
use tikivip_queue::IpnQueue;
use tikivip_queue::tiniapp::OrderEvents;
use tikivip_store::Store;

use functions::{FUNCTIONS, Function, Kind, Secrets};
use measure::{Series, measure};
use tls_front::tls_front;

#[derive(Parser, Debug)]
#[command(about = "Cold starts and peak memory of each function under a local Lambda Runtime API")]
struct Args {
    /// Where the functions' release binaries are (cargo build --release).
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Fresh instances per function and secrets source.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Events sent to the last instance after its first, for its peak RSS.
    #[arg(long, default_value_t = 300)]
    burst: usize,
    /// The local AWS.
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        default_value = "http://127.0.0.1:5005"
    )]
    aws_endpoint_url: String,
    /// Where the results go (JSON).
    #[arg(long, default_value = "target/bench/lambda.json")]
    out: PathBuf,
    /// Where the functions' logs go.
    #[arg(long, default_value = "target/bench/logs")]
    logs: PathBuf,
    /// Only these functions (comma-separated binary names).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// A directory holding `cert.pem` and `key.pem` (a self-signed
    /// certificate for 127.0.0.1): get-transaction, with and without its
    /// warm-up, is then also run against the emulator behind TLS, as AWS is.
    #[arg(long)]
    tls_dir: Option<PathBuf>,
}

/// What every function of one run shares.
struct World {
    aws: SdkConfig,
    endpoint: String,
    tiki_secret_arn: String,
    partner_secret_arn: String,
    tiniapp_secret_arn: String,
    simulator: Simulator,
    prefix: String,
    /// The emulator behind TLS, and the certificate to trust for it.
    tls: Option<(String, PathBuf)>,
}

/// One function's own table and queue.
struct Place {
    store: Store,
    queue: IpnQueue,
    table: String,
    /// A transaction to look up (get-transaction).
    transaction: Option<Transaction>,
    /// An order to look up (tiniapp-order).
    order: Option<TiniAppOrderId>,
}

/// The queues one instance is given: a job queue with its dead-letter queue
/// (IPN or Tini App), and the FIFO queue of order events where it publishes.
struct Queues {
    jobs: IpnQueue,
    events: Option<OrderEvents>,
}

#[derive(Debug, Serialize)]
struct Report {
    machine: Machine,
    command: String,
    runs: usize,
    burst: usize,
    series: Vec<Series>,
    /// get-transaction's init and first event (p50) with and without the
    /// warm-up, over plain HTTP and over TLS.
    warmup_ms: BTreeMap<String, f64>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.logs)?;
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let aws = local_aws::config(&args.aws_endpoint_url).await;
    let prefix = format!("bench-{}-{}", std::process::id(), fastrand_suffix());
    let tiki = Client::dev_tiki();
    let partner = Client::dev_partner();
    let tiniapp = Client::dev_tiniapp();
    let tiki_secret_arn = local_aws::secret(&aws, &format!("{prefix}-tiki"), &tiki.secret).await?;
    let partner_secret_arn =
        local_aws::secret(&aws, &format!("{prefix}-partner"), &partner.secret).await?;
    let tiniapp_secret_arn =
        local_aws::secret(&aws, &format!("{prefix}-tiniapp"), &tiniapp.secret).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let simulator = Simulator::start(
        listener,
        SimulatorConfig::new(tiki.id.clone(), tiki.secret.as_bytes().to_vec())
            .with_tiniapp(tiniapp.id.clone(), tiniapp.secret.as_bytes().to_vec()),
    )?;
    let world = World {
        aws,
        endpoint: args.aws_endpoint_url.clone(),
        tiki_secret_arn,
        partner_secret_arn,
        tiniapp_secret_arn,
        simulator,
        prefix,
        tls: match &args.tls_dir {
            Some(dir) => Some((
                format!("https://{}", tls_front(dir, &args.aws_endpoint_url).await?),
                dir.join("cert.pem"),
            )),
            None => None,
        },
    };

    let mut series = Vec::new();
    for function in FUNCTIONS {
        if !args.only.is_empty() && !args.only.iter().any(|f| f == function.binary) {
            continue;
        }
        let binary = args.bin_dir.join(function.binary);
        if !binary.exists() {
            return Err(format!("{} is not built", binary.display()).into());
        }
        let place = place(&world, function).await?;
        let modes: &[Secrets] = if function.binary.ends_with("-nowarmup") {
            &[Secrets::Env]
        } else if !function.secrets.is_empty() {
            &[Secrets::SecretsManager, Secrets::Env]
        } else {
            &[Secrets::Env]
        };
        for &secrets in modes {
            let measured =
                measure(&args, &world, &place, function, &binary, secrets, false).await?;
            eprintln!(
                "{:<26} {:<15} init p50 {:>6.2} ms p99 {:>6.2} ms | first event p50 {:>6.2} ms | burst p50 {:>5.2} ms | peak RSS {:>5.1} MB{}",
                function.binary,
                format!("{secrets:?}"),
                measured.init.p50_ms,
                measured.init.p99_ms,
                measured.first_event.p50_ms,
                measured.burst.p50_ms,
                measured.peak_rss_mb,
                if measured.errors.is_empty() {
                    String::new()
                } else {
                    format!(" | {} errors", measured.errors.len())
                }
            );
            series.push(measured);
        }
    }

    if world.tls.is_some() {
        for function in FUNCTIONS
            .iter()
            .filter(|f| f.binary.starts_with("get-transaction"))
        {
            if !args.only.is_empty() && !args.only.iter().any(|f| f == function.binary) {
                continue;
            }
            let binary = args.bin_dir.join(function.binary);
            let place = place(&world, function).await?;
            let measured =
                measure(&args, &world, &place, function, &binary, Secrets::Env, true).await?;
            eprintln!(
                "{:<26} {:<15} init p50 {:>6.2} ms p99 {:>6.2} ms | first event p50 {:>6.2} ms | burst p50 {:>5.2} ms",
                function.binary,
                "Env, TLS",
                measured.init.p50_ms,
                measured.init.p99_ms,
                measured.first_event.p50_ms,
                measured.burst.p50_ms,
            );
            series.push(measured);
        }
    }

    let first = |name: &str, tls: bool| {
        series
            .iter()
            .find(|s| s.function == name && s.secrets == Secrets::Env && s.tls == tls)
            .map(|s| (s.init.p50_ms, s.first_event.p50_ms))
    };
    let mut warmup = BTreeMap::new();
    for (tls, label) in [(false, "plain"), (true, "tls")] {
        if let (Some(with), Some(without)) = (
            first("get-transaction", tls),
            first("get-transaction-nowarmup", tls),
        ) {
            warmup.insert(format!("{label}_init_with"), with.0);
            warmup.insert(format!("{label}_init_without"), without.0);
            warmup.insert(format!("{label}_first_event_with"), with.1);
            warmup.insert(format!("{label}_first_event_without"), without.1);
        }
    }
    let errors: usize = series.iter().map(|s| s.errors.len()).sum();
    let report = Report {
        machine: Machine::this(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        runs: args.runs,
        burst: args.burst,
        series,
        warmup_ms: warmup,
    };
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    eprintln!("written to {}", args.out.display());
    if errors > 0 {
        return Err(format!("{errors} invocations failed; see {}", args.logs.display()).into());
    }
    Ok(())
}

fn fastrand_suffix() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..].to_owned()
}

async fn place(world: &World, function: &Function) -> Result<Place, Error> {
    let table = format!("{}-{}", world.prefix, function.binary);
    let store = local_aws::table(&world.aws, &table).await?;
    let queue = local_aws::queue(&world.aws, &format!("{table}-ipn")).await?;
    let transaction = match function.kind {
        Kind::Get => Some(local_aws::paid(&store, 99_000).await?),
        _ => None,
    };
    let order = match function.kind {
        Kind::TiniAppOrder => Some(workload::stored_order(&store).await?),
        _ => None,
    };
    Ok(Place {
        store,
        queue,
        table,
        transaction,
        order,
    })
}
