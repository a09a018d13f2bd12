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
use tikivip_bench::events::{Client, HttpCall, scheduled_event, sqs_event};
use tikivip_bench::local_aws::{self, ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY};
use tikivip_bench::runtime_api::RuntimeApi;
use tikivip_bench::stats::{Machine, Summary};
use tikivip_bench::{Error, local_aws::payment_result_json};
use tikivip_domain::{Ipn, Transaction};
use tikivip_queue::{IpnMessage, IpnQueue};
use tikivip_store::Store;

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

/// The CA bundle of this machine (Debian's).
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What a function is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Create,
    Get,
    Refund,
    PaymentResult,
    Dispatch,
    Sweep,
}

/// Where a function's secrets come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Secrets {
    /// `NAME_ARN` → Secrets Manager, as the template deploys it.
    SecretsManager,
    /// The variable `NAME` itself: the binary's own init, without that call.
    Env,
}

struct Function {
    binary: &'static str,
    kind: Kind,
    /// Which secret settings it reads.
    tiki_secret: bool,
    partner_secret: bool,
    /// Extra settings, as the template sets them.
    queue: bool,
    tiki: bool,
    payment_url: bool,
}

const FUNCTIONS: &[Function] = &[
    Function {
        binary: "create-transaction",
        kind: Kind::Create,
        tiki_secret: true,
        partner_secret: false,
        queue: false,
        tiki: false,
        payment_url: true,
    },
    Function {
        binary: "get-transaction",
        kind: Kind::Get,
        tiki_secret: true,
        partner_secret: false,
        queue: false,
        tiki: false,
        payment_url: false,
    },
    Function {
        binary: "refund",
        kind: Kind::Refund,
        tiki_secret: true,
        partner_secret: false,
        queue: false,
        tiki: false,
        payment_url: false,
    },
    Function {
        binary: "ipn-receiver",
        kind: Kind::PaymentResult,
        tiki_secret: false,
        partner_secret: true,
        queue: true,
        tiki: false,
        payment_url: false,
    },
    Function {
        binary: "ipn-dispatcher",
        kind: Kind::Dispatch,
        tiki_secret: true,
        partner_secret: false,
        queue: true,
        tiki: true,
        payment_url: false,
    },
    Function {
        binary: "ipn-outbox-sweeper",
        kind: Kind::Sweep,
        tiki_secret: false,
        partner_secret: false,
        queue: true,
        tiki: false,
        payment_url: false,
    },
    // get-transaction without the connection warm-up at init (tools/bench).
    Function {
        binary: "get-transaction-nowarmup",
        kind: Kind::Get,
        tiki_secret: true,
        partner_secret: false,
        queue: false,
        tiki: false,
        payment_url: false,
    },
];

