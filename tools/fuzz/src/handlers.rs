//! Each HTTP function's whole path, from the API Gateway event's JSON to the
//! response's, as `lambda_http` runs it: the real handlers, their DynamoDB and
//! SQS answered from memory (every write succeeds, a transaction asked for
//! exists), Tiki's webview API a closed loopback port.
//!
//! Two kinds of input: an event of any JSON, and a request signed here with
//! the function's key over a body and path the input gives, so that the
//! input reaches past the signature into the parsers and the domain.
//!
//! Every answer must be an envelope (`code`, `message`), HTTP 200 exactly
//! when the code is 0; and, with a store that never fails, never a system
//! error (code 2: a panic or an internal fault), but for the webview's, which
//! calls a Tiki that is not there.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use create_transaction::{CreateTransaction, PaymentUrlTemplate};
use get_transaction::GetTransaction;
use ipn_receiver::IpnReceiver;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Request, Service, service_fn};
use refund::Refund;
use serde_json::{Value, json};
use tikivip_api::Handler;
use tikivip_bench::events::{Client, HttpCall};
use tikivip_bench::fake_aws::{self, Calls, Responder};
use tikivip_bench::inprocess::{AMOUNT, TIKI_ID, TXN_ID, transaction, transaction_item};
use tikivip_domain::{ResultCode, TransactionId, TransactionStatus};
use tikivip_signing::Secret;
use tikivip_tiki_client::{TikiClient, TikiEnvironment};
use tiniapp_ipn::TiniAppIpn;
use tiniapp_order::TiniAppOrder;
use webview::WebviewUrl;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Create,
    Get,
    Refund,
    PaymentResult,
    Webview,
    TiniappIpn,
    TiniappOrder,
}

#[derive(Arbitrary, Debug)]
enum Input {
    /// Any event JSON.
    Event(String),
    /// A signed request: `target` is the path (or, for a look-up, the id).
    Signed { target: String, body: String },
}

struct Functions {
    runtime: tokio::runtime::Runtime,
    create: CreateTransaction,
    get: GetTransaction,
    refund: Refund,
    receiver: IpnReceiver,
    webview: WebviewUrl,
    tiniapp: TiniAppIpn,
    orders: TiniAppOrder,
}

fn functions() -> &'static Functions {
    static FUNCTIONS: OnceLock<Functions> = OnceLock::new();
    FUNCTIONS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let calls = Calls::default();
        let store = || fake_aws::store(dynamodb(), &calls);
        let queue = || fake_aws::queue(sqs(), &calls);
        // Nothing listens on port 9 of loopback: Tiki's webview API refuses
        // at once.
        let tiki = TikiClient::new(
            TikiEnvironment::local("http://127.0.0.1:9").expect("a loopback URL"),
            Client::dev_tiki().id,
            Secret::new(Client::dev_tiki().secret),
            Duration::from_secs(1),
        )
        .expect("a client");
        Functions {
            create: CreateTransaction::new(
                Client::dev_tiki().verifier(),
                store(),
                PaymentUrlTemplate::new("https://pay.partner.example/tikivip/{transaction_id}")
                    .expect("a template"),
            ),
            get: GetTransaction::new(Client::dev_tiki().verifier(), store()),
            refund: Refund::new(Client::dev_tiki().verifier(), store()),
            receiver: IpnReceiver::new(Client::dev_partner().verifier(), store(), queue()),
            webview: WebviewUrl::new(Client::dev_partner().verifier(), tiki, store()),
            tiniapp: TiniAppIpn::new(Client::dev_tiniapp().verifier(), store(), queue()),
            orders: TiniAppOrder::new(Client::dev_partner().verifier(), store()),
            runtime,
        }
    })
}

/// DynamoDB from memory: a transaction asked for by its id exists (paid,
/// never refunded), Tiki's id is claimed by the fixture transaction, nothing
/// else is found, every write succeeds.
fn dynamodb() -> Responder {
    Arc::new(|operation, body| {
        let request: Value = serde_json::from_slice(body).unwrap_or_default();
        let key = request["Key"]["pk"]["S"].as_str().unwrap_or_default();
        let answer = match operation {
            "GetItem" => match key.split_once('#') {
                Some(("TXN", id)) => {
                    let mut txn = transaction(TransactionStatus::Success);
                    if let Ok(id) = TransactionId::parse(id) {
                        txn.id = id;
                    }
                    json!({ "Item": transaction_item(&txn) })
                }
                Some(("TIKI", _)) => json!({"Item": {
                    "pk": {"S": format!("TIKI#{TIKI_ID}")},
                    "sk": {"S": "TIKI"},
                    "transaction_id": {"S": TXN_ID},
                    "amount": {"N": AMOUNT.to_string()}
                }}),
                _ => json!({}),
            },
            "Query" => json!({"Items": [], "Count": 0, "ScannedCount": 0}),
            _ => json!({}),
        };
        (200, answer.to_string())
    })
}

