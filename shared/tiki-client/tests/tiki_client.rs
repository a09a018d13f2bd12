//! The client against the Tiki simulator over real HTTP, started in-process on
//! a free port. The simulator verifies every signature, so a signing bug shows
//! as a 401 and a rejected call, never as a pass.

use std::time::{Duration, Instant};

use http::StatusCode;
use serde_json::json;
use tiki_simulator::{Fault, FaultRoute, ForcedStatus, Simulator, SimulatorConfig, TikiRoute};
use tikivip_domain::wire::Text;
use tikivip_domain::{Ipn, ResultCode, TikiTransactionId, TransactionId, TransactionStatus, Vnd};
use tikivip_signing::Secret;
use tikivip_tiki_client::{Error, IpnAnswer, TikiClient, TikiEnvironment, TikiStatus};

const CLIENT_ID: &str = "partner-client";
const SECRET: &str = "partner-secret";
const TIMEOUT: Duration = Duration::from_secs(5);

async fn simulator() -> Simulator {
    Simulator::start_local(SimulatorConfig::new(CLIENT_ID, SECRET))
        .await
        .expect("the simulator starts")
}

fn client_of(base_url: &str, secret: &str, timeout: Duration) -> TikiClient {
    let environment = TikiEnvironment::local(base_url).expect("a loopback URL");
    TikiClient::new(environment, CLIENT_ID, Secret::new(secret), timeout).expect("a client")
}

fn client(sim: &Simulator) -> TikiClient {
    client_of(sim.base_url(), SECRET, TIMEOUT)
}

fn ipn(tiki_id: &str, status: TransactionStatus) -> Ipn {
    Ipn {
        reference_transaction_id: TikiTransactionId::parse(tiki_id).unwrap(),
        transaction_amount: Vnd::new(99_000).unwrap(),
        transaction_id: TransactionId::parse(format!("T-{tiki_id}")).unwrap(),
        status,
        partner_banking_method: Some(Text::new("ATM").unwrap()),
    }
}

fn tiki_id(id: &str) -> TikiTransactionId {
    TikiTransactionId::parse(id).unwrap()
}

#[tokio::test]
async fn an_ipn_is_delivered_once_correctly_signed_with_the_exact_body_fields() {
    let sim = simulator().await;
    let answer = client(&sim)
        .send_ipn(&ipn("tiki-1", TransactionStatus::Success))
        .await;

    assert_eq!(answer, Ok(IpnAnswer::Accepted));
    let received = sim.handle().ipns();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].body,
        json!({
            "reference_transaction_id": "tiki-1",
            "transaction_amount": 99000,
            "transaction_id": "T-tiki-1",
            "status": "SUCCESS",
            "partner_banking_method": "ATM",
        })
    );
    assert_eq!(received[0].answer.http_status, 200);
    assert_eq!(sim.handle().rejected_count(TikiRoute::Ipn), 0);
}

#[tokio::test]
async fn a_wrong_secret_gets_401_and_the_simulator_counts_the_rejected_calls() {
    let sim = simulator().await;
    let impostor = client_of(sim.base_url(), "not-the-secret", TIMEOUT);

    let ipn_answer = impostor
        .send_ipn(&ipn("tiki-1", TransactionStatus::Success))
        .await;
    let status_answer = impostor.transaction_status(&tiki_id("tiki-1")).await;

    assert!(
        matches!(ipn_answer, Err(Error::HttpStatus(401, _))),
        "{ipn_answer:?}"
    );
    assert!(
        matches!(status_answer, Err(Error::HttpStatus(401, _))),
        "{status_answer:?}"
    );
    assert_eq!(sim.handle().rejected_count(TikiRoute::Ipn), 1);
    assert_eq!(sim.handle().rejected_count(TikiRoute::Status), 1);
    assert!(sim.handle().ipns().is_empty());
}

#[tokio::test]
async fn http_503_is_an_http_status_error_quoting_the_body() {
    let sim = simulator().await;
    sim.handle().fail(
        FaultRoute::Ipn,
        1,
        Fault::http_status(StatusCode::SERVICE_UNAVAILABLE),
    );

    let answer = client(&sim)
        .send_ipn(&ipn("tiki-1", TransactionStatus::Success))
        .await;

    match answer {
        Err(Error::HttpStatus(503, body)) => assert!(body.contains("simulated HTTP 503"), "{body}"),
        other => panic!("expected HTTP 503, got {other:?}"),
    }
}

