//! The fault proxy between the stack and the emulator: every AWS call of the
//! functions passes through it, and while faults are on, a share of the
//! data-plane calls fail as AWS calls fail: throttled, an internal error, the
//! connection reset, no answer for seconds, or the answer lost after the
//! write was applied (so that the SDK retries a committed write).
//!
//! It can also be armed to kill the stack right after a payment result's
//! settling write has committed, before its answer (and so the enqueue that
//! follows it) happens.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// The calls faults apply to: what the functions do per request, not the
/// set-up calls (CreateTable, CreateQueue, GetQueueUrl) of a (re)start.
const DATA_PLANE: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "TransactWriteItems",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
];

/// How long a "timeout" holds the call before the connection drops.
const HOLD: Duration = Duration::from_secs(4);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwsFault {
    Throttled,
    InternalError,
    ConnectionReset,
    Timeout,
    LostAnswer,
}

impl AwsFault {
    pub const ALL: [AwsFault; 5] = [
        AwsFault::Throttled,
        AwsFault::InternalError,
        AwsFault::ConnectionReset,
        AwsFault::Timeout,
        AwsFault::LostAnswer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AwsFault::Throttled => "throttled",
            AwsFault::InternalError => "internal error",
            AwsFault::ConnectionReset => "connection reset",
            AwsFault::Timeout => "timeout",
            AwsFault::LostAnswer => "answer lost after the write",
        }
    }
}

/// The rate of each fault per data-plane call, while faults are on.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    pub per_kind: f64,
    /// A timeout holds a caller for seconds: rarer than the others.
    pub timeout: f64,
}

pub struct Faults {
    rates: Rates,
    on: AtomicBool,
    injected: [AtomicU64; 5],
    calls: AtomicU64,
    /// Kill this process at the next committed settlement (0: disarmed).
    armed_pid: AtomicU32,
    pub crashes_after_write: AtomicU64,
}

impl Faults {
    pub fn new(rates: Rates) -> Arc<Faults> {
        Arc::new(Faults {
            rates,
            on: AtomicBool::new(false),
            injected: Default::default(),
            calls: AtomicU64::new(0),
            armed_pid: AtomicU32::new(0),
            crashes_after_write: AtomicU64::new(0),
        })
    }

    pub fn set_on(&self, on: bool) {
        self.on.store(on, Ordering::SeqCst);
    }

    pub fn arm(&self, pid: u32) {
        self.armed_pid.store(pid, Ordering::SeqCst);
    }

    pub fn disarm(&self) {
        self.armed_pid.store(0, Ordering::SeqCst);
    }

    pub fn injected(&self) -> Vec<(AwsFault, u64)> {
        AwsFault::ALL
            .iter()
            .zip(&self.injected)
            .map(|(fault, count)| (*fault, count.load(Ordering::Relaxed)))
            .collect()
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn draw(&self, operation: &str) -> Option<AwsFault> {
        if !self.on.load(Ordering::Relaxed) || !DATA_PLANE.contains(&operation) {
            return None;
        }
        let mut roll = fastrand::f64();
        for (i, fault) in AwsFault::ALL.into_iter().enumerate() {
            let rate = match fault {
                AwsFault::Timeout => self.rates.timeout,
                _ => self.rates.per_kind,
            };
            if roll < rate {
                self.injected[i].fetch_add(1, Ordering::Relaxed);
                return Some(fault);
            }
            roll -= rate;
        }
        None
    }
}

/// The connection is dropped without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

/// Starts the proxy on a free port of 127.0.0.1, in front of `upstream`
/// (`http://127.0.0.1:5005`).
pub async fn start(upstream: &str, faults: Arc<Faults>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let upstream: Arc<str> = upstream.trim_end_matches('/').into();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (client, faults, upstream) = (client.clone(), faults.clone(), upstream.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    pass(request, client.clone(), faults.clone(), upstream.clone())
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(address)
}

fn aws_error(status: u16, kind: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-query-error", format!("{kind};Sender"))
        .body(Full::new(Bytes::from(format!(
            r#"{{"__type":"{kind}","message":"injected by the soak's fault proxy"}}"#
        ))))
        .expect("a response")
}

async fn pass(
    request: Request<Incoming>,
    client: Client<HttpConnector, Full<Bytes>>,
    faults: Arc<Faults>,
    upstream: Arc<str>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|target| target.to_str().ok())
        .and_then(|target| target.rsplit('.').next())
        .unwrap_or_default()
        .to_owned();
    faults.calls.fetch_add(1, Ordering::Relaxed);
    let fault = faults.draw(&operation);
    match fault {
        Some(AwsFault::Throttled) => return Ok(aws_error(400, "ThrottlingException")),
        Some(AwsFault::InternalError) => return Ok(aws_error(500, "InternalServerError")),
        Some(AwsFault::ConnectionReset) => return Err(Dropped),
        Some(AwsFault::Timeout) => {
            tokio::time::sleep(HOLD).await;
            return Err(Dropped);
        }
        Some(AwsFault::LostAnswer) | None => {}
    }
    let settles = operation == "TransactWriteItems" && contains(&body, b"\"RESULT#");
    let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut forward = Request::builder()
        .method(parts.method)
        .uri(format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        forward = forward.header(name, value);
    }
    let forward = forward.body(Full::new(body)).map_err(|_| Dropped)?;
    let answer = client.request(forward).await.map_err(|_| Dropped)?;
    let (parts, body) = answer.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    if fault == Some(AwsFault::LostAnswer) {
        return Err(Dropped);
    }
    if settles && parts.status.is_success() {
        let pid = faults.armed_pid.swap(0, Ordering::SeqCst);
        if pid != 0 {
            // Before the answer: the stack dies between its write and its enqueue.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            faults.crashes_after_write.fetch_add(1, Ordering::Relaxed);
            return Err(Dropped);
        }
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
