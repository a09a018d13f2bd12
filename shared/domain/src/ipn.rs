//! Notifying Tiki of a settled transaction (Tiki's IPN API, integration item 5),
//! and what to do after each attempt. Pure rules: the dispatcher does the I/O.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::wire::Text;
use crate::{
    Error, ResultCode, TikiTransactionId, Transaction, TransactionId, TransactionStatus, Vnd,
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
}

impl IpnState {
    pub const fn as_str(self) -> &'static str {
        match self {
            IpnState::Pending => "PENDING",
            IpnState::Delivered => "DELIVERED",
            IpnState::RefundRequired => "REFUND_REQUIRED",
            IpnState::Rejected => "REJECTED",
            IpnState::Exhausted => "EXHAUSTED",
        }
    }

    pub fn parse(value: &str) -> Result<IpnState, Error> {
        Ok(match value {
            "PENDING" => IpnState::Pending,
            "DELIVERED" => IpnState::Delivered,
            "REFUND_REQUIRED" => IpnState::RefundRequired,
            "REJECTED" => IpnState::Rejected,
            "EXHAUSTED" => IpnState::Exhausted,
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
    Status(TransactionStatus),
    NotFound,
    /// The status API could not be asked.
    Unavailable(String),
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

/// Delays between attempts, as data. The default is as patient as Tiki's own IPN
/// sender: 1 min, 5 min, 30 min, 1 h, 6 h, 12 h, 24 h.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule(
            [60, 300, 1_800, 3_600, 21_600, 43_200, 86_400]
                .map(Duration::from_secs)
                .to_vec(),
        )
    }
}

impl RetrySchedule {
    /// Parses `IPN_RETRY_DELAYS_SECONDS`, e.g. `1,1,1`.
    pub fn parse(seconds: &str) -> Result<RetrySchedule, Error> {
        let delays = seconds
            .split(',')
            .map(|s| s.trim().parse::<u64>().map(Duration::from_secs))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidRequest(format!("retry delays {seconds:?}: {e}")))?;
        if delays.is_empty() {
            return Err(Error::InvalidRequest(
                "retry delays must not be empty".into(),
            ));
        }
        Ok(RetrySchedule(delays))
    }

    /// Attempts in all: the first, then one after each delay.
    pub fn max_attempts(&self) -> u32 {
        self.0.len() as u32 + 1
    }

    /// The delay before the next attempt once `attempts` have failed, spread by
    /// `jitter` in [-1, 1] over ±10% so retries from one outage do not arrive
    /// together. `None` when the schedule is spent.
    pub fn delay_after(&self, attempts: u32, jitter: f64) -> Option<Duration> {
        let base = *self.0.get(attempts.checked_sub(1)? as usize)?;
        Some(base.mul_f64(1.0 + 0.1 * jitter.clamp(-1.0, 1.0)))
    }
}

impl IpnJob {
    /// Decides what follows an attempt; `attempts` already counts it.
    /// `tiki_view` is asked for only when [`IpnJob::wants_status_check`] says so.
    pub fn next(
        &self,
        attempt: &Attempt,
        tiki_view: Option<&TikiView>,
        schedule: &RetrySchedule,
        jitter: f64,
    ) -> Next {
        let ours = self.ipn.status;
        match attempt {
            Attempt::Delivered => {
                return Next::Finish(IpnState::Delivered, "Tiki answered code 0".into());
            }
            Attempt::Rejected(code, message) => {
                return Next::Finish(
                    self.refusal_state(),
                    format!("Tiki rejected the IPN with code {code}: {message}"),
                );
            }
            Attempt::Failed(_) => {}
        }
        match tiki_view {
            Some(TikiView::Status(theirs)) if *theirs == ours => {
                return Next::Finish(
                    IpnState::Delivered,
                    format!("Tiki's status API reports {theirs}"),
                );
            }
            Some(TikiView::Status(TransactionStatus::Pending))
            | Some(TikiView::Unavailable(_))
            | None => {}
            Some(TikiView::Status(theirs)) => {
                return Next::Finish(
                    self.refusal_state(),
                    format!("Tiki's status API reports {theirs}, we hold {ours}"),
                );
            }
            Some(TikiView::NotFound) => {
                return Next::Finish(
                    self.refusal_state(),
                    format!("Tiki's status API does not know the transaction we hold as {ours}"),
                );
            }
        }
        match schedule.delay_after(self.attempts, jitter) {
            Some(delay) => Next::RetryAfter(delay),
            None => Next::Exhaust,
        }
    }

