//! The queue's errors, shared by the client, the outbox, redrive and the
//! parsing of messages.

use aws_sdk_sqs::error::{DisplayErrorContext, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("SQS call failed: {0}")]
    Sqs(String),
    #[error("queue configuration: {0}")]
    Config(String),
    #[error("message is not an IPN job: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] tikivip_store::Error),
}

impl<E: std::error::Error + 'static, R: std::fmt::Debug> From<SdkError<E, R>> for Error {
    fn from(err: SdkError<E, R>) -> Self {
        Error::Sqs(DisplayErrorContext(&err).to_string())
    }
}
