//! [`Pure`]: the handlers' steps with the store call taken out, the domain
//! work the store would do done on the fixture transaction instead.

use create_transaction::PaymentUrlTemplate;
use ipn_receiver::Received;
use lambda_http::{Body, Request, Response};
use tikivip_api::{Error, Failures, reply, verified_body};
use tikivip_domain::wire::{
    CreateTransactionRequest, CreatedTransaction, TransactionView, parse_json,
};
use tikivip_domain::{
    Error as Refusal, NewTransaction, PaymentResult, RefundRequest, TikiTransactionId, Timestamp,
    Transaction, TransactionId, TransactionStatus,
};
use tikivip_queue::IpnMessage;

use super::{Route, transaction};
use crate::events::Client;

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
