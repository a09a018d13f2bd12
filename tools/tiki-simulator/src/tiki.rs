//! What every call to one of Tiki's APIs goes through: the signature check, the
//! queued failures, the handler, the recording of IPNs and any delay.

use std::time::SystemTime;

use http::StatusCode;
use http::request::Parts;
use serde::Serialize;
use tikivip_domain::ResultCode;
use tikivip_signing::signed_part;

use crate::server::App;
use crate::wire::Reply;
use crate::{ipn, transaction_status, webview};

/// Tiki's three APIs, as the simulator serves them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TikiRoute {
    /// `POST /payment/ipn`
    Ipn,
    /// `GET /transaction?tiki_transaction_id=…`
    Status,
    /// `POST /webview`
    Webview,
    /// `GET /order?order_id=…`, the Tini App platform's order API.
    Order,
}

impl TikiRoute {
    pub const ALL: [TikiRoute; 4] = [
        TikiRoute::Ipn,
        TikiRoute::Status,
        TikiRoute::Webview,
        TikiRoute::Order,
    ];
}

pub(crate) async fn call(app: &App, route: TikiRoute, parts: &Parts, body: &[u8]) -> Reply {
    // The signature is checked first, so that a signing bug always shows as a
    // 401 and never hides behind a queued failure.
    let signed = signed_part(&parts.method, &parts.uri, body);
    let verifier = match route {
        TikiRoute::Order => &app.tiniapp_verifier,
        _ => &app.verifier,
    };
    if let Err(why) = verifier.verify(&parts.headers, signed, SystemTime::now()) {
        let why = why.to_string();
        app.state.reject(route, why.clone());
        return Reply::error(StatusCode::UNAUTHORIZED, ResultCode::InvalidRequest, why);
    }

    let fault = app.state.take_fault(route);
    let replacement = fault.as_ref().and_then(|fault| fault.replacement());
    let delay = fault.map(|fault| fault.delay).unwrap_or_default();
    let reply = match route {
        TikiRoute::Ipn => ipn::receive(&app.state, body, replacement, delay),
        TikiRoute::Status => {
            replacement.unwrap_or_else(|| transaction_status::answer(&app.state, &parts.uri))
        }
        TikiRoute::Webview => {
            app.state.record_webview(body);
            replacement.unwrap_or_else(|| webview::answer(&app.base_url, body))
        }
        TikiRoute::Order => {
            app.state.count_order_call(&parts.uri);
            replacement.unwrap_or_else(|| crate::tiniapp::order(&app.state, &parts.uri))
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    reply
}
