//! The money rules as properties, against the emulator: proptest draws
//! sequences of refunds and of payment results (with replays and concurrent
//! groups), runs them through the real handlers and store, and checks the
//! rules after every step. A bounded number of cases runs in `make test`;
//! a failure is shrunk and kept in `properties.proptest-regressions`, which
//! every later run replays first.

use std::collections::HashMap;

use futures::future::join_all;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::Value;
use tikivip_domain::wire::Text;
use tikivip_domain::{
    EventId, PaymentOutcome, PaymentResult, RefundRequest, Settlement, Timestamp, TransactionId,
    TransactionStatus, Vnd,
};
use tikivip_it::*;

const AMOUNT: u64 = 100_000;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

fn check(holds: bool, why: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if holds {
        Ok(())
    } else {
        Err(TestCaseError::fail(why()))
    }
}

// ------------------------------------------------------------------ refunds

#[derive(Clone, Debug)]
enum RefundStep {
    /// Tiki's refund, `request` naming one of a few request ids (so that
    /// replays, and reuses with another amount, come up); request ids are
    /// unique in the whole table, so each case's are its transaction's.
    Tiki { request: u8, amount: u64 },
    /// Several of Tiki's refunds at once.
    Concurrent(Vec<(u8, u64)>),
    /// An operator records a refund made by hand.
    Operator { reference: u8, amount: u64 },
}

fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![1..=AMOUNT, (1..=10u64).prop_map(|n| n * 10_000)]
}

fn refund_step() -> impl Strategy<Value = RefundStep> {
    prop_oneof![
        4 => (0..5u8, amount()).prop_map(|(request, amount)| RefundStep::Tiki { request, amount }),
        2 => prop::collection::vec((0..5u8, amount()), 2..5).prop_map(RefundStep::Concurrent),
        1 => (0..3u8, amount()).prop_map(|(reference, amount)| RefundStep::Operator { reference, amount }),
    ]
}

/// What the rules say the transaction holds: each refund made, by request id,
/// with its amount and the first answer it got.
#[derive(Default)]
struct Refunds {
    made: HashMap<String, (u64, Value)>,
}

impl Refunds {
    fn total(&self) -> u64 {
        self.made.values().map(|(amount, _)| amount).sum()
    }

    /// One answer to a refund of `amount` under `request_id`, sent alone or
    /// with others: a success is new (within the amount) or the first answer
    /// again; a refusal leaves nothing.
    fn answered(
        &mut self,
        request_id: &str,
        amount: u64,
        answer: Option<Value>,
        alone: bool,
    ) -> Result<(), TestCaseError> {
        let before = self.total();
        match (self.made.get(request_id), answer) {
            (Some((first_amount, first)), answer) if *first_amount == amount => {
                check(answer.as_ref() == Some(first), || {
                    format!("the replay of {request_id} got {answer:?}, first {first}")
                })
            }
            (Some(_), answer) => check(answer.is_none(), || {
                format!("{request_id} reused for another amount was accepted: {answer:?}")
            }),
            (None, Some(answer)) => {
                check(before + amount <= AMOUNT, || {
                    format!("{request_id} of {amount} accepted over {before} refunded")
                })?;
                self.made.insert(request_id.to_owned(), (amount, answer));
                Ok(())
            }
            (None, None) => check(!alone || before + amount > AMOUNT, || {
                format!("{request_id} of {amount} refused with {before} refunded")
            }),
        }
    }
}

