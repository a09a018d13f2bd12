//! The edge every HTTP function shares: request → signature check → body → …
//! → envelope. Handlers in `functions/` hold only what is particular to a route.

mod base_path;
mod config;
mod error;
mod logging;
pub mod metrics;
mod refresh;
mod reply;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use lambda_http::{Body, Request, Response, service_fn};
use tikivip_signing::{Verifier, signed_part};

pub use base_path::BasePath;
pub use config::{
    ARN_SUFFIX, keys_and_store, keys_from_env, load_aws_config, load_secret_text, load_secrets,
    required_env, verifier_and_store,
};
pub use error::Error;
pub use logging::init_tracing;
pub use refresh::{SECRETS_REFRESH, refresh_keys};
pub use reply::{Failures, reply};

/// Bodies larger than this are refused before they are parsed. Tiki's bodies
/// are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// One route's handler: takes any request, always answers with an envelope.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: Request) -> impl Future<Output = Response<Body>> + Send;
}

/// Runs a handler as a Lambda function behind API Gateway. Each request
/// loses the custom domain's base path (`API_BASE_PATH`, see [`BasePath`])
/// before the handler sees it.
pub async fn run(handler: impl Handler) -> Result<(), lambda_http::Error> {
    let base_path = BasePath::from_env()?;
    let handler = Arc::new(handler);
    lambda_http::run(service_fn(move |request| {
        let handler = Arc::clone(&handler);
        let request = base_path.strip_request(request);
        async move { Ok::<_, Infallible>(answer(&*handler, request).await) }
    }))
    .await
}

/// The handler's answer to a request, and an envelope even if it panics: a
/// panic is caught here, logged as an alert, counted, and answered with a
/// 500 envelope (what Tiki's refund API wants for any failure too), so that no
/// request ever ends in Lambda's bare error.
pub async fn answer(handler: &impl Handler, request: Request) -> Response<Body> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(handler.handle(request))
        .catch_unwind()
        .await
    {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, alert = "handler_panic", "handler panicked; answered 500");
            metrics::count(metrics::Metric::HandlerPanics);
            reply::<()>(
                Err(Error::Internal(format!("handler panicked: {what}"))),
                Failures::Rest,
            )
        }
    }
}

/// The request's body, once its signature has been verified over the bytes
/// exactly as received (the body for a POST, the path and query for a GET).
pub fn verified_body<'r>(verifier: &Verifier, request: &'r Request) -> Result<&'r [u8], Error> {
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::BodyTooLarge(MAX_BODY_BYTES));
    }
    let signed = signed_part(request.method(), request.uri(), body);
    if let Err(refusal) = verifier.verify(request.headers(), signed, SystemTime::now()) {
        metrics::count(metrics::Metric::SignatureRefusals);
        return Err(refusal.into());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Panicking;

    impl Handler for Panicking {
        async fn handle(&self, _: Request) -> Response<Body> {
            panic!("year 10000 is out of range")
        }
    }

    #[tokio::test]
    async fn a_handler_that_panics_answers_with_a_500_envelope() {
        let response = answer(&Panicking, Request::default()).await;
        assert_eq!(response.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        let envelope: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(envelope["code"], 2);
        assert_eq!(
            envelope["message"], "system error",
            "the panic is logged, not shown"
        );
    }
}
