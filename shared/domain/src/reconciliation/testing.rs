//! Rows and formats for the module's unit tests.

use time::macros::datetime;

use super::{ReconciliationFormat, ReconciliationRow};
use crate::{TikiTransactionId, TransactionId, TransactionStatus, Vnd};

/// The format of `vars` over partner `vnptmoney`.
pub fn format_with(vars: &[(&str, &str)]) -> ReconciliationFormat {
    ReconciliationFormat::from_vars(|name| {
        [("RECONCILIATION_PARTNER_NAME", "vnptmoney")]
            .iter()
            .chain(vars)
            .rev()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .unwrap()
}

/// The `n`th row of a day, in transaction-id order.
pub fn row(n: u64) -> ReconciliationRow {
    let at = datetime!(2023-04-14 08:00 +7);
    ReconciliationRow {
        tiki_transaction_id: TikiTransactionId::parse(format!("tiki-{n:08}")).unwrap(),
        transaction_id: TransactionId::parse(format!("T{n:032x}")).unwrap(),
        amount: Vnd::new(100_000).unwrap(),
        status: TransactionStatus::Success,
        refunded_amount: Vnd::ZERO,
        created_at: at,
        updated_at: at,
    }
}
