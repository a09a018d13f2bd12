//! The in-process path of each HTTP route, for the criterion benches: event
//! JSON → `lambda_http` request → signature → body → domain → envelope →
//! API Gateway response JSON, run through `lambda_http`'s own adapter.
//!
//! Two ways to stand in for the store call, which is I/O:
//! - [`Pure`]: the handler's steps up to and after the store call, with the
//!   domain work the store would do on what it read (a fixture transaction);
//! - [`Faked`]: the real handlers, with DynamoDB and SQS answering from a
//!   script (see [`crate::fake_aws`]): also the SDK's own CPU per call
//!   (request building, SigV4, JSON both ways).

use std::convert::Infallible;
use std::future::Future;

use create_transaction::{CreateTransaction, PaymentUrlTemplate};
use get_transaction::GetTransaction;
use ipn_receiver::{IpnReceiver, Received};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Body, Context, LambdaEvent, Request, Response, Service, service_fn};
use refund::Refund as RefundHandler;
use serde_json::json;
use tikivip_api::{Error, Failures, Handler, reply, verified_body};
use tikivip_domain::wire::{
    CreateTransactionRequest, CreatedTransaction, TransactionView, parse_json,
};
use tikivip_domain::{
    Error as Refusal, NewTransaction, PaymentResult, RefundRequest, TikiTransactionId, Timestamp,
    Transaction, TransactionId, TransactionStatus, Vnd,
};
use tikivip_queue::IpnMessage;
use time::format_description::well_known::Rfc3339;

use crate::events::{Client, HttpCall};
use crate::fake_aws::{self, Calls, answer};

/// The routes of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Create,
    GetById,
    GetByTikiId,
    Refund,
    PaymentResult,
}

impl Route {
    pub const ALL: [Route; 5] = [
        Route::Create,
        Route::GetById,
        Route::GetByTikiId,
        Route::Refund,
        Route::PaymentResult,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Route::Create => "POST /v1/transactions",
            Route::GetById => "GET /v1/transactions/{id}",
            Route::GetByTikiId => "GET /v1/transactions?tiki_transaction_id",
            Route::Refund => "POST /v1/refunds",
            Route::PaymentResult => "POST /v1/ipn",
        }
    }

    /// A short id for file names and criterion ids.
    pub fn id(self) -> &'static str {
        match self {
            Route::Create => "create",
            Route::GetById => "get_by_id",
            Route::GetByTikiId => "get_by_tiki_id",
            Route::Refund => "refund",
            Route::PaymentResult => "ipn",
        }
    }
}

/// The fixed ids and amounts of the fixtures.
pub const TXN_ID: &str = "T0193a1b2c3d4e5f60718293a4b5c6d7e";
pub const TIKI_ID: &str = "88062110977884170";
pub const AMOUNT: u64 = 10_000_000;
pub const REFUND_AMOUNT: u64 = 30_000;
pub const REQUEST_ID: &str = "bench-refund-1";
pub const CREATED_AT: &str = "2025-11-22T03:00:00Z";

/// The signed API Gateway event of one call of `route`, signed now.
pub fn event(route: Route) -> String {
    let tiki = Client::dev_tiki();
    let call = match route {
        Route::Create => HttpCall::post(
            "/v1/transactions",
            "POST /v1/transactions",
            json!({
                "tiki_transaction_id": TIKI_ID,
                "transaction_amount": AMOUNT,
                "description": "TikiVIP 12 tháng",
                "customer": {"identify_code": "u-1001", "phone": "0900000000"},
                "redirect_url": "https://tiki.vn/tikivip/result"
            })
            .to_string(),
        ),
        Route::GetById => HttpCall::get(
            &format!("/v1/transactions/{TXN_ID}"),
            "GET /v1/transactions/{transaction_id}",
        )
        .with_path_parameter("transaction_id", TXN_ID),
        Route::GetByTikiId => HttpCall::get(
            &format!("/v1/transactions?tiki_transaction_id={TIKI_ID}"),
            "GET /v1/transactions",
        ),
        Route::Refund => HttpCall::post(
            "/v1/refunds",
            "POST /v1/refunds",
            json!({
                "tiki_transaction_id": TIKI_ID,
                "transaction_amount": REFUND_AMOUNT,
                "transaction_id": TXN_ID,
                "reason": "customer asked",
                "request_id": REQUEST_ID
            })
            .to_string(),
        ),
        Route::PaymentResult => {
            let call = HttpCall::post(
                "/v1/ipn",
                "POST /v1/ipn",
                json!({
                    "transaction_id": TXN_ID,
                    "status": "SUCCESS",
                    "amount": AMOUNT,
                    "event_id": "evt-bench-1",
                    "occurred_at": Timestamp::now_utc().format(&Rfc3339).expect("formats"),
                    "partner_banking_method": "VISA"
                })
                .to_string(),
            );
            return call.signed_event(&Client::dev_partner());
        }
    };
    call.signed_event(&tiki)
}

