use serde::{Deserialize, Serialize};

use crate::wire::Text;
use crate::{
    Error, PaymentResult, Refund, RefundReceipt, RefundRequest, RequestId, Settlement,
    TikiTransactionId, Timestamp, TransactionId, TransactionStatus, Vnd,
};

/// Who pays, as Tiki describes them at creation. Kept for support, never logged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identify_code: Option<Text<100>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Text<32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fullname: Option<Text<200>>,
}

/// A transaction as Tiki asks for it, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTransaction {
    pub id: TransactionId,
    pub tiki_id: TikiTransactionId,
    pub amount: Vnd,
    pub description: Option<Text<500>>,
    pub customer: Option<Customer>,
    pub redirect_url: Option<Text<2048>>,
    pub created_at: Timestamp,
}

/// A transaction as stored: its lifecycle and the refunds made against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub id: TransactionId,
    pub tiki_id: TikiTransactionId,
    pub amount: Vnd,
    pub status: TransactionStatus,
    /// The sum of `refunds`; never more than `amount`.
    pub refunded: Vnd,
    /// In the order they were made.
    pub refunds: Vec<Refund>,
    pub partner_banking_method: Option<Text<100>>,
    pub description: Option<Text<500>>,
    pub customer: Option<Customer>,
    pub redirect_url: Option<Text<2048>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Transaction {
    /// A transaction holds at most this many refunds, which keeps it one
    /// storage item and bounds partial refunds to a sane number.
    pub const MAX_REFUNDS: usize = 100;

    pub fn remaining(&self) -> Vnd {
        // `refunded <= amount` is an invariant the store keeps inside its writes.
        self.amount.checked_sub(self.refunded).unwrap_or(Vnd::ZERO)
    }

    /// The largest `refunded` this transaction may hold before a refund of
    /// `amount`, so that after it `refunded <= self.amount`. The store puts this
    /// bound in the write's condition, which is where the rule really holds.
    pub fn max_refunded_before(&self, amount: Vnd) -> Option<Vnd> {
        self.amount.checked_sub(amount)
    }

    /// Checks a refund against this transaction as last read.
    pub fn check_refund(&self, request: &RefundRequest) -> Result<(), Error> {
        if request.tiki_transaction_id != self.tiki_id {
            return Err(Error::NotThisTransaction(format!(
                "transaction {} does not belong to tiki_transaction_id {}",
                self.id, request.tiki_transaction_id
            )));
        }
        if self.status != TransactionStatus::Success {
            return Err(Error::NotRefundable(self.status));
        }
        if request.amount > self.remaining() {
            return Err(Error::RefundExceedsRemaining {
                requested: request.amount,
                remaining: self.remaining(),
            });
        }
        if self.refunds.len() >= Self::MAX_REFUNDS {
            return Err(Error::TooManyRefunds(Self::MAX_REFUNDS));
        }
        Ok(())
    }

    /// This transaction once `refund` is appended to it, as the store's write
    /// leaves it when that write is conditioned on the refunds read here; `None`
    /// if the total would overflow (a write `check_refund` allowed cannot).
    pub fn with_refund(mut self, refund: Refund) -> Option<Transaction> {
        self.refunded = self.refunded.checked_add(refund.amount)?;
        self.updated_at = refund.created_at;
        self.refunds.push(refund);
        Some(self)
    }

    /// The answer to the refund made under `request_id`, derived from the refunds
    /// in the order they were made: a replay gets exactly the first answer.
    pub fn refund_receipt(&self, request_id: &RequestId) -> Option<RefundReceipt> {
        let mut refunded = Vnd::ZERO;
        for refund in &self.refunds {
            refunded = refunded.checked_add(refund.amount)?;
            if &refund.request_id == request_id {
                return Some(RefundReceipt {
                    refund_id: refund.refund_id.clone(),
                    request_id: refund.request_id.clone(),
                    transaction_id: self.id.clone(),
                    refund_amount: refund.amount,
                    refunded_amount: refunded,
                    remaining_amount: self.amount.checked_sub(refunded)?,
                });
            }
        }
        None
    }

    /// What a payment result does to this transaction, received at `now`.
    pub fn settle(&self, result: &PaymentResult, now: Timestamp) -> Result<Settlement, Error> {
        result.check_occurred_at(self.created_at, now)?;
        if result.amount != self.amount {
            return Err(Error::ContradictingPaymentResult(format!(
                "paid amount {} VND differs from the transaction amount {} VND",
                result.amount, self.amount
            )));
        }
        let next = result.outcome.status();
        if self.status == next {
            return Ok(Settlement::Duplicate);
        }
        if !self.status.can_become(next) {
            return Err(Error::ContradictingPaymentResult(format!(
                "transaction is already {}; a {next} result contradicts it",
                self.status
            )));
        }
        Ok(Settlement::Settled(next))
    }
}

