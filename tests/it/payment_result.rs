//! SPEC Part 2, `POST /v1/ipn`: payment results from the partner's payment core.

use futures::future::join_all;
use serde_json::json;
use tikivip_domain::{TransactionId, Verdict};
use tikivip_it::stack::{Running, partner_signer, payment_result};
use tikivip_it::*;

async fn audit(running: &Running, id: &str) -> Vec<Verdict> {
    let results = running
        .stack
        .store
        .payment_results(&TransactionId::parse(id).unwrap())
        .await
        .unwrap();
    results.into_iter().map(|r| r.verdict).collect()
}

async fn lookup(running: &Running, id: &str) -> serde_json::Value {
    let api = running
        .stack
        .store
        .transaction(&TransactionId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    json!({"status": api.status.as_str(), "method": api.partner_banking_method.map(|m| m.as_str().to_owned())})
}

#[tokio::test]
async fn a_success_result_settles_a_pending_transaction_and_keeps_the_banking_method() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    let reply = running.pay(&id, "SUCCESS", 99_000, "ev-1").await;
    let data = reply.ok();
    assert_eq!(
        (data["status"].as_str(), data["duplicate"].as_bool()),
        (Some("SUCCESS"), Some(false))
    );
    assert_eq!(
        lookup(&running, &id).await,
        json!({"status": "SUCCESS", "method": "WALLET"})
    );
    assert_eq!(audit(&running, &id).await, vec![Verdict::Accepted]);
}

#[tokio::test]
async fn a_failure_result_settles_a_pending_transaction_to_failure() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    assert_eq!(
        running.pay(&id, "FAILURE", 99_000, "ev-1").await.ok()["status"],
        "FAILURE"
    );
    assert_eq!(lookup(&running, &id).await["status"], "FAILURE");
}

#[tokio::test]
async fn a_duplicate_result_is_answered_200_and_changes_nothing() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    running.pay(&id, "SUCCESS", 99_000, "ev-1").await.ok();
    let before = running.job(&id).await;
    // Same status and amount, another event id: still a duplicate.
    let again = running.pay(&id, "SUCCESS", 99_000, "ev-2").await;
    assert_eq!(again.ok()["duplicate"], true);
    assert_eq!(running.job(&id).await, before, "no second IPN job");
    assert_eq!(
        audit(&running, &id).await,
        vec![Verdict::Accepted, Verdict::Duplicate]
    );
}

#[tokio::test]
async fn a_contradicting_result_is_refused_and_recorded() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    running.pay(&id, "SUCCESS", 99_000, "ev-1").await.ok();
    let reply = running.pay(&id, "FAILURE", 99_000, "ev-2").await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (409, 1),
        "{:?}",
        reply.body
    );
    assert_eq!(lookup(&running, &id).await["status"], "SUCCESS");
    let trail = audit(&running, &id).await;
    assert_eq!(trail.len(), 2);
    assert!(
        matches!(&trail[1], Verdict::Refused(reason) if reason.contains("already SUCCESS")),
        "{trail:?}"
    );
}

#[tokio::test]
async fn a_result_for_another_amount_is_refused_and_leaves_the_transaction_pending() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    let reply = running.pay(&id, "SUCCESS", 98_000, "ev-1").await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (409, 1),
        "{:?}",
        reply.body
    );
    assert_eq!(lookup(&running, &id).await["status"], "PENDING");
    assert!(matches!(
        audit(&running, &id).await[..],
        [Verdict::Refused(_)]
    ));
    assert!(
        running
            .stack
            .store
            .ipn_job(&TransactionId::parse(&id).unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_result_for_an_unknown_transaction_is_not_found() {
    let running = Running::start("1").await;
    let reply = running.pay("T-unknown", "SUCCESS", 1_000, "ev-1").await;
    assert_eq!((reply.status.as_u16(), reply.code()), (404, 3));
}

#[tokio::test]
async fn a_tiki_key_does_not_open_the_payment_core_route_nor_the_reverse() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    let with_tiki_key = running
        .post(
            &tiki_signer(),
            "/v1/ipn",
            &payment_result(&id, "SUCCESS", 99_000, "ev-1"),
        )
        .await;
    assert_eq!(with_tiki_key.status.as_u16(), 401);
    let body = json!({"tiki_transaction_id": tiki_id(), "transaction_amount": 1000});
    let with_partner_key = running
        .post(&partner_signer(), "/v1/transactions", &body)
        .await;
    assert_eq!(with_partner_key.status.as_u16(), 401);
    assert_eq!(lookup(&running, &id).await["status"], "PENDING");
}

#[tokio::test]
async fn a_malformed_payment_result_is_refused_and_changes_nothing() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    let good = payment_result(&id, "SUCCESS", 99_000, "ev-1");
    let mut cases = Vec::new();
    for (field, value, code) in [
        ("status", json!("PENDING"), 1),
        ("status", json!("success"), 1),
        ("amount", json!(99_000.5), 5),
        ("amount", json!("99000"), 5),
        ("occurred_at", json!("yesterday"), 1),
        ("event_id", json!(""), 1),
    ] {
        let mut body = good.clone();
        body[field] = value;
        cases.push((body, code));
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("event_id");
    cases.push((missing, 1));
    for (body, code) in cases {
        let reply = running.post(&partner_signer(), "/v1/ipn", &body).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, code),
            "{body}: {:?}",
            reply.body
        );
    }
    assert_eq!(lookup(&running, &id).await["status"], "PENDING");
    assert!(audit(&running, &id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_success_and_failure_settle_on_one_status_and_one_ipn() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    let outcomes = ["SUCCESS", "FAILURE"];
    let replies = join_all((0..10).map(|n| running.pay(&id, outcomes[n % 2], 99_000, "ev"))).await;
    let settled = lookup(&running, &id).await["status"]
        .as_str()
        .unwrap()
        .to_owned();
    for (n, reply) in replies.iter().enumerate() {
        if outcomes[n % 2] == settled {
            assert_eq!(reply.status.as_u16(), 200, "{:?}", reply.body);
        } else {
            assert_eq!(
                (reply.status.as_u16(), reply.code()),
                (409, 1),
                "{:?}",
                reply.body
            );
        }
    }
    let accepted = audit(&running, &id)
        .await
        .into_iter()
        .filter(|v| *v == Verdict::Accepted)
        .count();
    assert_eq!(accepted, 1);
    running
        .dispatch_for(std::time::Duration::from_secs(2))
        .await;
    let ipns = running.ipns(&id);
    assert_eq!(ipns.len(), 1, "{ipns:?}");
    assert_eq!(ipns[0].body["status"], settled.as_str());
}

#[tokio::test]
async fn a_result_that_occurred_before_the_transaction_was_created_is_refused_and_recorded() {
    let running = Running::start("1").await;
    let id = running.create(&tiki_id(), 99_000).await;
    let before = time::OffsetDateTime::now_utc() - time::Duration::minutes(6);
    let mut body = payment_result(&id, "SUCCESS", 99_000, "ev-early");
    body["occurred_at"] = json!(
        before
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
    let reply = running.post(&partner_signer(), "/v1/ipn", &body).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (400, 1));
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("occurred_at"),
        "{:?}",
        reply.body
    );
    let trail = audit(&running, &id).await;
    assert!(
        matches!(&trail[..], [Verdict::Refused(reason)] if reason.contains("occurred_at")),
        "{trail:?}"
    );
    assert_eq!(lookup(&running, &id).await["status"], "PENDING");
}
