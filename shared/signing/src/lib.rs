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
//!
//! Both directions write the payload through one encoder (`write_payload`):
//! base64url in fixed-size chunks on the stack, fed to an HMAC keyed once per
//! [`Secret`]; nothing is allocated per request to verify it.

#![forbid(unsafe_code)]

use std::fmt;
use std::mem::MaybeUninit;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64_simd::{Out, URL_SAFE_NO_PAD};
use hmac::digest::Update;
use hmac::{Hmac, Mac};
use http::{HeaderName, HeaderValue, Method, Uri};
use sha2::Sha256;

mod verifier;

pub use verifier::{ClientKey, Verifier};

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
///
/// The HMAC key schedule (the key's inner and outer pad blocks hashed) is done
/// once, here; each signature starts from a copy of that state.
#[derive(Clone)]
pub struct Secret {
    bytes: Vec<u8>,
    keyed: HmacSha256,
}

impl Secret {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        let bytes = secret.into();
        let keyed = HmacSha256::new_from_slice(&bytes).expect("HMAC accepts keys of any length");
        Secret { bytes, keyed }
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Secret {}

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

/// Input bytes encoded per call of the base64 encoder: a multiple of 3, so
/// that every chunk but the last one encodes to whole characters.
const CHUNK: usize = 3 * 512;
/// Its base64 (2 KiB, on the stack, never zeroed).
const CHUNK_ENCODED: usize = CHUNK / 3 * 4;
/// Room for the small parts written before the signed part (timestamp, client
/// id, dots), so that they are encoded and hashed in one go.
const PENDING: usize = 3 * 32;

/// Encodes what is written to it as base64url without padding and feeds the
/// characters to `sink` (the HMAC), chunk by chunk: no allocation, no copy of
/// the signed part. Small writes gather in `pending`; a large one is encoded
/// straight from its slice in [`CHUNK`]s, its last 0–2 bytes carried over.
struct Base64UrlTo<'s, S> {
    sink: &'s mut S,
    pending: [u8; PENDING],
    pending_len: usize,
}

impl<'s, S: Update> Base64UrlTo<'s, S> {
    fn new(sink: &'s mut S) -> Self {
        Base64UrlTo {
            sink,
            pending: [0; PENDING],
            pending_len: 0,
        }
    }

    fn write(&mut self, mut bytes: &[u8]) {
        let room = PENDING - self.pending_len;
        if bytes.len() <= room {
            self.pending[self.pending_len..][..bytes.len()].copy_from_slice(bytes);
            self.pending_len += bytes.len();
            return;
        }
        if self.pending_len > 0 {
            // Complete the pending bytes to whole 3-byte groups (PENDING is a
            // multiple of 3, so they fit) and encode them.
            let take = (3 - self.pending_len % 3) % 3;
            let (head, rest) = bytes.split_at(take);
            self.pending[self.pending_len..][..take].copy_from_slice(head);
            encode_into(self.sink, &self.pending[..self.pending_len + take]);
            bytes = rest;
        }
        let (whole, carry) = bytes.split_at(bytes.len() - bytes.len() % 3);
        for chunk in whole.chunks(CHUNK) {
            encode_into(self.sink, chunk);
        }
        self.pending[..carry.len()].copy_from_slice(carry);
        self.pending_len = carry.len();
    }

    /// Encodes the last 0–2 carried bytes (no padding).
    fn finish(self) {
        encode_into(self.sink, &self.pending[..self.pending_len]);
    }
}

/// Base64url of at most [`CHUNK`] bytes into `sink`.
#[inline]
fn encode_into(sink: &mut impl Update, bytes: &[u8]) {
    debug_assert!(bytes.len() <= CHUNK);
    if bytes.is_empty() {
        return;
    }
    let mut encoded = [MaybeUninit::<u8>::uninit(); CHUNK_ENCODED];
    sink.update(URL_SAFE_NO_PAD.encode(bytes, Out::from_uninit_slice(&mut encoded)));
}