impl NewTransaction {
    /// The transaction this becomes once stored: PENDING, nothing refunded.
    pub fn into_pending(self) -> Transaction {
        Transaction {
            id: self.id,
            tiki_id: self.tiki_id,
            amount: self.amount,
            status: TransactionStatus::Pending,
            refunded: Vnd::ZERO,
            refunds: Vec::new(),
            partner_banking_method: None,
            description: self.description,
            customer: self.customer,
            redirect_url: self.redirect_url,
            created_at: self.created_at,
            updated_at: self.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventId, PaymentOutcome};

    fn vnd(n: u64) -> Vnd {
        Vnd::new(n).unwrap()
    }

    fn paid(amount: u64) -> Transaction {
        let mut txn = NewTransaction {
            id: TransactionId::generate(),
            tiki_id: TikiTransactionId::parse("tiki-1").unwrap(),
            amount: vnd(amount),
            description: None,
            customer: None,
            redirect_url: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
        .into_pending();
        txn.status = TransactionStatus::Success;
        txn
    }

    fn refund_of(txn: &Transaction, amount: u64, request_id: &str) -> RefundRequest {
        RefundRequest {
            tiki_transaction_id: txn.tiki_id.clone(),
            amount: vnd(amount),
            transaction_id: txn.id.clone(),
            reason: Text::new("customer asked").unwrap(),
            request_id: RequestId::parse(request_id).unwrap(),
            origin: Default::default(),
        }
    }

    fn apply(txn: &mut Transaction, request: &RefundRequest) {
        *txn = txn
            .clone()
            .with_refund(request.refund(Timestamp::UNIX_EPOCH))
            .unwrap();
    }

    fn result(txn: &Transaction, outcome: PaymentOutcome, amount: u64) -> PaymentResult {
        PaymentResult {
            transaction_id: txn.id.clone(),
            outcome,
            amount: vnd(amount),
            partner_banking_method: None,
            event_id: EventId::parse("e1").unwrap(),
            occurred_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn only_a_success_transaction_can_be_refunded() {
        let mut txn = paid(1000);
        let request = refund_of(&txn, 10, "r1");
        txn.status = TransactionStatus::Pending;
        assert_eq!(
            txn.check_refund(&request),
            Err(Error::NotRefundable(TransactionStatus::Pending))
        );
        txn.status = TransactionStatus::Failure;
        assert_eq!(
            txn.check_refund(&request).unwrap_err().code(),
            crate::ResultCode::Cancelled
        );
    }

    #[test]
    fn refunds_never_exceed_the_transaction_amount() {
        let mut txn = paid(1000);
        let first = refund_of(&txn, 600, "r1");
        apply(&mut txn, &first);
        assert_eq!(
            txn.check_refund(&refund_of(&txn, 401, "r2")),
            Err(Error::RefundExceedsRemaining {
                requested: vnd(401),
                remaining: vnd(400)
            })
        );
        assert_eq!(txn.check_refund(&refund_of(&txn, 400, "r2")), Ok(()));
        assert_eq!(txn.max_refunded_before(vnd(400)), Some(vnd(600)));
    }

    #[test]
    fn a_refund_names_its_own_tiki_transaction() {
        let txn = paid(1000);
        let mut request = refund_of(&txn, 10, "r1");
        request.tiki_transaction_id = TikiTransactionId::parse("someone-else").unwrap();
        assert!(matches!(
            txn.check_refund(&request),
            Err(Error::NotThisTransaction(_))
        ));
    }

    #[test]
    fn a_receipt_is_derived_from_the_refunds_up_to_it() {
        let mut txn = paid(1000);
        let (r1, r2) = (refund_of(&txn, 100, "r1"), refund_of(&txn, 250, "r2"));
        apply(&mut txn, &r1);
        apply(&mut txn, &r2);
        let first = txn
            .refund_receipt(&RequestId::parse("r1").unwrap())
            .unwrap();
        assert_eq!(
            (first.refunded_amount, first.remaining_amount),
            (vnd(100), vnd(900))
        );
        let second = txn
            .refund_receipt(&RequestId::parse("r2").unwrap())
            .unwrap();
        assert_eq!(
            (second.refunded_amount, second.remaining_amount),
            (vnd(350), vnd(650))
        );
        assert!(
            txn.refund_receipt(&RequestId::parse("r3").unwrap())
                .is_none()
        );
    }

    #[test]
    fn a_payment_result_settles_a_pending_transaction_once() {
        let mut txn = paid(1000);
        txn.status = TransactionStatus::Pending;
        assert_eq!(
            txn.settle(
                &result(&txn, PaymentOutcome::Success, 1000),
                Timestamp::UNIX_EPOCH
            ),
            Ok(Settlement::Settled(TransactionStatus::Success))
        );
        txn.status = TransactionStatus::Success;
        assert_eq!(
            txn.settle(
                &result(&txn, PaymentOutcome::Success, 1000),
                Timestamp::UNIX_EPOCH
            ),
            Ok(Settlement::Duplicate)
        );
        assert!(
            txn.settle(
                &result(&txn, PaymentOutcome::Failure, 1000),
                Timestamp::UNIX_EPOCH
            )
            .is_err()
        );
        assert!(
            txn.settle(
                &result(&txn, PaymentOutcome::Success, 999),
                Timestamp::UNIX_EPOCH
            )
            .is_err()
        );
    }

    #[test]
    fn a_payment_result_must_have_occurred_between_the_creation_and_now() {
        let mut txn = paid(1000);
        txn.status = TransactionStatus::Pending;
        let created = Timestamp::UNIX_EPOCH + time::Duration::days(20_000);
        txn.created_at = created;
        let now = created + time::Duration::hours(1);
        let at = |occurred_at: Timestamp| {
            let mut r = result(&txn, PaymentOutcome::Success, 1000);
            r.occurred_at = occurred_at;
            txn.settle(&r, now)
        };
        // Clock skew of up to the signature window is allowed either way.
        assert!(at(created - time::Duration::minutes(4)).is_ok());
        assert!(at(now + time::Duration::minutes(4)).is_ok());
        for bad in [
            created - time::Duration::minutes(6),
            now + time::Duration::minutes(6),
            time::macros::datetime!(0000-01-01 00:00:00 +23:59),
            time::macros::datetime!(9999-12-31 23:59:59.999999999 -23:59),
        ] {
            let err = at(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{bad}: {err:?}");
            assert!(err.to_string().contains("occurred_at"), "{err}");
        }
    }

    #[test]
    fn a_payment_of_another_amount_is_refused() {
        let mut txn = paid(1000);
        txn.status = TransactionStatus::Pending;
        assert!(matches!(
            txn.settle(
                &result(&txn, PaymentOutcome::Success, 1001),
                Timestamp::UNIX_EPOCH
            ),
            Err(Error::ContradictingPaymentResult(_))
        ));
    }
}
