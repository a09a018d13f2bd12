//! The control API under `/_sim/`, unsigned, for tests and developers. Each
//! endpoint is the JSON face of a [`SimulatorHandle`] method. Its bodies refuse
//! unknown fields, so that a typo cannot silently queue the wrong failure.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{StatusCode, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tikivip_domain::ResultCode;

use crate::faults::{Fault, FaultOutcome, FaultRoute};
use crate::state::{ForcedStatus, SimulatorHandle};
use crate::tiki::TikiRoute;
use crate::wire::{Reply, parse_json, query_param};

/// `POST /_sim/fail`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailRequest {
    route: FaultRoute,
    count: u32,
    http_status: Option<u16>,
    code: Option<ResultCode>,
    delay_ms: Option<u64>,
}

impl FailRequest {
    fn fault(&self) -> Result<Fault, String> {
        if self.count == 0 {
            return Err("count must be at least 1".into());
        }
        let outcome = match (self.http_status, self.code) {
            (Some(_), Some(_)) => return Err("give http_status or code, not both".into()),
            (Some(status), None) => StatusCode::from_u16(status)
                .ok()
                .filter(|status| status.is_client_error() || status.is_server_error())
                .map(FaultOutcome::HttpStatus)
                .ok_or_else(|| format!("http_status must be 4xx or 5xx, not {status}"))?,
            (None, Some(ResultCode::Success)) => return Err("code 0 is not a failure".into()),
            (None, Some(code)) => FaultOutcome::Code(code),
            (None, None) if self.delay_ms.is_some() => FaultOutcome::Normal,
            (None, None) => return Err("give http_status, code or delay_ms".into()),
        };
        Ok(Fault {
            delay: Duration::from_millis(self.delay_ms.unwrap_or(0)),
            outcome,
        })
    }
}

/// `POST /_sim/status`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceStatusRequest {
    tiki_transaction_id: String,
    status: ForcedStatus,
}

pub(crate) fn fail(state: &SimulatorHandle, body: &[u8]) -> Reply {
    let request: FailRequest = match read(body) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    match request.fault() {
        Ok(fault) => {
            state.fail(request.route, request.count, fault);
            Reply::success(json!({ "queued": request.count }))
        }
        Err(why) => bad_request(why),
    }
}

pub(crate) fn force_status(state: &SimulatorHandle, body: &[u8]) -> Reply {
    match read::<ForceStatusRequest>(body) {
        Ok(request) => {
            state.force_status(request.tiki_transaction_id.clone(), request.status);
            Reply::success(json!({
                "tiki_transaction_id": request.tiki_transaction_id,
                "status": request.status,
            }))
        }
        Err(reply) => reply,
    }
}

/// `GET /_sim/ipns[?transaction_id=…]`
pub(crate) fn ipns(state: &SimulatorHandle, uri: &Uri) -> Reply {
    let ipns = match query_param(uri, "transaction_id") {
        Some(transaction_id) => state.ipns_for(&transaction_id),
        None => state.ipns(),
    };
    let rejected_counts: BTreeMap<TikiRoute, usize> = TikiRoute::ALL
        .into_iter()
        .map(|route| (route, state.rejected_count(route)))
        .collect();
    Reply::success(json!({
        "ipns": ipns,
        "rejected_counts": rejected_counts,
        "rejected": state.rejected_calls(),
    }))
}

pub(crate) fn reset(state: &SimulatorHandle) -> Reply {
    state.reset();
    Reply::success(json!({}))
}

fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    parse_json(body).map_err(bad_request)
}

fn bad_request(why: String) -> Reply {
    Reply::error(StatusCode::BAD_REQUEST, ResultCode::InvalidRequest, why)
}