fn sqs() -> Responder {
    Arc::new(|operation, _| match operation {
        "SendMessage" => (
            200,
            json!({
                "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274",
                "MD5OfMessageBody": "fafb00f5732ab283681e124bf8747ed1"
            })
            .to_string(),
        ),
        _ => (200, "{}".into()),
    })
}

impl Function {
    fn client(self) -> Client {
        match self {
            Function::PaymentResult | Function::Webview | Function::TiniappOrder => {
                Client::dev_partner()
            }
            Function::TiniappIpn => Client::dev_tiniapp(),
            _ => Client::dev_tiki(),
        }
    }

    /// The call the API would route to this function.
    fn call(self, target: &str, body: String) -> HttpCall {
        match self {
            Function::Get => {
                if let Some(tiki_id) = target.strip_prefix('?') {
                    HttpCall::get(
                        &format!("/v1/transactions?tiki_transaction_id={tiki_id}"),
                        "GET /v1/transactions",
                    )
                } else {
                    HttpCall::get(
                        &format!("/v1/transactions/{target}"),
                        "GET /v1/transactions/{transaction_id}",
                    )
                    .with_path_parameter("transaction_id", target)
                }
            }
            Function::Create => HttpCall::post(target, "POST /v1/transactions", body),
            Function::Refund => HttpCall::post(target, "POST /v1/refunds", body),
            Function::PaymentResult => HttpCall::post(target, "POST /v1/ipn", body),
            Function::Webview => HttpCall::post(target, "POST /v1/webview", body),
            Function::TiniappIpn => HttpCall::post(target, "POST /v1/tiniapp/ipn", body),
            Function::TiniappOrder => HttpCall::get(
                &format!("/v1/tiniapp/orders/{target}"),
                "GET /v1/tiniapp/orders/{id}",
            )
            .with_path_parameter("id", target),
        }
    }

    async fn handle(self, request: Request) -> lambda_http::Response<lambda_http::Body> {
        let functions = functions();
        match self {
            Function::Create => functions.create.handle(request).await,
            Function::Get => functions.get.handle(request).await,
            Function::Refund => functions.refund.handle(request).await,
            Function::PaymentResult => functions.receiver.handle(request).await,
            Function::Webview => functions.webview.handle(request).await,
            Function::TiniappIpn => functions.tiniapp.handle(request).await,
            Function::TiniappOrder => functions.orders.handle(request).await,
        }
    }
}

pub fn run(function: Function, data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let event = match input {
        Input::Event(event) => event,
        Input::Signed { target, body } => match signed_event(function, &target, body) {
            Some(event) => event,
            None => return,
        },
    };
    if let Some(response) = respond(function, &event) {
        check(function, &response);
    }
}

/// The event of a request signed with `function`'s key, unless its path is
/// no URI: API Gateway refuses that before any function sees it.
fn signed_event(function: Function, target: &str, body: String) -> Option<String> {
    let call = function.call(target, body);
    call.path_and_query.parse::<http::Uri>().ok()?;
    Some(call.signed_event(&function.client()))
}

/// The response's JSON, as `lambda_http` hands it back to Lambda; `None`
/// for an event that is not API Gateway's, which never reaches a handler
/// (the runtime reports it to Lambda).
fn respond(function: Function, event: &str) -> Option<Value> {
    let event: Value = serde_json::from_str(event).ok()?;
    if !gateway_could_send(&event) {
        return None;
    }
    let payload = serde_json::from_value::<LambdaRequest>(event).ok()?;
    let response = functions().runtime.block_on(async {
        let mut adapter = Adapter::from(service_fn(|request: Request| async move {
            Ok::<_, Infallible>(function.handle(request).await)
        }));
        adapter
            .call(LambdaEvent::new(payload, Context::default()))
            .await
            .unwrap_or_else(|never| match never {})
    });
    Some(serde_json::to_value(&response).expect("a response serialises"))
}

