//! The Tini App platform: its order API (`GET /order?order_id=…`), answering
//! from what it was told (`POST /_sim/tiniapp/orders`, [`SimulatorHandle::put_order`]),
//! and its sending side, [`TiniAppPlatform`], which posts signed order
//! notifications to the partner's API as Tiki does: once, several times in a
//! row, several at once, and again after a 5xx on Tiki's resend schedule.

use std::time::{Duration, SystemTime};

use http::{StatusCode, Uri};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tikivip_domain::ResultCode;
use tikivip_signing::{HeaderFamily, Secret, Signer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::state::SimulatorHandle;
use crate::wire::{Reply, parse_json, query_param};

/// An order as the order API reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimOrder {
    pub id: String,
    pub status: String,
    pub grand_total: i64,
    #[serde(default)]
    pub tiki_order_id: Option<String>,
    #[serde(default)]
    pub tiki_order_code: Option<String>,
    #[serde(default)]
    pub reference_id: Option<String>,
}

impl SimOrder {
    pub fn new(id: impl Into<String>, status: &str, grand_total: i64) -> SimOrder {
        let id = id.into();
        SimOrder {
            tiki_order_id: Some(format!("tk-{id}")),
            tiki_order_code: Some(format!("TK-{id}")),
            reference_id: Some(format!("ref-{id}")),
            id,
            status: status.to_owned(),
            grand_total,
        }
    }
}

/// `GET /order?order_id=…`: `{code:0, message, data:{id, status, grand_total, …}}`,
/// or code 3 for an order it was never told of.
pub(crate) fn order(state: &SimulatorHandle, uri: &Uri) -> Reply {
    let Some(id) = query_param(uri, "order_id").filter(|id| !id.is_empty()) else {
        return Reply::refusal(
            ResultCode::InvalidRequest,
            "query parameter order_id is required",
        );
    };
    match state.order(&id) {
        Some(order) => Reply::success(order),
        None => Reply::refusal(ResultCode::NotFound, "order not found"),
    }
}

/// `POST /_sim/tiniapp/orders` with a [`SimOrder`].
pub(crate) fn put_order(state: &SimulatorHandle, body: &[u8]) -> Reply {
    match parse_json::<SimOrder>(body) {
        Ok(order) => {
            state.put_order(order.clone());
            Reply::success(order)
        }
        Err(why) => Reply::error(StatusCode::BAD_REQUEST, ResultCode::InvalidRequest, why),
    }
}

/// A notification body as Tiki sends it, for `order` at `created_at`.
pub fn notification(message_id: &str, order: &SimOrder, created_at: OffsetDateTime) -> Value {
    json!({
        "message_id": message_id,
        "message_type": "notification",
        "message_created_at": created_at.format(&Rfc3339).expect("an RFC 3339 date"),
        "order": {
            "id": order.id,
            "status": order.status,
            "grand_total": order.grand_total,
            "tiki_order_id": order.tiki_order_id.clone().unwrap_or_default(),
            "tiki_order_code": order.tiki_order_code.clone().unwrap_or_default(),
            "extra": "plan=tikivip;months=1",
            "reference_id": order.reference_id.clone().unwrap_or_default(),
        },
    })
}

/// Tiki's resend schedule after a 5xx, a timeout or a network error.
pub const RESEND_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(6 * 60 * 60),
    Duration::from_secs(12 * 60 * 60),
    Duration::from_secs(24 * 60 * 60),
];

/// Tiki waits this long for an answer before it resends.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(15);

/// The Tini App platform's sending side.
#[derive(Clone, Debug)]
pub struct TiniAppPlatform {
    signer: Signer,
    http: reqwest::Client,
}

/// What one post of a notification got: the HTTP status (0: no answer) and body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    pub http_status: u16,
    pub body: Value,
    pub elapsed_ms: u64,
}

impl TiniAppPlatform {
    pub fn new(client_id: impl Into<String>, secret: Secret) -> TiniAppPlatform {
        TiniAppPlatform {
            signer: Signer::new(HeaderFamily::Tiniapp, client_id, secret),
            http: reqwest::Client::builder()
                .timeout(ANSWER_WITHIN)
                .build()
                .expect("an HTTP client"),
        }
    }

