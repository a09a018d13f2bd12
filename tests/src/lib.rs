//! The test harness: each test gets its own table in the emulator and the real
//! handlers over it, and talks to them with signed requests as Tiki would.
//! [`stack`] runs the whole system, as `make dev` does, for the IPN flow.

pub mod browser;
pub mod emulator;
pub mod openapi;
pub mod reconciliation;
pub mod stack;
pub mod tiniapp;

use std::time::{Duration, SystemTime};

use create_transaction::{CreateTransaction, PaymentUrlTemplate};
use get_transaction::GetTransaction;
use http::{Method, Request, StatusCode};
use lambda_http::Body;
use refund::Refund;
use serde_json::Value;
use tikivip_api::Handler;
use tikivip_domain::{EventId, PaymentOutcome, PaymentResult, Timestamp, TransactionId, Vnd};
use tikivip_signing::{ClientKey, HeaderFamily, Secret, Signer, Verifier};
use tikivip_store::Store;

pub const TIKI_CLIENT_ID: &str = "test-tiki-client";
pub const TIKI_SECRET: &str = "test-tiki-secret";
pub const PAYMENT_URL_TEMPLATE: &str = "https://pay.partner.test/checkout/{transaction_id}";

/// A DynamoDB client for the emulator `make test` starts. Refuses to run
/// against anything but loopback, so a test can never touch a real account.
pub async fn emulator_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&emulator_config().await)
}

/// The AWS configuration of every client of the emulator: its endpoint (only
/// loopback), its region, test credentials.
pub async fn emulator_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(emulator_endpoint())
        .region(aws_config::Region::new("ap-southeast-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
        .load()
        .await
}

/// The emulator `make test` starts, from `AWS_ENDPOINT_URL`. Refuses anything
/// but loopback, so a test can never touch a real account.
pub fn emulator_endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost"),
        "AWS_ENDPOINT_URL must point at the local emulator (run the suite with `make test`), got {endpoint:?}"
    );
    endpoint
}

/// A fresh table of its own for one test.
pub async fn fresh_store() -> Store {
    let table = format!("it-{}", uuid::Uuid::now_v7().simple());
    let store = Store::new(emulator_client().await, table);
    store.create_table().await.expect("create the test table");
    store
}

pub fn tiki_signer() -> Signer {
    Signer::new(
        HeaderFamily::Tikivip,
        TIKI_CLIENT_ID,
        Secret::new(TIKI_SECRET),
    )
}

fn tiki_verifier() -> Verifier {
    Verifier::new(
        HeaderFamily::Tikivip,
        vec![ClientKey {
            client_id: TIKI_CLIENT_ID.into(),
            secret: Secret::new(TIKI_SECRET),
        }],
    )
}

/// An answer: its HTTP status and its JSON envelope.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> i64 {
        self.body["code"]
            .as_i64()
            .expect("every answer carries a code")
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// Asserts success and returns the data.
    pub fn ok(&self) -> &Value {
        assert_eq!(
            (self.status, self.code()),
            (StatusCode::OK, 0),
            "expected success: {:?}",
            self.body
        );
        self.data()
    }
}

/// The three Tiki-facing handlers over one fresh table.
pub struct TikiApi {
    pub store: Store,
    create: CreateTransaction,
    get: GetTransaction,
    refund: Refund,
}

impl TikiApi {
    pub async fn new() -> Self {
        let store = fresh_store().await;
        let payment_urls = PaymentUrlTemplate::new(PAYMENT_URL_TEMPLATE).unwrap();
        TikiApi {
            create: CreateTransaction::new(tiki_verifier(), store.clone(), payment_urls),
            get: GetTransaction::new(tiki_verifier(), store.clone()),
            refund: Refund::new(tiki_verifier(), store.clone()),
            store,
        }
    }

