//! The HTTP side: one pooled connection client, every request signed with the
//! `X-Tikivip-*` headers over exactly the bytes sent.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use tikivip_domain::{Ipn, TikiTransactionId};
use tikivip_signing::{HeaderFamily, Secret, Signer};

use crate::environment::env_setting;
use crate::error::snippet;
use crate::{Error, IpnAnswer, TikiEnvironment, TikiStatus, Webview, ipn, status, webview};

/// Tiki's answers are a few hundred bytes; anything past this is not one.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Below the keep-alive of common load balancers (60 s), so that a pooled
/// connection the far end has already closed is not reused. The pool checks
/// this on checkout, so it holds after a Lambda sandbox has been frozen too.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

const DEFAULT_TIMEOUT: Duration = Duration::from_millis(10_000);

const AGENT: &str = concat!("tikivip-partner/", env!("CARGO_PKG_VERSION"));

/// The client of Tiki's TikiVIP API. Build it once per process and share it:
/// it holds the connection pool.
#[derive(Clone, Debug)]
pub struct TikiClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// Bounds each call as a whole: connecting, sending and reading the answer.
    timeout: Duration,
    /// The environment's base without its trailing slash, so that a signed
    /// path (`/payment/ipn`) appended to it gives the URL.
    base: String,
    signer: Signer,
}

impl TikiClient {
    /// `timeout` bounds each call as a whole: connecting, sending, and reading
    /// the answer.
    pub fn new(
        environment: TikiEnvironment,
        client_id: impl Into<String>,
        secret: Secret,
        timeout: Duration,
    ) -> Result<TikiClient, Error> {
        TikiClient::build(
            environment.base_url(),
            HeaderFamily::Tikivip,
            client_id,
            secret,
            timeout,
        )
    }

    /// A client of the API at `base`, signing with the `family` headers: the
    /// TikiVIP API here, the Tini App platform's in [`crate::TiniAppClient`].
    pub(crate) fn build(
        base: &str,
        family: HeaderFamily,
        client_id: impl Into<String>,
        secret: Secret,
        timeout: Duration,
    ) -> Result<TikiClient, Error> {
        let client_id = client_id.into();
        // The signer puts the id in a header; refuse here what it could not send.
        if client_id.is_empty() || HeaderValue::from_str(&client_id).is_err() {
            return Err(Error::Config(format!(
                "client id {client_id:?} is empty or not a valid header value"
            )));
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|error| Error::Config(format!("no usable root certificates: {error}")))?
            .https_or_http()
            .enable_http1()
            .build();
        // hyper follows no redirect: signed headers never go to another host,
        // and a 3xx is reported as an HTTP status.
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build(connector);
        Ok(TikiClient {
            http,
            timeout,
            base: base.trim_end_matches('/').to_owned(),
            signer: Signer::new(family, client_id, secret),
        })
    }

    /// Reports a settled transaction to Tiki (`POST /payment/ipn`).
    pub async fn send_ipn(&self, ipn: &Ipn) -> Result<IpnAnswer, Error> {
        ipn::answer(&self.post("/payment/ipn", ipn).await?)
    }

