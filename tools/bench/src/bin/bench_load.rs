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

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::json;
use tikivip_bench::Error;
use tikivip_bench::events::{Client, HttpCall};
use tikivip_bench::stats::{Machine, Summary};
use tikivip_domain::wire::parse_json;
use tikivip_domain::{
    NewTransaction, RefundRequest, TikiTransactionId, Timestamp, TransactionId, Vnd,
};
use tikivip_store::Store;
use tokio::sync::Mutex;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Create,
    LookUp,
    Refund,
}

/// One request, signed, ready to go.
struct Prepared {
    kind: Kind,
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

#[derive(Debug)]
struct Done {
    kind: Kind,
    /// From when it was due to when its answer was read.
    latency: Duration,
    /// From when it went out (the driver's own lateness taken out).
    service: Duration,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct KindReport {
    kind: Kind,
    requests: usize,
    errors: usize,
    latency: Summary,
}

#[derive(Debug, Serialize)]
struct Report {
    machine: Machine,
    command: String,
    server: String,
    rate: u32,
    duration_s: u64,
    requests: usize,
    achieved_rate: f64,
    errors: usize,
    error_samples: Vec<String>,
    latency: Summary,
    service_time: Summary,
    by_kind: Vec<KindReport>,
    /// How late the driver itself sent requests (p99), a check on the driver.
    driver_lateness_p99_ms: f64,
    /// CPU used during the run, in % of one core, by process.
    cpu_percent: Vec<(String, f64)>,
}

/// The emulator's capacity for the mix's AWS calls, replayed straight to it.
#[derive(Debug, Serialize)]
struct Capacity {
    callers: usize,
    duration_s: u64,
    /// API requests whose calls were replayed.
    requests: usize,
    errors: usize,
    error_samples: Vec<String>,
    /// API requests per second the emulator carried.
    rate: f64,
    cpu_percent: Vec<(String, f64)>,
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

type Http = HttpClient<HttpConnector, Full<Bytes>>;

fn http_client() -> Http {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    HttpClient::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

fn prepare(call: &HttpCall, client: &Client) -> Prepared {
    let mut headers: Vec<(HeaderName, HeaderValue)> = call
        .signature_headers(client)
        .into_iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(&value).expect("a header value"),
            )
        })
        .collect();
    if call.body.is_some() {
        headers.push((
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ));
    }
    Prepared {
        kind: Kind::Create,
        method: call.method.clone(),
        path: call.path_and_query.clone(),
        headers,
        body: Bytes::from(call.body.clone().unwrap_or_default()),
    }
}

/// Sends one request; the answer's status and body.
async fn send(http: &Http, base: &str, request: &Prepared) -> Result<(u16, Bytes), String> {
    let mut builder = Request::builder()
        .method(request.method.clone())
        .uri(format!("{base}{}", request.path));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(Full::new(request.body.clone()))
        .map_err(|e| e.to_string())?;
    let response = http.request(request).await.map_err(|e| format!("{e:?}"))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

fn created_id(body: &[u8]) -> Option<(String, String)> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    let data = &answer["data"];
    Some((
        data["transaction_id"].as_str()?.to_owned(),
        data["tiki_transaction_id"].as_str()?.to_owned(),
    ))
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

/// Creates and pays `n` transactions through the API, a few at a time.
async fn pay(http: &Http, base: &str, n: usize) -> Result<Vec<(String, String)>, Error> {
    let tiki = Client::dev_tiki();
    let partner = Client::dev_partner();
    let paid = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let mut tasks = Vec::new();
    let per_task = n.div_ceil(8);
    for task in 0..8 {
        let (http, base, tiki, partner, paid) = (
            http.clone(),
            base.to_owned(),
            tiki.clone(),
            partner.clone(),
            paid.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..per_task {
                if task * per_task + i >= n {
                    break;
                }
                let create = HttpCall::post(
                    "/v1/transactions",
                    "POST /v1/transactions",
                    json!({
                        "tiki_transaction_id": format!("load-paid-{}", uuid::Uuid::now_v7().simple()),
                        "transaction_amount": 1_000_000
                    })
                    .to_string(),
                );
                let (status, body) = send(&http, &base, &prepare(&create, &tiki)).await?;
                let ids = created_id(&body)
                    .filter(|_| status == 200)
                    .ok_or_else(|| format!("create: HTTP {status} {}", String::from_utf8_lossy(&body)))?;
                let result = HttpCall::post(
                    "/v1/ipn",
                    "POST /v1/ipn",
                    json!({
                        "transaction_id": ids.0,
                        "status": "SUCCESS",
                        "amount": 1_000_000,
                        "event_id": format!("evt-{}", uuid::Uuid::now_v7().simple()),
                        "occurred_at": tikivip_domain::Timestamp::now_utc()
                            .format(&time::format_description::well_known::Rfc3339)
                            .map_err(|e| e.to_string())?
                    })
                    .to_string(),
                );
                let (status, body) = send(&http, &base, &prepare(&result, &partner)).await?;
                if status != 200 {
                    return Err(format!("pay: HTTP {status} {}", String::from_utf8_lossy(&body)));
                }
                paid.lock().await.push(ids);
            }
            Ok::<_, String>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let paid = paid.lock().await.clone();
    Ok(paid)
}

/// Every request of the run, signed now.
fn plan(total: usize, paid: &[(String, String)], offset: usize) -> Vec<Prepared> {
    let tiki = Client::dev_tiki();
    (0..total)
        .map(|i| {
            let (txn_id, tiki_id) = &paid[(offset + i / 3) % paid.len()];
            let (kind, call) = match i % 3 {
                0 => (
                    Kind::Create,
                    HttpCall::post(
                        "/v1/transactions",
                        "POST /v1/transactions",
                        json!({
                            "tiki_transaction_id": format!("load-{}", uuid::Uuid::now_v7().simple()),
                            "transaction_amount": 99_000,
                            "description": "TikiVIP 12 tháng",
                            "customer": {"identify_code": "u-1001"}
                        })
                        .to_string(),
                    ),
                ),
                1 if (i / 3) % 2 == 0 => (
                    Kind::LookUp,
                    HttpCall::get(
                        &format!("/v1/transactions/{txn_id}"),
                        "GET /v1/transactions/{transaction_id}",
                    ),
                ),
                1 => (
                    Kind::LookUp,
                    HttpCall::get(
                        &format!("/v1/transactions?tiki_transaction_id={tiki_id}"),
                        "GET /v1/transactions",
                    ),
                ),
                _ => (
                    Kind::Refund,
                    HttpCall::post(
                        "/v1/refunds",
                        "POST /v1/refunds",
                        json!({
                            "tiki_transaction_id": tiki_id,
                            "transaction_amount": 1_000,
                            "transaction_id": txn_id,
                            "reason": "customer asked",
                            "request_id": format!("load-r-{}", uuid::Uuid::now_v7().simple())
                        })
                        .to_string(),
                    ),
                ),
            };
            Prepared {
                kind,
                ..prepare(&call, &tiki)
            }
        })
        .collect()
}

/// CPU time (user + system) of a process so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may hold spaces: fields are counted after its `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10)) // USER_HZ is 100 on Linux
}

/// The processes whose CPU a run reports: the emulator and the API server.
fn watched(port: u16) -> Vec<(String, u32)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a.ends_with("moto_server.py")) {
            found.push(("moto (DynamoDB, SQS emulator)".to_owned(), pid));
        } else if args.first().is_some_and(|a| a.ends_with("/tikivip"))
            && args.get(1).is_some_and(|a| a == "dev")
        {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let wanted = format!("PORT={port}");
            if environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes()) {
                found.push(("tikivip dev (the API)".to_owned(), pid));
            }
        }
    }
    found
}

