//! What goes over the wire: reading a request, and the JSON answers.

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use serde::Serialize;
use serde_json::Value;
use tikivip_domain::{Envelope, ResultCode};

/// Far above any Tiki body; a bigger one is a caller's bug, not a payload.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An answer before it is sent: kept as JSON so that IPN answers can be recorded.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// Any JSON body, for the status API whose fields sit beside `code`.
    pub fn json(status: StatusCode, body: impl Serialize) -> Reply {
        Reply {
            status,
            // Answers are built from strings, numbers and derived structs only.
            body: serde_json::to_value(body).expect("answers serialise to JSON"),
        }
    }

    /// HTTP 200, code 0, with `data`.
    pub fn success(data: impl Serialize) -> Reply {
        Reply::json(StatusCode::OK, Envelope::success(data))
    }

    /// Tiki's way of refusing a call: HTTP 200 and a non-zero `code`.
    pub fn refusal(code: ResultCode, message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::OK, code, message)
    }

    /// An envelope without data, under any HTTP status.
    pub fn error(status: StatusCode, code: ResultCode, message: impl Into<String>) -> Reply {
        Reply::json(status, Envelope::<()>::failure(code, message))
    }

    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from(self.body.to_string())));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// The whole body, or the answer to give when it cannot be read.
pub(crate) async fn read_body(body: Incoming) -> Result<Bytes, Reply> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) => Err(Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ResultCode::InvalidRequest,
            format!("body unreadable or larger than {MAX_BODY_BYTES} bytes: {error}"),
        )),
    }
}

/// The first value of query parameter `name`, percent-decoded.
pub(crate) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Reads a JSON body into `T`, or says why not.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|error| format!("invalid JSON body: {error}"))
}