/// What every function of one run shares.
struct World {
    aws: SdkConfig,
    endpoint: String,
    tiki_secret_arn: String,
    partner_secret_arn: String,
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
    known: Option<Transaction>,
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
    let tiki_secret_arn = local_aws::secret(&aws, &format!("{prefix}-tiki"), &tiki.secret).await?;
    let partner_secret_arn =
        local_aws::secret(&aws, &format!("{prefix}-partner"), &partner.secret).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let simulator = Simulator::start(
        listener,
        SimulatorConfig::new(tiki.id.clone(), tiki.secret.as_bytes().to_vec()),
    )?;
    let world = World {
        aws,
        endpoint: args.aws_endpoint_url.clone(),
        tiki_secret_arn,
        partner_secret_arn,
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
        } else if function.tiki_secret || function.partner_secret {
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
    let known = match function.kind {
        Kind::Get => Some(local_aws::paid(&store, 99_000).await?),
        _ => None,
    };
    Ok(Place {
        store,
        queue,
        table,
        known,
    })
}

/// The environment Lambda and the template give the function.
fn environment(
    world: &World,
    place: &Place,
    queue: &IpnQueue,
    function: &Function,
    secrets: Secrets,
    runtime_api: &str,
) -> Vec<(String, String)> {
    let tiki = Client::dev_tiki();
    let partner = Client::dev_partner();
    let mut env: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), runtime_api.into()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), function.binary.into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", function.binary),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), "bench".into()),
        ("AWS_REGION".into(), REGION.into()),
        ("AWS_DEFAULT_REGION".into(), REGION.into()),
        ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY_ID.into()),
        ("AWS_SECRET_ACCESS_KEY".into(), SECRET_ACCESS_KEY.into()),
        ("AWS_SESSION_TOKEN".into(), "bench".into()),
        ("AWS_ENDPOINT_URL".into(), world.endpoint.clone()),
        // No HOME, so no profile files; no instance metadata: as in Lambda.
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        // Lambda's image (AL2023) has one CA bundle where this Debian machine
        // has the bundle and a directory of ~150 certificate files, which
        // rustls-native-certs would read one by one (milliseconds of init
        // Lambda does not spend): the bundle alone, as there.
        ("SSL_CERT_FILE".into(), CA_BUNDLE.into()),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("RUST_LOG".into(), "info".into()),
        ("TABLE_NAME".into(), place.table.clone()),
    ];
    if function.tiki_secret {
        env.push(("TIKIVIP_CLIENT_ID".into(), tiki.id.clone()));
        env.push(match secrets {
            Secrets::SecretsManager => (
                "TIKIVIP_CLIENT_SECRET_ARN".into(),
                world.tiki_secret_arn.clone(),
            ),
            Secrets::Env => ("TIKIVIP_CLIENT_SECRET".into(), tiki.secret.clone()),
        });
    }
    if function.partner_secret {
        env.push(("PARTNER_CLIENT_ID".into(), partner.id.clone()));
        env.push(match secrets {
            Secrets::SecretsManager => (
                "PARTNER_CLIENT_SECRET_ARN".into(),
                world.partner_secret_arn.clone(),
            ),
            Secrets::Env => ("PARTNER_CLIENT_SECRET".into(), partner.secret.clone()),
        });
    }
    if function.queue {
        env.push(("IPN_QUEUE_URL".into(), queue.queue_url().to_owned()));
        env.push((
            "IPN_DEAD_LETTER_QUEUE_URL".into(),
            queue.dead_letter_url().to_owned(),
        ));
    }
    if function.kind == Kind::Sweep {
        // The sweeper also sweeps the Tini App outbox (nothing in it here):
        // its queues, as the template sets them; the place's own queue
        // stands in for each, so that the init's warm-up reaches a real one.
        for name in ["TINIAPP_QUEUE_URL", "TINIAPP_EVENTS_QUEUE_URL"] {
            env.push((name.into(), queue.queue_url().to_owned()));
        }
        env.push((
            "TINIAPP_DEAD_LETTER_QUEUE_URL".into(),
            queue.dead_letter_url().to_owned(),
        ));
    }
    if function.tiki {
        env.push(("TIKI_ENVIRONMENT".into(), "local".into()));
        env.push((
            "TIKI_BASE_URL".into(),
            world.simulator.base_url().to_owned(),
        ));
        env.push(("TIKI_TIMEOUT_MS".into(), "10000".into()));
    }
    if function.payment_url {
        env.push((
            "PAYMENT_URL_TEMPLATE".into(),
            "https://pay.partner.example/tikivip/{transaction_id}".into(),
        ));
    }
    env
}

