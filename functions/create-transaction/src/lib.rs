//! `POST /v1/transactions`: Tiki creates a transaction when its user moves to
//! the partner's payment screen. Idempotent on `tiki_transaction_id`.

use lambda_http::{Body, Request, Response};
use tikivip_api::metrics::{self, Metric};
use tikivip_api::{
    Error, Failures, Handler, load_aws_config, reply, required_env, verified_body,
    verifier_and_store,
};
use tikivip_domain::wire::{CreateTransactionRequest, CreatedTransaction, Text, parse_json};
use tikivip_domain::{NewTransaction, Timestamp, TransactionId, way_back};
use tikivip_signing::{HeaderFamily, Verifier};
use tikivip_store::Store;

/// Where the user pays: a URL with a `{transaction_id}` placeholder.
#[derive(Clone, Debug)]
pub struct PaymentUrlTemplate(String);

impl PaymentUrlTemplate {
    const PLACEHOLDER: &str = "{transaction_id}";

    pub fn new(template: impl Into<String>) -> Result<Self, Error> {
        let template = template.into();
        if !template.contains(Self::PLACEHOLDER) {
            return Err(Error::Config(format!(
                "PAYMENT_URL_TEMPLATE must contain {}",
                Self::PLACEHOLDER
            )));
        }
        Ok(PaymentUrlTemplate(template))
    }

    pub fn url_for(&self, id: &TransactionId) -> String {
        self.0.replace(Self::PLACEHOLDER, id.as_str())
    }
}

pub struct CreateTransaction {
    verifier: Verifier,
    store: Store,
    payment_urls: PaymentUrlTemplate,
}

impl CreateTransaction {
    pub fn new(verifier: Verifier, store: Store, payment_urls: PaymentUrlTemplate) -> Self {
        CreateTransaction {
            verifier,
            store,
            payment_urls,
        }
    }

    pub async fn from_env() -> Result<Self, Error> {
        let aws = load_aws_config().await;
        let (verifier, store) = verifier_and_store(
            &aws,
            HeaderFamily::Tikivip,
            "TIKIVIP_CLIENT_ID",
            "TIKIVIP_CLIENT_SECRET",
        )
        .await?;
        Ok(CreateTransaction::new(
            verifier,
            store,
            PaymentUrlTemplate::new(required_env("PAYMENT_URL_TEMPLATE")?)?,
        ))
    }

    async fn create(&self, request: &Request) -> Result<CreatedTransaction, Error> {
        let body = verified_body(&self.verifier, request)?;
        let request: CreateTransactionRequest = parse_json(body)?;
        let now = Timestamp::now_utc();
        let redirect_url = self.way_back(&request, now).await?;
        let new = NewTransaction {
            id: TransactionId::generate(),
            tiki_id: request.tiki_transaction_id,
            amount: request.transaction_amount,
            description: request.description,
            customer: request.customer,
            redirect_url,
            created_at: now,
        };
        let created = self.store.create_transaction(new).await?;
        let txn = created.transaction;
        if created.is_new {
            metrics::count(Metric::TransactionsCreated);
            tracing::info!(transaction_id = %txn.id, tiki_transaction_id = %txn.tiki_id, amount = %txn.amount, "transaction created");
        }
        Ok(CreatedTransaction {
            payment_url: self.payment_urls.url_for(&txn.id),
            transaction_id: txn.id,
            tiki_transaction_id: txn.tiki_id,
            transaction_amount: txn.amount,
            status: txn.status,
            created_at: txn.created_at,
        })
    }
}

impl CreateTransaction {
    /// Where the payment screen sends the user back: the `redirect_url` Tiki
    /// gives, else the checkout-result URL of the user's webview request
    /// (`customer.identify_code` names the user), read only when needed.
    async fn way_back(
        &self,
        request: &CreateTransactionRequest,
        now: Timestamp,
    ) -> Result<Option<Text<2048>>, Error> {
        let identify_code = request
            .customer
            .as_ref()
            .and_then(|customer| customer.identify_code.as_ref());
        let webview = match (&request.redirect_url, identify_code) {
            (None, Some(code)) => self.store.checkout_return(code.as_str()).await?,
            _ => None,
        };
        Ok(way_back(
            request.redirect_url.clone(),
            webview.as_ref(),
            now,
        ))
    }
}

impl Handler for CreateTransaction {
    async fn handle(&self, request: Request) -> Response<Body> {
        reply(self.create(&request).await, Failures::Rest)
    }
}
