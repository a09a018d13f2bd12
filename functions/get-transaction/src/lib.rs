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
                Some(id) if !id.contains('/') => {
                    Ok(Lookup::ById(TransactionId::parse(percent_decoded(id)?)?))
                }
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

/// A path segment as the id it names: `%XX` decoded (a caller may encode any
/// character of an id), the signature having been checked over it as sent.
fn percent_decoded(segment: &str) -> Result<String, Refusal> {
    let bad = || {
        Refusal::InvalidRequest("transaction_id is not a valid percent-encoded path segment".into())
    };
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            decoded.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| bad())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percent_encoded_id_is_decoded_and_a_broken_one_refused() {
        assert_eq!(percent_decoded("T%30a").unwrap(), "T0a");
        assert_eq!(percent_decoded("plain").unwrap(), "plain");
        assert_eq!(percent_decoded("a%2Fb").unwrap(), "a/b");
        for bad in ["%", "%4", "%zz", "%FF"] {
            assert!(percent_decoded(bad).is_err(), "{bad}");
        }
    }
}
