use http::StatusCode;
use tikivip_domain::ResultCode;

/// Everything a request can end in, other than success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller learns why only where it gives nothing away: an unknown
    /// client id reads exactly as a wrong signature.
    #[error("unauthorized: {}", shown(.0))]
    Unauthorized(#[from] tikivip_signing::Error),
    #[error(transparent)]
    Refused(#[from] tikivip_domain::Error),
    #[error("request body exceeds {0} bytes")]
    BodyTooLarge(usize),
    /// A fault on our side; its detail is logged, never shown.
    #[error("system error")]
    Internal(String),
    #[error("configuration: {0}")]
    Config(String),
    /// A service this one called (Tiki) refused the call or failed: its code
    /// and message, and the HTTP status that says which (502, 504, 4xx).
    #[error("{message}")]
    Upstream {
        status: StatusCode,
        code: ResultCode,
        message: String,
    },
}

impl From<tikivip_store::Error> for Error {
    fn from(err: tikivip_store::Error) -> Self {
        match err {
            tikivip_store::Error::Refused(refusal) => Error::Refused(refusal),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl Error {
    pub fn code(&self) -> ResultCode {
        match self {
            Error::Unauthorized(_) | Error::BodyTooLarge(_) => ResultCode::InvalidRequest,
            Error::Refused(refusal) => refusal.code(),
            Error::Internal(_) | Error::Config(_) => ResultCode::SystemError,
            Error::Upstream { code, .. } => *code,
        }
    }

    /// The HTTP status REST would give this failure.
    pub fn status(&self) -> StatusCode {
        use tikivip_domain::Error as R;
        match self {
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Refused(R::InvalidRequest(_) | R::InvalidAmount(_)) => StatusCode::BAD_REQUEST,
            Error::Refused(R::TransactionNotFound | R::OrderNotFound) => StatusCode::NOT_FOUND,
            Error::Refused(_) => StatusCode::CONFLICT,
            Error::Internal(_) | Error::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Upstream { status, .. } => *status,
        }
    }
}

/// What a signature refusal tells the caller.
fn shown(refusal: &tikivip_signing::Error) -> String {
    match refusal {
        tikivip_signing::Error::UnknownClient => tikivip_signing::Error::BadSignature.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tikivip_signing::Error as Refusal;

    #[test]
    fn an_unknown_client_reads_exactly_as_a_wrong_signature() {
        let (unknown, wrong) = (
            Error::Unauthorized(Refusal::UnknownClient),
            Error::Unauthorized(Refusal::BadSignature),
        );
        assert_eq!(unknown.to_string(), wrong.to_string());
        assert_eq!(unknown.code(), wrong.code());
        assert_eq!(
            (unknown.status(), wrong.status()),
            (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
        );
    }
}
