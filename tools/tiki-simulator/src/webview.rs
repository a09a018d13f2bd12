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
/// base, where it serves a plain page standing for Tiki's (see
/// [`crate::server`]), so that a browser sent there lands somewhere.
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
    // The form this project sends (and documents as Tiki's): the national
    // 10-digit form of a mobile number.
    let phone = request.identify_phone.as_bytes();
    if phone.len() != 10 || phone[0] != b'0' || !phone.iter().all(u8::is_ascii_digit) {
        return Reply::refusal(
            ResultCode::InvalidRequest,
            "identify_phone must be 10 digits starting with 0",
        );
    }
    let request_id = Uuid::now_v7();
    Reply::success(json!({
        "url_open": format!("{base_url}/apps/tikivip?request_id={request_id}"),
        "url_checkout_result": format!("{base_url}/apps/tikivip/checkout-result?request_id={request_id}"),
        "request_id": request_id.to_string(),
    }))
}