    /// Sends a request as is, to the handler its route names.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        let response = match (request.method().clone(), path.as_str()) {
            (Method::POST, "/v1/transactions") => self.create.handle(request).await,
            (Method::POST, "/v1/refunds") => self.refund.handle(request).await,
            (Method::GET, p) if p.starts_with("/v1/transactions") => self.get.handle(request).await,
            (method, p) => panic!("no route for {method} {p}"),
        };
        let status = response.status();
        let content_type = response.headers().get("content-type").cloned();
        assert_eq!(
            content_type.as_ref().map(|v| v.to_str().unwrap()),
            Some("application/json")
        );
        let body: Value = serde_json::from_slice(response.body().as_ref())
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {:?}", response.body()));
        openapi::check_answer(method.as_str(), &path, status.as_u16(), &body);
        Reply { status, body }
    }

    /// POSTs `body` byte for byte, signed by Tiki now.
    pub async fn post(&self, path: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.send(signed(Method::POST, path, body.into(), SystemTime::now()))
            .await
    }

    /// GETs `path_and_query` as written, signed by Tiki now.
    pub async fn get(&self, path_and_query: &str) -> Reply {
        self.send(signed(
            Method::GET,
            path_and_query,
            Vec::new(),
            SystemTime::now(),
        ))
        .await
    }

    pub async fn create(&self, tiki_id: &str, amount: u64) -> Reply {
        let body =
            serde_json::json!({"tiki_transaction_id": tiki_id, "transaction_amount": amount});
        self.post("/v1/transactions", body.to_string()).await
    }

    /// Creates a transaction and returns its id.
    pub async fn created(&self, tiki_id: &str, amount: u64) -> String {
        self.create(tiki_id, amount).await.ok()["transaction_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A transaction the user has paid: created, then settled SUCCESS through
    /// the store's own transition.
    pub async fn paid(&self, tiki_id: &str, amount: u64) -> String {
        let id = self.created(tiki_id, amount).await;
        self.settle(&id, PaymentOutcome::Success, amount).await;
        id
    }

    pub async fn settle(&self, id: &str, outcome: PaymentOutcome, amount: u64) {
        let result = PaymentResult {
            transaction_id: TransactionId::parse(id).unwrap(),
            outcome,
            amount: Vnd::new(amount).unwrap(),
            partner_banking_method: None,
            event_id: EventId::parse(format!("ev-{id}")).unwrap(),
            occurred_at: Timestamp::now_utc(),
        };
        self.store
            .settle(&result, Timestamp::now_utc())
            .await
            .expect("settle");
    }

    pub async fn refund(&self, txn: &Value, amount: u64, request_id: &str) -> Reply {
        self.post(
            "/v1/refunds",
            refund_body(txn, amount, request_id, "customer asked"),
        )
        .await
    }

    pub async fn lookup(&self, id: &str) -> Reply {
        self.get(&format!("/v1/transactions/{id}")).await
    }
}

/// A refund body for the transaction `txn` (a look-up's or create's data).
pub fn refund_body(txn: &Value, amount: u64, request_id: &str, reason: &str) -> String {
    serde_json::json!({
        "tiki_transaction_id": txn["tiki_transaction_id"],
        "transaction_amount": amount,
        "transaction_id": txn["transaction_id"],
        "reason": reason,
        "request_id": request_id,
    })
    .to_string()
}

/// A request signed by Tiki at `at`.
pub fn signed(
    method: Method,
    path_and_query: &str,
    body: Vec<u8>,
    at: SystemTime,
) -> Request<Body> {
    signed_by(&tiki_signer(), method, path_and_query, body, at)
}

pub fn signed_by(
    signer: &Signer,
    method: Method,
    path_and_query: &str,
    body: Vec<u8>,
    at: SystemTime,
) -> Request<Body> {
    let mut request = unsigned(method, path_and_query, body);
    let uri = request.uri().clone();
    let part =
        tikivip_signing::signed_part(request.method(), &uri, request.body().as_ref()).to_vec();
    request.headers_mut().extend(signer.headers(at, &part));
    request
}

pub fn unsigned(method: Method, path_and_query: &str, body: Vec<u8>) -> Request<Body> {
    let body = if body.is_empty() {
        Body::Empty
    } else {
        Body::Binary(body)
    };
    Request::builder()
        .method(method)
        .uri(path_and_query)
        .header("content-type", "application/json")
        .body(body)
        .unwrap()
}

pub fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

/// A unique Tiki id for a test.
pub fn tiki_id() -> String {
    format!("tiki-{}", uuid::Uuid::now_v7().simple())
}

/// How many items the store's table holds: proves that a refusal wrote nothing.
pub async fn item_count(store: &Store) -> usize {
    let output = emulator_client()
        .await
        .scan()
        .table_name(store.table())
        .consistent_read(true)
        .send()
        .await
        .expect("scan the test table");
    output.items().len()
}
