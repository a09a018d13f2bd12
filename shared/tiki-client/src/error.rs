use tikivip_domain::ResultCode;

/// Why a call to Tiki gave no usable answer, or why the client could not be
/// configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The settings are missing, malformed or contradict each other.
    #[error("Tiki client configuration: {0}")]
    Config(String),
    /// No complete answer within the client's timeout. Tiki may still have
    /// handled the call.
    #[error("Tiki did not answer in time")]
    Timeout,
    /// No connection, or it broke before a complete answer.
    #[error("could not reach Tiki: {0}")]
    Connect(String),
    /// An HTTP status other than 200, with the start of the body.
    #[error("Tiki answered HTTP {0}: {1}")]
    HttpStatus(u16, String),
    /// HTTP 200, but not an answer this API can give.
    #[error("Tiki's answer makes no sense: {0}")]
    BadResponse(String),
    /// HTTP 200 with a code the call has no result for (e.g. 2, system error,
    /// from the status API).
    #[error("Tiki answered code {0}: {1}")]
    Code(ResultCode, String),
}

/// How much of a body an error quotes: enough to diagnose, never a whole page.
const SNIPPET_CHARS: usize = 200;

/// The start of a body, as text, for an error message.
pub(crate) fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(SNIPPET_CHARS)
        .collect()
}
