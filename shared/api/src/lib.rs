//! The edge every HTTP function shares: request → signature check → body → …
//! → envelope. Handlers in `functions/` hold only what is particular to a route.

mod base_path;
mod config;
mod error;
mod logging;
pub mod metrics;
mod reply;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use lambda_http::{Body, Request, Response, service_fn};
use tikivip_signing::{Verifier, signed_part};

pub use base_path::BasePath;
pub use config::{
    ARN_SUFFIX, keys_and_store, keys_from_env, load_aws_config, load_secrets, required_env,
};
pub use error::Error;
pub use logging::init_tracing;
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
        async move { Ok::<_, Infallible>(handler.handle(request).await) }
    }))
    .await
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