/// Runs `handle` on `event` exactly as `lambda_http::run` does between the
/// Runtime API's `/next` and `/response`: the event deserialised, turned into
/// a request, handled, the response turned into API Gateway's and serialised.
pub async fn through_lambda_http<F, Fut>(event: &str, handle: F) -> Vec<u8>
where
    F: Fn(Request) -> Fut + Send,
    Fut: Future<Output = Response<Body>> + Send,
{
    let payload: LambdaRequest = serde_json::from_str(event).expect("an API Gateway event");
    let mut adapter = Adapter::from(service_fn(|request: Request| {
        let answer = handle(request);
        async move { Ok::<_, Infallible>(answer.await) }
    }));
    let response = adapter
        .call(LambdaEvent::new(payload, Context::default()))
        .await
        .unwrap_or_else(|never| match never {});
    serde_json::to_vec(&response).expect("a response serialises")
}

fn timestamp(rfc3339: &str) -> Timestamp {
    Timestamp::parse(rfc3339, &Rfc3339).expect("an RFC 3339 fixture")
}

/// The fixture transaction in `status`, without refunds.
pub fn transaction(status: TransactionStatus) -> Transaction {
    let created_at = timestamp(CREATED_AT);
    Transaction {
        id: TransactionId::parse(TXN_ID).expect("an id"),
        tiki_id: TikiTransactionId::parse(TIKI_ID).expect("an id"),
        amount: Vnd::new(AMOUNT).expect("an amount"),
        status,
        refunded: Vnd::ZERO,
        refunds: Vec::new(),
        partner_banking_method: None,
        description: Some(tikivip_domain::wire::Text::new("TikiVIP 12 tháng").expect("short")),
        customer: None,
        redirect_url: None,
        created_at,
        updated_at: created_at,
    }
}

/// The handlers' steps with the store call taken out.
pub struct Pure {
    tiki: tikivip_signing::Verifier,
    partner: tikivip_signing::Verifier,
    payment_urls: PaymentUrlTemplate,
    paid: Transaction,
}

impl Default for Pure {
    fn default() -> Self {
        Pure {
            tiki: Client::dev_tiki().verifier(),
            partner: Client::dev_partner().verifier(),
            payment_urls: PaymentUrlTemplate::new(
                "https://pay.partner.example/tikivip/{transaction_id}",
            )
            .expect("a template"),
            paid: transaction(TransactionStatus::Success),
        }
    }
}

impl Pure {
    pub fn handle(&self, route: Route, request: &Request) -> Response<Body> {
        match route {
            Route::Create => reply(self.create(request), Failures::Rest),
            Route::GetById | Route::GetByTikiId => reply(
                self.look_up(request).map(TransactionView::from),
                Failures::Rest,
            ),
            Route::Refund => reply(self.refund(request), Failures::Http500),
            Route::PaymentResult => reply(self.payment_result(request), Failures::Rest),
        }
    }

    /// As `CreateTransaction::create`; the store would only write `txn`.
    fn create(&self, request: &Request) -> Result<CreatedTransaction, Error> {
        let body = verified_body(&self.tiki, request)?;
        let request: CreateTransactionRequest = parse_json(body)?;
        let txn = NewTransaction {
            id: TransactionId::generate(),
            tiki_id: request.tiki_transaction_id,
            amount: request.transaction_amount,
            description: request.description,
            customer: request.customer,
            redirect_url: request.redirect_url,
            created_at: Timestamp::now_utc(),
        }
        .into_pending();
        tracing::info!(transaction_id = %txn.id, tiki_transaction_id = %txn.tiki_id, amount = %txn.amount, "transaction created");
        Ok(CreatedTransaction {
            payment_url: self.payment_urls.url_for(&txn.id),
            transaction_id: txn.id,
            tiki_transaction_id: txn.tiki_id,
            transaction_amount: txn.amount,
            status: txn.status,
            created_at: txn.created_at,
        })
    }

