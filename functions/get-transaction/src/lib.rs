//! `GET /v1/transactions/{transaction_id}` and
//! `GET /v1/transactions?tiki_transaction_id=…`: Tiki looks up a transaction.

use lambda_http::{Body, Request, Response};
use tikivip_api::{
    Error, Failures, Handler, load_aws_config, reply, verified_body, verifier_and_store,
};
use tikivip_domain::wire::TransactionView;
use tikivip_domain::{Error as Refusal, TikiTransactionId, Transaction, TransactionId};
use tikivip_signing::{HeaderFamily, Verifier};
use tikivip_store::Store;

const COLLECTION: &str = "/v1/transactions";

/// Which transaction a look-up asks for.
#[derive(Debug, PartialEq, Eq)]
enum Lookup {
    ById(TransactionId),
    ByTikiId(TikiTransactionId),
}

impl Lookup {
    fn from_request(request: &Request) -> Result<Lookup, Refusal> {
        let uri = request.uri();
        match uri.path().strip_prefix(COLLECTION) {
            Some("") | Some("/") => {
                let tiki_id = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                    .find(|(name, _)| name == "tiki_transaction_id")
                    .map(|(_, value)| value.into_owned())
                    .ok_or_else(|| {
                        Refusal::InvalidRequest(
                            "query parameter tiki_transaction_id is required".into(),
                        )
                    })?;
                Ok(Lookup::ByTikiId(TikiTransactionId::parse(tiki_id)?))
            }
            Some(rest) => match rest.strip_prefix('/') {
                Some(id) if !id.contains('/') => Ok(Lookup::ById(TransactionId::parse(id)?)),
                _ => Err(Refusal::InvalidRequest(format!(
                    "no transaction at {}",
                    uri.path()
                ))),
            },
            None => Err(Refusal::InvalidRequest(format!(
                "no transaction at {}",
                uri.path()
            ))),
        }
    }
}

pub struct GetTransaction {
    verifier: Verifier,
    store: Store,
}

impl GetTransaction {
    pub fn new(verifier: Verifier, store: Store) -> Self {
        GetTransaction { verifier, store }
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
        Ok(GetTransaction::new(verifier, store))
    }

    async fn look_up(&self, request: &Request) -> Result<Transaction, Error> {
        verified_body(&self.verifier, request)?;
        let found = match Lookup::from_request(request)? {
            Lookup::ById(id) => self.store.transaction(&id).await?,
            Lookup::ByTikiId(id) => self.store.transaction_by_tiki_id(&id).await?,
        };
        Ok(found.ok_or(Refusal::TransactionNotFound)?)
    }
}

impl Handler for GetTransaction {
    async fn handle(&self, request: Request) -> Response<Body> {
        reply(
            self.look_up(&request).await.map(TransactionView::from),
            Failures::Rest,
        )
    }
}
