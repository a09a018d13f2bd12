//! A local Lambda Runtime API: what Lambda serves a custom runtime (our
//! `bootstrap`) at `AWS_LAMBDA_RUNTIME_API`. Enough of it to run a function
//! binary as Lambda does and time it:
//!
//! - `GET  /2018-06-01/runtime/invocation/next`: the next event, held until
//!   there is one (the first call marks the end of init);
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `…/{id}/error`;
//! - `POST /2018-06-01/runtime/init/error`.
//!
//! Every time is taken here, on the harness's clock: when `/next` arrives,
//! when an event is handed out, when its answer arrives.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

const PREFIX: &str = "/2018-06-01/runtime";

/// How an invocation ended.
#[derive(Debug)]
pub struct Outcome {
    /// When the event left on `/next`.
    pub delivered: Instant,
    /// When its answer arrived.
    pub answered: Instant,
    /// `response` (true) or `error` (false).
    pub ok: bool,
    pub body: Bytes,
}

impl Outcome {
    pub fn latency(&self) -> Duration {
        self.answered - self.delivered
    }
}

struct Pending {
    id: String,
    body: Bytes,
    delivered: oneshot::Sender<Instant>,
}

struct Answer {
    at: Instant,
    ok: bool,
    body: Bytes,
}

struct Shared {
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    nexts: mpsc::UnboundedSender<Instant>,
    answers: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    init_errors: mpsc::UnboundedSender<Bytes>,
}

/// The Runtime API of one function instance.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: mpsc::UnboundedSender<Pending>,
    nexts: mpsc::UnboundedReceiver<Instant>,
    init_errors: mpsc::UnboundedReceiver<Bytes>,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
    invocations: u64,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (events, events_rx) = mpsc::unbounded_channel();
        let (nexts_tx, nexts) = mpsc::unbounded_channel();
        let (init_errors_tx, init_errors) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: tokio::sync::Mutex::new(events_rx),
            nexts: nexts_tx,
            answers: Mutex::new(HashMap::new()),
            init_errors: init_errors_tx,
        });
        let server = tokio::spawn(serve(listener, shared.clone()));
        Ok(RuntimeApi {
            addr,
            events,
            nexts,
            init_errors,
            shared,
            server,
            invocations: 0,
        })
    }

    /// `AWS_LAMBDA_RUNTIME_API`.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// Waits for the function's next `GET /next`; its arrival time. An init
    /// error reported instead is an `Err` with its body.
    pub async fn next_called(&mut self) -> Result<Instant, String> {
        tokio::select! {
            Some(at) = self.nexts.recv() => Ok(at),
            Some(body) = self.init_errors.recv() => {
                Err(format!("init error: {}", String::from_utf8_lossy(&body)))
            }
        }
    }

    /// Hands out one event and waits for its answer.
    pub async fn invoke(&mut self, event: impl Into<Bytes>) -> Result<Outcome, String> {
        self.invocations += 1;
        let id = format!("bench-{:08}-{}", self.invocations, uuid::Uuid::now_v7());
        let (answer_tx, answer_rx) = oneshot::channel();
        self.shared
            .answers
            .lock()
            .expect("not poisoned")
            .insert(id.clone(), answer_tx);
        let (delivered_tx, delivered_rx) = oneshot::channel();
        self.events
            .send(Pending {
                id,
                body: event.into(),
                delivered: delivered_tx,
            })
            .map_err(|_| "the runtime API stopped".to_owned())?;
        let delivered = delivered_rx
            .await
            .map_err(|_| "the event was never taken".to_owned())?;
        let answer = answer_rx
            .await
            .map_err(|_| "the invocation was never answered".to_owned())?;
        Ok(Outcome {
            delivered,
            answered: answer.at,
            ok: answer.ok,
            body: answer.body,
        })
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(route(&shared, request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("a valid response")
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let arrived = Instant::now();
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"unknown path"}"#);
    };
    match (request.method(), rest) {
        (&Method::GET, "/invocation/next") => {
            let _ = shared.nexts.send(arrived);
            let pending = shared.events.lock().await.recv().await;
            let Some(pending) = pending else {
                return reply(StatusCode::GONE, r#"{"errorMessage":"shut down"}"#);
            };
            let deadline = SystemTime::now() + Duration::from_secs(10);
            let deadline_ms = deadline
                .duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_millis();
            let response = Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("lambda-runtime-aws-request-id", &pending.id)
                .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
                .header(
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:ap-southeast-1:123456789012:function:bench",
                )
                .header(
                    "lambda-runtime-trace-id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
                )
                .body(Full::new(pending.body))
                .expect("a valid response");
            let _ = pending.delivered.send(Instant::now());
            response
        }
        (&Method::POST, "/init/error") => {
            let body = body_of(request).await;
            let _ = shared.init_errors.send(body);
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        (&Method::POST, rest) => {
            let Some(rest) = rest.strip_prefix("/invocation/") else {
                return reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"unknown path"}"#);
            };
            let (id, ok) = if let Some(id) = rest.strip_suffix("/response") {
                (id.to_owned(), true)
            } else if let Some(id) = rest.strip_suffix("/error") {
                (id.to_owned(), false)
            } else {
                return reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"unknown path"}"#);
            };
            let body = body_of(request).await;
            let at = Instant::now();
            let waiting = shared.answers.lock().expect("not poisoned").remove(&id);
            match waiting {
                Some(answer) => {
                    let _ = answer.send(Answer { at, ok, body });
                    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
                }
                None => reply(
                    StatusCode::BAD_REQUEST,
                    r#"{"errorMessage":"unknown request id"}"#,
                ),
            }
        }
        _ => reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"unknown path"}"#),
    }
}

async fn body_of(request: Request<Incoming>) -> Bytes {
    request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default()
}
