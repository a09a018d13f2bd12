//! Notifying Tiki of a settled transaction (Tiki's IPN API, integration item 5),
//! and what to do after each attempt. Pure rules: the dispatcher does the I/O.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::wire::Text;
use crate::{
    Error, ResultCode, RetrySchedule, TikiTransactionId, Transaction, TransactionId,
    TransactionStatus, Vnd,
};

/// Tiki's IPN body, exactly as Tiki's API takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipn {
    /// Tiki's id of the transaction.
    pub reference_transaction_id: TikiTransactionId,
    pub transaction_amount: Vnd,
    /// Our id of the transaction.
    pub transaction_id: TransactionId,
    pub status: TransactionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_banking_method: Option<Text<100>>,
}

impl Ipn {
    /// The IPN for a settled transaction; `None` while it is still PENDING.
    pub fn for_settled(txn: &Transaction) -> Option<Ipn> {
        txn.status.is_final().then(|| Ipn {
            reference_transaction_id: txn.tiki_id.clone(),
            transaction_amount: txn.amount,
            transaction_id: txn.id.clone(),
            status: txn.status,
            partner_banking_method: txn.partner_banking_method.clone(),
        })
    }
}

/// Where the job of notifying Tiki stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpnState {
    /// Not yet acknowledged by Tiki; attempts go on.
    Pending,
    /// Tiki has it: it answered code 0, or its status API agrees with us.
    Delivered,
    /// Tiki refused a payment we took, or does not know it: the customer must
    /// be refunded by an operator.
    RefundRequired,
    /// Tiki refused a FAILURE notice: nothing to refund, but someone must look.
    Rejected,
    /// Every attempt of the schedule failed; the job waits in the dead-letter queue.
    Exhausted,
    /// We hold FAILURE and Tiki's status API reports SUCCESS: Tiki may be
    /// granting a membership that was never paid.
    UnpaidSuccess,
    /// Tiki's status answer names another transaction id or amount than ours:
    /// neither delivered nor refundable until someone looks.
    StatusMismatch,
}

impl IpnState {
    pub const fn as_str(self) -> &'static str {
        match self {
            IpnState::Pending => "PENDING",
            IpnState::Delivered => "DELIVERED",
            IpnState::RefundRequired => "REFUND_REQUIRED",
            IpnState::Rejected => "REJECTED",
            IpnState::Exhausted => "EXHAUSTED",
            IpnState::UnpaidSuccess => "UNPAID_SUCCESS",
            IpnState::StatusMismatch => "STATUS_MISMATCH",
        }
    }

    pub fn parse(value: &str) -> Result<IpnState, Error> {
        Ok(match value {
            "PENDING" => IpnState::Pending,
            "DELIVERED" => IpnState::Delivered,
            "REFUND_REQUIRED" => IpnState::RefundRequired,
            "REJECTED" => IpnState::Rejected,
            "EXHAUSTED" => IpnState::Exhausted,
            "UNPAID_SUCCESS" => IpnState::UnpaidSuccess,
            "STATUS_MISMATCH" => IpnState::StatusMismatch,
            other => {
                return Err(Error::InvalidRequest(format!(
                    "unknown IPN state {other:?}"
                )));
            }
        })
    }

    /// No attempt is made in a final state.
    pub const fn is_final(self) -> bool {
        !matches!(self, IpnState::Pending)
    }
}

impl fmt::Display for IpnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The job of delivering one IPN; one per settled transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpnJob {
    pub ipn: Ipn,
    pub state: IpnState,
    /// Which chain of attempts this is: 0 from the settlement, one more for
    /// each redrive. A message of an older chain is a stale copy.
    pub chain: u32,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed, or why the job ended.
    pub last_error: Option<String>,
    /// Not before: SQS can hide a message for 12 hours at most, and the
    /// schedule may ask for longer.
    pub next_attempt_at: Option<crate::Timestamp>,
}