#[tokio::test]
async fn code_5_is_refused_as_an_invalid_amount() {
    let sim = simulator().await;
    sim.handle()
        .fail(FaultRoute::Ipn, 1, Fault::code(ResultCode::InvalidAmount));

    let answer = client(&sim)
        .send_ipn(&ipn("tiki-1", TransactionStatus::Success))
        .await;

    assert!(
        matches!(answer, Ok(IpnAnswer::Refused(ResultCode::InvalidAmount, _))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn code_2_is_a_system_error() {
    let sim = simulator().await;
    sim.handle()
        .fail(FaultRoute::Ipn, 1, Fault::code(ResultCode::SystemError));

    let answer = client(&sim)
        .send_ipn(&ipn("tiki-1", TransactionStatus::Success))
        .await;

    assert!(
        matches!(answer, Ok(IpnAnswer::SystemError(_))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn an_answer_later_than_the_timeout_is_a_timeout() {
    let sim = simulator().await;
    sim.handle()
        .fail(FaultRoute::Ipn, 1, Fault::delay(Duration::from_secs(1)));
    let impatient = client_of(sim.base_url(), SECRET, Duration::from_millis(200));

    let started = Instant::now();
    let answer = impatient
        .send_ipn(&ipn("tiki-1", TransactionStatus::Success))
        .await;

    assert_eq!(answer, Err(Error::Timeout));
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_port_nobody_listens_on_is_a_connect_error() {
    // A port just freed is one nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let nowhere = client_of(&format!("http://127.0.0.1:{port}"), SECRET, TIMEOUT);

    let answer = nowhere
        .send_ipn(&ipn("tiki-1", TransactionStatus::Success))
        .await;

    assert!(matches!(answer, Err(Error::Connect(_))), "{answer:?}");
}

#[tokio::test]
async fn the_status_api_reports_a_delivered_ipn_as_found_success_with_the_amount() {
    let sim = simulator().await;
    let tiki = client(&sim);
    let delivered = tiki
        .send_ipn(&ipn("tiki-1", TransactionStatus::Success))
        .await;
    assert_eq!(delivered, Ok(IpnAnswer::Accepted));

    let status = tiki.transaction_status(&tiki_id("tiki-1")).await;

    assert_eq!(
        status,
        Ok(TikiStatus::Found {
            status: TransactionStatus::Success,
            amount: Some(Vnd::new(99_000).unwrap()),
            partner_transaction_id: Some("T-tiki-1".into()),
        })
    );
}

#[tokio::test]
async fn an_unknown_id_is_not_found() {
    let sim = simulator().await;

    let status = client(&sim)
        .transaction_status(&tiki_id("never-seen"))
        .await;

    assert_eq!(status, Ok(TikiStatus::NotFound));
}

#[tokio::test]
async fn a_forced_failure_is_found_failure() {
    let sim = simulator().await;
    sim.handle().force_status("tiki-1", ForcedStatus::Failure);

    let status = client(&sim).transaction_status(&tiki_id("tiki-1")).await;

    assert!(
        matches!(
            status,
            Ok(TikiStatus::Found {
                status: TransactionStatus::Failure,
                ..
            })
        ),
        "{status:?}"
    );
}

#[tokio::test]
async fn an_id_needing_percent_encoding_round_trips_through_the_status_api() {
    // Tiki ids are visible ASCII (the domain refuses spaces and accents); these
    // characters all mean something in a query and must be encoded, and the
    // simulator checks the signature over the encoded query it receives.
    let awkward = "a+b/c&d=e%f?g#h";
    let sim = simulator().await;
    let tiki = client(&sim);
    let delivered = tiki
        .send_ipn(&ipn(awkward, TransactionStatus::Success))
        .await;
    assert_eq!(delivered, Ok(IpnAnswer::Accepted));

    let status = tiki.transaction_status(&tiki_id(awkward)).await;

    assert!(
        matches!(
            &status,
            Ok(TikiStatus::Found { status: TransactionStatus::Success, partner_transaction_id: Some(id), .. })
                if id == &format!("T-{awkward}")
        ),
        "{status:?}"
    );
    assert_eq!(sim.handle().rejected_count(TikiRoute::Status), 0);
}

#[tokio::test]
async fn the_webview_api_returns_the_urls() {
    let sim = simulator().await;
    let tiki = client(&sim);

    let named = tiki
        .webview("user-1", "0901234567", Some("Nguyễn Văn A"))
        .await
        .expect("a webview");
    let unnamed = tiki.webview("user-2", "0907654321", None).await;

    assert!(named.url_open.starts_with(sim.base_url()), "{named:?}");
    assert!(
        named.url_checkout_result.starts_with(sim.base_url()),
        "{named:?}"
    );
    assert!(!named.request_id.is_empty());
    assert!(unnamed.is_ok(), "{unnamed:?}");
}

#[tokio::test]
async fn a_webview_refusal_is_an_error_with_the_code() {
    let sim = simulator().await;

    let answer = client(&sim).webview("", "0901234567", None).await;

    assert!(
        matches!(answer, Err(Error::Code(ResultCode::InvalidRequest, _))),
        "{answer:?}"
    );
}

mod environment {
    use super::*;

    const PRODUCTION: &str = "https://api.tiki.vn/miniapp/tikivip/";
    const SANDBOX: &str = "https://api.tala.xyz/miniapp/tikivip/";

    fn parse(environment: Option<&str>, base_url: Option<&str>) -> Result<TikiEnvironment, Error> {
        TikiEnvironment::from_settings(environment, base_url)
    }

    fn refused(environment: Option<&str>, base_url: Option<&str>) -> bool {
        matches!(parse(environment, base_url), Err(Error::Config(_)))
    }

    #[test]
    fn production_and_sandbox_have_tikis_official_bases() {
        assert_eq!(
            parse(Some("production"), None),
            Ok(TikiEnvironment::Production)
        );
        assert_eq!(parse(Some("sandbox"), None), Ok(TikiEnvironment::Sandbox));
        assert_eq!(TikiEnvironment::Production.base_url(), PRODUCTION);
        assert_eq!(TikiEnvironment::Sandbox.base_url(), SANDBOX);
    }

    #[test]
    fn an_official_environment_takes_only_its_own_base_url() {
        assert_eq!(
            parse(Some("production"), Some(PRODUCTION)),
            Ok(TikiEnvironment::Production)
        );
        assert_eq!(
            parse(
                Some("sandbox"),
                Some("https://api.tala.xyz/miniapp/tikivip")
            ),
            Ok(TikiEnvironment::Sandbox)
        );
        assert!(refused(Some("production"), Some(SANDBOX)));
        assert!(refused(Some("sandbox"), Some(PRODUCTION)));
        assert!(refused(Some("production"), Some("http://127.0.0.1:9001")));
    }

    #[test]
    fn local_requires_a_loopback_http_base_url() {
        for url in [
            "http://127.0.0.1:9001",
            "http://127.0.0.2:9001/",
            "http://localhost:9001",
            "http://[::1]:9001",
        ] {
            let local = parse(Some("local"), Some(url));
            assert!(
                matches!(local, Ok(TikiEnvironment::Local(_))),
                "{url}: {local:?}"
            );
        }
        assert!(refused(Some("local"), None));
        for url in [
            PRODUCTION,
            "http://api.tiki.vn/miniapp/tikivip/",
            "https://127.0.0.1:9001",
            "http://10.0.0.1:9001",
            "http://127.0.0.1:9001/?x=1",
            "127.0.0.1:9001",
        ] {
            assert!(refused(Some("local"), Some(url)), "{url}");
        }
    }

    #[test]
    fn a_loopback_base_url_alone_means_local() {
        let local = parse(None, Some("http://127.0.0.1:9001"));
        assert_eq!(
            local.map(|env| env.base_url().to_owned()),
            Ok("http://127.0.0.1:9001".into())
        );
        assert!(refused(None, Some(PRODUCTION)));
        assert!(refused(None, Some(SANDBOX)));
    }

    #[test]
    fn nothing_set_or_an_unknown_environment_is_refused() {
        assert!(refused(None, None));
        for unknown in ["Production", "prod", "uat", "staging"] {
            assert!(refused(Some(unknown), None), "{unknown}");
        }
    }
}
