//! The simulator over real HTTP, started in-process on a free port, called the
//! way the partner backend calls Tiki: signed with the workspace's signing crate.

use std::time::{Duration, Instant, SystemTime};

use http::{HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Value, json};
use tiki_simulator::{Fault, FaultRoute, ForcedStatus, Simulator, SimulatorConfig, TikiRoute};
use tikivip_domain::ResultCode;
use tikivip_signing::{HeaderFamily, Secret, Signer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const CLIENT_ID: &str = "test-client";
const SECRET: &str = "test-secret";

type Headers = Vec<(HeaderName, HeaderValue)>;

/// A simulator and a client that calls it as the partner backend would.
struct Harness {
    sim: Simulator,
    http: reqwest::Client,
}

impl Harness {
    async fn start() -> Harness {
        let sim = Simulator::start_local(SimulatorConfig::new(CLIENT_ID, SECRET))
            .await
            .expect("the simulator starts");
        Harness {
            sim,
            http: reqwest::Client::new(),
        }
    }

    /// Sends a request with exactly these headers and body.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: &str,
        headers: Headers,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sim.base_url()))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("the simulator answers");
        let status = response.status();
        let body = response.json().await.expect("every answer is JSON");
        (status, body)
    }

    /// A correctly signed POST.
    async fn post(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let headers = sign(SECRET, SystemTime::now(), body.as_bytes());
        self.send(Method::POST, path, body, headers).await
    }

    /// A correctly signed GET: signed over the path and query as sent.
    async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        let headers = sign(SECRET, SystemTime::now(), path_and_query.as_bytes());
        self.send(Method::GET, path_and_query, "", headers).await
    }

    async fn ipn(&self, body: &Value) -> (StatusCode, Value) {
        self.post("/payment/ipn", &body.to_string()).await
    }

    async fn status_of(&self, tiki_transaction_id: &str) -> (StatusCode, Value) {
        self.get(&format!(
            "/transaction?tiki_transaction_id={tiki_transaction_id}"
        ))
        .await
    }

    /// An unsigned call to the control API.
    async fn control(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, &body.to_string(), Vec::new())
            .await
    }

    /// `GET /_sim/ipns` with an optional query, its `data`.
    async fn recorded(&self, query: &str) -> Value {
        let (status, body) = self
            .send(Method::GET, &format!("/_sim/ipns{query}"), "", Vec::new())
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"].clone()
    }
}

fn sign(secret: &str, at: SystemTime, signed_part: &[u8]) -> Headers {
    Signer::new(HeaderFamily::Tikivip, CLIENT_ID, Secret::new(secret))
        .headers(at, signed_part)
        .into()
}

fn ipn_body(tiki_transaction_id: &str, transaction_id: &str, status: &str) -> Value {
    json!({
        "reference_transaction_id": tiki_transaction_id,
        "transaction_amount": 150000,
        "transaction_id": transaction_id,
        "status": status,
        "partner_banking_method": "wallet",
    })
}

fn assert_unauthorized(status: StatusCode, body: &Value, why: &str) {
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], 1, "{body}");
    let message = body["message"].as_str().expect("a message says why");
    assert!(message.contains(why), "{message:?} does not say {why:?}");
}

#[tokio::test]
async fn a_signed_ipn_is_accepted_and_recorded() {
    let h = Harness::start().await;
    let body = ipn_body("tiki-1", "txn-1", "SUCCESS");

    let (status, answer) = h.ipn(&body).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"code": 0, "message": "success", "data": {"transaction_id": "txn-1"}})
    );
    h.ipn(&body).await;

    let ipns = h.sim.handle().ipns();
    assert_eq!(ipns.len(), 2);
    assert_eq!([ipns[0].attempt, ipns[1].attempt], [1, 2]);
    assert_eq!(ipns[0].transaction_id.as_deref(), Some("txn-1"));
    assert_eq!(ipns[0].body, body);
    assert_eq!(ipns[0].answer.http_status, 200);
    assert_eq!(ipns[0].answer.body, answer);

    let recorded = h.recorded("").await;
    assert_eq!(recorded["ipns"].as_array().map(Vec::len), Some(2));
    assert_eq!(recorded["ipns"][1]["attempt"], 2);
    assert_eq!(recorded["ipns"][0]["body"], body);
    let received_at = recorded["ipns"][0]["received_at"].as_str().unwrap();
    assert!(
        OffsetDateTime::parse(received_at, &Rfc3339).is_ok(),
        "{received_at}"
    );
    assert_eq!(
        recorded["rejected_counts"],
        json!({"ipn": 0, "status": 0, "webview": 0, "order": 0})
    );
}

