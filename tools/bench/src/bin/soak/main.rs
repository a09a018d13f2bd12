//! `make soak`: mixed, signed traffic through `tikivip dev` for
//! `SOAK_SECONDS`, while the Tiki simulator fails a share of its calls, a
//! fault proxy fails a share of the AWS calls, and the stack is killed
//! (SIGKILL) and restarted several times, once right between a settling
//! write and its enqueue. Then the faults stop, the callers finish their
//! retries, the stack drains its queues, and an audit checks that no money
//! was lost, doubled or stalled. Its counts go to BENCHMARKS.md's
//! reliability section; the run fails if the audit found anything.
//!
//! Loopback only: the emulator (`make moto`), the simulator and the proxy
//! (both in this process) and the stack all listen on 127.0.0.1.

mod audit;
mod proxy;
mod report;
mod stack;
mod traffic;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use http::StatusCode;
use tiki_simulator::{
    DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_TINIAPP_CLIENT_ID, DEV_TINIAPP_CLIENT_SECRET, Fault,
    FaultRoute, Simulator, SimulatorConfig, SimulatorHandle,
};
use tikivip_bench::{Error, local_aws};
use tikivip_domain::ResultCode;

use crate::audit::{Tables, Window};
use crate::proxy::{Faults, Rates};
use crate::stack::StackCommand;
use crate::traffic::Traffic;

#[derive(Parser)]
struct Args {
    /// How long traffic and faults run (then the drain and the audit).
    #[arg(long, env = "SOAK_SECONDS", default_value_t = 300)]
    seconds: u64,
    /// Requests per second offered (before the callers' retries).
    #[arg(long, env = "SOAK_RATE", default_value_t = 20)]
    rate: u32,
    /// How many times the stack is killed.
    #[arg(long, env = "SOAK_CRASHES", default_value_t = 6)]
    crashes: u32,
    /// Each AWS fault's rate per data-plane call while faults are on.
    #[arg(long, default_value_t = 0.01)]
    aws_fault_rate: f64,
    /// The `tikivip` binary that runs the stack.
    #[arg(long, default_value = "target/debug/tikivip")]
    tikivip: PathBuf,
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        default_value = "http://127.0.0.1:5005"
    )]
    emulator: String,
    /// How long the stack gets to drain once the faults stop.
    #[arg(long, default_value_t = 180)]
    drain_seconds: u64,
    #[arg(long, default_value = "BENCHMARKS.md")]
    markdown: PathBuf,
    #[arg(long, default_value = "target/soak")]
    out: PathBuf,
}

/// Faults on for this long, then off for `CALM`, over and over.
const STORM: Duration = Duration::from_secs(20);
const CALM: Duration = Duration::from_secs(10);
const CALLERS: u32 = 8;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match soak(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("soak: {error}");
            ExitCode::FAILURE
        }
    }
}