    /// As `GetTransaction::look_up`: which transaction, then the one read.
    fn look_up(&self, request: &Request) -> Result<Transaction, Error> {
        verified_body(&self.tiki, request)?;
        let uri = request.uri();
        match uri.path().strip_prefix("/v1/transactions") {
            Some("") | Some("/") => {
                let tiki_id = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                    .find(|(name, _)| name == "tiki_transaction_id")
                    .map(|(_, value)| value.into_owned())
                    .ok_or_else(|| Refusal::InvalidRequest("tiki_transaction_id".into()))?;
                let tiki_id = TikiTransactionId::parse(tiki_id)?;
                let found = (tiki_id == self.paid.tiki_id).then(|| self.paid.clone());
                Ok(found.ok_or(Refusal::TransactionNotFound)?)
            }
            Some(rest) => {
                let id = TransactionId::parse(rest.trim_start_matches('/'))?;
                let found = (id == self.paid.id).then(|| self.paid.clone());
                Ok(found.ok_or(Refusal::TransactionNotFound)?)
            }
            None => Err(Refusal::TransactionNotFound.into()),
        }
    }

    /// As the store's refund: check against what was read, append, answer.
    fn refund(&self, request: &Request) -> Result<tikivip_domain::RefundReceipt, Error> {
        let body = verified_body(&self.tiki, request)?;
        let request: RefundRequest = parse_json(body)?;
        let _fingerprint = request.fingerprint();
        let txn = self.paid.clone();
        txn.check_refund(&request)?;
        let receipt = txn
            .with_refund(request.refund(Timestamp::now_utc()))
            .and_then(|after| after.refund_receipt(&request.request_id))
            .ok_or(Refusal::TransactionNotFound)?;
        tracing::info!(
            transaction_id = %receipt.transaction_id,
            request_id = %receipt.request_id,
            refund_amount = %receipt.refund_amount,
            refunded_amount = %receipt.refunded_amount,
            "refund made or replayed"
        );
        Ok(receipt)
    }

    /// As `IpnReceiver::receive`: check, settle (the write's condition holds
    /// the rules), enqueue the job.
    fn payment_result(&self, request: &Request) -> Result<Received, Error> {
        let body = verified_body(&self.partner, request)?;
        let result: PaymentResult = parse_json(body)?;
        result.check_not_in_the_future(Timestamp::now_utc())?;
        let status = result.outcome.status();
        let message = serde_json::to_string(&IpnMessage {
            transaction_id: result.transaction_id.clone(),
            chain: 0,
        })
        .expect("a job serialises");
        std::hint::black_box(message);
        tracing::info!(transaction_id = %result.transaction_id, %status, event_id = %result.event_id, "transaction settled");
        Ok(Received {
            transaction_id: result.transaction_id,
            status,
            duplicate: false,
        })
    }
}

// ---------------------------------------------------------------- faked I/O

/// A transaction item as DynamoDB's JSON protocol carries it.
pub fn transaction_item(txn: &Transaction) -> serde_json::Value {
    let rfc = |t: Timestamp| t.format(&Rfc3339).expect("formats");
    let refunds: Vec<serde_json::Value> = txn
        .refunds
        .iter()
        .map(|r| {
            json!({"M": {
                "refund_id": {"S": r.refund_id.as_str()},
                "request_id": {"S": r.request_id.as_str()},
                "amount": {"N": r.amount.get().to_string()},
                "reason": {"S": r.reason.as_str()},
                "created_at": {"S": rfc(r.created_at)}
            }})
        })
        .collect();
    let mut item = json!({
        "pk": {"S": format!("TXN#{}", txn.id)},
        "sk": {"S": "TXN"},
        "transaction_id": {"S": txn.id.as_str()},
        "tiki_transaction_id": {"S": txn.tiki_id.as_str()},
        "amount": {"N": txn.amount.get().to_string()},
        "status": {"S": txn.status.as_str()},
        "refunded_amount": {"N": txn.refunded.get().to_string()},
        "refunds": {"L": refunds},
        "created_at": {"S": rfc(txn.created_at)},
        "updated_at": {"S": rfc(txn.updated_at)}
    });
    if let Some(description) = &txn.description {
        item["description"] = json!({"S": description.as_str()});
    }
    item
}

fn get_item(txn: &Transaction) -> String {
    json!({ "Item": transaction_item(txn) }).to_string()
}

/// The real handlers over scripted DynamoDB and SQS.
pub struct Faked {
    calls: Calls,
    create: CreateTransaction,
    get_by_id: GetTransaction,
    get_by_tiki_id: GetTransaction,
    refund: RefundHandler,
    receiver: IpnReceiver,
}