#[tokio::test]
async fn an_ipn_signed_with_the_wrong_secret_is_rejected_with_401_and_counted() {
    let h = Harness::start().await;
    let body = ipn_body("tiki-1", "txn-1", "SUCCESS").to_string();
    let headers = sign("not-the-secret", SystemTime::now(), body.as_bytes());

    let (status, answer) = h.send(Method::POST, "/payment/ipn", &body, headers).await;

    assert_unauthorized(status, &answer, "signature does not match");
    assert!(
        h.sim.handle().ipns().is_empty(),
        "a rejected IPN is not an IPN"
    );
    assert_eq!(h.sim.handle().rejected_count(TikiRoute::Ipn), 1);
    assert_eq!(h.recorded("").await["rejected_counts"]["ipn"], 1);
}

#[tokio::test]
async fn an_ipn_whose_body_changed_after_signing_is_rejected_with_401_and_counted() {
    let h = Harness::start().await;
    let signed = ipn_body("tiki-1", "txn-1", "FAILURE").to_string();
    let sent = ipn_body("tiki-1", "txn-1", "SUCCESS").to_string();
    let headers = sign(SECRET, SystemTime::now(), signed.as_bytes());

    let (status, answer) = h.send(Method::POST, "/payment/ipn", &sent, headers).await;

    assert_unauthorized(status, &answer, "signature does not match");
    assert_eq!(h.sim.handle().rejected_count(TikiRoute::Ipn), 1);
    let (_, report) = h.status_of("tiki-1").await;
    assert_eq!(report["code"], 3, "a rejected IPN teaches Tiki nothing");
}

#[tokio::test]
async fn a_call_missing_any_signature_header_is_rejected() {
    let h = Harness::start().await;
    let body = ipn_body("tiki-1", "txn-1", "SUCCESS").to_string();
    for missing in [
        "x-tikivip-timestamp",
        "x-tikivip-client-id",
        "x-tikivip-signature",
    ] {
        let headers = sign(SECRET, SystemTime::now(), body.as_bytes())
            .into_iter()
            .filter(|(name, _)| name != missing)
            .collect();
        let (status, answer) = h.send(Method::POST, "/payment/ipn", &body, headers).await;
        assert_unauthorized(status, &answer, missing);
    }
    let (status, answer) = h.send(Method::POST, "/webview", "{}", Vec::new()).await;
    assert_unauthorized(status, &answer, "missing header");

    assert_eq!(h.sim.handle().rejected_count(TikiRoute::Ipn), 3);
    assert_eq!(h.sim.handle().rejected_count(TikiRoute::Webview), 1);
}

#[tokio::test]
async fn a_stale_signature_is_rejected() {
    let h = Harness::start().await;
    let body = ipn_body("tiki-1", "txn-1", "SUCCESS").to_string();
    let six_minutes_ago = SystemTime::now() - Duration::from_secs(6 * 60);
    let headers = sign(SECRET, six_minutes_ago, body.as_bytes());

    let (status, answer) = h.send(Method::POST, "/payment/ipn", &body, headers).await;

    assert_unauthorized(status, &answer, "more than 5 minutes old");
    assert_eq!(h.sim.handle().rejected_count(TikiRoute::Ipn), 1);
}

#[tokio::test]
async fn a_get_is_signed_over_its_path_and_query_exactly_as_sent() {
    let h = Harness::start().await;
    h.ipn(&ipn_body("Hà Nội 1", "txn-1", "SUCCESS")).await;
    let path = "/transaction?tiki_transaction_id=H%C3%A0%20N%E1%BB%99i%201";

    let (status, report) = h.get(path).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["tiki_transaction_id"], "Hà Nội 1");

    let headers = sign(
        SECRET,
        SystemTime::now(),
        b"/transaction?tiki_transaction_id=other",
    );
    let (status, answer) = h.send(Method::GET, path, "", headers).await;
    assert_unauthorized(status, &answer, "signature does not match");
    assert_eq!(h.sim.handle().rejected_count(TikiRoute::Status), 1);
}

