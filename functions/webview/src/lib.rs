//! `POST /v1/webview`: the partner's app backend asks where to open TikiVIP
//! for one of its users; this calls Tiki's webview URL API (SPEC.md Part 1,
//! item 2) and answers `{url_open, url_checkout_result, request_id}`.
//!
//! Signed with `X-Partner-*` and the partner's own secret (a Tiki key does not
//! work here). The body is read into domain types first, so a bad phone
//! number is refused before Tiki is called. Tiki's refusals keep their code
//! and message; Tiki failing or slower than `TIKI_TIMEOUT_MS` is a 502 or 504
//! within the function's timeout. The phone number and the name are sent to
//! Tiki and nowhere else: masked in logs, never stored. What is stored is the
//! way back, `url_checkout_result`, for the transaction Tiki creates next for
//! this `identify_code`.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use tikivip_api::{
    Error, Failures, Handler, keys_from_env, load_aws_config, reply, verified_body,
    verifier_and_store,
};
use tikivip_domain::wire::parse_json;
use tikivip_domain::{CheckoutReturn, ResultCode, Timestamp, WebviewRequest, WebviewUrls};
use tikivip_signing::{HeaderFamily, Verifier};
use tikivip_store::Store;
use tikivip_tiki_client::{TikiClient, TikiEnvironment, timeout_from_env};

pub struct WebviewUrl {
    verifier: Verifier,
    tiki: TikiClient,
    store: Store,
}

impl WebviewUrl {
    pub fn new(verifier: Verifier, tiki: TikiClient, store: Store) -> Self {
        WebviewUrl {
            verifier,
            tiki,
            store,
        }
    }

    /// The partner's keys (to verify), Tiki's (to sign: the newest secret),
    /// and the table, reached side by side.
    pub async fn from_env() -> Result<Self, Error> {
        let aws = load_aws_config().await;
        let ((verifier, store), tiki) = tokio::try_join!(
            verifier_and_store(
                &aws,
                HeaderFamily::Partner,
                "PARTNER_CLIENT_ID",
                "PARTNER_CLIENT_SECRET"
            ),
            keys_from_env(&aws, "TIKIVIP_CLIENT_ID", "TIKIVIP_CLIENT_SECRET"),
        )?;
        let newest = tiki
            .into_iter()
            .next()
            .ok_or_else(|| Error::Config("TIKIVIP_CLIENT_SECRET holds no secret".into()))?;
        let config = |err: tikivip_tiki_client::Error| Error::Config(err.to_string());
        let tiki = TikiClient::new(
            TikiEnvironment::from_env().map_err(config)?,
            newest.client_id,
            newest.secret,
            timeout_from_env().map_err(config)?,
        )
        .map_err(config)?;
        Ok(WebviewUrl::new(verifier, tiki, store))
    }

    async fn open(&self, request: &Request) -> Result<WebviewUrls, Error> {
        let body = verified_body(&self.verifier, request)?;
        let request: WebviewRequest = parse_json(body)?;
        let phone = request.identify_phone.masked();
        let name = request.identify_fullname.as_ref().map(|n| n.masked());
        let answer = self
            .tiki
            .webview(
                request.identify_code.as_str(),
                request.identify_phone.as_str(),
                request.identify_fullname.as_ref().map(|n| n.as_str()),
            )
            .await
            .map_err(|err| {
                tracing::warn!(phone, fullname = name, error = %mask_digit_runs(&err.to_string()), "Tiki's webview API gave no URL");
                tiki_failure(err)
            })?;
        let urls = WebviewUrls {
            url_open: answer.url_open,
            url_checkout_result: answer.url_checkout_result,
            request_id: answer.request_id,
        };
        match CheckoutReturn::new(request.identify_code, &urls, Timestamp::now_utc()) {
            // The user can open TikiVIP without it; only the way back after
            // paying falls back to the create's redirect_url.
            Some(way_back) => {
                if let Err(err) = self.store.put_checkout_return(&way_back).await {
                    tracing::warn!(request_id = %urls.request_id, error = %err, "the checkout-result URL was not kept");
                }
            }
            None => {
                tracing::warn!(request_id = %urls.request_id, "Tiki's url_checkout_result is not an http(s) URL; not kept")
            }
        }
        tracing::info!(request_id = %urls.request_id, phone, fullname = name, "webview URL issued");
        Ok(urls)
    }
}