/// The CPU the emulator and the API server use over a run.
struct CpuWatch {
    before: Vec<(String, u32, Option<Duration>)>,
}

impl CpuWatch {
    fn start(port: u16) -> Self {
        CpuWatch {
            before: watched(port)
                .into_iter()
                .map(|(name, pid)| (name, pid, cpu_time(pid)))
                .collect(),
        }
    }

    /// Each process's CPU since the start, in % of one core over `elapsed`.
    fn percent(&self, elapsed: Duration) -> Vec<(String, f64)> {
        self.before
            .iter()
            .filter_map(|(name, pid, before)| {
                let used = cpu_time(*pid)?.checked_sub((*before)?)?;
                Some((
                    name.clone(),
                    100.0 * used.as_secs_f64() / elapsed.as_secs_f64(),
                ))
            })
            .collect()
    }
}

/// The store calls of request `i` of the mix ([`plan`]'s), made straight
/// to the emulator: what the handler would call, without the handler.
async fn replay(store: &Store, paid: &[(String, String)], i: usize) -> Result<(), String> {
    let (txn_id, tiki_id) = &paid[i / 3 % paid.len()];
    let txn_id = TransactionId::parse(txn_id.as_str()).map_err(|e| e.to_string())?;
    let tiki_id = TikiTransactionId::parse(tiki_id.as_str()).map_err(|e| e.to_string())?;
    let done = match i % 3 {
        0 => {
            // As the create of the mix: no redirect_url, so the webview's
            // way back is read first.
            store
                .checkout_return("u-1001")
                .await
                .map_err(|e| e.to_string())?;
            store
                .create_transaction(NewTransaction {
                    id: TransactionId::generate(),
                    tiki_id: TikiTransactionId::parse(format!(
                        "load-{}",
                        uuid::Uuid::now_v7().simple()
                    ))
                    .map_err(|e| e.to_string())?,
                    amount: Vnd::new(99_000).map_err(|e| e.to_string())?,
                    description: None,
                    customer: None,
                    redirect_url: None,
                    created_at: Timestamp::now_utc(),
                })
                .await
                .map(|_| ())
        }
        1 if (i / 3).is_multiple_of(2) => store.transaction(&txn_id).await.map(|_| ()),
        1 => store.transaction_by_tiki_id(&tiki_id).await.map(|_| ()),
        _ => {
            let request: RefundRequest = parse_json(
                json!({
                    "tiki_transaction_id": tiki_id.as_str(),
                    "transaction_amount": 1_000,
                    "transaction_id": txn_id.as_str(),
                    "reason": "customer asked",
                    "request_id": format!("load-r-{}", uuid::Uuid::now_v7().simple())
                })
                .to_string()
                .as_bytes(),
            )
            .map_err(|e| e.to_string())?;
            store
                .refund(&request, Timestamp::now_utc())
                .await
                .map(|_| ())
        }
    };
    done.map_err(|e| e.to_string())
}

