use http::StatusCode;
use tikivip_domain::ResultCode;

/// Everything a request can end in, other than success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unauthorized: {0}")]
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
            Error::Unauthorized(tikivip_signing::Error::UnknownClient) => {
                ResultCode::NotThePartners
            }
            Error::Unauthorized(_) | Error::BodyTooLarge(_) => ResultCode::InvalidRequest,
            Error::Refused(refusal) => refusal.code(),
            Error::Internal(_) | Error::Config(_) => ResultCode::SystemError,
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
        }
    }
}
