//! What the simulator remembers, and [`SimulatorHandle`], the in-process way
//! to read and steer it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tikivip_domain::TransactionStatus;
use time::OffsetDateTime;

use crate::faults::{Fault, FaultQueue, FaultRoute};
use crate::ipn::Ipn;
use crate::tiki::TikiRoute;
use crate::wire::Reply;

/// One signed call to the IPN API, whatever it was answered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReceivedIpn {
    /// The partner's `transaction_id` from the body, when it has one.
    pub transaction_id: Option<String>,
    /// 1 for the first IPN with this `transaction_id`, 2 for the next, …
    pub attempt: usize,
    /// The body as received: its JSON, or its text when it is not JSON.
    pub body: Value,
    pub answer: Answer,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// What the simulator answered to a call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answer {
    pub http_status: u16,
    pub body: Value,
    /// How long the answer was held back by a queued delay.
    pub delay_ms: u64,
}

/// A call refused for its signature: missing, stale or wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectedCall {
    pub route: TikiRoute,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// What the status API is made to report for a transaction, whatever the IPNs said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ForcedStatus {
    Pending,
    Success,
    Failure,
    /// Answer code 3, as for a transaction Tiki never had.
    NotFound,
}

impl ForcedStatus {
    fn reported(self) -> Option<TransactionStatus> {
        match self {
            ForcedStatus::Pending => Some(TransactionStatus::Pending),
            ForcedStatus::Success => Some(TransactionStatus::Success),
            ForcedStatus::Failure => Some(TransactionStatus::Failure),
            ForcedStatus::NotFound => None,
        }
    }
}

/// A transaction as Tiki knows it from the IPNs, by Tiki's id.
#[derive(Debug)]
struct KnownTransaction {
    transaction_id: String,
    amount: u64,
    status: TransactionStatus,
}

/// What the status API reports for one transaction. The partner's id and the
/// amount are unknown (null) for a transaction whose status was forced before
/// any IPN named it.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    tiki_transaction_id: String,
    partner_transaction_id: Option<String>,
    status: TransactionStatus,
    amount: Option<u64>,
}

#[derive(Debug, Default)]
struct State {
    ipns: Vec<ReceivedIpn>,
    webviews: Vec<Value>,
    rejected: Vec<RejectedCall>,
    known: HashMap<String, KnownTransaction>,
    forced: HashMap<String, ForcedStatus>,
    faults: FaultQueue,
    /// Tini App orders, by order id, as the order API reports them.
    orders: HashMap<String, crate::tiniapp::SimOrder>,
    /// Calls to the order API, by order id.
    order_calls: HashMap<String, usize>,
}

/// Shared access to a simulator's state; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct SimulatorHandle {
    state: Arc<Mutex<State>>,
}

impl SimulatorHandle {
    fn state(&self) -> MutexGuard<'_, State> {
        // No code path panics while holding the lock; should one ever, the
        // recording is still worth reading.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every signed IPN received, oldest first.
    pub fn ipns(&self) -> Vec<ReceivedIpn> {
        self.state().ipns.clone()
    }

    /// The signed IPNs for one partner `transaction_id`, oldest first.
    pub fn ipns_for(&self, transaction_id: &str) -> Vec<ReceivedIpn> {
        self.state()
            .ipns
            .iter()
            .filter(|ipn| ipn.transaction_id.as_deref() == Some(transaction_id))
            .cloned()
            .collect()
    }

    /// The body of every signed call to the webview API, oldest first.
    pub fn webview_requests(&self) -> Vec<Value> {
        self.state().webviews.clone()
    }

    pub(crate) fn record_webview(&self, body: &[u8]) {
        let body = serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
        self.state().webviews.push(body);
    }

    /// Every call refused for its signature, oldest first.
    pub fn rejected_calls(&self) -> Vec<RejectedCall> {
        self.state().rejected.clone()
    }

