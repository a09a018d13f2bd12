//! One series: fresh instances of a function, each exec'd under its own
//! Runtime API and timed from exec to its first `/next` and first response;
//! the last one then takes a burst, and its peak RSS is read.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;
use tikivip_bench::Error;
use tikivip_bench::local_aws;
use tikivip_bench::runtime_api::RuntimeApi;
use tikivip_bench::stats::Summary;

use crate::functions::{Function, Secrets, Setting, check, environment};
use crate::{Args, Place, Queues, World, workload};

/// Queues made so far, to name each instance's own.
static QUEUES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[derive(Debug, Serialize)]
pub(crate) struct Series {
    pub(crate) function: String,
    pub(crate) secrets: Secrets,
    /// The AWS endpoint was reached over TLS (a local TLS front).
    pub(crate) tls: bool,
    pub(crate) runs: usize,
    pub(crate) init: Summary,
    pub(crate) first_event: Summary,
    /// exec → first response: what a caller waits on a cold start.
    pub(crate) cold_start: Summary,
    pub(crate) burst_events: usize,
    pub(crate) burst: Summary,
    /// VmHWM of the burst's instance after its first event, and after the burst.
    pub(crate) rss_after_first_mb: f64,
    pub(crate) peak_rss_mb: f64,
    pub(crate) binary_bytes: u64,
    pub(crate) errors: Vec<String>,
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

pub(crate) async fn measure(
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