/// `n` events for `function`, each as a fresh caller would send it; the
/// state they need (transactions to refund, to settle, to notify) is made
/// first and is not timed.
async fn events(function: &Function, place: &Place, n: usize) -> Result<Vec<String>, Error> {
    let tiki = Client::dev_tiki();
    let partner = Client::dev_partner();
    let mut events = Vec::with_capacity(n);
    match function.kind {
        Kind::Create => {
            for _ in 0..n {
                let body = serde_json::json!({
                    "tiki_transaction_id": format!("bench-{}", uuid::Uuid::now_v7().simple()),
                    "transaction_amount": 99_000,
                    "description": "TikiVIP 12 tháng"
                });
                events.push(
                    HttpCall::post(
                        "/v1/transactions",
                        "POST /v1/transactions",
                        body.to_string(),
                    )
                    .signed_event(&tiki),
                );
            }
        }
        Kind::Get => {
            let txn = place.known.as_ref().expect("a known transaction");
            for i in 0..n {
                let call = if i % 2 == 0 {
                    HttpCall::get(
                        &format!("/v1/transactions/{}", txn.id),
                        "GET /v1/transactions/{transaction_id}",
                    )
                    .with_path_parameter("transaction_id", txn.id.as_str())
                } else {
                    HttpCall::get(
                        &format!("/v1/transactions?tiki_transaction_id={}", txn.tiki_id),
                        "GET /v1/transactions",
                    )
                };
                events.push(call.signed_event(&tiki));
            }
        }
        Kind::Refund => {
            // At most 50 refunds of 1 000 on each paid transaction of 1 000 000.
            let mut txn = None;
            for i in 0..n {
                if i % 50 == 0 {
                    txn = Some(local_aws::paid(&place.store, 1_000_000).await?);
                }
                let txn: &Transaction = txn.as_ref().expect("made above");
                let body = serde_json::json!({
                    "tiki_transaction_id": txn.tiki_id.as_str(),
                    "transaction_amount": 1_000,
                    "transaction_id": txn.id.as_str(),
                    "reason": "customer asked",
                    "request_id": format!("r-{}", uuid::Uuid::now_v7().simple()),
                });
                events.push(
                    HttpCall::post("/v1/refunds", "POST /v1/refunds", body.to_string())
                        .signed_event(&tiki),
                );
            }
        }
        Kind::PaymentResult => {
            for _ in 0..n {
                let txn = local_aws::pending(&place.store, 99_000).await?;
                events.push(
                    HttpCall::post("/v1/ipn", "POST /v1/ipn", payment_result_json(&txn))
                        .signed_event(&partner),
                );
            }
        }
        Kind::Dispatch => {
            let arn = format!(
                "arn:aws:sqs:{REGION}:123456789012:{}",
                place.queue.queue_url().rsplit('/').next().unwrap_or("ipn")
            );
            for _ in 0..n {
                let txn = local_aws::paid(&place.store, 99_000).await?;
                let ipn = Ipn::for_settled(&txn).ok_or("a paid transaction has an IPN")?;
                let message = IpnMessage {
                    transaction_id: txn.id.clone(),
                    ipn,
                    chain: 0,
                };
                events.push(sqs_event(&arn, &[serde_json::to_string(&message)?]));
            }
        }
        Kind::Sweep => {
            for _ in 0..n {
                events.push(scheduled_event());
            }
        }
    }
    Ok(events)
}

/// Whether an answer is the success it should be.
fn check(kind: Kind, body: &[u8]) -> Result<(), String> {
    let answer: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("not JSON ({e}): {}", String::from_utf8_lossy(body)))?;
    let ok = match kind {
        Kind::Create | Kind::Get | Kind::Refund | Kind::PaymentResult => {
            answer["statusCode"] == 200
        }
        Kind::Dispatch => answer["batchItemFailures"]
            .as_array()
            .is_none_or(|failures| failures.is_empty()),
        Kind::Sweep => answer["released"].is_number(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected answer: {answer}"))
    }
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
        let events = events(function, place, count).await?;
        // A fresh queue per instance: moto answers GetQueueAttributes (the
        // queue's warm-up at init) in time proportional to the messages
        // queued, where SQS takes constant time, and allows one PurgeQueue a
        // minute; what earlier runs enqueued (the burst of the series before
        // this one, on the same table, included) must not slow this init.
        let queue = if function.queue {
            let n = QUEUES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            local_aws::queue(&world.aws, &format!("{}-ipn-{n}", place.table)).await?
        } else {
            place.queue.clone()
        };
        let api = RuntimeApi::start().await?;
        let mut env = environment(world, place, &queue, function, secrets, &api.host_port());
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
