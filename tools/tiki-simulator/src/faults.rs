//! Failures a test queues up: the next calls to a route answer with an HTTP
//! error or a Tiki error code, or answer late.

use std::collections::VecDeque;
use std::time::Duration;

use http::StatusCode;
use serde::Deserialize;
use tikivip_domain::ResultCode;

use crate::tiki::TikiRoute;
use crate::wire::Reply;

/// Which calls a queued failure applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultRoute {
    Ipn,
    Status,
    Webview,
    Order,
    Any,
}

impl FaultRoute {
    fn matches(self, route: TikiRoute) -> bool {
        match self {
            FaultRoute::Any => true,
            FaultRoute::Ipn => route == TikiRoute::Ipn,
            FaultRoute::Status => route == TikiRoute::Status,
            FaultRoute::Webview => route == TikiRoute::Webview,
            FaultRoute::Order => route == TikiRoute::Order,
        }
    }
}

/// What one failing call does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// How long the answer is held back. The call is handled at once, so a
    /// caller that times out has still been heard, as with the real Tiki.
    pub delay: Duration,
    pub outcome: FaultOutcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultOutcome {
    /// Handled as usual (only the delay applies).
    Normal,
    /// Not handled: this HTTP status with a code-2 envelope, as a broken
    /// gateway or server would answer.
    HttpStatus(StatusCode),
    /// Not handled: HTTP 200 with this Tiki code, Tiki refusing the call.
    Code(ResultCode),
}

impl Fault {
    pub fn http_status(status: StatusCode) -> Fault {
        Fault {
            delay: Duration::ZERO,
            outcome: FaultOutcome::HttpStatus(status),
        }
    }

    pub fn code(code: ResultCode) -> Fault {
        Fault {
            delay: Duration::ZERO,
            outcome: FaultOutcome::Code(code),
        }
    }

    pub fn delay(delay: Duration) -> Fault {
        Fault {
            delay,
            outcome: FaultOutcome::Normal,
        }
    }

    /// The answer that replaces the normal handling, if any.
    pub(crate) fn replacement(&self) -> Option<Reply> {
        match self.outcome {
            FaultOutcome::Normal => None,
            FaultOutcome::HttpStatus(status) => Some(Reply::error(
                status,
                ResultCode::SystemError,
                format!("simulated HTTP {}", status.as_u16()),
            )),
            FaultOutcome::Code(code) => {
                Some(Reply::refusal(code, format!("simulated Tiki code {code}")))
            }
        }
    }
}

#[derive(Debug)]
struct Queued {
    route: FaultRoute,
    remaining: u32,
    fault: Fault,
}

/// Failures in the order they were queued; a call takes the first that matches it.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue(VecDeque<Queued>);

impl FaultQueue {
    pub fn push(&mut self, route: FaultRoute, count: u32, fault: Fault) {
        if count > 0 {
            self.0.push_back(Queued {
                route,
                remaining: count,
                fault,
            });
        }
    }

    /// The fault for one call to `route`, used up by this call.
    pub fn take(&mut self, route: TikiRoute) -> Option<Fault> {
        let index = self.0.iter().position(|q| q.route.matches(route))?;
        let queued = &mut self.0[index];
        queued.remaining -= 1;
        let fault = queued.fault.clone();
        if queued.remaining == 0 {
            self.0.remove(index);
        }
        Some(fault)
    }
}