async fn run_refunds(api: &TikiApi, steps: Vec<RefundStep>) -> Result<(), TestCaseError> {
    let id = api.paid(&tiki_id(), AMOUNT).await;
    let txn = api.lookup(&id).await.ok().clone();
    let mut model = Refunds::default();
    for step in steps {
        match step {
            RefundStep::Tiki { request, amount } => {
                let request_id = format!("{id}-r-{request}");
                let reply = api.refund(&txn, amount, &request_id).await;
                let answer = (reply.code() == 0).then(|| reply.ok().clone());
                model.answered(&request_id, amount, answer, true)?;
            }
            RefundStep::Concurrent(group) => {
                let request_ids: Vec<String> = group
                    .iter()
                    .map(|(request, _)| format!("{id}-r-{request}"))
                    .collect();
                let replies = join_all(
                    group
                        .iter()
                        .zip(&request_ids)
                        .map(|((_, amount), request_id)| api.refund(&txn, *amount, request_id)),
                )
                .await;
                for (((_, amount), request_id), reply) in
                    group.iter().zip(&request_ids).zip(replies)
                {
                    let answer = (reply.code() == 0).then(|| reply.ok().clone());
                    model.answered(request_id, *amount, answer, false)?;
                }
            }
            RefundStep::Operator { reference, amount } => {
                let stored = api
                    .store
                    .transaction(&TransactionId::parse(id.as_str()).unwrap())
                    .await
                    .unwrap()
                    .unwrap();
                let request = RefundRequest::by_operator(
                    &stored,
                    Vnd::new(amount).unwrap(),
                    Text::new("refunded at the counter").unwrap(),
                    Text::new("ops-1").unwrap(),
                    Text::new(format!("{id}-ref-{reference}")).unwrap(),
                )
                .unwrap();
                let answer = api
                    .store
                    .refund(&request, Timestamp::now_utc())
                    .await
                    .ok()
                    .map(|refunded| serde_json::to_value(refunded.receipt).unwrap());
                model.answered(request.request_id.as_str(), amount, answer, true)?;
            }
        }
        let looked_up = api.lookup(&id).await.ok().clone();
        let listed: u64 = looked_up["refunds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|refund| refund["amount"].as_u64().unwrap())
            .sum();
        let refunded = looked_up["refunded_amount"].as_u64().unwrap();
        check(refunded == listed && refunded == model.total(), || {
            format!(
                "refunded_amount {refunded}, listed {listed}, made {}",
                model.total()
            )
        })?;
        check(refunded <= AMOUNT, || {
            format!("{refunded} refunded of {AMOUNT}")
        })?;
    }
    Ok(())
}

#[test]
fn any_sequence_of_refunds_stays_within_the_amount_and_every_replay_gets_its_first_answer() {
    let runtime = runtime();
    let api = runtime.block_on(TikiApi::new());
    let steps = prop::collection::vec(refund_step(), 1..8);
    runner(16)
        .run(&steps, |steps| runtime.block_on(run_refunds(&api, steps)))
        .unwrap();
}

// ---------------------------------------------------------- payment results

#[derive(Clone, Debug)]
struct Sent {
    success: bool,
    /// The transaction's amount, or one dong more.
    right_amount: bool,
    event: u8,
}

fn sent() -> impl Strategy<Value = Sent> {
    (any::<bool>(), prop::bool::weighted(0.8), 0..3u8).prop_map(|(success, right_amount, event)| {
        Sent {
            success,
            right_amount,
            event,
        }
    })
}

async fn run_payment_results(api: &TikiApi, groups: Vec<Vec<Sent>>) -> Result<(), TestCaseError> {
    let id = TransactionId::parse(api.created(&tiki_id(), AMOUNT).await).unwrap();
    let mut accepted: Option<TransactionStatus> = None;
    for group in groups {
        let results: Vec<PaymentResult> = group
            .iter()
            .map(|sent| PaymentResult {
                transaction_id: id.clone(),
                outcome: if sent.success {
                    PaymentOutcome::Success
                } else {
                    PaymentOutcome::Failure
                },
                amount: Vnd::new(AMOUNT + u64::from(!sent.right_amount)).unwrap(),
                partner_banking_method: None,
                event_id: EventId::parse(format!("ev-{}", sent.event)).unwrap(),
                occurred_at: Timestamp::now_utc(),
            })
            .collect();
        let settled = join_all(
            results
                .iter()
                .map(|result| api.store.settle(result, Timestamp::now_utc())),
        )
        .await;
        for (result, settled) in results.iter().zip(settled) {
            let status = result.outcome.status();
            match settled {
                Ok(Settlement::Settled(to)) => {
                    check(accepted.is_none() && to == status, || {
                        format!("{result:?} settled to {to} after {accepted:?}")
                    })?;
                    check(result.amount.get() == AMOUNT, || {
                        format!("a wrong amount settled: {result:?}")
                    })?;
                    accepted = Some(to);
                }
                Ok(Settlement::Duplicate) => {
                    check(result.amount.get() == AMOUNT, || {
                        format!("a wrong amount was a duplicate: {result:?}")
                    })?;
                }
                Err(_) => {}
            }
        }
    }
    let stored = api.store.transaction(&id).await.unwrap().unwrap();
    let job = api.store.ipn_job(&id).await.unwrap();
    match accepted {
        Some(status) => {
            check(stored.status == status, || {
                format!("{} stored, {status} accepted first", stored.status)
            })?;
            let job = job.ok_or_else(|| TestCaseError::fail("no IPN job"))?;
            check(job.ipn.status == status && job.chain == 0, || {
                format!("the IPN job says {:?}", job.ipn)
            })?;
        }
        None => {
            check(stored.status == TransactionStatus::Pending, || {
                format!("{} with no result accepted", stored.status)
            })?;
            check(job.is_none(), || {
                "an IPN job with no result accepted".into()
            })?;
        }
    }
    Ok(())
}

#[test]
fn any_sequence_of_payment_results_settles_on_the_first_accepted_with_one_ipn_job() {
    let runtime = runtime();
    let api = runtime.block_on(TikiApi::new());
    let groups = prop::collection::vec(prop::collection::vec(sent(), 1..4), 1..5);
    runner(16)
        .run(&groups, |groups| {
            runtime.block_on(run_payment_results(&api, groups))
        })
        .unwrap();
}
