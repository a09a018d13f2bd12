//! Tiki's IPN API (`POST /payment/ipn`) and what an answer means for the job
//! of delivering the IPN.

use tikivip_domain::{Attempt, ResultCode};

use crate::Error;
use crate::wire::{self, Head};

/// Tiki's answer to an IPN (HTTP 200).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpnAnswer {
    /// Code 0: Tiki has it.
    Accepted,
    /// Codes 1, 3, 4, 5 and 6: Tiki will not take it, whatever the retries.
    Refused(ResultCode, String),
    /// Code 2: Tiki failed to handle it; worth trying again.
    SystemError(String),
}

pub fn answer(body: &[u8]) -> Result<IpnAnswer, Error> {
    let Head { code, message } = wire::parse(body)?;
    Ok(match code {
        ResultCode::Success => IpnAnswer::Accepted,
        ResultCode::SystemError => IpnAnswer::SystemError(message),
        refusal => IpnAnswer::Refused(refusal, message),
    })
}

/// What one call to the IPN API comes to for the dispatcher: only a refusal
/// is final; a system error and every failure to get an answer are retried.
pub fn attempt(result: Result<IpnAnswer, Error>) -> Attempt {
    match result {
        Ok(IpnAnswer::Accepted) => Attempt::Delivered,
        Ok(IpnAnswer::Refused(code, message)) => Attempt::Rejected(code, message),
        Ok(IpnAnswer::SystemError(message)) => {
            Attempt::Failed(Error::Code(ResultCode::SystemError, message).to_string())
        }
        Err(error) => Attempt::Failed(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_zero_is_accepted_two_a_system_error_and_the_others_refusals() {
        let answer_to = |code: u8| answer(format!(r#"{{"code":{code},"message":"m"}}"#).as_bytes());
        assert_eq!(answer_to(0), Ok(IpnAnswer::Accepted));
        assert_eq!(answer_to(2), Ok(IpnAnswer::SystemError("m".into())));
        for code in [1, 3, 4, 5, 6] {
            let expected = ResultCode::from_code(code.into()).unwrap();
            assert_eq!(
                answer_to(code),
                Ok(IpnAnswer::Refused(expected, "m".into()))
            );
        }
    }

    #[test]
    fn an_unknown_code_or_a_page_is_a_bad_response() {
        for body in [
            r#"{"code":7,"message":"?"}"#,
            "<html>502</html>",
            r#"{"message":"?"}"#,
            // An array of the fields in order is not an answer (found by make fuzz).
            " [0]",
        ] {
            assert!(
                matches!(answer(body.as_bytes()), Err(Error::BadResponse(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn accepted_is_delivered_and_a_refusal_is_rejected() {
        assert_eq!(attempt(Ok(IpnAnswer::Accepted)), Attempt::Delivered);
        let refused = IpnAnswer::Refused(ResultCode::InvalidAmount, "amount".into());
        assert_eq!(
            attempt(Ok(refused)),
            Attempt::Rejected(ResultCode::InvalidAmount, "amount".into())
        );
    }

    #[test]
    fn a_system_error_and_every_error_are_failed_attempts_with_the_reason() {
        let failed = |result| match attempt(result) {
            Attempt::Failed(reason) => reason,
            other => panic!("expected a failed attempt, got {other:?}"),
        };
        assert!(failed(Ok(IpnAnswer::SystemError("busy".into()))).contains("busy"));
        assert!(failed(Err(Error::Timeout)).contains("in time"));
        assert!(failed(Err(Error::HttpStatus(503, "down".into()))).contains("503"));
        assert!(failed(Err(Error::Connect("refused".into()))).contains("refused"));
        assert!(failed(Err(Error::BadResponse("html".into()))).contains("html"));
    }
}
