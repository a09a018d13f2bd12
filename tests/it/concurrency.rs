//! Money paths under concurrency: the rules hold inside the writes.

use futures::future::join_all;
use std::collections::HashSet;
use tikivip_it::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_partial_refunds_never_exceed_the_amount() {
    let api = TikiApi::new().await;
    let id = api.paid(&tiki_id(), 100_000).await;
    let txn = api.lookup(&id).await.ok().clone();
    let request_ids: Vec<String> = (0..20).map(|i| format!("par-{i}")).collect();
    let replies = join_all(request_ids.iter().map(|rid| api.refund(&txn, 10_000, rid))).await;
    let succeeded: Vec<_> = replies.iter().filter(|r| r.code() == 0).collect();
    assert_eq!(succeeded.len(), 10, "{replies:#?}");
    for refused in replies.iter().filter(|r| r.code() != 0) {
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (500, 5),
            "{:?}",
            refused.body
        );
    }
    let data = api.lookup(&id).await.ok().clone();
    assert_eq!(data["refunded_amount"], 100_000);
    assert_eq!(data["refunds"].as_array().unwrap().len(), 10);
    // Each answer's running total is distinct: no two refunds saw the same state.
    let totals: HashSet<u64> = succeeded
        .iter()
        .map(|r| r.data()["refunded_amount"].as_u64().unwrap())
        .collect();
    assert_eq!(totals, (1..=10).map(|n| n * 10_000).collect());
    // Refunds refused by the write's condition left no request_id behind: the
    // table holds the transaction, its Tiki id claim, its payment result,
    // the ten refund records and a ledger entry for each of the twelve
    // writes (create, settle, ten refunds), nothing more.
    assert_eq!(item_count(&api.store).await, 3 + 10 + 12);
    let retried = api.refund(&txn, 10_000, &request_ids[19]).await;
    let retried_ok = succeeded
        .iter()
        .any(|r| r.data()["request_id"] == request_ids[19].as_str());
    if !retried_ok {
        assert_eq!(
            (retried.status.as_u16(), retried.code()),
            (500, 5),
            "{:?}",
            retried.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_replays_of_one_request_id_make_one_refund() {
    let api = TikiApi::new().await;
    let id = api.paid(&tiki_id(), 100_000).await;
    let txn = api.lookup(&id).await.ok().clone();
    let replies = join_all((0..10).map(|_| api.refund(&txn, 10_000, "same-request"))).await;
    let first = replies[0].ok().clone();
    for reply in &replies {
        assert_eq!(reply.ok(), &first, "every replay gets the first answer");
    }
    let data = api.lookup(&id).await.ok().clone();
    assert_eq!(data["refunded_amount"], 10_000);
    assert_eq!(data["refunds"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_creates_with_one_tiki_id_make_one_transaction() {
    let api = TikiApi::new().await;
    let tiki = tiki_id();
    let replies = join_all((0..10).map(|_| api.create(&tiki, 50_000))).await;
    let ids: HashSet<_> = replies
        .iter()
        .map(|r| r.ok()["transaction_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(
        item_count(&api.store).await,
        3,
        "one transaction, its Tiki id claim and one ledger entry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_creates_with_two_amounts_keep_the_first_and_refuse_the_other() {
    let api = TikiApi::new().await;
    let tiki = tiki_id();
    let replies =
        join_all((0..10).map(|i| api.create(&tiki, if i % 2 == 0 { 50_000 } else { 60_000 })))
            .await;
    let kept: HashSet<_> = replies
        .iter()
        .filter(|r| r.code() == 0)
        .map(|r| r.data()["transaction_amount"].as_u64())
        .collect();
    assert_eq!(kept.len(), 1, "only one amount is ever accepted");
    assert!(
        replies
            .iter()
            .all(|r| r.code() == 0 || (r.status.as_u16(), r.code()) == (409, 5))
    );
    assert_eq!(item_count(&api.store).await, 3);
}
