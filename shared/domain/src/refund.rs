use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::wire::Text;
use crate::{RefundId, RequestId, TikiTransactionId, Timestamp, TransactionId, Vnd};

/// Tiki's refund request (integration item 10); idempotent on `request_id`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RefundRequest {
    pub tiki_transaction_id: TikiTransactionId,
    /// The amount to refund (Tiki's field name).
    #[serde(rename = "transaction_amount")]
    pub amount: Vnd,
    pub transaction_id: TransactionId,
    pub reason: Text<500>,
    pub request_id: RequestId,
    /// Who asks: Tiki, unless an operator records a refund made by hand.
    #[serde(skip)]
    pub origin: RefundOrigin,
}

/// Who made a refund.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "made_by", rename_all = "snake_case")]
pub enum RefundOrigin {
    /// Tiki, through its refund API.
    #[default]
    Tiki,
    /// An operator, outside this system (for a payment Tiki would not
    /// honour), recorded with the operator's own reference for it.
    Operator {
        operator: Text<100>,
        reference: Text<100>,
    },
}

impl RefundRequest {
    /// The request that records an operator's refund made by hand: its
    /// `request_id` derives from the operator's reference, so recording the
    /// same refund twice makes one refund.
    pub fn by_operator(
        txn: &crate::Transaction,
        amount: Vnd,
        reason: Text<500>,
        operator: Text<100>,
        reference: Text<100>,
    ) -> Result<RefundRequest, crate::Error> {
        Ok(RefundRequest {
            tiki_transaction_id: txn.tiki_id.clone(),
            amount,
            transaction_id: txn.id.clone(),
            reason,
            request_id: RequestId::parse(format!("operator:{}", reference.as_str()))?,
            origin: RefundOrigin::Operator {
                operator,
                reference,
            },
        })
    }
}

/// A digest of what a refund request asks for, so that a `request_id` reused
/// with another body is told apart from a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn from_stored(hex: String) -> Self {
        Fingerprint(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RefundRequest {
    /// The refund this request makes, under a new id, at `created_at`.
    pub fn refund(&self, created_at: Timestamp) -> Refund {
        Refund {
            refund_id: RefundId::generate(),
            request_id: self.request_id.clone(),
            amount: self.amount,
            reason: self.reason.clone(),
            origin: self.origin.clone(),
            created_at,
        }
    }

    pub fn fingerprint(&self) -> Fingerprint {
        let mut hash = Sha256::new();
        // Ids are visible ASCII, so NUL separates fields unambiguously; the
        // free-text reason comes last.
        for part in [
            self.tiki_transaction_id.as_str(),
            self.transaction_id.as_str(),
            &self.amount.get().to_string(),
            self.reason.as_str(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        Fingerprint(hex::encode(hash.finalize()))
    }
}

/// One refund made against a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refund {
    pub refund_id: RefundId,
    pub request_id: RequestId,
    pub amount: Vnd,
    pub reason: Text<500>,
    #[serde(flatten)]
    pub origin: RefundOrigin,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

/// The answer to a refund request; the same for every replay of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundReceipt {
    pub refund_id: RefundId,
    pub request_id: RequestId,
    pub transaction_id: TransactionId,
    pub refund_amount: Vnd,
    /// All refunded on the transaction once this refund was made.
    pub refunded_amount: Vnd,
    pub remaining_amount: Vnd,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> RefundRequest {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn the_fingerprint_follows_the_body_not_its_formatting() {
        let a = request(
            r#"{"tiki_transaction_id":"t1","transaction_amount":5,"transaction_id":"T1","reason":"r","request_id":"q"}"#,
        );
        let b = request(
            "{ \"request_id\":\"q\", \"reason\":\"r\",\n \"transaction_id\":\"T1\",\"transaction_amount\":5,\"tiki_transaction_id\":\"t1\"}",
        );
        let c = request(
            r#"{"tiki_transaction_id":"t1","transaction_amount":6,"transaction_id":"T1","reason":"r","request_id":"q"}"#,
        );
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
