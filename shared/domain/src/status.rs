use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Where a transaction stands. It starts PENDING and is settled once, to SUCCESS
/// or FAILURE; nothing leaves a final status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TransactionStatus {
    Pending,
    Success,
    Failure,
}

impl TransactionStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Pending => "PENDING",
            TransactionStatus::Success => "SUCCESS",
            TransactionStatus::Failure => "FAILURE",
        }
    }

    /// The only transitions there are: PENDING → SUCCESS and PENDING → FAILURE.
    pub const fn can_become(self, next: TransactionStatus) -> bool {
        matches!(
            (self, next),
            (
                TransactionStatus::Pending,
                TransactionStatus::Success | TransactionStatus::Failure
            )
        )
    }

    pub const fn is_final(self) -> bool {
        !matches!(self, TransactionStatus::Pending)
    }
}

impl fmt::Display for TransactionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TransactionStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "PENDING" => Ok(TransactionStatus::Pending),
            "SUCCESS" => Ok(TransactionStatus::Success),
            "FAILURE" => Ok(TransactionStatus::Failure),
            other => Err(Error::InvalidRequest(format!("unknown status {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TransactionStatus::*;

    #[test]
    fn pending_settles_to_success_or_failure_and_nothing_else_moves() {
        let all = [Pending, Success, Failure];
        for from in all {
            for to in all {
                let allowed = from == Pending && to != Pending;
                assert_eq!(from.can_become(to), allowed, "{from} -> {to}");
            }
        }
    }
}
