//! Reading Tiki's answers: JSON with a `code` and a `message` at the top.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tikivip_domain::ResultCode;

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

/// An answer read as `T`, or why it cannot be. Tiki answers with a JSON
/// object: serde would also read a struct from an array of its fields in
/// order, taking `[0]` for code 0, an IPN accepted.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(Error::BadResponse(format!(
            "not a JSON object: {:?}",
            snippet(body)
        )));
    }
    serde_json::from_slice(body)
        .map_err(|error| Error::BadResponse(format!("{error} in {:?}", snippet(body))))
}
