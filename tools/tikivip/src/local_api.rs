//! The Lambda handlers served over plain HTTP, the way API Gateway (HTTP API,
//! payload format 2.0) invokes them, so the whole API runs on a laptop and in
//! tests without SAM or Docker.
//!
//! What a handler receives here is what it receives in Lambda: each request
//! becomes the API Gateway HTTP API 2.0 event JSON ([`gateway_event`]), which
//! `lambda_http`'s own conversion turns into the [`lambda_http::Request`] the
//! handler gets, as the Lambda runtime does: the URI rebuilt from `rawPath`
//! and `rawQueryString` (GET requests are signed over them), the path
//! parameters, query parameters, raw path and request context filled in. A
//! custom domain's base path is served too ([`serve_at`]). Routes are
//! data ([`Route`]), so the same table serves `tikivip dev` and in-process
//! tests ([`serve`] on a listener bound to port 0).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::header::{ALLOW, CONTENT_TYPE, USER_AGENT};
use http::request::Parts;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use lambda_http::{Body, BoxFuture, Context, Request, RequestExt, Response};
use tikivip_api::BasePath;
use tikivip_signing::unix_millis;
use tokio::net::TcpListener;

/// The largest request body accepted. Tiki's bodies are a few hundred bytes;
/// anything near this is a mistake or an attack, refused before it is read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// API Gateway's limit on an integration. Handlers see it as the Lambda
/// context's deadline; it is not enforced here.
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(30);

/// How long shutdown waits for requests in flight before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A Lambda handler as the local API calls it.
pub type Handler = Arc<dyn Fn(Request) -> BoxFuture<'static, Response<Body>> + Send + Sync>;

/// One entry of the routing table: what API Gateway's route key
/// `METHOD /path/{param}` is in the SAM template.
#[derive(Clone)]
pub struct Route {
    pub method: Method,
    /// A path template: literal segments, and `{name}` segments that match any
    /// one non-empty segment and reach the handler as path parameter `name`.
    pub path: String,
    pub handler: Handler,
}

impl Route {
    pub fn new<F, Fut>(method: Method, path: impl Into<String>, handler: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        Route {
            method,
            path: path.into(),
            handler: Arc::new(move |request| Box::pin(handler(request))),
        }
    }

    /// The path parameters, if `path` (without its query) fits the template.
    /// Values are passed on as they appear in the path, not percent-decoded:
    /// our ids never need encoding.
    fn match_path(&self, path: &str) -> Option<HashMap<String, String>> {
        let mut template = self.path.split('/');
        let mut actual = path.split('/');
        let mut parameters = HashMap::new();
        loop {
            match (template.next(), actual.next()) {
                (None, None) => return Some(parameters),
                (Some(expected), Some(segment)) => {
                    match expected.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) if !segment.is_empty() => {
                            parameters.insert(name.to_owned(), segment.to_owned());
                        }
                        None if expected == segment => {}
                        _ => return None,
                    }
                }
                // One has more segments than the other.
                _ => return None,
            }
        }
    }
}

/// Serves `routes` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (for up to 10 s) and returns.
pub async fn serve(listener: TcpListener, routes: Vec<Route>, shutdown: impl Future<Output = ()>) {
    serve_at(listener, routes, BasePath::default(), shutdown).await
}

/// [`serve`], behind a custom domain's base path (`API_BASE_PATH`): requests
/// come in as `{base_path}/v1/…`, and reach the functions as API Gateway
/// hands them over (`rawPath` with the base path), which take it off.
pub async fn serve_at(
    listener: TcpListener,
    routes: Vec<Route>,
    base_path: BasePath,
    shutdown: impl Future<Output = ()>,
) {
    let routes: Arc<[Route]> = routes.into();
    let connections = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Typically out of file descriptors: pause rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let routes = routes.clone();
        let base_path = base_path.clone();
        let service =
            service_fn(move |request| handle(routes.clone(), base_path.clone(), peer, request));
        let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; abandoned");
    }
}

async fn handle(
    routes: Arc<[Route]>,
    base_path: BasePath,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = respond(&routes, &base_path, peer, request).await;
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request",
    );
    Ok(response)
}

