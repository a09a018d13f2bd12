//! Tiki's IPN API (`POST /payment/ipn`): the partner reports a payment result.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tikivip_domain::{ResultCode, TransactionStatus};

use crate::state::SimulatorHandle;
use crate::wire::{Reply, parse_json};

#[derive(Deserialize)]
struct IpnBody {
    reference_transaction_id: String,
    transaction_amount: serde_json::Number,
    transaction_id: String,
    status: TransactionStatus,
    // Optional; only its type is checked.
    #[serde(default, rename = "partner_banking_method")]
    _partner_banking_method: Option<String>,
}

/// What Tiki learns from a well-formed IPN.
#[derive(Clone, Debug)]
pub(crate) struct Ipn {
    pub tiki_transaction_id: String,
    pub transaction_id: String,
    pub amount: u64,
    pub status: TransactionStatus,
}

/// Handles one signed IPN, or answers `replacement` instead when a failure was
/// queued. Either way the call is recorded.
pub(crate) fn receive(
    state: &SimulatorHandle,
    body: &[u8],
    replacement: Option<Reply>,
    delay: Duration,
) -> Reply {
    let parsed = parse(body);
    let handled = replacement.is_none();
    let reply = match (&parsed, replacement) {
        (_, Some(replacement)) => replacement,
        (Ok(ipn), None) => Reply::success(json!({ "transaction_id": ipn.transaction_id })),
        (Err(refusal), None) => refusal.clone(),
    };
    if let Ok(ipn) = &parsed {
        state.learn(ipn, handled);
    }
    state.record_ipn(body, &reply, delay);
    reply
}

fn parse(body: &[u8]) -> Result<Ipn, Reply> {
    let body: IpnBody =
        parse_json(body).map_err(|why| Reply::refusal(ResultCode::InvalidRequest, why))?;
    if body.reference_transaction_id.is_empty() || body.transaction_id.is_empty() {
        return Err(Reply::refusal(
            ResultCode::InvalidRequest,
            "reference_transaction_id and transaction_id must not be empty",
        ));
    }
    // Tiki's body says "number"; a payment is a positive whole number of VND.
    let amount = body
        .transaction_amount
        .as_u64()
        .filter(|amount| *amount > 0)
        .ok_or_else(|| {
            Reply::refusal(
                ResultCode::InvalidAmount,
                format!(
                    "transaction_amount must be a positive whole number, not {}",
                    body.transaction_amount
                ),
            )
        })?;
    Ok(Ipn {
        tiki_transaction_id: body.reference_transaction_id,
        transaction_id: body.transaction_id,
        amount,
        status: body.status,
    })
}