/// What API Gateway sends has its own domain as the host, a stage name, and
/// a path and query that made an HTTP request line. Events without those
/// make `lambda_http` panic while it builds the request's URI (an `unwrap`
/// in its `build_request_uri`); in Lambda its runtime catches the panic and
/// the invocation fails, but no such event ever comes.
fn gateway_could_send(event: &Value) -> bool {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let host = event["headers"]
        .as_object()
        .and_then(|headers| {
            headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("host"))
                .map(|(_, value)| value.as_str().unwrap_or("?").to_owned())
        })
        .or_else(|| text(&event["requestContext"]["domainName"]));
    let hostname = |host: &str| {
        !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    let stage = |stage: &str| {
        stage == "$default"
            || stage
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let uri_text = |text: &str, extra: &[u8]| {
        text.bytes().all(|b| {
            b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b) || extra.contains(&b)
        })
    };
    host.is_none_or(|host| hostname(&host))
        && text(&event["requestContext"]["stage"]).is_none_or(|s| stage(&s))
        && text(&event["rawPath"]).is_none_or(|path| path.starts_with('/') && uri_text(&path, b""))
        && text(&event["rawQueryString"]).is_none_or(|query| uri_text(&query, b"?"))
}

/// The response is an envelope, 200 exactly when its code is 0.
fn check(function: Function, response: &Value) {
    let status = response["statusCode"].as_u64().expect("a status code");
    let body = response["body"].as_str().expect("a body");
    let envelope: Value = serde_json::from_str(body).expect("the body is JSON");
    let code = envelope["code"]
        .as_i64()
        .and_then(ResultCode::from_code)
        .unwrap_or_else(|| panic!("no known code in {body}"));
    assert!(envelope["message"].is_string(), "no message in {body}");
    assert_eq!(
        status == 200,
        code == ResultCode::Success,
        "{status}: {body}"
    );
    assert!((200..600).contains(&status), "{status}");
    if function != Function::Webview {
        assert_ne!(code, ResultCode::SystemError, "{status}: {body}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(function: Function, target: &str, body: &str) -> (u64, Value) {
        let event = signed_event(function, target, body.into()).expect("a valid path");
        let response = respond(function, &event).expect("an API Gateway event");
        check(function, &response);
        let envelope = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        (response["statusCode"].as_u64().unwrap(), envelope)
    }

    /// The harness reaches past the signature into the store: a valid
    /// request is served from memory, a bad one refused by its parser.
    #[test]
    fn a_signed_request_is_served_from_memory_and_a_bad_one_refused() {
        let create = r#"{"tiki_transaction_id":"88062110977884170","transaction_amount":99000,
            "redirect_url":"https://tiki.vn/r"}"#;
        assert_eq!(answer(Function::Create, "/v1/transactions", create).0, 200);
        assert_eq!(answer(Function::Get, TXN_ID, "").0, 200);
        let bad = answer(
            Function::Create,
            "/v1/transactions",
            r#"{"transaction_amount":0}"#,
        );
        assert_eq!(bad.0, 400, "{}", bad.1);
        // Tiki's webview API is a closed port: an upstream failure, in the envelope.
        let webview = r#"{"identify_code":"u-1","identify_phone":"0912345678"}"#;
        assert!(answer(Function::Webview, "/v1/webview", webview).0 >= 500);
    }

    /// Each function's signed seed is a request from the spec that its
    /// function reads past the signature: fuzzing starts at the parsers and
    /// the store, not at refusals.
    #[test]
    fn every_signed_seed_is_a_spec_request_past_the_signature() {
        for (function, folder) in [
            (Function::Create, "handler_create"),
            (Function::Get, "handler_get"),
            (Function::Refund, "handler_refund"),
            (Function::PaymentResult, "handler_payment_result"),
            (Function::Webview, "handler_webview"),
            (Function::TiniappIpn, "handler_tiniapp_ipn"),
            (Function::TiniappOrder, "handler_tiniapp_order"),
        ] {
            let seed = format!("{}/seeds/{folder}/signed-1", env!("CARGO_MANIFEST_DIR"));
            let data = std::fs::read(&seed).expect("a seed");
            let Ok(Input::Signed { target, body }) =
                Input::arbitrary_take_rest(Unstructured::new(&data))
            else {
                panic!("{seed} is not a signed request");
            };
            let event = signed_event(function, &target, body).expect("a valid path");
            let response = respond(function, &event).expect("an API Gateway event");
            check(function, &response);
            let status = response["statusCode"].as_u64().unwrap();
            assert_ne!(status, 401, "{seed} ({target}): {}", response["body"]);
        }
    }

    #[test]
    fn an_unsigned_event_is_refused_in_the_envelope() {
        let event = json!({
            "version": "2.0", "routeKey": "POST /v1/refunds", "rawPath": "/v1/refunds",
            "rawQueryString": "", "headers": {}, "body": "{}", "isBase64Encoded": false,
            "requestContext": {"http": {"method": "POST", "path": "/v1/refunds",
                "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "x"}}
        });
        let response = respond(Function::Refund, &event.to_string()).expect("an event");
        check(Function::Refund, &response);
        assert_eq!(response["statusCode"], 401);
    }
}
