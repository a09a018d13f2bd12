//! Tiki's transaction status API (`GET /transaction?tiki_transaction_id=…`).
//! Unlike Tiki's other answers, its fields sit beside `code`, not under `data`.

use serde::Deserialize;
use tikivip_domain::{ResultCode, TikiRecord, TikiTransactionId, TikiView, TransactionStatus, Vnd};

use crate::Error;
use crate::wire::{self, Head};

/// What Tiki knows of one of its transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TikiStatus {
    /// Code 0.
    Found {
        status: TransactionStatus,
        amount: Option<Vnd>,
        partner_transaction_id: Option<String>,
    },
    /// Code 3.
    NotFound,
}

/// The fields of a code-0 answer.
#[derive(Deserialize)]
struct Found {
    tiki_transaction_id: Option<String>,
    partner_transaction_id: Option<String>,
    status: TransactionStatus,
    /// Read as a whole number so that an amount of 0 (which Tiki might report
    /// for a failed transaction) is not refused as a payment amount would be.
    amount: Option<u64>,
}

pub fn answer(asked: &TikiTransactionId, body: &[u8]) -> Result<TikiStatus, Error> {
    let Head { code, message } = wire::parse(body)?;
    match code {
        ResultCode::Success => {}
        ResultCode::NotFound => return Ok(TikiStatus::NotFound),
        other => return Err(Error::Code(other, message)),
    }
    let found: Found = wire::parse(body)?;
    // The answer about another transaction must not be taken for this one's.
    if let Some(answered) = found.tiki_transaction_id.filter(|id| id != asked.as_str()) {
        return Err(Error::BadResponse(format!(
            "asked about {asked}, answered about {answered}"
        )));
    }
    let amount = found
        .amount
        .map(Vnd::new)
        .transpose()
        .map_err(|error| Error::BadResponse(error.to_string()))?;
    Ok(TikiStatus::Found {
        status: found.status,
        amount,
        partner_transaction_id: found.partner_transaction_id,
    })
}

/// What the dispatcher makes of a status call: an error means Tiki could not
/// be asked, never that it does not know the transaction.
pub fn view(result: Result<TikiStatus, Error>) -> TikiView {
    match result {
        Ok(TikiStatus::Found {
            status,
            amount,
            partner_transaction_id,
        }) => TikiView::Found(TikiRecord {
            status,
            transaction_id: partner_transaction_id,
            amount,
        }),
        Ok(TikiStatus::NotFound) => TikiView::NotFound,
        Err(error) => TikiView::Unavailable(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> TikiTransactionId {
        TikiTransactionId::parse("tiki-1").unwrap()
    }

    #[test]
    fn code_zero_is_found_with_the_status_and_amount() {
        let body = br#"{"code":0,"message":"success","tiki_transaction_id":"tiki-1",
            "partner_transaction_id":"T1","status":"SUCCESS","amount":99000}"#;
        assert_eq!(
            answer(&id(), body),
            Ok(TikiStatus::Found {
                status: TransactionStatus::Success,
                amount: Some(Vnd::new(99_000).unwrap()),
                partner_transaction_id: Some("T1".into()),
            })
        );
    }

    #[test]
    fn unknown_amount_and_partner_id_are_none() {
        let body = br#"{"code":0,"message":"ok","status":"FAILURE","amount":null,"partner_transaction_id":null}"#;
        assert_eq!(
            answer(&id(), body),
            Ok(TikiStatus::Found {
                status: TransactionStatus::Failure,
                amount: None,
                partner_transaction_id: None,
            })
        );
    }

    #[test]
    fn code_three_is_not_found_and_code_two_an_error() {
        assert_eq!(
            answer(&id(), br#"{"code":3,"message":"no"}"#),
            Ok(TikiStatus::NotFound)
        );
        assert_eq!(
            answer(&id(), br#"{"code":2,"message":"busy"}"#),
            Err(Error::Code(ResultCode::SystemError, "busy".into()))
        );
    }

    #[test]
    fn an_answer_about_another_transaction_or_without_status_is_bad() {
        for body in [
            r#"{"code":0,"message":"ok","tiki_transaction_id":"tiki-2","status":"SUCCESS"}"#,
            r#"{"code":0,"message":"ok","tiki_transaction_id":"tiki-1"}"#,
            r#"{"code":0,"message":"ok","status":"REFUNDED"}"#,
            r#"{"code":0,"message":"ok","status":"SUCCESS","amount":1.5}"#,
        ] {
            assert!(
                matches!(answer(&id(), body.as_bytes()), Err(Error::BadResponse(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn found_is_a_status_not_found_is_not_found_and_an_error_is_unavailable() {
        let found = TikiStatus::Found {
            status: TransactionStatus::Pending,
            amount: None,
            partner_transaction_id: None,
        };
        assert_eq!(
            view(Ok(found)),
            TikiView::Found(TikiRecord {
                status: TransactionStatus::Pending,
                transaction_id: None,
                amount: None,
            })
        );
        assert_eq!(view(Ok(TikiStatus::NotFound)), TikiView::NotFound);
        assert!(matches!(
            view(Err(Error::Timeout)),
            TikiView::Unavailable(_)
        ));
        assert!(matches!(
            view(Err(Error::Code(ResultCode::SystemError, "busy".into()))),
            TikiView::Unavailable(reason) if reason.contains("busy")
        ));
    }
}
