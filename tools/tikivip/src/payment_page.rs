//! The payment page at `payment_url`, for development only: it shows the
//! amount and lets a person press Pay or Cancel, which sends the signed
//! payment result to `/v1/ipn` exactly as the partner's payment core would.

use std::time::SystemTime;

use http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use tikivip_api::Handler;
use tikivip_domain::{Timestamp, TransactionId};
use tikivip_signing::{HeaderFamily, Signer};
use tikivip_store::Store;
use time::format_description::well_known::Rfc3339;

use crate::dev_defaults::Credentials;

pub struct PaymentPage {
    store: Store,
    ipn_url: String,
    payment_core: Signer,
    http: reqwest::Client,
}

impl PaymentPage {
    pub fn new(store: Store, api_base_url: &str, partner: Credentials) -> Self {
        PaymentPage {
            store,
            ipn_url: format!("{api_base_url}/v1/ipn"),
            payment_core: Signer::new(
                HeaderFamily::Partner,
                partner.client_id.clone(),
                partner.secret(),
            ),
            http: reqwest::Client::new(),
        }
    }

    async fn show(&self, id: &TransactionId, notice: &str) -> Response<Body> {
        let txn = match self.store.transaction(id).await {
            Ok(Some(txn)) => txn,
            Ok(None) => return page(StatusCode::NOT_FOUND, "<h1>No such transaction</h1>"),
            Err(error) => {
                return page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("<h1>Store error</h1><p>{}</p>", escape(&error.to_string())),
                );
            }
        };
        let buttons = if txn.status.is_final() {
            String::new()
        } else {
            r#"<form method="post"><button name="outcome" value="SUCCESS">Pay</button> <button name="outcome" value="FAILURE">Cancel</button></form>"#.to_owned()
        };
        let back = txn
            .redirect_url
            .as_ref()
            .map(|url| {
                format!(
                    r#"<p><a href="{0}">Back to Tiki</a></p>"#,
                    escape(url.as_str())
                )
            })
            .unwrap_or_default();
        page(
            StatusCode::OK,
            &format!(
                "<h1>TikiVIP</h1><p>Transaction <code>{id}</code></p><p class=amount>{amount} VND</p>\
                 <p>Status: <b>{status}</b></p>{notice}{buttons}{back}",
                id = escape(txn.id.as_str()),
                amount = txn.amount,
                status = txn.status,
            ),
        )
    }

    /// Sends the signed payment result the person chose, as the payment core.
    async fn pay(&self, id: &TransactionId, form: &[u8]) -> Response<Body> {
        let outcome = form_urlencoded::parse(form)
            .find(|(name, _)| name == "outcome")
            .map(|(_, value)| value.into_owned())
            .filter(|value| value == "SUCCESS" || value == "FAILURE");
        let Some(outcome) = outcome else {
            return page(StatusCode::BAD_REQUEST, "<h1>Choose Pay or Cancel</h1>");
        };
        let amount = match self.store.transaction(id).await {
            Ok(Some(txn)) => txn.amount,
            _ => return page(StatusCode::NOT_FOUND, "<h1>No such transaction</h1>"),
        };
        let now = Timestamp::now_utc().format(&Rfc3339).unwrap_or_default();
        let body = serde_json::json!({
            "transaction_id": id,
            "status": outcome,
            "amount": amount,
            "partner_banking_method": "DEV_WALLET",
            "event_id": format!("dev-{}", uuid::Uuid::now_v7().simple()),
            "occurred_at": now,
        })
        .to_string();
        let mut request = self
            .http
            .post(&self.ipn_url)
            .header("content-type", "application/json");
        for (name, value) in self
            .payment_core
            .headers(SystemTime::now(), body.as_bytes())
        {
            request = request.header(name, value);
        }
        let notice = match request.body(body).send().await {
            Ok(answer) => format!(
                "<p>The payment core sent {outcome}; /v1/ipn answered HTTP {}: <code>{}</code></p>",
                answer.status().as_u16(),
                escape(&answer.text().await.unwrap_or_default())
            ),
            Err(error) => format!(
                "<p>Sending the payment result failed: {}</p>",
                escape(&error.to_string())
            ),
        };
        self.show(id, &notice).await
    }
}

impl Handler for PaymentPage {
    async fn handle(&self, request: Request) -> Response<Body> {
        let raw_id = request
            .path_parameters()
            .first("transaction_id")
            .unwrap_or_default()
            .to_owned();
        let Ok(id) = TransactionId::parse(raw_id) else {
            return page(StatusCode::BAD_REQUEST, "<h1>Not a transaction id</h1>");
        };
        match *request.method() {
            Method::POST => self.pay(&id, request.body().as_ref()).await,
            _ => self.show(&id, "").await,
        }
    }
}

fn page(status: StatusCode, content: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html><html><head><meta charset=utf-8><title>TikiVIP payment (development)</title>\
         <style>body{{font-family:sans-serif;max-width:32em;margin:2em auto}}.amount{{font-size:2em}}\
         button{{font-size:1.2em;padding:.4em 1.2em}}</style></head><body>{content}\
         <p><small>Development payment page of tikivip-partner.</small></p></body></html>"
    );
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .body(Body::Text(html))
        .expect("a valid status and header")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