    /// Whether the status API should be asked after a failed attempt.
    pub fn wants_status_check(&self, attempt: &Attempt) -> bool {
        matches!(attempt, Attempt::Failed(_)) && self.attempts >= STATUS_CHECK_AFTER
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
            attempts,
            last_error: None,
            next_attempt_at: None,
        }
    }

    fn failed() -> Attempt {
        Attempt::Failed("HTTP 503".into())
    }

    const S: TransactionStatus = TransactionStatus::Success;

    #[test]
    fn the_default_schedule_is_as_patient_as_tikis_own() {
        let s = RetrySchedule::default();
        assert_eq!(s.max_attempts(), 8);
        assert_eq!(s.delay_after(1, 0.0), Some(Duration::from_secs(60)));
        assert_eq!(s.delay_after(7, 0.0), Some(Duration::from_secs(86_400)));
        assert_eq!(s.delay_after(8, 0.0), None);
    }

    #[test]
    fn jitter_spreads_a_delay_by_at_most_ten_percent() {
        let s = RetrySchedule::parse("100").unwrap();
        assert_eq!(s.delay_after(1, 1.0), Some(Duration::from_secs(110)));
        assert_eq!(s.delay_after(1, -5.0), Some(Duration::from_secs(90)));
    }

    #[test]
    fn a_schedule_is_parsed_from_seconds() {
        assert_eq!(RetrySchedule::parse("1, 1,1").unwrap().max_attempts(), 4);
        assert!(RetrySchedule::parse("").is_err());
        assert!(RetrySchedule::parse("1,x").is_err());
    }

    #[test]
    fn code_zero_delivers() {
        assert!(matches!(
            job(S, 1).next(&Attempt::Delivered, None, &RetrySchedule::default(), 0.0),
            Next::Finish(IpnState::Delivered, _)
        ));
    }

    #[test]
    fn a_failed_attempt_is_retried_on_schedule() {
        let next = job(S, 1).next(&failed(), None, &RetrySchedule::default(), 0.0);
        assert_eq!(next, Next::RetryAfter(Duration::from_secs(60)));
    }

    #[test]
    fn a_rejection_of_a_payment_requires_a_refund() {
        for code in [1, 3, 4, 5, 6] {
            let attempt = Attempt::Rejected(ResultCode::from_code(code).unwrap(), "no".into());
            assert!(matches!(
                job(S, 1).next(&attempt, None, &RetrySchedule::default(), 0.0),
                Next::Finish(IpnState::RefundRequired, _)
            ));
        }
        let attempt = Attempt::Rejected(ResultCode::InvalidAmount, "no".into());
        let failure = job(TransactionStatus::Failure, 1);
        assert!(matches!(
            failure.next(&attempt, None, &RetrySchedule::default(), 0.0),
            Next::Finish(IpnState::Rejected, _)
        ));
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
        for view in [
            TikiView::Status(TransactionStatus::Failure),
            TikiView::NotFound,
        ] {
            assert!(matches!(
                job(S, 3).next(&failed(), Some(&view), &s, 0.0),
                Next::Finish(IpnState::RefundRequired, _)
            ));
        }
    }

    #[test]
    fn tiki_reporting_pending_keeps_the_retries_going() {
        let s = RetrySchedule::default();
        let view = TikiView::Status(TransactionStatus::Pending);
        assert_eq!(
            job(S, 3).next(&failed(), Some(&view), &s, 0.0),
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
        let view = TikiView::Status(S);
        assert!(matches!(
            job(S, 3).next(&failed(), Some(&view), &RetrySchedule::default(), 0.0),
            Next::Finish(IpnState::Delivered, _)
        ));
    }

    #[test]
    fn a_spent_schedule_exhausts_the_job() {
        let s = RetrySchedule::parse("1,1,1").unwrap();
        assert_eq!(job(S, 4).next(&failed(), None, &s, 0.0), Next::Exhaust);
    }
}