#[tokio::test]
async fn the_status_api_answers_from_the_last_ipn_seen() {
    let h = Harness::start().await;
    h.ipn(&ipn_body("tiki-1", "txn-1", "PENDING")).await;
    let (_, report) = h.status_of("tiki-1").await;
    assert_eq!(report["status"], "PENDING", "{report}");

    h.ipn(&ipn_body("tiki-1", "txn-1", "SUCCESS")).await;
    let (status, report) = h.status_of("tiki-1").await;
    assert_eq!(status, 200);
    assert_eq!(
        report,
        json!({
            "code": 0,
            "message": "success",
            "tiki_transaction_id": "tiki-1",
            "partner_transaction_id": "txn-1",
            "status": "SUCCESS",
            "amount": 150000,
        })
    );
}

#[tokio::test]
async fn the_status_api_answers_code_3_for_a_transaction_never_seen() {
    let h = Harness::start().await;
    let (status, report) = h.status_of("never-seen").await;
    assert_eq!(status, 200);
    assert_eq!(report["code"], 3, "{report}");

    let (status, report) = h.get("/transaction").await;
    assert_eq!(
        (status, &report["code"]),
        (StatusCode::OK, &json!(1)),
        "{report}"
    );
}

#[tokio::test]
async fn sim_status_overrides_what_the_status_api_reports() {
    let h = Harness::start().await;
    h.ipn(&ipn_body("tiki-1", "txn-1", "SUCCESS")).await;

    let force = |status: &str| json!({"tiki_transaction_id": "tiki-1", "status": status});
    let (status, _) = h.control("/_sim/status", force("FAILURE")).await;
    assert_eq!(status, 200);
    let (_, report) = h.status_of("tiki-1").await;
    assert_eq!(
        (
            &report["status"],
            &report["partner_transaction_id"],
            &report["amount"]
        ),
        (&json!("FAILURE"), &json!("txn-1"), &json!(150000)),
        "{report}"
    );

    h.ipn(&ipn_body("tiki-1", "txn-1", "SUCCESS")).await;
    let (_, report) = h.status_of("tiki-1").await;
    assert_eq!(
        report["status"], "FAILURE",
        "a forced status outlasts later IPNs"
    );

    h.control("/_sim/status", force("NOT_FOUND")).await;
    let (_, report) = h.status_of("tiki-1").await;
    assert_eq!(report["code"], 3, "{report}");

    h.control(
        "/_sim/status",
        json!({"tiki_transaction_id": "unseen", "status": "PENDING"}),
    )
    .await;
    let (_, report) = h.status_of("unseen").await;
    assert_eq!(
        (&report["code"], &report["status"]),
        (&json!(0), &json!("PENDING"))
    );
    assert_eq!(report["partner_transaction_id"], Value::Null);
}