impl Default for Faked {
    fn default() -> Self {
        let tiki = Client::dev_tiki().verifier();
        let calls = Calls::default();
        let paid = transaction(TransactionStatus::Success);
        let claim = json!({"Item": {
            "pk": {"S": format!("TIKI#{TIKI_ID}")},
            "sk": {"S": "TIKI"},
            "transaction_id": {"S": TXN_ID},
            "amount": {"N": AMOUNT.to_string()}
        }})
        .to_string();
        Faked {
            calls: calls.clone(),
            create: CreateTransaction::new(
                tiki.clone(),
                fake_aws::store(vec![answer("TransactWriteItems", "{}")], &calls),
                PaymentUrlTemplate::new("https://pay.partner.example/tikivip/{transaction_id}")
                    .expect("a template"),
            ),
            get_by_id: GetTransaction::new(
                tiki.clone(),
                fake_aws::store(vec![answer("GetItem", get_item(&paid))], &calls),
            ),
            get_by_tiki_id: GetTransaction::new(
                tiki.clone(),
                fake_aws::store(
                    vec![answer("GetItem", claim), answer("GetItem", get_item(&paid))],
                    &calls,
                ),
            ),
            refund: RefundHandler::new(
                tiki,
                fake_aws::store(
                    vec![
                        answer("GetItem", get_item(&paid)),
                        answer("TransactWriteItems", "{}"),
                    ],
                    &calls,
                ),
            ),
            receiver: IpnReceiver::new(
                Client::dev_partner().verifier(),
                fake_aws::store(vec![answer("TransactWriteItems", "{}")], &calls),
                fake_aws::queue(
                    vec![answer(
                        "SendMessage",
                        json!({
                            "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274",
                            "MD5OfMessageBody": "fafb00f5732ab283681e124bf8747ed1"
                        })
                        .to_string(),
                    )],
                    &calls,
                ),
            ),
        }
    }
}

impl Faked {
    /// The AWS calls one request of `route` makes, as the SDK sent them.
    pub async fn calls_of(&self, route: Route) -> Vec<String> {
        self.calls.take();
        let answer =
            through_lambda_http(&event(route), |request| self.handle(route, request)).await;
        let calls = self.calls.take();
        let response: serde_json::Value = serde_json::from_slice(&answer).expect("a response JSON");
        assert_eq!(response["statusCode"], 200, "{route:?}: {response}");
        calls
    }

    pub async fn handle(&self, route: Route, request: Request) -> Response<Body> {
        match route {
            Route::Create => self.create.handle(request).await,
            Route::GetById => self.get_by_id.handle(request).await,
            Route::GetByTikiId => self.get_by_tiki_id.handle(request).await,
            Route::Refund => self.refund.handle(request).await,
            Route::PaymentResult => self.receiver.handle(request).await,
        }
    }
}

/// Logs as the functions do (`tikivip_api::init_tracing`: JSON, `info`), to
/// a sink: formatting a log line is per-request CPU, the write is I/O.
pub fn init_tracing_to_sink() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_current_span(false)
        .without_time()
        .with_writer(std::io::sink)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(response_json: &[u8]) -> (u64, serde_json::Value) {
        let response: serde_json::Value = serde_json::from_slice(response_json).unwrap();
        let body: serde_json::Value =
            serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        (response["statusCode"].as_u64().unwrap(), body)
    }

    /// The round trips of each route's common path, counted on the wire.
    #[tokio::test]
    async fn a_payment_result_takes_two_round_trips_and_no_route_more() {
        let faked = Faked::default();
        let mut calls = Vec::new();
        for route in Route::ALL {
            calls.push((route, faked.calls_of(route).await));
        }
        let expected = [
            (Route::Create, vec!["TransactWriteItems"]),
            (Route::GetById, vec!["GetItem"]),
            (Route::GetByTikiId, vec!["GetItem", "GetItem"]),
            (Route::Refund, vec!["GetItem", "TransactWriteItems"]),
            (
                Route::PaymentResult,
                vec!["TransactWriteItems", "SendMessage"],
            ),
        ];
        assert_eq!(
            calls,
            expected.map(|(r, c)| (r, c.into_iter().map(String::from).collect::<Vec<_>>()))
        );
    }

    #[tokio::test]
    async fn every_route_answers_200_both_ways() {
        let pure = Pure::default();
        let faked = Faked::default();
        for route in Route::ALL {
            let event = event(route);
            let answer = through_lambda_http(&event, |request| {
                let response = pure.handle(route, &request);
                async move { response }
            })
            .await;
            let (status, body) = status_of(&answer);
            assert_eq!(status, 200, "pure {route:?}: {body}");
            // Twice: the script of each fake goes round.
            for _ in 0..2 {
                let answer =
                    through_lambda_http(&event, |request| faked.handle(route, request)).await;
                let (status, body) = status_of(&answer);
                assert_eq!(status, 200, "faked {route:?}: {body}");
            }
        }
    }
}