async fn respond(
    routes: &[Route],
    base_path: &BasePath,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> Response<Body> {
    let method = request.method();
    // Routes are matched as API Gateway matches them behind a custom domain:
    // without the mapping's base path.
    let path = base_path.strip(request.uri().path());
    let mut allowed = Vec::new();
    let mut found = None;
    for route in routes {
        if let Some(parameters) = route.match_path(path) {
            if route.method == method {
                found = Some((route, parameters));
                break;
            }
            allowed.push(route.method.as_str());
        }
    }
    let Some((route, path_parameters)) = found else {
        let message = format!("no route for {method} {path}");
        if allowed.is_empty() {
            return envelope(StatusCode::NOT_FOUND, 1, &message);
        }
        let mut response = envelope(StatusCode::METHOD_NOT_ALLOWED, 1, &message);
        let allow = allowed
            .join(", ")
            .parse()
            .expect("method names are valid header values");
        response.headers_mut().insert(ALLOW, allow);
        return response;
    };

    let (parts, body) = request.into_parts();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    // The conversion and the handler run as their own task, so that a panic
    // in either is answered, as API Gateway answers a crashed Lambda, instead
    // of silently dropping the connection.
    let handler = route.handler.clone();
    let converted = {
        let (route, base_path) = (route.clone(), base_path.clone());
        tokio::spawn(async move {
            match lambda_request(parts, &body, &route, path_parameters, peer, &base_path) {
                Ok(request) => handler(request).await,
                Err(message) => envelope(StatusCode::BAD_GATEWAY, 2, &message),
            }
        })
    };
    match converted.await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, route = %route.path, "handler panicked");
            envelope(StatusCode::BAD_GATEWAY, 2, "the handler panicked")
        }
    }
}

/// The body's bytes, or the response refusing it.
async fn read_body(body: Incoming) -> Result<bytes::Bytes, Response<Body>> {
    let too_large = || {
        let message = format!("request body larger than {MAX_BODY_BYTES} bytes");
        envelope(StatusCode::PAYLOAD_TOO_LARGE, 1, &message)
    };
    // A Content-Length is the size hint's lower bound: refuse a declared
    // oversize body without reading any of it (hyper then closes the connection).
    if body.size_hint().lower() > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    // A chunked body declares nothing: read up to the limit and no further.
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(too_large()),
        Err(error) => Err(envelope(
            StatusCode::BAD_REQUEST,
            1,
            &format!("could not read the request body: {error}"),
        )),
    }
}

