//! The routes of the API and the signed API Gateway event of each, run
//! through `lambda_http`'s own adapter: what both stand-ins are fed.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Body, Context, LambdaEvent, Request, Response, Service, service_fn};
use serde_json::json;
use tikivip_domain::Timestamp;
use time::format_description::well_known::Rfc3339;

use super::{AMOUNT, REFUND_AMOUNT, REQUEST_ID, TIKI_ID, TXN_ID};
use crate::events::{Client, HttpCall};

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
