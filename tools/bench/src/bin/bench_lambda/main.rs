//! `bench-lambda`: execs each function's release binary afresh, many times,
//! under the local Lambda Runtime API, as Lambda starts a new instance; times
//! its init (exec → first `GET /next`) and its first event (event handed out →
//! its response, with its first DynamoDB call), then sends a burst of events
//! to one instance and reads its peak RSS (VmHWM) before killing it.
//!
//! Everything the functions call is local: DynamoDB, SQS and Secrets Manager
//! on the emulator at `AWS_ENDPOINT_URL`, Tiki on the simulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use clap::Parser;
use serde::Serialize;
use tiki_simulator::{Simulator, SimulatorConfig};
use tikivip_bench::Error;
use tikivip_bench::events::Client;
use tikivip_bench::local_aws;
use tikivip_bench::runtime_api::RuntimeApi;
use tikivip_bench::stats::{Machine, Summary};
use tikivip_domain::{TiniAppOrderId, Transaction};
use tikivip_queue::IpnQueue;
use tikivip_queue::tiniapp::OrderEvents;
use tikivip_store::Store;

use functions::{FUNCTIONS, Function, Kind, Secrets, Setting, check, environment};

mod functions;
mod workload;

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

/// Queues made so far, to name each instance's own.
static QUEUES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

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
struct Series {
    function: String,
    secrets: Secrets,
    /// The AWS endpoint was reached over TLS (a local TLS front).
    tls: bool,
    runs: usize,
    init: Summary,
    first_event: Summary,
    /// exec → first response: what a caller waits on a cold start.
    cold_start: Summary,
    burst_events: usize,
    burst: Summary,
    /// VmHWM of the burst's instance after its first event, and after the burst.
    rss_after_first_mb: f64,
    peak_rss_mb: f64,
    binary_bytes: u64,
    errors: Vec<String>,
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

/// A TLS front for the emulator on 127.0.0.1 (the certificate in `dir`):
/// each connection's TLS ends here and its bytes go on to `upstream` in
/// the clear. Its address.
async fn tls_front(dir: &Path, upstream: &str) -> Result<String, Error> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs =
        CertificateDer::pem_file_iter(dir.join("cert.pem"))?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(dir.join("key.pem"))?;
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = plain.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    Ok(addr)
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

/// The peak and current resident set of a process, in MB.
fn rss_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |field: &str| {
        status
            .lines()
            .find(|line| line.starts_with(field))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kb("VmHWM:") / 1024.0, kb("VmRSS:") / 1024.0)
}

struct Instance {
    child: tokio::process::Child,
    api: RuntimeApi,
    started: Instant,
    ready: Instant,
}

async fn start(
    binary: &Path,
    env: Vec<(String, String)>,
    api: RuntimeApi,
    log: &Path,
) -> Result<Instance, String> {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let stderr = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut api = api;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(stderr))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("exec {}: {e}", binary.display()))?;
    let ready = tokio::select! {
        ready = api.next_called() => ready?,
        status = child.wait() => {
            return Err(format!("exited during init ({status:?}); see {}", log.display()));
        }
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            return Err("no GET /next within 10 s".into());
        }
    };
    Ok(Instance {
        child,
        api,
        started,
        ready,
    })
}

async fn measure(
    args: &Args,
    world: &World,
    place: &Place,
    function: &Function,
    binary: &Path,
    secrets: Secrets,
    tls: bool,
) -> Result<Series, Error> {
    let log = args.logs.join(format!("{}.log", function.binary));
    let mut init = Vec::new();
    let mut first_event = Vec::new();
    let mut cold_start = Vec::new();
    let mut burst = Vec::new();
    let mut errors = Vec::new();
    let (mut rss_after_first, mut peak_rss) = (0.0, 0.0);
    for run in 0..args.runs {
        let last = run + 1 == args.runs;
        let count = if last { 1 + args.burst } else { 1 };
        let events = workload::events(world, function, place, count).await?;
        // A fresh queue per instance: moto answers GetQueueAttributes (the
        // queue's warm-up at init) in time proportional to the messages
        // queued, where SQS takes constant time, and allows one PurgeQueue a
        // minute; what earlier runs enqueued (the burst of the series before
        // this one, on the same table, included) must not slow this init.
        let queues = if function.uses_queues() {
            let n = QUEUES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("{}-{n}", place.table);
            Queues {
                jobs: local_aws::queue(&world.aws, &format!("{name}-jobs")).await?,
                events: if function.has(Setting::TiniAppEvents) {
                    Some(local_aws::order_events(&world.aws, &name).await?)
                } else {
                    None
                },
            }
        } else {
            Queues {
                jobs: place.queue.clone(),
                events: None,
            }
        };
        let api = RuntimeApi::start().await?;
        let mut env = environment(
            world,
            &place.table,
            &queues,
            function,
            secrets,
            &api.host_port(),
        );
        if let (true, Some((endpoint, cert))) = (tls, &world.tls) {
            for (name, value) in &mut env {
                match name.as_str() {
                    "AWS_ENDPOINT_URL" => *value = endpoint.clone(),
                    "SSL_CERT_FILE" => *value = cert.display().to_string(),
                    _ => {}
                }
            }
        }
        let mut instance = match start(binary, env, api, &log).await {
            Ok(instance) => instance,
            Err(error) => {
                errors.push(format!("run {run}: {error}"));
                continue;
            }
        };
        init.push(instance.ready - instance.started);
        for (i, event) in events.into_iter().enumerate() {
            let invoked =
                tokio::time::timeout(Duration::from_secs(15), instance.api.invoke(event)).await;
            let outcome = match invoked {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(error)) => {
                    errors.push(format!("run {run} event {i}: {error}"));
                    break;
                }
                Err(_) => {
                    errors.push(format!("run {run} event {i}: no answer within 15 s"));
                    break;
                }
            };
            if !outcome.ok {
                errors.push(format!(
                    "run {run} event {i}: error {}",
                    String::from_utf8_lossy(&outcome.body)
                ));
            } else if let Err(error) = check(function.kind, &outcome.body) {
                errors.push(format!("run {run} event {i}: {error}"));
            }
            if i == 0 {
                first_event.push(outcome.latency());
                cold_start.push(outcome.answered - instance.started);
                if last {
                    rss_after_first = instance.child.id().map_or(0.0, |pid| rss_mb(pid).0);
                }
            } else {
                burst.push(outcome.latency());
            }
        }
        if last {
            peak_rss = instance.child.id().map_or(0.0, |pid| rss_mb(pid).0);
        }
        let _ = instance.child.start_kill();
        let _ = instance.child.wait().await;
    }
    Ok(Series {
        function: function.binary.to_owned(),
        secrets,
        tls,
        runs: init.len(),
        init: Summary::of(&init),
        first_event: Summary::of(&first_event),
        cold_start: Summary::of(&cold_start),
        burst_events: burst.len(),
        burst: Summary::of(&burst),
        rss_after_first_mb: rss_after_first,
        peak_rss_mb: peak_rss,
        binary_bytes: std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0),
        errors,
    })
}
