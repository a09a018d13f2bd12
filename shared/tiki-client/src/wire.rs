//! Reading Tiki's answers: JSON with a `code` and a `message` at the top.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tikivip_domain::ResultCode;
use tikivip_domain::wire::is_json_object;

use crate::Error;
use crate::error::snippet;

/// What every answer starts with. An unknown code is a bad response.
#[derive(Deserialize)]
pub(crate) struct Head {
    pub code: ResultCode,
    /// Tiki always sends one; its absence is no reason to drop the answer.
    #[serde(default)]
    pub message: String,
}

/// An answer read as `T`, or why it cannot be. Only a JSON object is read
/// (`[0]` would otherwise be code 0, an IPN accepted).
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if !is_json_object(body) {
        return Err(Error::BadResponse(format!(
            "not a JSON object: {:?}",
            snippet(body)
        )));
    }
    serde_json::from_slice(body)
        .map_err(|error| Error::BadResponse(format!("{error} in {:?}", snippet(body))))
}
