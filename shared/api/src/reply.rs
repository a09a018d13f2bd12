use http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;
use tikivip_domain::Envelope;

use crate::Error;

/// Which HTTP status a failure answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failures {
    /// As REST would have it: 400, 401, 404, 409, 413, 500.
    Rest,
    /// Tiki's refund API: HTTP 500 for any failure once the signature has been
    /// verified; 401 for one that is not.
    Http500,
}

/// The SPEC envelope for a handler's result: HTTP 200 and code 0, or a non-2xx
/// status with the failure's code and message.
pub fn reply<T: Serialize>(result: Result<T, Error>, failures: Failures) -> Response<Body> {
    match result {
        Ok(data) => json(StatusCode::OK, &Envelope::success(data)),
        Err(err) => {
            let status = match (failures, &err) {
                (Failures::Http500, e) if e.status() != StatusCode::UNAUTHORIZED => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => err.status(),
            };
            if status.is_server_error() {
                tracing::error!(error = %err, detail = ?err, "request failed");
            } else if let Error::Unauthorized(refusal) = &err {
                // The caller is told less than this (see `Error`).
                tracing::info!(reason = %refusal, "request refused: signature");
            } else {
                tracing::info!(error = %err, "request refused");
            }
            json(
                status,
                &Envelope::<()>::failure(err.code(), err.to_string()),
            )
        }
    }
}

fn json<T: Serialize>(status: StatusCode, envelope: &Envelope<T>) -> Response<Body> {
    // Serialising our own envelope types cannot fail.
    let body = serde_json::to_vec(envelope).expect("envelopes serialise");
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::Binary(body))
        .expect("a valid status and header")
}
