//! DynamoDB and SQS without I/O, for the in-process benches: the real SDK
//! clients (request building, SigV4, serialisation, response parsing) over an
//! HTTP connector that answers from a script, or from any function of the call
//! (the fuzz targets), instead of the network.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use tikivip_queue::IpnQueue;
use tikivip_store::Store;

/// One scripted answer: the operation it answers (the end of `X-Amz-Target`,
/// e.g. `GetItem`) and its JSON body.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub operation: &'static str,
    pub body: String,
}

pub fn answer(operation: &'static str, body: impl Into<String>) -> Scripted {
    Scripted {
        operation,
        body: body.into(),
    }
}

/// The operations the SDK sent, in order, as its HTTP connector saw them
/// (the end of each request's `X-Amz-Target`): a count of round trips taken
/// from the wire, not from the code's own claim.
#[derive(Clone, Debug, Default)]
pub struct Calls(Arc<Mutex<Vec<String>>>);

impl Calls {
    /// The calls seen since the last `take`.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }

    fn record(&self, operation: &str) {
        self.0
            .lock()
            .expect("not poisoned")
            .push(operation.to_owned());
    }
}

/// Answers one call from its operation (the end of `X-Amz-Target`) and its
/// JSON body: an HTTP status and a JSON body.
pub type Responder = Arc<dyn Fn(&str, &[u8]) -> (u16, String) + Send + Sync>;

/// Answers calls in the order of `script`, over and over: one pass of the
/// script is one request of the handler it stands behind.
pub fn scripted(script: Vec<Scripted>) -> Responder {
    assert!(!script.is_empty(), "a script answers at least one call");
    let next = AtomicUsize::new(0);
    Arc::new(move |operation, _| {
        let scripted = &script[next.fetch_add(1, Ordering::Relaxed) % script.len()];
        if operation == scripted.operation {
            (200, scripted.body.clone())
        } else {
            // A script out of step with the handler: fail loudly, not slowly.
            let message = format!("expected {}, got {operation}", scripted.operation);
            (
                400,
                format!(r#"{{"__type":"BenchScriptMismatch","message":"{message}"}}"#),
            )
        }
    })
}

struct AnsweringConnector {
    responder: Responder,
    calls: Calls,
}

impl std::fmt::Debug for AnsweringConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnsweringConnector")
    }
}

impl HttpConnector for AnsweringConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or(target);
        self.calls.record(operation);
        let (status, body) =
            (self.responder)(operation, request.body().bytes().unwrap_or_default());
        let mut response = HttpResponse::new(
            StatusCode::try_from(status).expect("a status"),
            SdkBody::from(body),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

fn answering_client(responder: Responder, calls: &Calls) -> SharedHttpClient {
    let connector = SharedHttpConnector::new(AnsweringConnector {
        responder,
        calls: calls.clone(),
    });
    let connector = Arc::new(connector);
    http_client_fn(move |_, _| (*connector).clone())
}

fn credentials() -> Credentials {
    Credentials::new("AKIDBENCH", "bench-secret", None, None, "bench")
}

/// The configuration of a DynamoDB client that `responder` answers (see
/// [`scripted`]), its calls going to `calls`: to be adjusted, then built.
pub fn dynamodb_config(responder: Responder, calls: &Calls) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("ap-southeast-1"))
        .credentials_provider(credentials())
        .http_client(answering_client(responder, calls))
}

/// A store whose DynamoDB `responder` answers; its calls go to `calls`.
pub fn store(responder: Responder, calls: &Calls) -> Store {
    let config = dynamodb_config(responder, calls).build();
    Store::new(aws_sdk_dynamodb::Client::from_conf(config), "bench")
}

/// An IPN queue whose SQS `responder` answers; its calls go to `calls`.
pub fn queue(responder: Responder, calls: &Calls) -> IpnQueue {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("ap-southeast-1"))
        .credentials_provider(credentials())
        .http_client(answering_client(responder, calls))
        .build();
    IpnQueue::new(
        aws_sdk_sqs::Client::from_conf(config),
        "https://sqs.ap-southeast-1.amazonaws.com/123456789012/bench-ipn",
        "https://sqs.ap-southeast-1.amazonaws.com/123456789012/bench-ipn-dead-letter",
    )
}
