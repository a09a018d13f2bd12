//! `GET /v1/tiniapp/orders/{id}`: an operator looks up a Tini App order, with
//! every message received about it.
//!
//! Signed with `X-Partner-*` and the partner's own secret: the callers are
//! the partner's operators and back office, not Tiki, and the Tini App secret
//! (which Tiki holds too) never opens the partner's records.

use lambda_http::{Body, Request, Response};
use tikivip_api::{
    Error, Failures, Handler, load_aws_config, reply, verified_body, verifier_and_store,
};
use tikivip_domain::tiniapp::OrderView;
use tikivip_domain::{Error as Refusal, TiniAppOrderId};
use tikivip_signing::{HeaderFamily, Verifier};
use tikivip_store::Store;

const COLLECTION: &str = "/v1/tiniapp/orders/";

pub struct TiniAppOrder {
    verifier: Verifier,
    store: Store,
}

impl TiniAppOrder {
    pub fn new(verifier: Verifier, store: Store) -> Self {
        TiniAppOrder { verifier, store }
    }

    pub async fn from_env() -> Result<Self, Error> {
        let aws = load_aws_config().await;
        let (verifier, store) = verifier_and_store(
            &aws,
            HeaderFamily::Partner,
            "PARTNER_CLIENT_ID",
            "PARTNER_CLIENT_SECRET",
        )
        .await?;
        Ok(TiniAppOrder::new(verifier, store))
    }

    async fn look_up(&self, request: &Request) -> Result<OrderView, Error> {
        verified_body(&self.verifier, request)?;
        let path = request.uri().path();
        let id = match path.strip_prefix(COLLECTION) {
            Some(id) if !id.is_empty() && !id.contains('/') => TiniAppOrderId::parse(id)?,
            _ => {
                return Err(Refusal::InvalidRequest(format!("no order at {path}")).into());
            }
        };
        Ok(self
            .store
            .tiniapp_order_view(&id)
            .await?
            .ok_or(Refusal::OrderNotFound)?)
    }
}

impl Handler for TiniAppOrder {
    async fn handle(&self, request: Request) -> Response<Body> {
        reply(self.look_up(&request).await, Failures::Rest)
    }
}