/// The API Gateway HTTP API (payload format 2.0) event of a request, as
/// API Gateway would send it to Lambda: `rawPath` and `rawQueryString`
/// exactly as received (percent-encoding and any custom domain base path
/// kept), header names in lower case with repeated headers joined by commas,
/// cookies apart, query parameters decoded, the body as text (base64 when it
/// is not UTF-8).
pub fn gateway_event(
    parts: &Parts,
    body: &[u8],
    route: &Route,
    path_parameters: &HashMap<String, String>,
    peer: SocketAddr,
    request_id: &str,
    now: SystemTime,
) -> serde_json::Value {
    use base64::Engine;
    let raw_path = parts.uri.path();
    let raw_query = parts.uri.query().unwrap_or_default();
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for name in parts.headers.keys() {
        let values = parts.headers.get_all(name).iter();
        let values: Vec<String> = values
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if name == http::header::COOKIE {
            cookies.extend(values.iter().flat_map(|v| v.split("; ").map(str::to_owned)));
        } else {
            headers.insert(name.as_str().to_owned(), values.join(",").into());
        }
    }
    headers.insert("x-forwarded-for".into(), peer.ip().to_string().into());
    headers.insert("x-forwarded-port".into(), peer.port().to_string().into());
    headers
        .entry("x-forwarded-proto")
        .or_insert_with(|| "http".into());
    let mut query = serde_json::Map::new();
    for (name, value) in form_urlencoded::parse(raw_query.as_bytes()) {
        match query.get_mut(name.as_ref()) {
            Some(serde_json::Value::String(joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => {
                query.insert(name.into_owned(), value.into_owned().into());
            }
        }
    }
    let (body, is_base64_encoded) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (serde_json::Value::Null, false),
        Ok(text) => (text.into(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD
                .encode(body)
                .into(),
            true,
        ),
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let time_epoch = unix_millis(now);
    let route_key = format!("{} {}", route.method, route.path);
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or(host),
            "http": {
                "method": parts.method.as_str(),
                "path": raw_path,
                "protocol": format!("{:?}", parts.version),
                "sourceIp": peer.ip().to_string(),
                "userAgent": parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default(),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": time_epoch,
        },
        "isBase64Encoded": is_base64_encoded,
    });
    if !cookies.is_empty() {
        event["cookies"] = cookies.into();
    }
    if !query.is_empty() {
        event["queryStringParameters"] = query.into();
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = serde_json::json!(path_parameters);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

/// The request a handler receives in Lambda: the API Gateway event of this
/// request, turned into a request by `lambda_http`'s own conversion (as the
/// runtime does), the Lambda context added, and the base path taken off as
/// `tikivip_api::run` takes it off.
fn lambda_request(
    parts: Parts,
    body: &[u8],
    route: &Route,
    path_parameters: HashMap<String, String>,
    peer: SocketAddr,
    base_path: &BasePath,
) -> Result<Request, String> {
    let now = SystemTime::now();
    let request_id = uuid::Uuid::now_v7().to_string();
    let event = gateway_event(
        &parts,
        body,
        route,
        &path_parameters,
        peer,
        &request_id,
        now,
    );
    let request = lambda_http::request::from_str(&event.to_string())
        .map_err(|error| format!("the API Gateway event does not convert: {error}"))?;
    let mut lambda_context = Context::default();
    lambda_context.request_id = request_id;
    lambda_context.deadline = unix_millis(now + LAMBDA_TIMEOUT);
    Ok(base_path.strip_request(request.with_lambda_context(lambda_context)))
}

/// The project's error envelope, so that clients parse the local API's own
/// refusals like the handlers' (code 1: invalid request, 2: system error).
fn envelope(status: StatusCode, code: u8, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .expect("a valid status and header")
}

#[cfg(test)]
mod tests {
    use super::*;

    use lambda_http::request::RequestContext;
    use serde_json::{Value, json};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    /// Answers with what it was handed, for the tests to inspect.
    async fn echo(request: Request) -> Response<Body> {
        let context = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.clone(),
            _ => panic!("no API Gateway v2 request context"),
        };
        let echoed = json!({
            "route": context.route_key,
            "uri": request.uri().path_and_query().map(|pq| pq.to_string()),
            "raw_path": request.raw_http_path(),
            "stage": context.stage,
            "transaction_id": request.path_parameters().first("transaction_id"),
            "tiki_transaction_id": request.query_string_parameters().first("tiki_transaction_id"),
            "body_len": request.body().len(),
            "body_is_empty_variant": matches!(request.body(), Body::Empty),
            "body": String::from_utf8_lossy(request.body()),
            "request_id_matches": request.lambda_context().request_id == context.request_id.unwrap(),
        });
        Response::new(Body::Text(echoed.to_string()))
    }

    fn routes() -> Vec<Route> {
        vec![
            Route::new(Method::POST, "/v1/transactions", echo),
            Route::new(Method::GET, "/v1/transactions", echo),
            Route::new(Method::GET, "/v1/transactions/{transaction_id}", echo),
            Route::new(Method::GET, "/v1/panic", |_| async { panic!("on purpose") }),
        ]
    }

    struct Server {
        address: SocketAddr,
        stop: oneshot::Sender<()>,
        task: JoinHandle<()>,
    }

    impl Server {
        async fn start() -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let (stop, stopped) = oneshot::channel();
            let task = tokio::spawn(serve(listener, routes(), async {
                let _ = stopped.await;
            }));
            Server {
                address,
                stop,
                task,
            }
        }

        fn url(&self, path_and_query: &str) -> String {
            format!("http://{}{path_and_query}", self.address)
        }

        async fn get(
            &self,
            path_and_query: &str,
        ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
            let response = reqwest::get(self.url(path_and_query)).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            (status, headers, response.json().await.unwrap())
        }

        async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
            let response = reqwest::Client::new()
                .post(self.url(path))
                .body(body)
                .send()
                .await
                .unwrap();
            (response.status(), response.json().await.unwrap())
        }

        /// Sends raw bytes and returns the whole raw response.
        async fn raw(&self, request: Vec<u8>) -> String {
            let mut stream = tokio::net::TcpStream::connect(self.address).await.unwrap();
            let (mut reader, mut writer) = stream.split();
            let read = async {
                let mut response = Vec::new();
                reader.read_to_end(&mut response).await.unwrap();
                String::from_utf8(response).unwrap()
            };
            // Read while writing: the server may answer before it has read
            // everything, and then stop reading.
            let write = async {
                let _ = writer.write_all(&request).await;
            };
            let both = async { tokio::join!(read, write).0 };
            tokio::time::timeout(Duration::from_secs(10), both)
                .await
                .expect("the server answered and closed the connection")
        }
    }

    #[test]
    fn templates_match_whole_segments() {
        let route = Route::new(Method::GET, "/v1/transactions/{transaction_id}", echo);
        let parameters = route.match_path("/v1/transactions/T-1").unwrap();
        assert_eq!(parameters["transaction_id"], "T-1");
        for path in [
            "/v1/transactions",
            "/v1/transactions/",
            "/v1/transactions/T-1/",
            "/v1/transactions/T-1/refunds",
            "/v2/transactions/T-1",
        ] {
            assert_eq!(route.match_path(path), None, "{path}");
        }
    }

    #[tokio::test]
    async fn routes_on_method_and_template_with_path_parameters() {
        let server = Server::start().await;
        let (status, _, echoed) = server.get("/v1/transactions/T-1").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(echoed["route"], "GET /v1/transactions/{transaction_id}");
        assert_eq!(echoed["transaction_id"], "T-1");
        assert_eq!(echoed["request_id_matches"], true);

        let (status, echoed) = server.post("/v1/transactions", "{}").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(echoed["route"], "POST /v1/transactions");
    }

    #[tokio::test]
    async fn query_reaches_the_handler_exactly_as_sent() {
        let server = Server::start().await;
        let sent = "/v1/transactions?tiki_transaction_id=H%C3%A0%20N%E1%BB%99i&b=2&a=%2F&a=1";
        let (status, _, echoed) = server.get(sent).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(echoed["route"], "GET /v1/transactions");
        assert_eq!(echoed["uri"], sent);
        assert_eq!(echoed["tiki_transaction_id"], "Hà Nội");
    }

    #[tokio::test]
    async fn bodies_arrive_byte_for_byte_and_none_is_empty() {
        let server = Server::start().await;
        let body = "{ \"id\" : 123,\n\"note\": \"Hà Nội\" }";
        let (_, echoed) = server.post("/v1/transactions", body).await;
        assert_eq!(echoed["body"], body);
        assert_eq!(echoed["body_is_empty_variant"], false);

        let (_, _, echoed) = server.get("/v1/transactions/T-1").await;
        assert_eq!(echoed["body_is_empty_variant"], true);
    }

    #[tokio::test]
    async fn unknown_path_is_404_in_the_envelope() {
        let server = Server::start().await;
        let (status, _, body) = server.get("/v1/nowhere?x=1").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({"code": 1, "message": "no route for GET /v1/nowhere"})
        );
    }

    #[tokio::test]
    async fn wrong_method_is_405_with_the_allowed_ones() {
        let server = Server::start().await;
        let response = reqwest::Client::new()
            .delete(server.url("/v1/transactions"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "POST, GET");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 1);
    }

    #[tokio::test]
    async fn body_of_exactly_the_limit_is_accepted() {
        let server = Server::start().await;
        let (status, echoed) = server
            .post("/v1/transactions", vec![b'x'; MAX_BODY_BYTES])
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(echoed["body_len"], MAX_BODY_BYTES);
    }

    #[tokio::test]
    async fn declared_oversize_body_is_refused_before_it_is_sent() {
        let server = Server::start().await;
        // Headers only: the 413 must come without waiting for the 10 MiB.
        let response = server
            .raw(
                b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 10485760\r\n\r\n"
                    .to_vec(),
            )
            .await;
        assert!(response.starts_with("HTTP/1.1 413"), "{response}");
        assert!(response.contains(r#""code":1"#), "{response}");
    }

    #[tokio::test]
    async fn chunked_oversize_body_is_refused() {
        let server = Server::start().await;
        let size = MAX_BODY_BYTES + 1;
        let mut request =
            b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_vec();
        request.extend(format!("{size:x}\r\n").bytes());
        request.extend(vec![b'x'; size]);
        request.extend(b"\r\n0\r\n\r\n");
        let response = server.raw(request).await;
        assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    }

    #[tokio::test]
    async fn panicking_handler_is_answered_502() {
        let server = Server::start().await;
        let (status, _, body) = server.get("/v1/panic").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(body["code"], 2);
    }

    #[tokio::test]
    async fn serve_returns_once_shut_down() {
        let server = Server::start().await;
        let (status, _, _) = server.get("/v1/transactions/T-1").await;
        assert_eq!(status, StatusCode::OK);
        server.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server.task)
            .await
            .expect("serve returned")
            .unwrap();
    }
}
