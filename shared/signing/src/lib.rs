//! Request signing for Tiki's TikiVIP and Tini App protocols, both directions.
//!
//! ```text
//! payload   = timestamp_ms "." client_id "." signed_part
//! signature = hex(HMAC_SHA256(client_secret, base64url_no_pad(payload)))
//! ```
//! The signed part is the raw body of a POST, byte for byte, or the path and
//! query of a GET exactly as sent ([`signed_part`]). The HMAC covers the
//! *base64url-encoded* payload, as Tiki specifies.
//!
//! ```
//! use tikivip_signing::{sign, Secret};
//! let secret = Secret::new("EhjGcsUUuRSJTHiYPbW5fxzyaKEx0JuAZIKRQ4HnIfNFidB2kMg6locQbTIEz3Vf");
//! let signature = sign(&secret, 1620621619569, "RLCKb7Ae9kx4DXtXsCWjnDXtggFnM43W", br#"{"id":123}"#);
//! assert_eq!(signature, "8ebd092b9df2cf90e8ccbcab2ba87ee14f2abb25eb8f18b4d7286d42adcd45c2");
//! ```

use std::fmt;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::write::EncoderWriter;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a request's timestamp may be from now, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// The three header families that carry the same scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderFamily {
    /// Tiki ⇄ partner (`X-Tikivip-*`).
    Tikivip,
    /// Tini App platform → partner (`X-Tiniapp-*`).
    Tiniapp,
    /// The partner's payment core → this backend (`X-Partner-*`).
    Partner,
}

impl HeaderFamily {
    pub const fn timestamp_header(self) -> &'static str {
        match self {
            HeaderFamily::Tikivip => "x-tikivip-timestamp",
            HeaderFamily::Tiniapp => "x-tiniapp-timestamp",
            HeaderFamily::Partner => "x-partner-timestamp",
        }
    }

    pub const fn client_id_header(self) -> &'static str {
        match self {
            HeaderFamily::Tikivip => "x-tikivip-client-id",
            HeaderFamily::Tiniapp => "x-tiniapp-client-id",
            HeaderFamily::Partner => "x-partner-client-id",
        }
    }

    pub const fn signature_header(self) -> &'static str {
        match self {
            HeaderFamily::Tikivip => "x-tikivip-signature",
            HeaderFamily::Tiniapp => "x-tiniapp-signature",
            HeaderFamily::Partner => "x-partner-signature",
        }
    }
}

/// An HMAC key. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Secret(secret.into())
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC accepts keys of any length")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("header {0} is not a Unix time in milliseconds")]
    MalformedTimestamp(&'static str),
    #[error("request timestamp is more than 5 minutes old")]
    Stale,
    #[error("request timestamp is more than 5 minutes in the future")]
    FromTheFuture,
    #[error("unknown client id")]
    UnknownClient,
    #[error("signature does not match")]
    BadSignature,
}

/// Feeds what base64 writes straight into the HMAC: no buffer for the payload.
struct MacWriter(HmacSha256);

impl Write for MacWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn mac_of(secret: &Secret, timestamp_ms: u64, client_id: &str, signed_part: &[u8]) -> HmacSha256 {
    let mut encoder = EncoderWriter::new(MacWriter(secret.mac()), &URL_SAFE_NO_PAD);
    // Writing into the HMAC cannot fail.
    write!(encoder, "{timestamp_ms}.{client_id}.").expect("infallible writer");
    encoder.write_all(signed_part).expect("infallible writer");
    encoder.finish().expect("infallible writer").0
}

/// The lowercase hex signature of one request.
pub fn sign(secret: &Secret, timestamp_ms: u64, client_id: &str, signed_part: &[u8]) -> String {
    hex::encode(
        mac_of(secret, timestamp_ms, client_id, signed_part)
            .finalize()
            .into_bytes(),
    )
}

/// What a request signs: the raw body for POST (and any method with a body),
/// the path and query exactly as sent for GET, HEAD and DELETE.
pub fn signed_part<'a>(method: &Method, uri: &'a Uri, body: &'a [u8]) -> &'a [u8] {
    if matches!(*method, Method::GET | Method::HEAD | Method::DELETE) {
        uri.path_and_query()
            .map_or(uri.path(), |pq| pq.as_str())
            .as_bytes()
    } else {
        body
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Signs outgoing requests as one client.
#[derive(Clone, Debug)]
pub struct Signer {
    family: HeaderFamily,
    client_id: String,
    secret: Secret,
}

impl Signer {
    pub fn new(family: HeaderFamily, client_id: impl Into<String>, secret: Secret) -> Self {
        Signer {
            family,
            client_id: client_id.into(),
            secret,
        }
    }

    /// The three headers for a request signing `signed_part` at `at`.
    pub fn headers(&self, at: SystemTime, signed_part: &[u8]) -> [(HeaderName, HeaderValue); 3] {
        let timestamp = unix_millis(at);
        let signature = sign(&self.secret, timestamp, &self.client_id, signed_part);
        let value =
            |s: &str| HeaderValue::from_str(s).expect("client ids and hex are valid header values");
        [
            (
                HeaderName::from_static(self.family.timestamp_header()),
                value(&timestamp.to_string()),
            ),
            (
                HeaderName::from_static(self.family.client_id_header()),
                value(&self.client_id),
            ),
            (
                HeaderName::from_static(self.family.signature_header()),
                value(&signature),
            ),
        ]
    }
}

/// One client's key. A client may hold several at once while a secret rotates.
#[derive(Clone, Debug)]
pub struct ClientKey {
    pub client_id: String,
    pub secret: Secret,
}

/// Verifies incoming requests of one header family against the active keys.
#[derive(Clone, Debug)]
pub struct Verifier {
    family: HeaderFamily,
    keys: Vec<ClientKey>,
}

impl Verifier {
    pub fn new(family: HeaderFamily, keys: Vec<ClientKey>) -> Self {
        Verifier { family, keys }
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
        let header = |name: &'static str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .ok_or(Error::MissingHeader(name))
        };
        let ts_name = self.family.timestamp_header();
        let timestamp = header(ts_name)?;
        let client_id = header(self.family.client_id_header())?;
        let signature = header(self.family.signature_header())?;

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

        let mut candidates = self
            .keys
            .iter()
            .filter(|k| k.client_id == client_id)
            .peekable();
        if candidates.peek().is_none() {
            return Err(Error::UnknownClient);
        }
        let signature = hex::decode(signature).map_err(|_| Error::BadSignature)?;
        // `verify_slice` compares in constant time.
        let matched = candidates.any(|key| {
            mac_of(&key.secret, timestamp_ms, client_id, signed_part)
                .verify_slice(&signature)
                .is_ok()
        });
        if matched {
            Ok(client_id)
        } else {
            Err(Error::BadSignature)
        }
    }
}
