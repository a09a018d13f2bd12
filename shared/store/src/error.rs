use std::fmt::Debug;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule of the domain refused the write; nothing was changed.
    #[error(transparent)]
    Refused(#[from] tikivip_domain::Error),
    /// DynamoDB (or the network to it) failed; the write may be retried.
    #[error("DynamoDB call failed: {0}")]
    Dynamo(String),
    /// Writes kept colliding with concurrent writes to the same item.
    #[error("too many concurrent writes to one transaction; retry")]
    Contention,
    /// DynamoDB kept cancelling the write for a transient reason (throttling,
    /// conflicts) through every retry; nothing was decided.
    #[error("DynamoDB kept cancelling the write ({0}); retry")]
    Transient(String),
    /// An item in the table does not decode: a bug or a manual edit.
    #[error("stored item is not a valid {entity}: {reason}")]
    Corrupt {
        entity: &'static str,
        reason: String,
    },
    #[error("store configuration: {0}")]
    Config(String),
}

impl Error {
    pub(crate) fn corrupt(entity: &'static str, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            entity,
            reason: reason.into(),
        }
    }
}

impl<E, R> From<SdkError<E, R>> for Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    fn from(err: SdkError<E, R>) -> Self {
        let detail = match err.as_service_error() {
            Some(service) => format!(
                "{}: {}",
                service.code().unwrap_or("unknown"),
                service.message().unwrap_or("no message")
            ),
            None => format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err)),
        };
        Error::Dynamo(detail)
    }
}

impl From<aws_sdk_dynamodb::error::BuildError> for Error {
    fn from(err: aws_sdk_dynamodb::error::BuildError) -> Self {
        Error::Dynamo(format!("request could not be built: {err}"))
    }
}

/// Whether a conditional update was applied: a failed condition is an answer
/// here, not an error.
pub(crate) fn applied<T>(
    result: Result<T, SdkError<UpdateItemError, HttpResponse>>,
) -> Result<bool, Error> {
    match result {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
        {
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}
