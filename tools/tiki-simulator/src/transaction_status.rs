//! Tiki's transaction status API (`GET /transaction?tiki_transaction_id=…`):
//! what Tiki knows of one of its transactions. Unlike the other APIs, its
//! fields sit beside `code` rather than under `data` (SPEC.md Part 1, item 4).

use http::{StatusCode, Uri};
use serde::Serialize;
use tikivip_domain::ResultCode;

use crate::state::{Report, SimulatorHandle};
use crate::wire::{Reply, query_param};

#[derive(Serialize)]
struct StatusAnswer {
    code: ResultCode,
    message: &'static str,
    #[serde(flatten)]
    report: Report,
}

pub(crate) fn answer(state: &SimulatorHandle, uri: &Uri) -> Reply {
    let Some(tiki_transaction_id) =
        query_param(uri, "tiki_transaction_id").filter(|id| !id.is_empty())
    else {
        return Reply::refusal(
            ResultCode::InvalidRequest,
            "query parameter tiki_transaction_id is required",
        );
    };
    match state.report(&tiki_transaction_id) {
        Some(report) => Reply::json(
            StatusCode::OK,
            StatusAnswer {
                code: ResultCode::Success,
                message: "success",
                report,
            },
        ),
        None => Reply::refusal(ResultCode::NotFound, "transaction not found"),
    }
}