/// What one attempt to post the IPN came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// HTTP 200 with code 0.
    Delivered,
    /// HTTP error, timeout, connection error or code 2: worth trying again.
    Failed(String),
    /// Codes 1 and 3–6: Tiki will not take it.
    Rejected(ResultCode, String),
}

/// What Tiki's status API says of the transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TikiView {
    Found(TikiRecord),
    NotFound,
    /// The status API could not be asked.
    Unavailable(String),
}

/// Tiki's record of a transaction, as its status API reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TikiRecord {
    pub status: TransactionStatus,
    /// Our id, as Tiki holds it.
    pub transaction_id: Option<String>,
    pub amount: Option<Vnd>,
}

impl TikiRecord {
    /// Whether the record is of our transaction with our amount. A SUCCESS
    /// must name both; any other status may leave them out, but not differ.
    fn matches(&self, ipn: &Ipn) -> bool {
        let id = self
            .transaction_id
            .as_deref()
            .map(|id| id == ipn.transaction_id.as_str());
        let amount = self.amount.map(|amount| amount == ipn.transaction_amount);
        match self.status {
            TransactionStatus::Success => id == Some(true) && amount == Some(true),
            _ => id != Some(false) && amount != Some(false),
        }
    }
}

/// What the dispatcher does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// The job ends in this state (never `Pending`).
    Finish(IpnState, String),
    /// Try again after this delay.
    RetryAfter(Duration),
    /// The schedule is spent: to the dead-letter queue.
    Exhaust,
}

/// After this many failed attempts the dispatcher also asks Tiki's status API.
pub const STATUS_CHECK_AFTER: u32 = 3;

impl IpnJob {
    /// Decides what follows an attempt; `attempts` already counts it.
    /// `tiki_view` is asked for when [`IpnJob::wants_status_check`] says so.
    ///
    /// Tiki's answer to an IPN is a hint: delivery is at-least-once, so Tiki
    /// may reject a repeat of an IPN it already took. Only its status API
    /// decides that a customer must be refunded, and silence decides nothing.
    pub fn next(
        &self,
        attempt: &Attempt,
        tiki_view: Option<&TikiView>,
        schedule: &RetrySchedule,
        jitter: f64,
    ) -> Next {
        let ours = self.ipn.status;
        let rejected = match attempt {
            Attempt::Delivered => {
                return Next::Finish(IpnState::Delivered, "Tiki answered code 0".into());
            }
            Attempt::Rejected(code, message) => {
                Some(format!("Tiki rejected the IPN with code {code}: {message}"))
            }
            Attempt::Failed(_) => None,
        };
        let because = |view: String| match &rejected {
            Some(rejection) => format!("{rejection}; {view}"),
            None => view,
        };
        match tiki_view {
            Some(TikiView::Found(record)) if !record.matches(&self.ipn) => {
                return Next::Finish(
                    IpnState::StatusMismatch,
                    because(format!(
                        "Tiki's status API reports {} for transaction_id {:?} and amount {:?}; we hold {ours} for {} and {} VND",
                        record.status,
                        record.transaction_id,
                        record.amount.map(Vnd::get),
                        self.ipn.transaction_id,
                        self.ipn.transaction_amount,
                    )),
                );
            }
            Some(TikiView::Found(record)) if record.status == ours => {
                return Next::Finish(
                    IpnState::Delivered,
                    because(format!("Tiki's status API reports {ours}, as we hold")),
                );
            }
            Some(TikiView::Found(record)) if record.status == TransactionStatus::Success => {
                return Next::Finish(
                    IpnState::UnpaidSuccess,
                    because(format!("Tiki's status API reports SUCCESS; we hold {ours}")),
                );
            }
            // Tiki has not recorded it yet: only a rejection makes that final.
            Some(TikiView::Found(record))
                if record.status == TransactionStatus::Pending && rejected.is_none() => {}
            Some(TikiView::Found(record)) => {
                return Next::Finish(
                    self.refusal_state(),
                    because(format!(
                        "Tiki's status API reports {}; we hold {ours}",
                        record.status
                    )),
                );
            }
            Some(TikiView::NotFound) => {
                return Next::Finish(
                    self.refusal_state(),
                    because(format!(
                        "Tiki's status API does not know the transaction we hold as {ours}"
                    )),
                );
            }
            Some(TikiView::Unavailable(_)) | None => {}
        }
        match schedule.delay_after(self.attempts, jitter) {
            Some(delay) => Next::RetryAfter(delay),
            None => Next::Exhaust,
        }
    }