#[tokio::test]
async fn sim_fail_503_then_500_fails_exactly_the_next_two_calls() {
    let h = Harness::start().await;
    for http_status in [503, 500] {
        let (status, _) = h
            .control(
                "/_sim/fail",
                json!({"route": "ipn", "count": 1, "http_status": http_status}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let body = ipn_body("tiki-1", "txn-1", "SUCCESS");

    let (first, answer) = h.ipn(&body).await;
    assert_eq!(
        (first, &answer["code"]),
        (StatusCode::SERVICE_UNAVAILABLE, &json!(2))
    );
    let (second, _) = h.ipn(&body).await;
    assert_eq!(second, 500);
    let (_, report) = h.status_of("tiki-1").await;
    assert_eq!(
        report["status"], "PENDING",
        "failed IPNs were never handled"
    );

    let (third, answer) = h.ipn(&body).await;
    assert_eq!((third, &answer["code"]), (StatusCode::OK, &json!(0)));
    let (_, report) = h.status_of("tiki-1").await;
    assert_eq!(report["status"], "SUCCESS");

    let answered: Vec<_> = h
        .sim
        .handle()
        .ipns_for("txn-1")
        .iter()
        .map(|ipn| (ipn.attempt, ipn.answer.http_status))
        .collect();
    assert_eq!(answered, [(1, 503), (2, 500), (3, 200)]);
}

#[tokio::test]
async fn sim_fail_with_code_5_answers_200_with_code_5() {
    let h = Harness::start().await;
    h.control("/_sim/fail", json!({"route": "ipn", "count": 1, "code": 5}))
        .await;

    let (status, answer) = h.ipn(&ipn_body("tiki-1", "txn-1", "SUCCESS")).await;

    assert_eq!(status, 200);
    assert_eq!(answer["code"], 5, "{answer}");
    let (_, report) = h.status_of("tiki-1").await;
    assert_eq!(report["status"], "PENDING", "a refused IPN changes nothing");
}

#[tokio::test]
async fn sim_fail_with_a_delay_holds_the_answer_back() {
    let h = Harness::start().await;
    h.control(
        "/_sim/fail",
        json!({"route": "ipn", "count": 1, "delay_ms": 300}),
    )
    .await;
    let body = ipn_body("tiki-1", "txn-1", "SUCCESS");

    let started = Instant::now();
    let (status, answer) = h.ipn(&body).await;
    let waited = started.elapsed();

    assert!(
        waited >= Duration::from_millis(300),
        "answered after {waited:?}"
    );
    assert_eq!((status, &answer["code"]), (StatusCode::OK, &json!(0)));
    h.ipn(&body).await;
    let delays: Vec<_> = h
        .sim
        .handle()
        .ipns()
        .iter()
        .map(|ipn| ipn.answer.delay_ms)
        .collect();
    assert_eq!(delays, [300, 0], "only the next call is delayed");
}

#[tokio::test]
async fn a_queued_failure_applies_to_its_route_only_and_any_to_every_route() {
    let h = Harness::start().await;
    h.control(
        "/_sim/fail",
        json!({"route": "status", "count": 1, "http_status": 503}),
    )
    .await;
    h.control("/_sim/fail", json!({"route": "any", "count": 1, "code": 2}))
        .await;

    // The IPN skips the status failure and takes the `any` one.
    let (status, answer) = h.ipn(&ipn_body("tiki-1", "txn-1", "SUCCESS")).await;
    assert_eq!((status, &answer["code"]), (StatusCode::OK, &json!(2)));
    let (status, _) = h.status_of("tiki-1").await;
    assert_eq!(status, 503);
    let (status, report) = h.status_of("tiki-1").await;
    assert_eq!(
        (status, &report["status"]),
        (StatusCode::OK, &json!("PENDING"))
    );
}

#[tokio::test]
async fn the_handle_steers_the_simulator_in_process() {
    let h = Harness::start().await;
    let handle = h.sim.handle();
    handle.fail(
        FaultRoute::Ipn,
        2,
        Fault::http_status(StatusCode::BAD_GATEWAY),
    );
    handle.fail(FaultRoute::Ipn, 1, Fault::code(ResultCode::Cancelled));
    handle.force_status("tiki-1", ForcedStatus::Failure);

    let body = ipn_body("tiki-1", "txn-1", "SUCCESS");
    let mut answers = Vec::new();
    for _ in 0..4 {
        let (status, answer) = h.ipn(&body).await;
        answers.push((status.as_u16(), answer["code"].clone()));
    }
    assert_eq!(
        answers,
        [
            (502, json!(2)),
            (502, json!(2)),
            (200, json!(6)),
            (200, json!(0))
        ]
    );
    let (_, report) = h.status_of("tiki-1").await;
    assert_eq!(report["status"], "FAILURE");
}

#[tokio::test]
async fn the_webview_api_answers_with_urls_on_the_simulators_base() {
    let h = Harness::start().await;
    let (status, answer) = h
        .post(
            "/webview",
            r#"{"identify_code":"u-1","identify_phone":"0901234567","identify_fullname":"Nguyễn Văn A"}"#,
        )
        .await;

    assert_eq!(
        (status, &answer["code"]),
        (StatusCode::OK, &json!(0)),
        "{answer}"
    );
    let data = &answer["data"];
    let request_id = data["request_id"].as_str().expect("a request_id");
    assert!(!request_id.is_empty());
    for url in ["url_open", "url_checkout_result"] {
        let url = data[url].as_str().expect("a URL");
        assert!(url.starts_with(h.sim.base_url()), "{url}");
        assert!(url.contains(request_id), "{url}");
    }

    let (status, answer) = h.post("/webview", r#"{"identify_code":"u-1"}"#).await;
    assert_eq!(
        (status, &answer["code"]),
        (StatusCode::OK, &json!(1)),
        "{answer}"
    );
}

#[tokio::test]
async fn sim_ipns_filters_by_transaction_id() {
    let h = Harness::start().await;
    h.ipn(&ipn_body("tiki-1", "txn-1", "SUCCESS")).await;
    h.ipn(&ipn_body("tiki-2", "txn-2", "FAILURE")).await;

    let recorded = h.recorded("?transaction_id=txn-2").await;

    let ipns = recorded["ipns"].as_array().expect("a list");
    assert_eq!(ipns.len(), 1);
    assert_eq!(ipns[0]["body"]["status"], "FAILURE");
}

#[tokio::test]
async fn reset_forgets_everything() {
    let h = Harness::start().await;
    h.ipn(&ipn_body("tiki-1", "txn-1", "SUCCESS")).await;
    h.send(Method::POST, "/payment/ipn", "{}", Vec::new()).await;
    h.control(
        "/_sim/status",
        json!({"tiki_transaction_id": "tiki-2", "status": "FAILURE"}),
    )
    .await;
    h.control(
        "/_sim/fail",
        json!({"route": "any", "count": 5, "http_status": 500}),
    )
    .await;

    let (status, _) = h.control("/_sim/reset", json!({})).await;
    assert_eq!(status, 200);

    let recorded = h.recorded("").await;
    assert_eq!(recorded["ipns"], json!([]));
    assert_eq!(
        recorded["rejected_counts"],
        json!({"ipn": 0, "status": 0, "webview": 0, "order": 0})
    );
    assert_eq!(h.status_of("tiki-1").await.1["code"], 3);
    assert_eq!(h.status_of("tiki-2").await.1["code"], 3);
    let (status, _) = h.ipn(&ipn_body("tiki-1", "txn-1", "SUCCESS")).await;
    assert_eq!(status, 200, "queued failures are gone");
    assert_eq!(h.sim.handle().ipns()[0].attempt, 1);
}

#[tokio::test]
async fn bad_input_gets_a_json_envelope_never_a_panic() {
    let h = Harness::start().await;

    // Signed but unreadable IPNs: Tiki's business refusal, and still recorded.
    let mut fractional = ipn_body("tiki-1", "txn-1", "SUCCESS");
    fractional["transaction_amount"] = json!(1.5);
    let mut unknown_status = ipn_body("tiki-1", "txn-1", "SUCCESS");
    unknown_status["status"] = json!("DONE");
    for (body, code) in [
        ("{".to_owned(), 1),
        ("[1]".to_owned(), 1),
        (fractional.to_string(), 5),
        (unknown_status.to_string(), 1),
        (json!({"transaction_id": "txn-1"}).to_string(), 1),
    ] {
        let (status, answer) = h.post("/payment/ipn", &body).await;
        assert_eq!(
            (status, &answer["code"]),
            (StatusCode::OK, &json!(code)),
            "{body}"
        );
        assert!(answer["message"].is_string(), "{answer}");
    }
    assert_eq!(h.sim.handle().ipns()[0].body, json!("{"));

    // The control API refuses with 400.
    for body in [
        "{".to_owned(),
        json!({"route": "ipn", "count": 0, "http_status": 503}).to_string(),
        json!({"route": "ipn", "count": 1, "http_status": 200}).to_string(),
        json!({"route": "ipn", "count": 1, "code": 0}).to_string(),
        json!({"route": "ipn", "count": 1, "code": 9}).to_string(),
        json!({"route": "ipn", "count": 1}).to_string(),
        json!({"route": "ipn", "count": 1, "http_status": 503, "code": 2}).to_string(),
        json!({"route": "ipn", "count": 1, "http_staus": 503}).to_string(),
        json!({"route": "nowhere", "count": 1, "code": 2}).to_string(),
    ] {
        let (status, answer) = h.send(Method::POST, "/_sim/fail", &body, Vec::new()).await;
        assert_eq!(
            (status, &answer["code"]),
            (StatusCode::BAD_REQUEST, &json!(1)),
            "{body}"
        );
    }
    let (status, _) = h.control("/_sim/status", json!({"status": "LOST"})).await;
    assert_eq!(status, 400);

    let (status, answer) = h.send(Method::GET, "/nowhere", "", Vec::new()).await;
    assert_eq!(
        (status, &answer["code"]),
        (StatusCode::NOT_FOUND, &json!(1))
    );

    let (status, _) = h.ipn(&ipn_body("tiki-1", "txn-1", "SUCCESS")).await;
    assert_eq!(status, 200, "the simulator still serves");
}

#[tokio::test]
async fn stop_closes_the_port() {
    let h = Harness::start().await;
    let base_url = h.sim.base_url().to_owned();
    h.sim.stop().await;

    let refused = h.http.get(format!("{base_url}/_sim/ipns")).send().await;
    assert!(refused.is_err(), "{refused:?}");
}
