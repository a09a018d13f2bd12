//! The open-loop run on the API: requests sent at a fixed rate whatever the
//! answers do, each latency counted from when it was due, and its report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use tikivip_bench::stats::{Machine, Summary};

use super::cpu::CpuWatch;
use super::mix::{Kind, Prepared, plan};

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
pub(super) struct Report {
    machine: Machine,
    command: String,
    pub(super) server: String,
    rate: u32,
    duration_s: u64,
    requests: usize,
    pub(super) achieved_rate: f64,
    errors: usize,
    error_samples: Vec<String>,
    latency: Summary,
    service_time: Summary,
    by_kind: Vec<KindReport>,
    /// How late the driver itself sent requests (p99), a check on the driver.
    driver_lateness_p99_ms: f64,
    /// CPU used during the run, in % of one core, by process.
    pub(super) cpu_percent: Vec<(String, f64)>,
}

pub(super) type Http = HttpClient<HttpConnector, Full<Bytes>>;

pub(super) fn http_client() -> Http {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    HttpClient::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// Sends one request; the answer's status and body.
pub(super) async fn send(
    http: &Http,
    base: &str,
    request: &Prepared,
) -> Result<(u16, Bytes), String> {
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

/// What every run shares: the API and the transactions paid for it.
pub(super) struct Target {
    pub(super) http: Http,
    pub(super) base: String,
    pub(super) port: u16,
    pub(super) paid: Vec<(String, String)>,
    pub(super) timeout: Duration,
}

pub(super) async fn run(target: &Target, rate: u32, seconds: u64, offset: usize) -> Report {
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

pub(super) fn describe(report: &Report) -> String {
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
