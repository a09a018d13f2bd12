//! Values that parse but are implausible are refused and recorded, never a panic.

use http::StatusCode;
use serde_json::json;
use tikivip_it::stack::{Running, partner_signer};
use tikivip_it::*;

use super::*;

#[tokio::test]
async fn an_edge_of_calendar_occurred_at_is_refused_and_a_proper_result_still_settles() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), AMOUNT).await;
    for (n, occurred_at) in [
        "9999-12-31T23:59:59.999999999-23:59",
        "0000-01-01T00:00:00+23:59",
        "2000-01-01T00:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({
            "transaction_id": id, "status": "SUCCESS", "amount": AMOUNT,
            "event_id": format!("ev-edge-{n}"), "occurred_at": occurred_at,
        });
        let reply = running.post(&partner_signer(), "/v1/ipn", &body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, 1),
            "{occurred_at}"
        );
        assert!(
            reply.body["message"]
                .as_str()
                .unwrap()
                .contains("occurred_at")
        );
    }
    let trail = running
        .stack
        .store
        .payment_results(&txn_id(&id))
        .await
        .unwrap();
    assert_eq!(trail.len(), 3, "each refusal is in the audit trail");
    assert!(trail.iter().all(|r| r.verdict.as_str() == "REFUSED"));
    let reply = running.pay(&id, "SUCCESS", AMOUNT, "ev-good").await;
    assert_eq!(reply.ok()["status"], "SUCCESS");
}