/// Writes the protocol's payload, `timestamp "." client_id "." signed_part`,
/// base64url-encoded without padding, into `sink`. The one place the
/// protocol's encoding is written down: signing and verifying both use it.
fn write_payload(sink: &mut impl Update, timestamp: &[u8], client_id: &[u8], signed_part: &[u8]) {
    let mut encoder = Base64UrlTo::new(sink);
    encoder.write(timestamp);
    encoder.write(b".");
    encoder.write(client_id);
    encoder.write(b".");
    encoder.write(signed_part);
    encoder.finish()
}

/// The HMAC of one request's payload, `timestamp` in decimal digits.
pub(crate) fn payload_mac(
    secret: &Secret,
    timestamp: &[u8],
    client_id: &[u8],
    signed_part: &[u8],
) -> HmacSha256 {
    let mut mac = secret.keyed.clone();
    write_payload(&mut mac, timestamp, client_id, signed_part);
    mac
}

/// The 32 bytes of a signature in hex (64 digits, either case), or `None`.
/// (`hex::decode_to_slice` does the same with a branch per digit: ~3× the
/// time.)
pub(crate) fn decode_signature(hex: &[u8]) -> Option<[u8; 32]> {
    let hex: &[u8; 64] = hex.try_into().ok()?;
    let mut nibbles = [0u8; 64];
    let mut invalid = 0u8;
    for (nibble, &c) in nibbles.iter_mut().zip(hex) {
        let digit = c.wrapping_sub(b'0');
        let letter = (c | 0x20).wrapping_sub(b'a');
        let (is_digit, is_letter) = (digit < 10, letter < 6);
        *nibble = if is_digit {
            digit
        } else {
            letter.wrapping_add(10)
        };
        invalid |= u8::from(!(is_digit | is_letter));
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(nibbles.chunks_exact(2)) {
        *byte = (pair[0] << 4) | pair[1];
    }
    (invalid == 0).then_some(bytes)
}

/// `ms` in decimal, as `u64::to_string` writes it, without allocating.
pub(crate) fn decimal(mut ms: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (ms % 10) as u8;
        ms /= 10;
        if ms == 0 {
            return &buf[at..];
        }
    }
}

/// The lowercase hex signature of one request, as ASCII.
fn signature_hex(
    secret: &Secret,
    timestamp_ms: u64,
    client_id: &str,
    signed_part: &[u8],
) -> [u8; 64] {
    let mut digits = [0; 20];
    let timestamp = decimal(timestamp_ms, &mut digits);
    let mac = payload_mac(secret, timestamp, client_id.as_bytes(), signed_part).finalize();
    let mut hex = [0; 64];
    hex::encode_to_slice(mac.into_bytes(), &mut hex).expect("32 bytes are 64 hex digits");
    hex
}

