//! The HTTP server: accepting connections, routing each request, stopping cleanly.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tikivip_domain::ResultCode;
use tikivip_signing::Verifier;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::control;
use crate::state::SimulatorHandle;
use crate::tiki::{self, TikiRoute};
use crate::wire::{Reply, read_body};

/// How long a stop waits for answers in flight. A queued delay of 20 s is cut
/// short: nobody waits on a stopped simulator.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Everything a request may need.
pub(crate) struct App {
    pub verifier: Verifier,
    pub tiniapp_verifier: Verifier,
    pub tiniapp: crate::tiniapp::TiniAppPlatform,
    pub state: SimulatorHandle,
    pub base_url: String,
}

/// Serves until `stop` fires or its sender is dropped.
pub(crate) async fn run(listener: TcpListener, app: Arc<App>, mut stop: oneshot::Receiver<()>) {
    let connections = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let app = Arc::clone(&app);
                    let service = service_fn(move |request| {
                        let app = Arc::clone(&app);
                        async move { Ok::<_, Infallible>(answer(&app, request).await) }
                    });
                    let connection = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    let connection = connections.watch(connection);
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(%error, "connection closed with an error");
                        }
                    });
                }
                Err(error) => {
                    // Typically out of file descriptors: wait rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = &mut stop => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("answers still in flight were dropped at stop");
    }
}

async fn answer(app: &App, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    if parts.method == Method::GET && parts.uri.path().starts_with("/apps/") {
        return webview_page(&parts);
    }
    let reply = match read_body(body).await {
        Ok(body) => route(app, &parts, &body).await,
        Err(reply) => reply,
    };
    tracing::info!(
        method = %parts.method,
        uri = %parts.uri,
        status = reply.status.as_u16(),
        "answered"
    );
    reply.into_response()
}

/// Tiki's webview pages (`url_open`, `url_checkout_result`), as a plain page
/// that says where the browser is.
fn webview_page(parts: &Parts) -> Response<Full<Bytes>> {
    let path = parts.uri.path();
    let escaped = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let title = if path.ends_with("/checkout-result") {
        "TikiVIP: checkout result"
    } else {
        "TikiVIP"
    };
    let html = format!(
        "<!doctype html><html><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><h1>{title}</h1>\
         <p>Tiki simulator page <code>{}</code></p></body></html>",
        escaped(&parts.uri.to_string())
    );
    let mut response = Response::new(Full::new(Bytes::from(html)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

async fn route(app: &App, parts: &Parts, body: &[u8]) -> Reply {
    let state = &app.state;
    match (&parts.method, parts.uri.path()) {
        (&Method::POST, "/payment/ipn") => tiki::call(app, TikiRoute::Ipn, parts, body).await,
        (&Method::GET, "/transaction") => tiki::call(app, TikiRoute::Status, parts, body).await,
        (&Method::POST, "/webview") => tiki::call(app, TikiRoute::Webview, parts, body).await,
        (&Method::GET, "/order") => tiki::call(app, TikiRoute::Order, parts, body).await,
        (&Method::POST, "/_sim/tiniapp/orders") => crate::tiniapp::put_order(state, body),
        (&Method::POST, "/_sim/tiniapp/notify") => {
            crate::tiniapp::notify(state, &app.tiniapp, body).await
        }
        (&Method::POST, "/_sim/fail") => control::fail(state, body),
        (&Method::POST, "/_sim/status") => control::force_status(state, body),
        (&Method::GET, "/_sim/ipns") => control::ipns(state, &parts.uri),
        (&Method::POST, "/_sim/reset") => control::reset(state),
        (method, path) => Reply::error(
            StatusCode::NOT_FOUND,
            ResultCode::InvalidRequest,
            format!("no route {method} {path}"),
        ),
    }
}