/// The emulator's capacity for the mix: `callers` closed loops replaying
/// its calls for `seconds`.
async fn emulator_capacity(
    store: &Store,
    paid: &Arc<Vec<(String, String)>>,
    port: u16,
    callers: usize,
    seconds: u64,
) -> Capacity {
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = CpuWatch::start(port);
    let start = Instant::now();
    let until = start + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..callers)
        .map(|_| {
            let (store, paid, next) = (store.clone(), paid.clone(), next.clone());
            tokio::spawn(async move {
                let (mut done, mut errors) = (0, Vec::new());
                while Instant::now() < until {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if let Err(error) = replay(&store, &paid, i).await {
                        errors.push(error);
                    }
                    done += 1;
                }
                (done, errors)
            })
        })
        .collect();
    let (mut requests, mut errors) = (0, Vec::new());
    for worker in workers {
        if let Ok((done, failed)) = worker.await {
            requests += done;
            errors.extend(failed);
        }
    }
    let elapsed = start.elapsed();
    Capacity {
        callers,
        duration_s: seconds,
        requests,
        errors: errors.len(),
        error_samples: errors.into_iter().take(5).collect(),
        rate: requests as f64 / elapsed.as_secs_f64(),
        cpu_percent: cpu.percent(elapsed),
    }
}

