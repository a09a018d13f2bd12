//! [`Faked`]: the real handlers over DynamoDB and SQS answering from a script
//! (faked I/O), with the transaction item the script answers with.

use create_transaction::{CreateTransaction, PaymentUrlTemplate};
use get_transaction::GetTransaction;
use ipn_receiver::IpnReceiver;
use lambda_http::{Body, Request, Response};
use refund::Refund as RefundHandler;
use serde_json::json;
use tikivip_api::Handler;
use tikivip_domain::{Timestamp, Transaction, TransactionStatus};
use time::format_description::well_known::Rfc3339;

use super::{AMOUNT, Route, TIKI_ID, TXN_ID, event, through_lambda_http, transaction};
use crate::events::Client;
use crate::fake_aws::{self, Calls, answer, scripted};

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
                fake_aws::store(scripted(vec![answer("TransactWriteItems", "{}")]), &calls),
                PaymentUrlTemplate::new("https://pay.partner.example/tikivip/{transaction_id}")
                    .expect("a template"),
            ),
            get_by_id: GetTransaction::new(
                tiki.clone(),
                fake_aws::store(scripted(vec![answer("GetItem", get_item(&paid))]), &calls),
            ),
            get_by_tiki_id: GetTransaction::new(
                tiki.clone(),
                fake_aws::store(
                    scripted(vec![
                        answer("GetItem", claim),
                        answer("GetItem", get_item(&paid)),
                    ]),
                    &calls,
                ),
            ),
            refund: RefundHandler::new(
                tiki,
                fake_aws::store(
                    scripted(vec![
                        answer("GetItem", get_item(&paid)),
                        answer("TransactWriteItems", "{}"),
                    ]),
                    &calls,
                ),
            ),
            receiver: IpnReceiver::new(
                Client::dev_partner().verifier(),
                fake_aws::store(scripted(vec![answer("TransactWriteItems", "{}")]), &calls),
                fake_aws::queue(
                    scripted(vec![answer(
                        "SendMessage",
                        json!({
                            "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274",
                            "MD5OfMessageBody": "fafb00f5732ab283681e124bf8747ed1"
                        })
                        .to_string(),
                    )]),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