    /// What Tiki knows of one of its transactions
    /// (`GET /transaction?tiki_transaction_id=…`).
    pub async fn transaction_status(&self, id: &TikiTransactionId) -> Result<TikiStatus, Error> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("tiki_transaction_id", id.as_str())
            .finish();
        let answer = self.get(&format!("/transaction?{query}")).await?;
        status::answer(id, &answer)
    }

    /// Where to open TikiVIP for one user (`POST /webview`).
    pub async fn webview(
        &self,
        identify_code: &str,
        identify_phone: &str,
        identify_fullname: Option<&str>,
    ) -> Result<Webview, Error> {
        let request = webview::Request {
            identify_code,
            identify_phone,
            identify_fullname,
        };
        webview::answer(&self.post("/webview", &request).await?)
    }

    /// Serialises the body once, then signs and sends those very bytes.
    async fn post(&self, path: &str, body: &impl Serialize) -> Result<Vec<u8>, Error> {
        // Only this crate's bodies come here: plain structs of strings and
        // numbers, which always serialise.
        let body = serde_json::to_vec(body).expect("Tiki request bodies serialise to JSON");
        self.send(Method::POST, path, body).await
    }

    /// Signs the path and query exactly as they appear in the URL.
    pub(crate) async fn get(&self, path_and_query: &str) -> Result<Vec<u8>, Error> {
        self.send(Method::GET, path_and_query, Vec::new()).await
    }

    /// The signed path never includes the base, whatever prefix the base has.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs and sends a request; the body of an HTTP 200.
    async fn send(&self, method: Method, path: &str, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        let signed_part = if method == Method::GET {
            path.as_bytes()
        } else {
            &body
        };
        let mut request = Request::builder()
            .method(method)
            .uri(self.url(path))
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, AGENT);
        for (name, value) in self.signer.headers(SystemTime::now(), signed_part) {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| Error::Config(format!("cannot build a request to {path}: {error}")))?;
        let started = Instant::now();
        let result = match tokio::time::timeout(self.timeout, self.read(request)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout),
        };
        // The path tells which call it was; headers and bodies are never logged.
        tracing::debug!(
            path,
            elapsed_ms = started.elapsed().as_millis() as u64,
            error = result.as_ref().err().map(tracing::field::display),
            "called Tiki"
        );
        result
    }

    /// The body of an HTTP 200. Any other status is an error quoting the body.
    async fn read(&self, request: Request<Full<Bytes>>) -> Result<Vec<u8>, Error> {
        let response = self.http.request(request).await.map_err(connect_error)?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(
                |error| match error.downcast::<http_body_util::LengthLimitError>() {
                    Ok(_) => Error::BadResponse(format!(
                        "an answer longer than {MAX_ANSWER_BYTES} bytes"
                    )),
                    Err(error) => Error::Connect(format!("the answer broke off: {error}")),
                },
            )?
            .to_bytes();
        if status != StatusCode::OK {
            return Err(Error::HttpStatus(status.as_u16(), snippet(&body)));
        }
        Ok(body.to_vec())
    }
}

/// hyper's own message is only "client error (Connect)"; the cause
/// ("connection refused", "invalid peer certificate") is in its sources.
fn connect_error(error: hyper_util::client::legacy::Error) -> Error {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Connect(text)
}

/// `TIKI_TIMEOUT_MS` (default 10000): what bounds each call to Tiki.
pub fn timeout_from_env() -> Result<Duration, Error> {
    timeout_setting(env_setting("TIKI_TIMEOUT_MS")?.as_deref())
}

/// `TIKI_TIMEOUT_MS`: a whole number of milliseconds, more than zero.
fn timeout_setting(millis: Option<&str>) -> Result<Duration, Error> {
    let Some(millis) = millis else {
        return Ok(DEFAULT_TIMEOUT);
    };
    match millis.parse::<u64>() {
        Ok(millis) if millis > 0 => Ok(Duration::from_millis(millis)),
        _ => Err(Error::Config(format!(
            "TIKI_TIMEOUT_MS={millis:?} is not a positive number of milliseconds"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(environment: TikiEnvironment, client_id: &str) -> Result<TikiClient, Error> {
        TikiClient::new(environment, client_id, Secret::new("s"), DEFAULT_TIMEOUT)
    }

    #[test]
    fn a_call_goes_to_the_base_then_the_signed_path() {
        let production = client(TikiEnvironment::Production, "c").unwrap();
        assert_eq!(
            production.url("/payment/ipn"),
            "https://api.tiki.vn/miniapp/tikivip/payment/ipn"
        );
        let local = TikiEnvironment::local("http://127.0.0.1:9001/").unwrap();
        assert_eq!(
            client(local, "c")
                .unwrap()
                .url("/transaction?tiki_transaction_id=1"),
            "http://127.0.0.1:9001/transaction?tiki_transaction_id=1"
        );
    }

    #[test]
    fn a_client_id_that_cannot_be_a_header_is_refused() {
        for bad in ["", "line\nbreak"] {
            let refused = client(TikiEnvironment::Sandbox, bad);
            assert!(matches!(refused, Err(Error::Config(_))), "{bad:?}");
        }
    }

    #[test]
    fn the_timeout_defaults_to_ten_seconds_and_must_be_positive() {
        assert_eq!(timeout_setting(None), Ok(Duration::from_secs(10)));
        assert_eq!(timeout_setting(Some("250")), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "1.5", "ten"] {
            assert!(timeout_setting(Some(bad)).is_err(), "{bad}");
        }
    }
}