impl Handler for WebviewUrl {
    async fn handle(&self, request: Request) -> Response<Body> {
        reply(self.open(&request).await, Failures::Rest)
    }
}

/// How a failed call to Tiki's webview API is answered: Tiki's refusal with
/// its code and message (400 for an invalid request, 404 not found, 409 the
/// others, 502 its system error); 504 when Tiki did not answer in time; 502
/// when it could not be reached or answered nonsense.
pub fn tiki_failure(err: tikivip_tiki_client::Error) -> Error {
    use tikivip_tiki_client::Error as Tiki;
    let upstream = |status, code, message: String| Error::Upstream {
        status,
        code,
        message: mask_digit_runs(&message),
    };
    match err {
        Tiki::Code(code, message) => {
            let status = match code {
                ResultCode::InvalidRequest => StatusCode::BAD_REQUEST,
                ResultCode::NotFound => StatusCode::NOT_FOUND,
                ResultCode::SystemError | ResultCode::Success => StatusCode::BAD_GATEWAY,
                _ => StatusCode::CONFLICT,
            };
            upstream(
                status,
                code,
                format!("Tiki refused the webview request: {message}"),
            )
        }
        Tiki::Timeout => upstream(
            StatusCode::GATEWAY_TIMEOUT,
            ResultCode::SystemError,
            "Tiki's webview API did not answer in time".into(),
        ),
        Tiki::HttpStatus(status, _) => upstream(
            StatusCode::BAD_GATEWAY,
            ResultCode::SystemError,
            format!("Tiki's webview API answered HTTP {status}"),
        ),
        Tiki::Connect(_) => upstream(
            StatusCode::BAD_GATEWAY,
            ResultCode::SystemError,
            "Tiki's webview API could not be reached".into(),
        ),
        Tiki::BadResponse(_) => upstream(
            StatusCode::BAD_GATEWAY,
            ResultCode::SystemError,
            "Tiki's webview API gave an answer that is not one".into(),
        ),
        Tiki::Config(detail) => Error::Internal(detail),
    }
}

/// Tiki's messages may quote the phone number: runs of six digits or more
/// keep their first three and last two.
fn mask_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 6 {
            out.push_str(&run[..3]);
            out.push_str(&"*".repeat(run.len() - 5));
            out.push_str(&run[run.len() - 2..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_that_may_be_a_phone_number_are_masked() {
        assert_eq!(
            mask_digit_runs("phone 0912345678 is not registered (code 1)"),
            "phone 091*****78 is not registered (code 1)"
        );
        assert_eq!(mask_digit_runs("HTTP 503"), "HTTP 503");
    }

    #[test]
    fn tiki_refusals_keep_their_code_and_message() {
        use tikivip_tiki_client::Error as Tiki;
        let refused = tiki_failure(Tiki::Code(ResultCode::InvalidRequest, "bad phone".into()));
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(refused.code(), ResultCode::InvalidRequest);
        assert!(refused.to_string().contains("bad phone"), "{refused}");
        let slow = tiki_failure(Tiki::Timeout);
        assert_eq!(
            (slow.status(), slow.code()),
            (StatusCode::GATEWAY_TIMEOUT, ResultCode::SystemError)
        );
        let down = tiki_failure(Tiki::HttpStatus(503, "<html>".into()));
        assert_eq!(down.status(), StatusCode::BAD_GATEWAY);
        assert!(!down.to_string().contains("<html>"));
    }
}