    pub fn rejected_count(&self, route: TikiRoute) -> usize {
        self.state()
            .rejected
            .iter()
            .filter(|call| call.route == route)
            .count()
    }

    /// The next `count` signed calls matching `route` suffer `fault`, after
    /// the failures queued before. A count of 0 queues nothing.
    pub fn fail(&self, route: FaultRoute, count: u32, fault: Fault) {
        self.state().faults.push(route, count, fault);
    }

    /// From now on the status API reports `status` for this transaction.
    pub fn force_status(&self, tiki_transaction_id: impl Into<String>, status: ForcedStatus) {
        self.state()
            .forced
            .insert(tiki_transaction_id.into(), status);
    }

    /// From now on the order API reports `order` (by its `id`).
    pub fn put_order(&self, order: crate::tiniapp::SimOrder) {
        self.state().orders.insert(order.id.clone(), order);
    }

    /// What the order API reports of an order; `None`: not found (code 3).
    pub fn order(&self, id: &str) -> Option<crate::tiniapp::SimOrder> {
        self.state().orders.get(id).cloned()
    }

    /// How many signed calls the order API got for an order.
    pub fn order_calls(&self, id: &str) -> usize {
        self.state().order_calls.get(id).copied().unwrap_or(0)
    }

    pub(crate) fn count_order_call(&self, uri: &http::Uri) {
        let id = crate::wire::query_param(uri, "order_id").unwrap_or_default();
        *self.state().order_calls.entry(id).or_default() += 1;
    }

    /// Forgets every call, transaction, forced status and queued failure.
    pub fn reset(&self) {
        *self.state() = State::default();
    }

    pub(crate) fn reject(&self, route: TikiRoute, reason: String) {
        self.state().rejected.push(RejectedCall {
            route,
            reason,
            received_at: OffsetDateTime::now_utc(),
        });
    }

    pub(crate) fn take_fault(&self, route: TikiRoute) -> Option<Fault> {
        self.state().faults.take(route)
    }

    /// Takes note of a well-formed IPN. One that was failed on purpose still
    /// tells which transaction it is about (Tiki created it), but its status
    /// was never received: the transaction stays as it was, PENDING when new.
    pub(crate) fn learn(&self, ipn: &Ipn, handled: bool) {
        let mut state = self.state();
        let status = if handled {
            ipn.status
        } else {
            state
                .known
                .get(&ipn.tiki_transaction_id)
                .map_or(TransactionStatus::Pending, |known| known.status)
        };
        state.known.insert(
            ipn.tiki_transaction_id.clone(),
            KnownTransaction {
                transaction_id: ipn.transaction_id.clone(),
                amount: ipn.amount,
                status,
            },
        );
    }

    /// What the status API reports; `None` means "not found".
    pub(crate) fn report(&self, tiki_transaction_id: &str) -> Option<Report> {
        let state = self.state();
        let known = state.known.get(tiki_transaction_id);
        let status = match state.forced.get(tiki_transaction_id) {
            Some(forced) => forced.reported()?,
            None => known?.status,
        };
        Some(Report {
            tiki_transaction_id: tiki_transaction_id.to_owned(),
            partner_transaction_id: known.map(|known| known.transaction_id.clone()),
            status,
            amount: known.map(|known| known.amount),
        })
    }

    pub(crate) fn record_ipn(&self, body: &[u8], reply: &Reply, delay: Duration) {
        let body = serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
        let transaction_id = body
            .get("transaction_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut state = self.state();
        let attempt = 1 + state
            .ipns
            .iter()
            .filter(|ipn| ipn.transaction_id == transaction_id)
            .count();
        state.ipns.push(ReceivedIpn {
            transaction_id,
            attempt,
            body,
            answer: Answer {
                http_status: reply.status.as_u16(),
                body: reply.body.clone(),
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            },
            received_at: OffsetDateTime::now_utc(),
        });
    }
}
