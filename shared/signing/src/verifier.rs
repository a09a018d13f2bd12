//! Verifying incoming requests against the active keys of one header family.

use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::time::SystemTime;

use hmac::Mac;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::{
    Error, HeaderFamily, MAX_CLOCK_SKEW, Secret, decimal, decode_signature, payload_mac,
    unix_millis,
};

/// The first value of each of `names` (what `HeaderMap::get` returns), in
/// one pass over the headers: comparing a name with a request's few dozen
/// headers costs less than hashing it three times over (FNV, byte by byte).
fn first_values<'h>(
    headers: &'h HeaderMap,
    names: &[HeaderName; 3],
) -> [Option<&'h HeaderValue>; 3] {
    let mut found = [None; 3];
    let mut left = names.len();
    for (name, value) in headers {
        for (slot, wanted) in found.iter_mut().zip(names) {
            if slot.is_none() && name == wanted {
                *slot = Some(value);
                left -= 1;
            }
        }
        if left == 0 {
            break;
        }
    }
    found
}

/// Stands in for the key of a client id no key has.
static UNKNOWN_CLIENT_KEY: LazyLock<Secret> = LazyLock::new(|| Secret::new("unknown client"));

/// One client's key. A client may hold several at once while a secret rotates.
#[derive(Clone, Debug)]
pub struct ClientKey {
    pub client_id: String,
    pub secret: Secret,
}

/// Verifies incoming requests of one header family against the active keys.
///
/// Clones share their keys, so that a secret read again in the background
/// ([`Verifier::replace_keys`]) takes effect for every clone at once.
#[derive(Clone, Debug)]
pub struct Verifier {
    family: HeaderFamily,
    /// The family's timestamp, client id and signature headers, made once.
    names: [HeaderName; 3],
    keys: Arc<RwLock<Vec<ClientKey>>>,
}

impl Verifier {
    pub fn new(family: HeaderFamily, keys: Vec<ClientKey>) -> Self {
        let names = [
            family.timestamp_header(),
            family.client_id_header(),
            family.signature_header(),
        ]
        .map(HeaderName::from_static);
        Verifier {
            family,
            names,
            keys: Arc::new(RwLock::new(keys)),
        }
    }

    /// Puts `keys` in place of the active keys; returns whether they differ.
    pub fn replace_keys(&self, keys: Vec<ClientKey>) -> bool {
        let mut active = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        let changed = active.len() != keys.len()
            || active
                .iter()
                .zip(&keys)
                .any(|(a, b)| a.client_id != b.client_id || a.secret != b.secret);
        *active = keys;
        changed
    }

    pub fn family(&self) -> HeaderFamily {
        self.family
    }

    /// Checks the headers of a request against `signed_part` at time `now`.
    /// Returns the client id that signed it.
    pub fn verify<'h>(
        &self,
        headers: &'h HeaderMap,
        signed_part: &[u8],
        now: SystemTime,
    ) -> Result<&'h str, Error> {
        let family = self.family;
        let [ts_value, id_value, sig_value] = first_values(headers, &self.names);
        let missing = Error::MissingHeader;
        let header = |value: Option<&'h HeaderValue>, static_name: &'static str| {
            value.filter(|v| !v.is_empty()).ok_or(missing(static_name))
        };
        let text = |value: &'h HeaderValue, static_name: &'static str| {
            value.to_str().map_err(|_| missing(static_name))
        };
        let ts_name = family.timestamp_header();
        let timestamp = text(header(ts_value, ts_name)?, ts_name)?;
        let client_id = text(
            header(id_value, family.client_id_header())?,
            family.client_id_header(),
        )?;
        // A signature that decodes is hex, so text; only one that does not
        // needs the header's text check (a header that is not text is missing,
        // as for the other two).
        let signature = header(sig_value, family.signature_header())?;
        let expected = decode_signature(signature.as_bytes());
        if expected.is_none() {
            text(signature, family.signature_header())?;
        }

        let timestamp_ms: u64 = timestamp
            .parse()
            .map_err(|_| Error::MalformedTimestamp(ts_name))?;
        let now_ms = unix_millis(now);
        let skew = MAX_CLOCK_SKEW.as_millis() as u64;
        if timestamp_ms.saturating_add(skew) < now_ms {
            return Err(Error::Stale);
        }
        if timestamp_ms > now_ms.saturating_add(skew) {
            return Err(Error::FromTheFuture);
        }

        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let mut candidates = keys.iter().filter(|k| k.client_id == client_id).peekable();
        if candidates.peek().is_none() {
            // As long as a wrong signature takes, so that timing does not tell
            // an unknown client id from a known one.
            let _ = payload_mac(
                &UNKNOWN_CLIENT_KEY,
                timestamp.as_bytes(),
                client_id.as_bytes(),
                signed_part,
            );
            return Err(Error::UnknownClient);
        }
        let expected = expected.ok_or(Error::BadSignature)?;
        // The payload carries the timestamp as `sign` writes it: in decimal
        // without sign or leading zeros. The header is that already unless it
        // has a `+` or leading zeros (which `parse` accepts).
        let mut digits = [0; 20];
        let canonical = matches!(timestamp.as_bytes(), [b'1'..=b'9', ..] | [b'0']);
        let timestamp = if canonical {
            timestamp.as_bytes()
        } else {
            decimal(timestamp_ms, &mut digits)
        };
        // `verify_slice` compares in constant time.
        let matched = candidates.any(|key| {
            payload_mac(&key.secret, timestamp, client_id.as_bytes(), signed_part)
                .verify_slice(&expected)
                .is_ok()
        });
        if matched {
            Ok(client_id)
        } else {
            Err(Error::BadSignature)
        }
    }
}