    /// Whether the status API should be asked after this attempt: after every
    /// rejection, and after a failure from the [`STATUS_CHECK_AFTER`]th on.
    pub fn wants_status_check(&self, attempt: &Attempt) -> bool {
        match attempt {
            Attempt::Delivered => false,
            Attempt::Rejected(..) => true,
            Attempt::Failed(_) => self.attempts >= STATUS_CHECK_AFTER,
        }
    }

    /// A payment we took that Tiki will not honour must be refunded; a refused
    /// FAILURE notice costs the customer nothing.
    fn refusal_state(&self) -> IpnState {
        match self.ipn.status {
            TransactionStatus::Success => IpnState::RefundRequired,
            _ => IpnState::Rejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: TransactionStatus, attempts: u32) -> IpnJob {
        IpnJob {
            ipn: Ipn {
                reference_transaction_id: TikiTransactionId::parse("tiki-1").unwrap(),
                transaction_amount: Vnd::new(1000).unwrap(),
                transaction_id: TransactionId::parse("T1").unwrap(),
                status,
                partner_banking_method: None,
            },
            state: IpnState::Pending,
            chain: 0,
            attempts,
            last_error: None,
            next_attempt_at: None,
        }
    }

    fn failed() -> Attempt {
        Attempt::Failed("HTTP 503".into())
    }

    fn rejected(code: u8) -> Attempt {
        Attempt::Rejected(ResultCode::from_code(code.into()).unwrap(), "no".into())
    }

    /// Tiki's record of our transaction T1 of 1,000 VND.
    fn tiki_has(status: TransactionStatus) -> TikiView {
        TikiView::Found(TikiRecord {
            status,
            transaction_id: Some("T1".into()),
            amount: Some(Vnd::new(1000).unwrap()),
        })
    }

    fn ends_in(next: Next) -> Option<IpnState> {
        match next {
            Next::Finish(state, _) => Some(state),
            _ => None,
        }
    }

    const S: TransactionStatus = TransactionStatus::Success;
    const F: TransactionStatus = TransactionStatus::Failure;
    const P: TransactionStatus = TransactionStatus::Pending;

    #[test]
    fn code_zero_delivers() {
        assert_eq!(
            ends_in(job(S, 1).next(&Attempt::Delivered, None, &RetrySchedule::default(), 0.0)),
            Some(IpnState::Delivered)
        );
    }

    #[test]
    fn a_failed_attempt_is_retried_on_schedule() {
        let next = job(S, 1).next(&failed(), None, &RetrySchedule::default(), 0.0);
        assert_eq!(next, Next::RetryAfter(Duration::from_secs(60)));
    }

    #[test]
    fn every_rejection_asks_the_status_api() {
        for code in [1, 3, 4, 5, 6] {
            assert!(job(S, 1).wants_status_check(&rejected(code)));
        }
    }

    #[test]
    fn a_rejection_after_tiki_has_the_payment_is_delivered_not_refunded() {
        for code in [1, 3, 4, 5, 6] {
            let next = job(S, 1).next(
                &rejected(code),
                Some(&tiki_has(S)),
                &RetrySchedule::default(),
                0.0,
            );
            assert_eq!(ends_in(next), Some(IpnState::Delivered), "code {code}");
        }
    }

    #[test]
    fn a_rejection_tikis_status_confirms_requires_a_refund() {
        let s = RetrySchedule::default();
        for view in [tiki_has(P), tiki_has(F), TikiView::NotFound] {
            let next = job(S, 1).next(&rejected(5), Some(&view), &s, 0.0);
            assert_eq!(ends_in(next), Some(IpnState::RefundRequired), "{view:?}");
        }
    }

    #[test]
    fn a_rejection_while_the_status_api_is_down_is_retried_not_refunded() {
        let s = RetrySchedule::default();
        let down = TikiView::Unavailable("timeout".into());
        assert_eq!(
            job(S, 1).next(&rejected(5), Some(&down), &s, 0.0),
            Next::RetryAfter(Duration::from_secs(60))
        );
        assert_eq!(
            job(S, 8).next(&rejected(5), Some(&down), &s, 0.0),
            Next::Exhaust,
            "a spent schedule goes to the dead-letter queue, never to a refund"
        );
    }

    #[test]
    fn a_rejected_failure_notice_is_rejected_not_refunded() {
        let next = job(F, 1).next(
            &rejected(5),
            Some(&TikiView::NotFound),
            &RetrySchedule::default(),
            0.0,
        );
        assert_eq!(ends_in(next), Some(IpnState::Rejected));
    }

    #[test]
    fn the_status_api_is_asked_from_the_third_failure() {
        assert!(!job(S, 2).wants_status_check(&failed()));
        assert!(job(S, 3).wants_status_check(&failed()));
        assert!(!job(S, 3).wants_status_check(&Attempt::Delivered));
    }

    #[test]
    fn tiki_reporting_failure_or_not_found_for_a_payment_requires_a_refund() {
        let s = RetrySchedule::default();
        for view in [tiki_has(F), TikiView::NotFound] {
            assert_eq!(
                ends_in(job(S, 3).next(&failed(), Some(&view), &s, 0.0)),
                Some(IpnState::RefundRequired)
            );
        }
    }

    #[test]
    fn tiki_reporting_pending_keeps_the_retries_going() {
        let s = RetrySchedule::default();
        assert_eq!(
            job(S, 3).next(&failed(), Some(&tiki_has(P)), &s, 0.0),
            Next::RetryAfter(Duration::from_secs(1_800))
        );
        let down = TikiView::Unavailable("timeout".into());
        assert!(matches!(
            job(S, 3).next(&failed(), Some(&down), &s, 0.0),
            Next::RetryAfter(_)
        ));
    }

    #[test]
    fn tiki_agreeing_with_us_counts_as_delivered() {
        for status in [S, F] {
            assert_eq!(
                ends_in(job(status, 3).next(
                    &failed(),
                    Some(&tiki_has(status)),
                    &RetrySchedule::default(),
                    0.0
                )),
                Some(IpnState::Delivered)
            );
        }
    }

    #[test]
    fn tiki_reporting_success_for_a_failed_payment_is_an_unpaid_success() {
        let s = RetrySchedule::default();
        for attempt in [failed(), rejected(6)] {
            assert_eq!(
                ends_in(job(F, 3).next(&attempt, Some(&tiki_has(S)), &s, 0.0)),
                Some(IpnState::UnpaidSuccess)
            );
        }
    }

    #[test]
    fn a_status_answer_of_another_id_or_amount_is_a_mismatch_never_delivered() {
        let s = RetrySchedule::default();
        let record = |transaction_id: Option<&str>, amount: Option<u64>| {
            TikiView::Found(TikiRecord {
                status: S,
                transaction_id: transaction_id.map(str::to_owned),
                amount: amount.map(|a| Vnd::new(a).unwrap()),
            })
        };
        for view in [
            record(Some("T2"), Some(1000)),
            record(Some("T1"), Some(999)),
            record(None, Some(1000)),
            record(Some("T1"), None),
        ] {
            for attempt in [failed(), rejected(1)] {
                assert_eq!(
                    ends_in(job(S, 3).next(&attempt, Some(&view), &s, 0.0)),
                    Some(IpnState::StatusMismatch),
                    "{view:?}"
                );
            }
        }
    }

    #[test]
    fn a_spent_schedule_exhausts_the_job() {
        let s = RetrySchedule::parse("1,1,1").unwrap();
        assert_eq!(job(S, 4).next(&failed(), None, &s, 0.0), Next::Exhaust);
    }
}