    /// Posts `body` once to `{api}/v1/tiniapp/ipn`, signed over its exact bytes.
    pub async fn notify(&self, api: &str, body: &Value) -> Delivery {
        let body = body.to_string();
        let started = std::time::Instant::now();
        let mut request = self
            .http
            .post(format!("{}/v1/tiniapp/ipn", api.trim_end_matches('/')))
            .header("content-type", "application/json");
        for (name, value) in self.signer.headers(SystemTime::now(), body.as_bytes()) {
            request = request.header(name, value);
        }
        let (http_status, body) = match request.body(body).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                (status, body)
            }
            Err(error) => (0, Value::String(error.to_string())),
        };
        Delivery {
            http_status,
            body,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Posts `body`, and again after each of `delays` while the answer is a
    /// 5xx or none at all (Tiki's rule; a 4xx is not resent). Returns every post.
    pub async fn notify_with_resends(
        &self,
        api: &str,
        body: &Value,
        delays: &[Duration],
    ) -> Vec<Delivery> {
        let mut deliveries = vec![self.notify(api, body).await];
        for delay in delays {
            let last = deliveries.last().expect("one post at least").http_status;
            if last != 0 && last < 500 {
                break;
            }
            tokio::time::sleep(*delay).await;
            deliveries.push(self.notify(api, body).await);
        }
        deliveries
    }

    /// Posts `body` `copies` times at once: racing duplicates.
    pub async fn notify_racing(&self, api: &str, body: &Value, copies: usize) -> Vec<Delivery> {
        futures::future::join_all((0..copies).map(|_| self.notify(api, body))).await
    }
}

/// `POST /_sim/tiniapp/notify`: `{api, order, message_id?, created_at?,
/// copies? (1), racing? (false), resend_delays_ms? ([] — Tiki's real ones are
/// minutes to hours), serve_order? (true)}`. With `serve_order`, the order is
/// also what the order API reports from now on.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyRequest {
    api: String,
    order: SimOrder,
    message_id: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    created_at: Option<OffsetDateTime>,
    copies: Option<usize>,
    #[serde(default)]
    racing: bool,
    #[serde(default)]
    resend_delays_ms: Vec<u64>,
    serve_order: Option<bool>,
}

pub(crate) async fn notify(
    state: &SimulatorHandle,
    platform: &TiniAppPlatform,
    body: &[u8],
) -> Reply {
    let request: NotifyRequest = match parse_json(body) {
        Ok(request) => request,
        Err(why) => {
            return Reply::error(StatusCode::BAD_REQUEST, ResultCode::InvalidRequest, why);
        }
    };
    if !request.api.starts_with("http://127.0.0.1") && !request.api.starts_with("http://localhost")
    {
        return Reply::error(
            StatusCode::BAD_REQUEST,
            ResultCode::InvalidRequest,
            "api must be a loopback URL",
        );
    }
    if request.serve_order.unwrap_or(true) {
        state.put_order(request.order.clone());
    }
    let message_id = request
        .message_id
        .unwrap_or_else(|| format!("msg-{}", uuid::Uuid::now_v7().simple()));
    let created_at = request.created_at.unwrap_or_else(OffsetDateTime::now_utc);
    let notification = notification(&message_id, &request.order, created_at);
    let copies = request.copies.unwrap_or(1).clamp(1, 100);
    let deliveries = if request.racing {
        platform
            .notify_racing(&request.api, &notification, copies)
            .await
    } else {
        let delays: Vec<Duration> = request
            .resend_delays_ms
            .iter()
            .map(|ms| Duration::from_millis(*ms))
            .collect();
        let mut all = Vec::new();
        for _ in 0..copies {
            all.extend(
                platform
                    .notify_with_resends(&request.api, &notification, &delays)
                    .await,
            );
        }
        all
    };
    Reply::success(json!({ "message": notification, "deliveries": deliveries }))
}