fn free_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn soak(args: Args) -> Result<bool, Error> {
    std::fs::create_dir_all(&args.out)?;
    let table = format!("soak-{}", uuid::Uuid::now_v7().simple());
    let simulator = Simulator::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        SimulatorConfig::new(DEV_CLIENT_ID, DEV_CLIENT_SECRET)
            .with_tiniapp(DEV_TINIAPP_CLIENT_ID, DEV_TINIAPP_CLIENT_SECRET),
    )?;
    let faults = Faults::new(Rates {
        per_kind: args.aws_fault_rate,
        timeout: args.aws_fault_rate / 5.0,
    });
    let proxy = proxy::start(&args.emulator, faults.clone()).await?;
    let port = free_port()?;
    let mut stack = StackCommand {
        binary: args.tikivip.clone(),
        port,
        env: vec![
            ("AWS_ENDPOINT_URL".into(), format!("http://{proxy}")),
            ("TABLE_NAME".into(), table.clone()),
            ("TIKI_BASE_URL".into(), simulator.base_url().to_owned()),
            ("AWS_REGION".into(), local_aws::REGION.into()),
            ("AWS_ACCESS_KEY_ID".into(), local_aws::ACCESS_KEY_ID.into()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                local_aws::SECRET_ACCESS_KEY.into(),
            ),
            ("RUST_LOG".into(), "warn".into()),
        ],
        log: args.out.join("stack.log"),
    }
    .start()
    .await?;
    println!(
        "soak: {} s at {} req/s, {} crashes; table {table}; stack on 127.0.0.1:{port}, AWS through {proxy}",
        args.seconds, args.rate, args.crashes
    );

    let started = Instant::now();
    let stop = started + Duration::from_secs(args.seconds);
    let until = stop + Duration::from_secs(args.drain_seconds);
    let traffic = Arc::new(Traffic::new(
        format!("http://127.0.0.1:{port}"),
        simulator.handle().clone(),
    ));
    let windows: Arc<Mutex<Vec<Window>>> = Arc::default();
    let every = Duration::from_secs_f64(f64::from(CALLERS) / f64::from(args.rate.max(1)));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let traffic = traffic.clone();
            tokio::spawn(async move { traffic.caller(every, stop, until).await })
        })
        .collect();
    let storms = tokio::spawn(storms(
        faults.clone(),
        simulator.handle().clone(),
        windows.clone(),
        stop,
    ));

    // Crashes, evenly spread; every other one right after a settling write.
    let mut crashes = Crashes::default();
    let gap = Duration::from_secs(args.seconds) / (args.crashes + 1);
    for n in 1..=args.crashes {
        let at = started + gap * n;
        while Instant::now() < at {
            if stack.has_exited()? {
                crashes.unprompted += 1;
                let from = Instant::now();
                stack.restart().await?;
                windows
                    .lock()
                    .expect("not poisoned")
                    .push((from, Instant::now()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let from = Instant::now();
        let mut killed = false;
        if n % 2 == 1 {
            faults.arm(stack.pid());
            killed = stack.exited_within(Duration::from_secs(20)).await;
            faults.disarm();
            crashes.between_write_and_enqueue += u32::from(killed);
        }
        if !killed {
            stack.kill().await?;
            crashes.plain += 1;
        }
        stack.restart().await?;
        windows
            .lock()
            .expect("not poisoned")
            .push((from, Instant::now()));
    }
    for caller in callers {
        caller.await?;
    }
    let tiki_faults = storms.await?;
    println!(
        "soak: traffic and faults stopped after {:?}; draining",
        started.elapsed()
    );

    let aws = local_aws::config(&args.emulator).await;
    let store = tikivip_store::Store::new(aws_sdk_dynamodb::Client::new(&aws), &table);
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let queue = tikivip_queue::IpnQueue::named(sqs.clone(), &format!("{table}-ipn")).await?;
    let drained = drain(&store, &sqs, &queue, until).await?;
    if stack.has_exited()? {
        crashes.unprompted += 1;
    }
    stack.kill().await?;

    // The callers are done: what they learnt is final.
    let known = std::mem::take(&mut *traffic.known.lock().expect("not poisoned"));
    let failures = std::mem::take(&mut *traffic.failures.lock().expect("not poisoned"));
    let windows = std::mem::take(&mut *windows.lock().expect("not poisoned"));
    let audit = audit::run(
        Tables {
            store: &store,
            dynamodb: &aws_sdk_dynamodb::Client::new(&aws),
            sqs: &sqs,
            queue_url: queue.queue_url(),
            dead_letter_url: queue.dead_letter_url(),
        },
        simulator.handle(),
        &known,
        &failures,
        &windows,
    )
    .await?;
    let report = report::Report {
        seconds: args.seconds,
        requests: traffic.requests.load(std::sync::atomic::Ordering::Relaxed),
        aws_calls: faults.calls(),
        aws_faults: faults.injected(),
        tiki_faults,
        crashes,
        drained,
        unanswered: known.unanswered.clone(),
        audit,
    };
    report.print();
    report.write(&args.markdown)?;
    simulator.stop().await;
    Ok(report.audit.failures.is_empty() && report.crashes.unprompted == 0)
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Crashes {
    pub plain: u32,
    pub between_write_and_enqueue: u32,
    /// The stack exited without being killed: always an audit failure.
    pub unprompted: u32,
}

/// The Tiki faults queued in one storm second, by kind.
const TIKI_FAULTS: &[(&str, FaultRoute)] = &[
    ("IPN: HTTP 503", FaultRoute::Ipn),
    ("IPN: code 2", FaultRoute::Ipn),
    ("IPN: rejected (code 4)", FaultRoute::Ipn),
    ("status: HTTP 503", FaultRoute::Status),
    ("status: code 2", FaultRoute::Status),
];

fn tiki_fault(kind: usize) -> Fault {
    match kind {
        0 | 3 => Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
        1 | 4 => Fault::code(ResultCode::SystemError),
        _ => Fault::code(ResultCode::from_code(4).expect("a code")),
    }
}

/// Fault windows until `stop`: the proxy's faults on, and Tiki failing a
/// call a second (one timeout, past the dispatcher's 10 s, per storm).
async fn storms(
    faults: Arc<Faults>,
    simulator: SimulatorHandle,
    windows: Arc<Mutex<Vec<Window>>>,
    stop: Instant,
) -> BTreeMap<&'static str, u64> {
    let mut injected = BTreeMap::new();
    while Instant::now() + STORM < stop {
        let from = Instant::now();
        faults.set_on(true);
        simulator.fail(FaultRoute::Ipn, 1, Fault::delay(Duration::from_secs(11)));
        *injected
            .entry("IPN: answered after 11 s (the caller timed out)")
            .or_default() += 1;
        while from.elapsed() < STORM {
            let kind = fastrand::usize(0..TIKI_FAULTS.len());
            let (name, route) = TIKI_FAULTS[kind];
            simulator.fail(route, 1, tiki_fault(kind));
            *injected.entry(name).or_default() += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        faults.set_on(false);
        windows
            .lock()
            .expect("not poisoned")
            .push((from, Instant::now() + Duration::from_secs(11)));
        tokio::time::sleep(CALM).await;
    }
    injected
}

/// Waits until no IPN job is left in the outbox or on the queue, or `until`.
async fn drain(
    store: &tikivip_store::Store,
    sqs: &aws_sdk_sqs::Client,
    queue: &tikivip_queue::IpnQueue,
    until: Instant,
) -> Result<bool, Error> {
    let drain_from = Instant::now();
    loop {
        let outbox = store.ipn_outbox().await?.len();
        let queued = audit::queued(sqs, queue.queue_url()).await?;
        if outbox == 0 && queued == 0 {
            println!("soak: drained in {:?}", drain_from.elapsed());
            return Ok(true);
        }
        if Instant::now() > until {
            println!("soak: not drained: {outbox} in the outbox, {queued} on the queue");
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
