//! The emulator's capacity: the AWS calls of the mix, made by the same store
//! code, replayed straight to the emulator by a closed loop of callers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use tikivip_domain::wire::parse_json;
use tikivip_domain::{
    NewTransaction, RefundRequest, TikiTransactionId, Timestamp, TransactionId, Vnd,
};
use tikivip_store::Store;

use super::cpu::CpuWatch;

/// The emulator's capacity for the mix's AWS calls, replayed straight to it.
#[derive(Debug, Serialize)]
pub(super) struct Capacity {
    callers: usize,
    duration_s: u64,
    /// API requests whose calls were replayed.
    pub(super) requests: usize,
    pub(super) errors: usize,
    error_samples: Vec<String>,
    /// API requests per second the emulator carried.
    pub(super) rate: f64,
    pub(super) cpu_percent: Vec<(String, f64)>,
}

/// The store calls of request `i` of the mix ([`plan`](super::mix::plan)'s), made straight
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
pub(super) async fn emulator_capacity(
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
