//! SPEC Part 2, webview: `POST /v1/webview`, through the local API, to the
//! Tiki simulator's webview API.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::StatusCode;
use serde_json::{Value, json};
use tiki_simulator::{Fault, FaultRoute};
use tikivip_domain::ResultCode;
use tikivip_it::stack::{Running, partner_signer};
use tikivip_it::tiki_signer;

const PHONE: &str = "0912345678";

fn body(phone: &str) -> Value {
    json!({"identify_code": "user-42", "identify_phone": phone, "identify_fullname": "Nguyễn Văn An"})
}

#[tokio::test]
async fn the_webview_endpoint_answers_tikis_urls_in_the_envelope() {
    let running = Running::start("1").await;
    let reply = running
        .post(&partner_signer(), "/v1/webview", &body(PHONE))
        .await;
    let data = reply.ok();
    let request_id = data["request_id"].as_str().expect("Tiki's request_id");
    let sim = running.stack.tiki_base_url.trim_end_matches('/');
    for url in ["url_open", "url_checkout_result"] {
        let url = data[url].as_str().expect("a URL");
        assert!(url.starts_with(sim) && url.contains(request_id), "{url}");
    }
    assert_eq!(
        running.tiki().webview_requests(),
        [
            json!({"identify_code": "user-42", "identify_phone": PHONE, "identify_fullname": "Nguyễn Văn An"})
        ]
    );
}

#[tokio::test]
async fn each_typed_phone_form_reaches_tiki_as_the_national_ten_digits() {
    let running = Running::start("1").await;
    let typed = [
        "0912345678",
        "+84912345678",
        "84912345678",
        "+84 912 345 678",
        "0912.345.678",
        "091-234-5678",
        "+84 (0) 912 345 678",
    ];
    for phone in typed {
        running
            .post(&partner_signer(), "/v1/webview", &body(phone))
            .await
            .ok();
    }
    let sent: Vec<Value> = running
        .tiki()
        .webview_requests()
        .into_iter()
        .map(|request| request["identify_phone"].clone())
        .collect();
    assert_eq!(sent, vec![json!(PHONE); typed.len()]);
}

#[tokio::test]
async fn a_bad_phone_is_refused_before_tiki_is_called() {
    let running = Running::start("1").await;
    for phone in [
        "12345",
        "0212345678",
        "+1 415 555 0100",
        "09123456789",
        "phone",
    ] {
        let reply = running
            .post(&partner_signer(), "/v1/webview", &body(phone))
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, 1),
            "{phone}"
        );
        let message = reply.body["message"].as_str().unwrap();
        assert!(message.contains("identify_phone"), "{message}");
    }
    let reply = running
        .post(
            &partner_signer(),
            "/v1/webview",
            &json!({"identify_phone": PHONE}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        running.tiki().webview_requests().is_empty(),
        "Tiki was called"
    );
}

#[tokio::test]
async fn a_tiki_refusal_keeps_its_code_and_message() {
    let running = Running::start("1").await;
    for (code, status) in [
        (ResultCode::InvalidRequest, StatusCode::BAD_REQUEST),
        (ResultCode::NotFound, StatusCode::NOT_FOUND),
        (ResultCode::SystemError, StatusCode::BAD_GATEWAY),
    ] {
        running
            .tiki()
            .fail(FaultRoute::Webview, 1, Fault::code(code));
        let reply = running
            .post(&partner_signer(), "/v1/webview", &body(PHONE))
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, i64::from(code.as_u8())),
            "{:?}",
            reply.body
        );
        let message = reply.body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("simulated Tiki code {code}")),
            "Tiki's message kept: {message}"
        );
        assert!(reply.body.get("data").is_none());
    }
}

#[tokio::test]
async fn a_tiki_down_or_slow_is_a_5xx_within_the_tiki_timeout() {
    // The stack's Tiki client gives up after 2 s (tests/src/stack.rs).
    let running = Running::start("1").await;
    running
        .tiki()
        .fail(FaultRoute::Webview, 1, Fault::delay(Duration::from_secs(6)));
    let started = Instant::now();
    let reply = running
        .post(&partner_signer(), "/v1/webview", &body(PHONE))
        .await;
    let took = started.elapsed();
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::GATEWAY_TIMEOUT, 2)
    );
    assert!(
        took < Duration::from_secs(4),
        "answered after {took:?}, not within the Tiki timeout"
    );

    running.tiki().fail(
        FaultRoute::Webview,
        1,
        Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
    );
    let reply = running
        .post(&partner_signer(), "/v1/webview", &body(PHONE))
        .await;
    assert_eq!((reply.status, reply.code()), (StatusCode::BAD_GATEWAY, 2));
    assert!(
        reply.body["message"].as_str().unwrap().contains("HTTP 503"),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn a_tiki_key_is_refused_on_the_webview_route() {
    let running = Running::start("1").await;
    let reply = running
        .post(&tiki_signer(), "/v1/webview", &body(PHONE))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
    assert!(running.tiki().webview_requests().is_empty());
}

/// Log lines as the functions write them (JSON), into memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn personal_data_is_masked_in_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    // The test's runtime runs every task on this thread, the local API's too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let running = Running::start("1").await;
    running
        .post(&partner_signer(), "/v1/webview", &body("+84 912 345 678"))
        .await
        .ok();
    running.tiki().fail(
        FaultRoute::Webview,
        1,
        Fault::code(ResultCode::InvalidRequest),
    );
    let refused = running
        .post(&partner_signer(), "/v1/webview", &body(PHONE))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let issued: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "webview URL issued")
        .collect();
    assert_eq!(issued.len(), 1, "{text}");
    assert_eq!(issued[0]["fields"]["phone"], "091*****78");
    assert_eq!(issued[0]["fields"]["fullname"], "N. V. A.");
    for whole in ["912345678", "912 345 678", "Nguyễn", "Văn An"] {
        assert!(!text.contains(whole), "{whole:?} in the logs:\n{text}");
    }
}
