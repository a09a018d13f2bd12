//! Mixed, signed traffic through the stack's HTTP API, as its three callers
//! send it: Tiki creates, refunds (with replays and concurrent duplicates)
//! and looks up; the payment core reports payment results (with duplicates);
//! the Tini App platform notifies orders. Each caller retries a call that got
//! no answer, or a system error, as the real ones do, so that every call ends
//! with an answer it can act on; what each answer said is kept for the audit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};
use tiki_simulator::{SimOrder, SimulatorHandle, notification};
use tikivip_bench::events::{Client, HttpCall};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What a caller makes of one call.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// HTTP 200, code 0: the envelope's `data`.
    Ok(Value),
    /// A refusal the caller acts on (any code but 0 and 2).
    Refused(i64),
    /// No answer, or a system error (code 2, or no envelope): retried.
    Failed,
}

/// A call that failed: when it was sent and answered, for the audit to
/// match against the fault windows.
#[derive(Debug)]
pub struct Failure {
    pub sent: Instant,
    pub answered: Instant,
    pub what: String,
}

#[derive(Clone, Debug)]
pub struct KnownRefund {
    pub request_id: String,
    pub amount: u64,
    /// The first answer; `None` when none came before the end.
    pub answer: Option<Answer>,
}

/// What the callers know of one transaction.
#[derive(Clone, Debug)]
pub struct KnownTransaction {
    pub id: String,
    pub tiki_id: String,
    pub amount: u64,
    /// A payment result was sent (only one outcome is ever sent).
    pub payment_sent: bool,
    /// The status the payment core was answered with.
    pub settled: Option<String>,
    pub refunds: Vec<KnownRefund>,
}

#[derive(Default)]
pub struct Known {
    pub transactions: Vec<KnownTransaction>,
    /// Two answers to one request that differ (a replay, a duplicate).
    pub mismatches: Vec<String>,
    /// Calls the callers gave up on, by kind.
    pub unanswered: HashMap<&'static str, u64>,
    /// Refusals the traffic never asks for (a create, a payment result).
    pub unexpected_refusals: Vec<String>,
}

pub struct Traffic {
    http: reqwest::Client,
    base: String,
    simulator: SimulatorHandle,
    pub requests: AtomicU64,
    pub failures: Mutex<Vec<Failure>>,
    pub known: Mutex<Known>,
    next_id: AtomicU64,
    run: String,
}

impl Traffic {
    pub fn new(base: String, simulator: SimulatorHandle) -> Traffic {
        Traffic {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            base,
            simulator,
            requests: AtomicU64::new(0),
            failures: Mutex::new(Vec::new()),
            known: Mutex::new(Known::default()),
            next_id: AtomicU64::new(0),
            run: uuid::Uuid::now_v7().simple().to_string()[..12].to_owned(),
        }
    }

    fn unique(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{}-{n}", self.run)
    }

    /// One call, signed now.
    async fn send(&self, call: &HttpCall, client: &Client) -> Answer {
        let sent = Instant::now();
        let mut request = self.http.request(
            call.method.clone(),
            format!("{}{}", self.base, call.path_and_query),
        );
        for (name, value) in call.signature_headers(client) {
            request = request.header(name, value);
        }
        if let Some(body) = &call.body {
            request = request
                .header("content-type", "application/json")
                .body(body.clone());
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let (answer, why) = match request.send().await {
            Err(error) => (Answer::Failed, format!("no answer: {error}")),
            Ok(response) => {
                let status = response.status().as_u16();
                match response.json::<Value>().await {
                    Ok(envelope) => match envelope["code"].as_i64() {
                        Some(0) if status == 200 => {
                            (Answer::Ok(envelope["data"].clone()), String::new())
                        }
                        Some(code) if code != 2 && status != 200 => {
                            (Answer::Refused(code), String::new())
                        }
                        _ => (Answer::Failed, format!("{status} {envelope}")),
                    },
                    Err(error) => (
                        Answer::Failed,
                        format!("{status}, not an envelope: {error}"),
                    ),
                }
            }
        };
        if answer == Answer::Failed {
            self.failures.lock().expect("not poisoned").push(Failure {
                sent,
                answered: Instant::now(),
                what: format!("{}: {why}", call.route_key),
            });
        }
        answer
    }

    /// Sends until an answer the caller can act on, backing off with jitter;
    /// `None` when `until` comes first.
    async fn answered(&self, call: &HttpCall, client: &Client, until: Instant) -> Option<Answer> {
        let mut wait = Duration::from_millis(200);
        loop {
            match self.send(call, client).await {
                Answer::Failed => {}
                answer => return Some(answer),
            }
            if Instant::now() + wait > until {
                return None;
            }
            tokio::time::sleep(wait + Duration::from_millis(fastrand::u64(0..200))).await;
            wait = (wait * 2).min(Duration::from_secs(3));
        }
    }

    fn gave_up(&self, kind: &'static str) {
        *self
            .known
            .lock()
            .expect("not poisoned")
            .unanswered
            .entry(kind)
            .or_default() += 1;
    }

    /// One caller: actions drawn at random, `every` apart, until `stop`;
    /// retries go on until `until`.
    pub async fn caller(&self, every: Duration, stop: Instant, until: Instant) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while Instant::now() < stop {
            ticks.tick().await;
            match fastrand::u32(0..100) {
                0..20 => self.create(until).await,
                20..45 => self.pay(until).await,
                45..68 => self.refund(until).await,
                68..75 => self.replay_a_refund(until).await,
                75..90 => self.look_up(until).await,
                _ => self.notify_an_order(until).await,
            }
        }
    }

