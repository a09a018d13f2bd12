//! The payment page at `payment_url`, for development only: it shows the
//! amount and lets a person press Pay or Cancel, which sends the signed
//! payment result to `/v1/ipn` exactly as the partner's payment core would.
//! Then it shows the result and sends the browser back to Tiki: to the
//! transaction's `redirect_url` (the create's, or the checkout-result URL of
//! the user's webview request), as the partner's real screen must (SPEC.md
//! Part 1, items 3 and 7). Laid out for a phone's webview.

use std::time::SystemTime;

use http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use tikivip_api::Handler;
use tikivip_domain::{Timestamp, TransactionId, TransactionStatus, Vnd};
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

    /// The page of a transaction: its amount and the Pay and Cancel buttons
    /// while it is PENDING, its result once it is not. After a payment the
    /// result shows for a moment, then the browser goes back to Tiki.
    async fn show(&self, id: &TransactionId, notice: &str, after_payment: bool) -> Response<Body> {
        let txn = match self.store.transaction(id).await {
            Ok(Some(txn)) => txn,
            Ok(None) => {
                return page(
                    StatusCode::NOT_FOUND,
                    "<h1>Không tìm thấy giao dịch</h1><p>No such transaction.</p>",
                    "",
                );
            }
            Err(error) => {
                return page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("<h1>Store error</h1><p>{}</p>", escape(&error.to_string())),
                    "",
                );
            }
        };
        let back = txn.redirect_url.as_ref().map(|url| escape(url.as_str()));
        let (state, head) = match txn.status {
            TransactionStatus::Pending => (
                r#"<form method="post" class="actions">
<button id="pay" name="outcome" value="SUCCESS">Thanh toán</button>
<button id="cancel" name="outcome" value="FAILURE" class="secondary">Huỷ</button>
</form>"#
                    .to_owned(),
                String::new(),
            ),
            status => {
                let (mark, title, subtitle) = match status {
                    TransactionStatus::Success => {
                        ("✓", "Thanh toán thành công", "Payment successful")
                    }
                    _ => ("✕", "Đã huỷ thanh toán", "Payment cancelled"),
                };
                let link = back
                    .as_ref()
                    .map(|url| {
                        format!(r#"<a id="back" class="button" href="{url}">Quay lại Tiki</a>"#)
                    })
                    .unwrap_or_default();
                // After Pay or Cancel the browser goes back by itself.
                let refresh = match (&back, after_payment) {
                    (Some(url), true) => format!(
                        r#"<meta http-equiv="refresh" content="{REDIRECT_SECONDS};url={url}">"#
                    ),
                    _ => String::new(),
                };
                (
                    format!(
                        r#"<div id="result" class="result {class}" data-status="{status}"><div class="mark">{mark}</div>
<h2>{title}</h2><p>{subtitle}</p></div>{link}"#,
                        class = status.as_str().to_lowercase(),
                    ),
                    refresh,
                )
            }
        };
        page(
            StatusCode::OK,
            &format!(
                r#"<h1>TikiVIP</h1><p class="amount" id="amount">{amount}</p>
<p class="muted">Mã giao dịch <code>{id}</code></p>{state}{notice}"#,
                id = escape(txn.id.as_str()),
                amount = vietnamese_dong(txn.amount),
            ),
            &head,
        )
    }

    /// Sends the signed payment result the person chose, as the payment core.
    async fn pay(&self, id: &TransactionId, form: &[u8]) -> Response<Body> {
        let outcome = form_urlencoded::parse(form)
            .find(|(name, _)| name == "outcome")
            .map(|(_, value)| value.into_owned())
            .filter(|value| value == "SUCCESS" || value == "FAILURE");
        let Some(outcome) = outcome else {
            return page(StatusCode::BAD_REQUEST, "<h1>Choose Pay or Cancel</h1>", "");
        };
        let amount = match self.store.transaction(id).await {
            Ok(Some(txn)) => txn.amount,
            _ => return page(StatusCode::NOT_FOUND, "<h1>No such transaction</h1>", ""),
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
            Ok(answer) if answer.status().is_success() => String::new(),
            Ok(answer) => format!(
                r#"<p class="error">The payment core sent {outcome}; /v1/ipn answered HTTP {}: <code>{}</code></p>"#,
                answer.status().as_u16(),
                escape(&answer.text().await.unwrap_or_default())
            ),
            Err(error) => format!(
                r#"<p class="error">Sending the payment result failed: {}</p>"#,
                escape(&error.to_string())
            ),
        };
        self.show(id, &notice, true).await
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
            return page(StatusCode::BAD_REQUEST, "<h1>Not a transaction id</h1>", "");
        };
        match *request.method() {
            Method::POST => self.pay(&id, request.body().as_ref()).await,
            _ => self.show(&id, "", false).await,
        }
    }
}

/// How long the result shows before the browser goes back to Tiki.
pub const REDIRECT_SECONDS: u32 = 1;

/// A page as a phone's webview shows it: the device's width, large targets.
fn page(status: StatusCode, content: &str, head: &str) -> Response<Body> {
    let html = format!(
        r#"<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>TikiVIP – thanh toán (development)</title>{head}
<style>
*{{box-sizing:border-box}}
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:24px 16px;
max-width:480px;margin-inline:auto;color:#1a1a1a;background:#f5f5fa}}
h1{{font-size:20px;margin:0 0 8px}}
.amount{{font-size:36px;font-weight:700;margin:16px 0 4px}}
.muted{{color:#666;font-size:14px;word-break:break-all}}
.actions{{display:flex;flex-direction:column;gap:12px;margin-top:24px}}
button,.button{{display:block;width:100%;font-size:18px;padding:14px;border:0;border-radius:10px;
background:#1a94ff;color:#fff;text-align:center;text-decoration:none}}
button.secondary{{background:#e0e0e8;color:#1a1a1a}}
.result{{text-align:center;margin:24px 0;padding:20px;border-radius:12px;background:#fff}}
.result .mark{{font-size:48px;line-height:1}}
.result.success .mark{{color:#00ab56}}
.result.failure .mark{{color:#ff424e}}
.error{{color:#b00020}}
</style></head><body>{content}
<p class="muted"><small>Development payment page of tikivip-partner.</small></p></body></html>"#
    );
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .body(Body::Text(html))
        .expect("a valid status and header")
}

/// An amount as Vietnamese users read it: dots between thousands, then the
/// đồng sign (`99.000 ₫`).
pub fn vietnamese_dong(amount: Vnd) -> String {
    let digits = amount.get().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 4);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    format!("{grouped}\u{a0}₫")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_as_vietnamese_users_read_them() {
        let dong = |n| vietnamese_dong(Vnd::new(n).unwrap()).replace('\u{a0}', " ");
        assert_eq!(dong(99_000), "99.000 ₫");
        assert_eq!(dong(1), "1 ₫");
        assert_eq!(dong(999), "999 ₫");
        assert_eq!(dong(1_000), "1.000 ₫");
        assert_eq!(dong(1_234_567), "1.234.567 ₫");
        assert_eq!(dong(100_000_000_000), "100.000.000.000 ₫");
    }
}