/// The lowercase hex signature of one request.
pub fn sign(secret: &Secret, timestamp_ms: u64, client_id: &str, signed_part: &[u8]) -> String {
    let hex = signature_hex(secret, timestamp_ms, client_id, signed_part);
    std::str::from_utf8(&hex).expect("hex is ASCII").to_owned()
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
        let signature = signature_hex(&self.secret, timestamp, &self.client_id, signed_part);
        [
            (
                HeaderName::from_static(self.family.timestamp_header()),
                HeaderValue::from(timestamp),
            ),
            (
                HeaderName::from_static(self.family.client_id_header()),
                HeaderValue::from_str(&self.client_id).expect("client ids are valid header values"),
            ),
            (
                HeaderName::from_static(self.family.signature_header()),
                HeaderValue::from_bytes(&signature).expect("hex is a valid header value"),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    /// A sink that keeps what the encoder hands it.
    #[derive(Default)]
    struct Collect(Vec<u8>);

    impl Update for Collect {
        fn update(&mut self, data: &[u8]) {
            self.0.extend_from_slice(data);
        }
    }

    /// Bytes of every value, in no particular order.
    fn bytes(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    fn one_shot(parts: &[&[u8]]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(parts.concat())
    }

    fn chunked(parts: &[&[u8]]) -> String {
        let mut collected = Collect::default();
        let mut encoder = Base64UrlTo::new(&mut collected);
        for part in parts {
            encoder.write(part);
        }
        encoder.finish();
        String::from_utf8(collected.0).expect("base64 is ASCII")
    }

    /// Lengths around every chunk boundary up to past the 16 KiB body limit,
    /// shifted by what the payload's prefix adds.
    fn boundary_lengths() -> Vec<usize> {
        (1..=12)
            .flat_map(|k| k * CHUNK - 4..=k * CHUNK + 4)
            .chain(16 * 1024 - 4..=16 * 1024 + 4)
            .chain([PENDING - 1, PENDING, PENDING + 1, 64 * 1024 + 1])
            .collect()
    }

    #[test]
    fn the_payload_encodes_as_base64url_in_one_go_would() {
        let (ts, id) = (
            b"1620621619569".as_slice(),
            b"RLCKb7Ae9kx4DXtXsCWjnDXtggFnM43W".as_slice(),
        );
        for len in (0..=2000).chain(boundary_lengths()) {
            let body = bytes(len, len as u32);
            let parts: [&[u8]; 5] = [ts, b".", id, b".", &body];
            let mut streamed = Collect::default();
            write_payload(&mut streamed, ts, id, &body);
            assert_eq!(
                streamed.0,
                one_shot(&parts).into_bytes(),
                "body of {len} bytes"
            );
        }
    }

    #[test]
    fn any_split_of_the_input_encodes_the_same() {
        // Prefixes short and long (a long one overflows the pending buffer),
        // then the rest written whole or in pieces of every size around the
        // pending buffer's and a chunk's.
        for prefix_len in [0, 1, 2, 3, 47, PENDING - 1, PENDING, PENDING + 1, 200] {
            let prefix = bytes(prefix_len, 7);
            for len in [
                0,
                1,
                2,
                3,
                4,
                300,
                1000,
                CHUNK - 1,
                CHUNK,
                CHUNK + 1,
                2 * CHUNK + 2,
                5000,
            ] {
                let body = bytes(len, len as u32 + 1);
                let expected = one_shot(&[&prefix, &body]);
                assert_eq!(chunked(&[&prefix, &body]), expected, "{prefix_len} + {len}");
                for piece in [1, 2, 3, 5, PENDING - 1, PENDING + 1, CHUNK + 1] {
                    let mut parts: Vec<&[u8]> = vec![&prefix];
                    parts.extend(body.chunks(piece));
                    assert_eq!(chunked(&parts), expected, "{prefix_len} + {len} by {piece}");
                }
            }
        }
    }

    #[test]
    fn signatures_decode_as_the_hex_crate_decodes_them() {
        let valid = b"8ebd092b9df2cf90e8ccbcab2ba87ee14f2abb25eb8f18b4d7286d42adcd45c2";
        let reference = |digits: &[u8]| {
            let mut out = [0u8; 32];
            hex::decode_to_slice(digits, &mut out).ok().map(|()| out)
        };
        assert!(decode_signature(valid).is_some());
        assert_eq!(
            decode_signature(&valid.to_ascii_uppercase()),
            decode_signature(valid)
        );
        // Every byte value at every position.
        for at in 0..valid.len() {
            for c in 0..=u8::MAX {
                let mut digits = *valid;
                digits[at] = c;
                assert_eq!(decode_signature(&digits), reference(&digits), "{c} at {at}");
            }
        }
        for len in [0, 1, 2, 62, 63, 65, 66, 128] {
            let digits: Vec<u8> = valid.iter().cycle().take(len).copied().collect();
            assert_eq!(decode_signature(&digits), None, "{len} digits");
        }
    }

    #[test]
    fn decimal_writes_what_to_string_does() {
        let mut buf = [0; 20];
        for ms in [0, 1, 9, 10, 99, 100, 1_620_621_619_569, u64::MAX] {
            assert_eq!(decimal(ms, &mut buf), ms.to_string().as_bytes());
        }
    }
}