    async fn create(&self, until: Instant) {
        let amount = fastrand::u64(10..=2_000) * 1_000;
        let tiki_id = self.unique("soak");
        let call = HttpCall::post(
            "/v1/transactions",
            "POST /v1/transactions",
            json!({
                "tiki_transaction_id": tiki_id,
                "transaction_amount": amount,
                "description": "TikiVIP 12 tháng",
                "redirect_url": "https://tiki.vn/tikivip/result"
            })
            .to_string(),
        );
        match self.answered(&call, &Client::dev_tiki(), until).await {
            Some(Answer::Ok(data)) => {
                let id = data["transaction_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                self.known
                    .lock()
                    .expect("not poisoned")
                    .transactions
                    .push(KnownTransaction {
                        id,
                        tiki_id,
                        amount,
                        payment_sent: false,
                        settled: None,
                        refunds: Vec::new(),
                    });
            }
            Some(refused) => self.unexpected(format!("create: {refused:?}")),
            None => self.gave_up("create"),
        }
    }

    fn unexpected(&self, what: String) {
        self.known
            .lock()
            .expect("not poisoned")
            .unexpected_refusals
            .push(what);
    }

    /// A transaction not yet paid, now marked as being paid.
    fn to_pay(&self) -> Option<KnownTransaction> {
        let mut known = self.known.lock().expect("not poisoned");
        let waiting: Vec<usize> = (0..known.transactions.len())
            .filter(|&i| !known.transactions[i].payment_sent)
            .collect();
        let at = *waiting.get(fastrand::usize(0..waiting.len().max(1)))?;
        known.transactions[at].payment_sent = true;
        Some(known.transactions[at].clone())
    }

    async fn pay(&self, until: Instant) {
        let Some(txn) = self.to_pay() else {
            return self.create(until).await;
        };
        let status = if fastrand::u32(0..10) < 9 {
            "SUCCESS"
        } else {
            "FAILURE"
        };
        let call = HttpCall::post(
            "/v1/ipn",
            "POST /v1/ipn",
            json!({
                "transaction_id": txn.id,
                "status": status,
                "amount": txn.amount,
                "event_id": format!("ev-{}", txn.id),
                "occurred_at": OffsetDateTime::now_utc().format(&Rfc3339).expect("formats"),
                "partner_banking_method": "VISA"
            })
            .to_string(),
        );
        // A tenth of the time the payment core sends its result twice at once.
        let copies = if fastrand::u32(0..10) == 0 { 2 } else { 1 };
        let partner = Client::dev_partner();
        let answers = join_all((0..copies).map(|_| self.answered(&call, &partner, until))).await;
        for answer in answers {
            match answer {
                Some(Answer::Ok(data)) => {
                    let settled = data["status"].as_str().map(str::to_owned);
                    self.with_transaction(&txn.id, |known| known.settled = settled);
                }
                Some(refused) => {
                    self.unexpected(format!("payment result of {}: {refused:?}", txn.id))
                }
                None => self.gave_up("payment result"),
            }
        }
    }

    fn with_transaction(&self, id: &str, change: impl FnOnce(&mut KnownTransaction)) {
        let mut known = self.known.lock().expect("not poisoned");
        if let Some(txn) = known.transactions.iter_mut().find(|t| t.id == id) {
            change(txn);
        }
    }

    fn refund_call(txn: &KnownTransaction, amount: u64, request_id: &str) -> HttpCall {
        HttpCall::post(
            "/v1/refunds",
            "POST /v1/refunds",
            json!({
                "tiki_transaction_id": txn.tiki_id,
                "transaction_amount": amount,
                "transaction_id": txn.id,
                "reason": "soak",
                "request_id": request_id
            })
            .to_string(),
        )
    }

    async fn refund(&self, until: Instant) {
        let txn = {
            let known = self.known.lock().expect("not poisoned");
            let paid: Vec<&KnownTransaction> = known
                .transactions
                .iter()
                .filter(|t| t.settled.as_deref() == Some("SUCCESS"))
                .collect();
            if paid.is_empty() {
                None
            } else {
                Some(paid[fastrand::usize(0..paid.len())].clone())
            }
        };
        let Some(txn) = txn else {
            return self.pay(until).await;
        };
        // Up to a third more than is left: some refunds must be refused.
        let left: u64 = txn.amount
            - txn
                .refunds
                .iter()
                .filter(|r| matches!(r.answer, Some(Answer::Ok(_))))
                .map(|r| r.amount)
                .sum::<u64>();
        let amount = fastrand::u64(1..=(left * 4 / 3 / 1_000).max(1)) * 1_000;
        let request_id = self.unique("refund");
        let call = Self::refund_call(&txn, amount, &request_id);
        // A tenth of the time Tiki sends the same refund twice at once.
        let copies = if fastrand::u32(0..10) == 0 { 2 } else { 1 };
        let tiki = Client::dev_tiki();
        let answers = join_all((0..copies).map(|_| self.answered(&call, &tiki, until))).await;
        if answers.len() == 2
            && answers[0].is_some()
            && answers[1].is_some()
            && answers[0] != answers[1]
        {
            self.known
                .lock()
                .expect("not poisoned")
                .mismatches
                .push(format!(
                    "refund {request_id} sent twice at once: {:?} and {:?}",
                    answers[0], answers[1]
                ));
        }
        let answer = answers.into_iter().flatten().next();
        if answer.is_none() {
            self.gave_up("refund");
        }
        self.with_transaction(&txn.id, |known| {
            known.refunds.push(KnownRefund {
                request_id,
                amount,
                answer,
            })
        });
    }

    async fn replay_a_refund(&self, until: Instant) {
        let replay = {
            let known = self.known.lock().expect("not poisoned");
            let answered: Vec<(&KnownTransaction, &KnownRefund)> = known
                .transactions
                .iter()
                .flat_map(|t| t.refunds.iter().map(move |r| (t, r)))
                .filter(|(_, r)| matches!(r.answer, Some(Answer::Ok(_))))
                .collect();
            if answered.is_empty() {
                None
            } else {
                let (txn, refund) = answered[fastrand::usize(0..answered.len())];
                Some((txn.clone(), refund.clone()))
            }
        };
        let Some((txn, refund)) = replay else {
            return self.refund(until).await;
        };
        let call = Self::refund_call(&txn, refund.amount, &refund.request_id);
        match self.answered(&call, &Client::dev_tiki(), until).await {
            Some(answer) if Some(&answer) != refund.answer.as_ref() => self
                .known
                .lock()
                .expect("not poisoned")
                .mismatches
                .push(format!(
                    "refund {} replayed: {answer:?}, first {:?}",
                    refund.request_id, refund.answer
                )),
            Some(_) => {}
            None => self.gave_up("refund replay"),
        }
    }

    async fn look_up(&self, until: Instant) {
        let id = {
            let known = self.known.lock().expect("not poisoned");
            if known.transactions.is_empty() {
                return;
            }
            known.transactions[fastrand::usize(0..known.transactions.len())]
                .id
                .clone()
        };
        let call = HttpCall::get(
            &format!("/v1/transactions/{id}"),
            "GET /v1/transactions/{transaction_id}",
        );
        if self
            .answered(&call, &Client::dev_tiki(), until)
            .await
            .is_none()
        {
            self.gave_up("look-up");
        }
    }

    async fn notify_an_order(&self, until: Instant) {
        let order = SimOrder::new(self.unique("order"), "completed", 99_000);
        self.simulator.put_order(order.clone());
        let body = notification(&self.unique("message"), &order, OffsetDateTime::now_utc());
        let call = HttpCall::post("/v1/tiniapp/ipn", "POST /v1/tiniapp/ipn", body.to_string());
        match self.answered(&call, &Client::dev_tiniapp(), until).await {
            Some(Answer::Ok(_)) => {}
            Some(refused) => self.unexpected(format!("Tini App notification: {refused:?}")),
            None => self.gave_up("Tini App notification"),
        }
    }
}
