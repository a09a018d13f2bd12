//! The signature scheme's two promises, for any input: what was signed
//! verifies, and a change of any one byte it covers does not.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use tikivip_signing::{ClientKey, HeaderFamily, MAX_CLOCK_SKEW, Secret, Signer, Verifier};

const FAMILY: HeaderFamily = HeaderFamily::Tikivip;

/// A client id a header can carry: visible ASCII.
fn client_id() -> impl Strategy<Value = String> {
    prop::collection::vec(0x21u8..0x7f, 1..40).prop_map(|bytes| String::from_utf8(bytes).unwrap())
}

/// Seconds from now, well inside the window either way.
fn skew() -> impl Strategy<Value = i64> {
    let window = MAX_CLOCK_SKEW.as_secs() as i64 - 5;
    -window..=window
}

fn signed(client_id: &str, body: &[u8], skew_s: i64, now: SystemTime) -> (HeaderMap, Verifier) {
    let at = if skew_s >= 0 {
        now + Duration::from_secs(skew_s as u64)
    } else {
        now - Duration::from_secs(skew_s.unsigned_abs())
    };
    let secret = Secret::new("property-secret");
    let mut headers = HeaderMap::new();
    for (name, value) in Signer::new(FAMILY, client_id, secret.clone()).headers(at, body) {
        headers.insert(name, value);
    }
    let verifier = Verifier::new(
        FAMILY,
        vec![ClientKey {
            client_id: client_id.to_owned(),
            secret,
        }],
    );
    (headers, verifier)
}

fn flip(bytes: &mut [u8], at: prop::sample::Index, mask: u8) {
    let at = at.index(bytes.len());
    bytes[at] ^= mask;
}

proptest! {
    #[test]
    fn what_is_signed_verifies(
        client_id in client_id(),
        body in prop::collection::vec(any::<u8>(), 0..512),
        skew_s in skew(),
    ) {
        let now = SystemTime::now();
        let (headers, verifier) = signed(&client_id, &body, skew_s, now);
        prop_assert_eq!(verifier.verify(&headers, &body, now), Ok(client_id.as_str()));
    }

    #[test]
    fn a_changed_body_byte_does_not_verify(
        client_id in client_id(),
        body in prop::collection::vec(any::<u8>(), 1..512),
        skew_s in skew(),
        at in any::<prop::sample::Index>(),
        mask in 1..=255u8,
    ) {
        let now = SystemTime::now();
        let (headers, verifier) = signed(&client_id, &body, skew_s, now);
        let mut changed = body.clone();
        flip(&mut changed, at, mask);
        prop_assert!(verifier.verify(&headers, &changed, now).is_err());
    }

    #[test]
    fn a_changed_timestamp_or_client_id_byte_does_not_verify(
        client_id in client_id(),
        body in prop::collection::vec(any::<u8>(), 0..512),
        skew_s in skew(),
        timestamp in any::<bool>(),
        at in any::<prop::sample::Index>(),
        mask in 1..=255u8,
    ) {
        let now = SystemTime::now();
        let (mut headers, verifier) = signed(&client_id, &body, skew_s, now);
        let name = if timestamp { FAMILY.timestamp_header() } else { FAMILY.client_id_header() };
        let mut value = headers[name].as_bytes().to_vec();
        flip(&mut value, at, mask);
        // A change that makes no header value cannot be sent.
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            headers.insert(name, value);
            prop_assert!(verifier.verify(&headers, &body, now).is_err());
        }
    }
}
