//! The whole system as `make dev` runs it — table, queues, handlers behind the
//! local API, dispatcher, sweeper and Tiki simulator — on fresh resources for
//! one test, reached over real HTTP.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use tiki_simulator::{ReceivedIpn, SimulatorHandle};
use tikivip_domain::{IpnJob, TransactionId};
use tikivip_signing::{HeaderFamily, Secret, Signer};
use tikivip_tools::dev_defaults::Credentials;
use tikivip_tools::local_api;
use tikivip_tools::stack::{Stack, StackConfig, Tiki};

use crate::{Reply, TIKI_CLIENT_ID, TIKI_SECRET, emulator_endpoint, tiki_signer};

pub const PARTNER_CLIENT_ID: &str = "test-payment-core";
pub const PARTNER_SECRET: &str = "test-payment-core-secret";
pub const TINIAPP_CLIENT_ID: &str = "test-tiniapp-client";
pub const TINIAPP_SECRET: &str = "test-tiniapp-secret";

pub fn partner_signer() -> Signer {
    Signer::new(
        HeaderFamily::Partner,
        PARTNER_CLIENT_ID,
        Secret::new(PARTNER_SECRET),
    )
}

/// A running stack and the base URL of its API.
pub struct Running {
    pub stack: Stack,
    pub api: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Running {
    /// A stack whose dispatcher retries after `retry_delays` (seconds, e.g.
    /// `"1,1,1"`), with the sweeper's grace period at zero.
    pub async fn start(retry_delays: &str) -> Running {
        Running::start_with(retry_delays, "", tikivip_queue::MAX_HIDE).await
    }

    /// [`Running::start`] behind a custom domain's base path: `api` then ends
    /// with it, and the signed paths do not hold it (as Tiki signs them).
    pub async fn start_at(retry_delays: &str, base_path: &str) -> Running {
        Running::start_with(retry_delays, base_path, tikivip_queue::MAX_HIDE).await
    }

    /// As [`Running::start`], the dispatcher hiding a message for at most
    /// `max_hide` per receive (SQS's 12 h window, scaled down).
    pub async fn start_hiding(retry_delays: &str, max_hide: Duration) -> Running {
        Running::start_with(retry_delays, "", max_hide).await
    }

    async fn start_with(retry_delays: &str, base_path: &str, max_hide: Duration) -> Running {
        let unique = uuid::Uuid::now_v7().simple().to_string();
        let credentials = |family, id: &str, secret: &str| {
            Credentials::resolve(family, Some(id.into()), Some(secret.into()))
        };
        let config = StackConfig {
            aws_endpoint_url: emulator_endpoint(),
            aws_region: "ap-southeast-1".into(),
            table_name: format!("it-{unique}"),
            queue_name: format!("it-{unique}"),
            tikivip: credentials(HeaderFamily::Tikivip, TIKI_CLIENT_ID, TIKI_SECRET),
            partner: credentials(HeaderFamily::Partner, PARTNER_CLIENT_ID, PARTNER_SECRET),
            tiniapp: credentials(HeaderFamily::Tiniapp, TINIAPP_CLIENT_ID, TINIAPP_SECRET),
            tiki: Tiki::Simulator { port: 0 },
            retry_schedule: tikivip_domain::RetrySchedule::parse(retry_delays).unwrap(),
            outbox_grace: Duration::ZERO,
            tiki_timeout: Duration::from_secs(2),
            max_hide,
        };
        let stack = Stack::start(config).await.expect("start the stack");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = format!("http://{}{base_path}", listener.local_addr().unwrap());
        let routes = stack.routes(&api).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let base_path = tikivip_api::BasePath::parse(base_path).unwrap();
        tokio::spawn(local_api::serve_at(listener, routes, base_path, async {
            let _ = stopped.await;
        }));
        Running {
            stack,
            api,
            http: reqwest::Client::new(),
            _stop: stop,
        }
    }

    pub fn tiki(&self) -> &SimulatorHandle {
        self.stack
            .simulator
            .as_ref()
            .expect("the stack runs the simulator")
            .handle()
    }

    /// A POST over HTTP, signed by `signer` over the exact body sent.
    pub async fn post(&self, signer: &Signer, path: &str, body: &Value) -> Reply {
        let body = body.to_string();
        let mut request = self
            .http
            .post(format!("{}{path}", self.api))
            .header("content-type", "application/json");
        for (name, value) in signer.headers(SystemTime::now(), body.as_bytes()) {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await.expect("the API answers");
        let status = http::StatusCode::from_u16(response.status().as_u16()).unwrap();
        let body = response.json().await.expect("a JSON envelope");
        crate::openapi::check_answer("POST", path, status.as_u16(), &body);
        Reply { status, body }
    }

    /// A GET over HTTP of `path_and_query` exactly as written, signed by Tiki.
    pub async fn get(&self, path_and_query: &str) -> Reply {
        self.get_signed_over(path_and_query, path_and_query).await
    }

    /// A GET of `path_and_query` with the signature over `signed`.
    pub async fn get_signed_over(&self, path_and_query: &str, signed: &str) -> Reply {
        let mut request = self.http.get(format!("{}{path_and_query}", self.api));
        for (name, value) in tiki_signer().headers(SystemTime::now(), signed.as_bytes()) {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("the API answers");
        let status = http::StatusCode::from_u16(response.status().as_u16()).unwrap();
        let body = response.json().await.expect("a JSON envelope");
        crate::openapi::check_answer("GET", path_and_query, status.as_u16(), &body);
        Reply { status, body }
    }

    /// Creates a transaction as Tiki; returns its id.
    pub async fn create(&self, tiki_id: &str, amount: u64) -> String {
        let body = json!({"tiki_transaction_id": tiki_id, "transaction_amount": amount});
        let reply = self.post(&tiki_signer(), "/v1/transactions", &body).await;
        reply.ok()["transaction_id"].as_str().unwrap().to_owned()
    }

    /// Reports a payment result as the payment core.
    pub async fn pay(&self, id: &str, status: &str, amount: u64, event_id: &str) -> Reply {
        self.post(
            &partner_signer(),
            "/v1/ipn",
            &payment_result(id, status, amount, event_id),
        )
        .await
    }

    pub async fn job(&self, id: &str) -> IpnJob {
        self.stack
            .store
            .ipn_job(&TransactionId::parse(id).unwrap())
            .await
            .unwrap()
            .expect("an IPN job")
    }

    pub fn ipns(&self, id: &str) -> Vec<ReceivedIpn> {
        self.tiki().ipns_for(id)
    }

    /// Runs the dispatcher's event source until `done` holds, or panics after
    /// `within`.
    pub async fn dispatch_until(&self, within: Duration, mut done: impl AsyncCheck) {
        let deadline = Instant::now() + within;
        loop {
            if done.check(self).await {
                return;
            }
            assert!(Instant::now() < deadline, "not done within {within:?}");
            self.stack
                .dispatch_once(Duration::from_secs(1))
                .await
                .expect("receive from SQS");
        }
    }

    /// Runs the dispatcher's event source for `during`, to show that nothing
    /// more happens.
    pub async fn dispatch_for(&self, during: Duration) {
        let deadline = Instant::now() + during;
        while Instant::now() < deadline {
            self.stack
                .dispatch_once(Duration::from_secs(1))
                .await
                .expect("receive from SQS");
        }
    }
}

/// A condition checked between receives.
pub trait AsyncCheck {
    fn check(&mut self, running: &Running) -> impl std::future::Future<Output = bool>;
}

/// The IPN job of transaction `.0` is in state `.1`.
pub struct JobState<'a>(pub &'a str, pub tikivip_domain::IpnState);

impl AsyncCheck for JobState<'_> {
    async fn check(&mut self, running: &Running) -> bool {
        running.job(self.0).await.state == self.1
    }
}

pub fn payment_result(id: &str, status: &str, amount: u64, event_id: &str) -> Value {
    json!({
        "transaction_id": id,
        "status": status,
        "amount": amount,
        "partner_banking_method": "WALLET",
        "event_id": event_id,
        "occurred_at": tikivip_domain::Timestamp::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap(),
    })
}
