//! Refunds made by hand, through the same write as Tiki's.

use http::StatusCode;
use serde_json::json;
use tiki_simulator::FaultRoute;
use tikivip_domain::{IpnState, RefundRequest, Timestamp, Vnd};
use tikivip_it::stack::Running;
use tikivip_it::*;
use tikivip_tools::ops;

use super::*;

#[tokio::test]
async fn an_operator_refund_followed_by_tikis_refund_of_the_same_amount_makes_one_refund() {
    let running = Running::start("1").await;
    running.tiki().fail(FaultRoute::Ipn, 1, rejection(5));
    let tiki = tiki_id();
    let id = paid(&running, &tiki).await;
    assert_eq!(ended(&running, &id).await, IpnState::RefundRequired);

    let hand = ops::HandRefund {
        transaction_id: txn_id(&id),
        amount: Vnd::new(AMOUNT).unwrap(),
        reference: "OPS-42".into(),
        reason: "Tiki refused the IPN".into(),
        operator: "lan@partner".into(),
    };
    let first = ops::record_hand_refund(&running.stack.store, &hand)
        .await
        .unwrap();
    assert!(first.is_new);
    let again = ops::record_hand_refund(&running.stack.store, &hand)
        .await
        .unwrap();
    assert_eq!(
        (again.is_new, &again.receipt),
        (false, &first.receipt),
        "recorded once"
    );
    assert!(refunds_required(&running).await.is_empty(), "off the list");

    // Tiki now asks to refund the same money: refused, not paid twice.
    let txn = json!({"tiki_transaction_id": tiki, "transaction_id": id});
    let body = refund_body(&txn, AMOUNT, "tiki-r-1", "customer asked");
    let reply = running
        .post(
            &tiki_signer(),
            "/v1/refunds",
            &serde_json::from_str(&body).unwrap(),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::INTERNAL_SERVER_ERROR, 5)
    );

    let txn = running
        .stack
        .store
        .transaction(&txn_id(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(txn.refunds.len(), 1);
    assert_eq!(txn.refunded, Vnd::new(AMOUNT).unwrap());
    let view = serde_json::to_value(tikivip_domain::wire::TransactionView::from(txn)).unwrap();
    assert_eq!(view["refunds"][0]["made_by"], "operator");
    assert_eq!(view["refunds"][0]["operator"], "lan@partner");
    assert_eq!(view["refunds"][0]["reference"], "OPS-42");
    // The job's story stays: why the refund was required.
    assert_eq!(running.job(&id).await.state, IpnState::RefundRequired);
}

#[tokio::test]
async fn an_operator_refund_obeys_the_same_rules_as_tikis() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), AMOUNT).await;
    let txn = running
        .stack
        .store
        .transaction(&txn_id(&id))
        .await
        .unwrap()
        .unwrap();
    use tikivip_domain::wire::Text;
    let request = RefundRequest::by_operator(
        &txn,
        Vnd::new(AMOUNT).unwrap(),
        Text::new("by hand").unwrap(),
        Text::new("lan").unwrap(),
        Text::new("OPS-1").unwrap(),
    )
    .unwrap();
    let err = running
        .stack
        .store
        .close_out_refund(&request, Timestamp::now_utc())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("only a SUCCESS transaction"),
        "{err}"
    );
}

#[tokio::test]
async fn a_hand_refund_interrupted_before_the_list_is_cleared_is_finished_by_running_it_again() {
    let running = Running::start("1").await;
    running.tiki().fail(FaultRoute::Ipn, 1, rejection(5));
    let id = paid(&running, &tiki_id()).await;
    assert_eq!(ended(&running, &id).await, IpnState::RefundRequired);
    let hand = ops::HandRefund {
        transaction_id: txn_id(&id),
        amount: Vnd::new(AMOUNT).unwrap(),
        reference: "OPS-43".into(),
        reason: "Tiki refused the IPN".into(),
        operator: "lan@partner".into(),
    };
    // The first run made the refund and died before clearing the list.
    let store = &running.stack.store;
    let txn = store.transaction(&txn_id(&id)).await.unwrap().unwrap();
    use tikivip_domain::wire::Text;
    let request = RefundRequest::by_operator(
        &txn,
        hand.amount,
        Text::new(hand.reason.as_str()).unwrap(),
        Text::new(hand.operator.as_str()).unwrap(),
        Text::new(hand.reference.as_str()).unwrap(),
    )
    .unwrap();
    store.refund(&request, Timestamp::now_utc()).await.unwrap();
    assert_eq!(refunds_required(&running).await, vec![id.clone()]);
    // Run again: no second refund, and the transaction leaves the list.
    let again = ops::record_hand_refund(store, &hand).await.unwrap();
    assert!(!again.is_new);
    assert!(refunds_required(&running).await.is_empty());
    let txn = store.transaction(&txn_id(&id)).await.unwrap().unwrap();
    assert_eq!(txn.refunds.len(), 1);
}
