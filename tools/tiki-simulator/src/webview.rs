//! Tiki's webview URL API (`POST /webview`): where to open TikiVIP for a user.

use serde::Deserialize;
use serde_json::json;
use tikivip_domain::ResultCode;
use uuid::Uuid;

use crate::wire::{Reply, parse_json};

#[derive(Deserialize)]
struct WebviewRequest {
    identify_code: String,
    identify_phone: String,
    // Optional; only its type is checked.
    #[serde(default, rename = "identify_fullname")]
    _identify_fullname: Option<String>,
}

/// The URLs point at the simulator itself, under `/apps` like Tiki's webview
/// base; nothing is served there; they only have to look like Tiki's.
pub(crate) fn answer(base_url: &str, body: &[u8]) -> Reply {
    let request: WebviewRequest = match parse_json(body) {
        Ok(request) => request,
        Err(why) => return Reply::refusal(ResultCode::InvalidRequest, why),
    };
    if request.identify_code.is_empty() || request.identify_phone.is_empty() {
        return Reply::refusal(
            ResultCode::InvalidRequest,
            "identify_code and identify_phone must not be empty",
        );
    }
    let request_id = Uuid::now_v7();
    Reply::success(json!({
        "url_open": format!("{base_url}/apps/tikivip?request_id={request_id}"),
        "url_checkout_result": format!("{base_url}/apps/tikivip/checkout-result?request_id={request_id}"),
        "request_id": request_id.to_string(),
    }))
}
