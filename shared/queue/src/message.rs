//! The message formats on the queue (a job, a dead letter, what the
//! dispatcher receives) and how a body is read: apart from the SQS calls.

use serde::{Deserialize, Serialize};
use tikivip_domain::{Ipn, Timestamp, TransactionId};

use crate::Error;

/// One IPN job on the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpnMessage {
    pub transaction_id: TransactionId,
    /// The chain of attempts it belongs to ([`tikivip_domain::IpnJob::chain`]).
    #[serde(default)]
    pub chain: u32,
}

/// A message as the dispatcher receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub message: IpnMessage,
    /// It is a dead letter, moved back by SQS's own redrive (the console's
    /// "start DLQ redrive"): the one copy that may reopen a spent job.
    pub dead_letter: bool,
}

/// An IPN job that spent its schedule, as it waits in the dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    #[serde(flatten)]
    pub message: IpnMessage,
    /// What was not delivered, for whoever reads the dead-letter queue.
    pub ipn: Ipn,
    pub attempts: u32,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub dead_at: Timestamp,
}

/// Reads an IPN job from a message body: a plain job, or a dead letter.
pub fn parse(body: &str) -> Result<IpnMessage, Error> {
    received(body).map(|r| r.message)
}

/// Reads a message as the dispatcher receives it, telling a dead letter apart.
pub fn received(body: &str) -> Result<Received, Error> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(flatten)]
        message: IpnMessage,
        dead_at: Option<String>,
    }
    let body: Body = serde_json::from_str(body).map_err(|e| Error::Malformed(e.to_string()))?;
    Ok(Received {
        message: body.message,
        dead_letter: body.dead_at.is_some(),
    })
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("IPN messages serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Jobs enqueued before messages stopped carrying the IPN (during a
    /// deployment) are still read: the dispatcher takes the IPN from the
    /// transaction either way.
    #[test]
    fn a_message_that_still_carries_its_ipn_is_read() {
        let body = r#"{"transaction_id":"T0193a1b2c3d4e5f60718293a4b5c6d7e","ipn":{"reference_transaction_id":"88062110977884170","transaction_amount":99000,"transaction_id":"T0193a1b2c3d4e5f60718293a4b5c6d7e","status":"SUCCESS"},"chain":1}"#;
        let received = received(body).unwrap();
        assert_eq!(
            received.message,
            IpnMessage {
                transaction_id: TransactionId::parse("T0193a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
                chain: 1,
            }
        );
        assert!(!received.dead_letter);
    }

    #[test]
    fn a_dead_letter_is_told_apart_and_keeps_its_ipn() {
        let letter = DeadLetter {
            message: IpnMessage {
                transaction_id: TransactionId::parse("T0193a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
                chain: 0,
            },
            ipn: Ipn {
                reference_transaction_id: tikivip_domain::TikiTransactionId::parse(
                    "88062110977884170",
                )
                .unwrap(),
                transaction_amount: tikivip_domain::Vnd::new(99_000).unwrap(),
                transaction_id: TransactionId::parse("T0193a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
                status: tikivip_domain::TransactionStatus::Success,
                partner_banking_method: None,
            },
            attempts: 8,
            last_error: Some("HTTP 503".into()),
            dead_at: Timestamp::now_utc(),
        };
        let body = to_json(&letter);
        assert!(body.contains("\"reference_transaction_id\""), "{body}");
        let received = received(&body).unwrap();
        assert!(received.dead_letter);
        assert_eq!(received.message, letter.message);
    }
}
