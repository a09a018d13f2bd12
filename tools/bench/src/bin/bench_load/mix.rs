//! The request mix: the transactions paid beforehand for its look-ups and
//! refunds, and every request of a run planned and signed right before it.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde_json::json;
use tikivip_bench::Error;
use tikivip_bench::events::{Client, HttpCall};
use tokio::sync::Mutex;

use super::open_loop::{Http, send};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Kind {
    Create,
    LookUp,
    Refund,
}

/// One request, signed, ready to go.
pub(super) struct Prepared {
    pub(super) kind: Kind,
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
    pub(super) body: Bytes,
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

fn created_id(body: &[u8]) -> Option<(String, String)> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    let data = &answer["data"];
    Some((
        data["transaction_id"].as_str()?.to_owned(),
        data["tiki_transaction_id"].as_str()?.to_owned(),
    ))
}

/// Creates and pays `n` transactions through the API, a few at a time.
pub(super) async fn pay(http: &Http, base: &str, n: usize) -> Result<Vec<(String, String)>, Error> {
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
pub(super) fn plan(total: usize, paid: &[(String, String)], offset: usize) -> Vec<Prepared> {
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