/// What every run shares: the API and the transactions paid for it.
struct Target {
    http: Http,
    base: String,
    port: u16,
    paid: Vec<(String, String)>,
    timeout: Duration,
}

async fn run(target: &Target, rate: u32, seconds: u64, offset: usize) -> Report {
    let Target {
        http,
        base,
        port,
        paid,
        timeout,
    } = target;
    let (port, timeout) = (*port, *timeout);
    let total = (u64::from(rate) * seconds) as usize;
    let requests = Arc::new(plan(total, paid, offset));
    let cpu = CpuWatch::start(port);
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let start = Instant::now() + Duration::from_millis(100);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Done>();
    let mut lateness = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + period * i as u32;
        tokio::time::sleep_until(due.into()).await;
        lateness.push(Instant::now().saturating_duration_since(due));
        let (http, base, requests, done) = (
            http.clone(),
            base.clone(),
            requests.clone(),
            done_tx.clone(),
        );
        tokio::spawn(async move {
            let request = &requests[i];
            let sent = Instant::now();
            let answer = tokio::time::timeout(timeout, send(&http, &base, request))
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {} s", timeout.as_secs())));
            let finished = Instant::now();
            let error = match answer {
                Ok((200, _)) => None,
                Ok((status, body)) => Some(format!(
                    "{:?}: HTTP {status} {}",
                    request.kind,
                    String::from_utf8_lossy(&body)
                )),
                Err(error) => Some(format!("{:?}: {error}", request.kind)),
            };
            let _ = done.send(Done {
                kind: request.kind,
                latency: finished - due,
                service: finished - sent,
                error,
            });
        });
    }
    drop(done_tx);
    let mut results = Vec::with_capacity(total);
    while let Some(done) = done_rx.recv().await {
        results.push(done);
    }
    let elapsed = start.elapsed();
    let cpu_percent = cpu.percent(elapsed);

    let errors: Vec<&Done> = results.iter().filter(|d| d.error.is_some()).collect();
    let mut error_samples: Vec<String> = Vec::new();
    for error in errors.iter().filter_map(|d| d.error.as_ref()) {
        // One sample of each kind of failure (its first 60 characters).
        let head: String = error.chars().take(60).collect();
        if !error_samples.iter().any(|s| s.starts_with(&head)) && error_samples.len() < 10 {
            error_samples.push(error.clone());
        }
    }
    let latencies: Vec<Duration> = results.iter().map(|d| d.latency).collect();
    let services: Vec<Duration> = results.iter().map(|d| d.service).collect();
    let by_kind = [Kind::Create, Kind::LookUp, Kind::Refund]
        .into_iter()
        .map(|kind| {
            let of_kind: Vec<&Done> = results.iter().filter(|d| d.kind == kind).collect();
            KindReport {
                kind,
                requests: of_kind.len(),
                errors: of_kind.iter().filter(|d| d.error.is_some()).count(),
                latency: Summary::of(&of_kind.iter().map(|d| d.latency).collect::<Vec<_>>()),
            }
        })
        .collect();
    Report {
        machine: Machine::this(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        server: String::new(),
        rate,
        duration_s: seconds,
        requests: results.len(),
        achieved_rate: results.len() as f64 / elapsed.as_secs_f64(),
        errors: errors.len(),
        error_samples,
        latency: Summary::of(&latencies),
        service_time: Summary::of(&services),
        by_kind,
        driver_lateness_p99_ms: Summary::of(&lateness).p99_ms,
        cpu_percent,
    }
}

fn describe(report: &Report) -> String {
    let cpu: Vec<String> = report
        .cpu_percent
        .iter()
        .map(|(name, pct)| format!("{name} {pct:.0}%"))
        .collect();
    format!(
        "{} req/s × {} s: {} requests, {} errors; p50 {:.1} ms p99 {:.1} ms max {:.1} ms; CPU {}",
        report.rate,
        report.duration_s,
        report.requests,
        report.errors,
        report.latency.p50_ms,
        report.latency.p99_ms,
        report.latency.max_ms,
        cpu.join(", ")
    )
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
