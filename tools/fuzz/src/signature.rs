//! The signature verifier, all three header families, POST and GET forms.
//!
//! Two kinds of input: headers of any bytes, which must be refused (the
//! secret is not in the input, so no input can forge a signature); and a
//! request signed here over the input's bytes, which must verify as signed
//! and stop verifying once one byte of its body (or path and query), its
//! timestamp or its client id changes.

use std::time::{Duration, SystemTime};

use arbitrary::{Arbitrary, Unstructured};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use tikivip_signing::{
    ClientKey, HeaderFamily, MAX_CLOCK_SKEW, Secret, Signer, Verifier, signed_part,
};

const CLIENT_ID: &str = "fuzz-client";
const SECRET: &[u8] = b"fuzz-secret";

#[derive(Arbitrary, Debug)]
enum Case {
    /// Header values as the input gives them.
    Raw {
        family: Family,
        get: bool,
        target: String,
        body: Vec<u8>,
        timestamp: Vec<u8>,
        client_id: Vec<u8>,
        signature: Vec<u8>,
    },
    /// A request signed over its exact bytes, then perhaps changed.
    Signed {
        family: Family,
        get: bool,
        target: String,
        body: Vec<u8>,
        /// Milliseconds from now, folded into the accepted window.
        skew_ms: i32,
        change: Option<Change>,
    },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Family {
    Tikivip,
    Tiniapp,
    Partner,
}

#[derive(Arbitrary, Debug)]
enum Change {
    /// XOR the byte at `at` (modulo the length) of the signed part with a
    /// non-zero mask.
    SignedPart {
        at: usize,
        mask: u8,
    },
    Timestamp {
        at: usize,
        mask: u8,
    },
    ClientId {
        at: usize,
        mask: u8,
    },
}

impl From<Family> for HeaderFamily {
    fn from(family: Family) -> Self {
        match family {
            Family::Tikivip => HeaderFamily::Tikivip,
            Family::Tiniapp => HeaderFamily::Tiniapp,
            Family::Partner => HeaderFamily::Partner,
        }
    }
}

pub fn check(data: &[u8]) {
    let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    match case {
        Case::Raw {
            family,
            get,
            target,
            body,
            timestamp,
            client_id,
            signature,
        } => raw(
            family.into(),
            get,
            &target,
            &body,
            [timestamp, client_id, signature],
        ),
        Case::Signed {
            family,
            get,
            target,
            body,
            skew_ms,
            change,
        } => signed(family.into(), get, &target, body, skew_ms, change),
    }
}

fn verifier(family: HeaderFamily) -> Verifier {
    Verifier::new(
        family,
        vec![ClientKey {
            client_id: CLIENT_ID.into(),
            secret: Secret::new(SECRET),
        }],
    )
}

/// A path and query the input makes, or `/` when it makes none.
fn uri(target: &str) -> Uri {
    let target = if target.starts_with('/') { target } else { "/" };
    target.parse().unwrap_or_else(|_| Uri::from_static("/"))
}

fn raw(family: HeaderFamily, get: bool, target: &str, body: &[u8], values: [Vec<u8>; 3]) {
    let method = if get { Method::GET } else { Method::POST };
    let uri = uri(target);
    let names = [
        family.timestamp_header(),
        family.client_id_header(),
        family.signature_header(),
    ];
    let mut headers = HeaderMap::new();
    for (name, value) in names.into_iter().zip(values) {
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    let verdict = verifier(family).verify(
        &headers,
        signed_part(&method, &uri, body),
        SystemTime::now(),
    );
    assert!(
        verdict.is_err(),
        "headers without the secret verified: {headers:?}"
    );
}

fn signed(
    family: HeaderFamily,
    get: bool,
    target: &str,
    body: Vec<u8>,
    skew_ms: i32,
    change: Option<Change>,
) {
    let method = if get { Method::GET } else { Method::POST };
    let uri = uri(target);
    // A second inside the window either way, so that the verification a
    // moment later still falls in it.
    let window = (MAX_CLOCK_SKEW - Duration::from_secs(1)).as_millis() as i64;
    let skew = i64::from(skew_ms) % window;
    let now = SystemTime::now();
    let at = if skew >= 0 {
        now + Duration::from_millis(skew as u64)
    } else {
        now - Duration::from_millis(skew.unsigned_abs())
    };
    let signer = Signer::new(family, CLIENT_ID, Secret::new(SECRET));
    let mut headers = HeaderMap::new();
    for (name, value) in signer.headers(at, signed_part(&method, &uri, &body)) {
        headers.insert(name, value);
    }
    let verifier = verifier(family);
    let verified = verifier.verify(&headers, signed_part(&method, &uri, &body), now);
    assert_eq!(verified, Ok(CLIENT_ID), "a signed request was refused");

    let Some(change) = change else { return };
    let (uri, body) = match change {
        Change::SignedPart { at, mask } if mask != 0 => {
            if get {
                let mut bytes = signed_part(&method, &uri, &body).to_vec();
                flip(&mut bytes, at, mask);
                // A change that no longer makes a URI cannot be sent.
                let Ok(changed) = Uri::try_from(bytes) else {
                    return;
                };
                // The bytes a URI signs are its path and query: a change the
                // URI drops (an authority form, say) leaves them as signed.
                if signed_part(&method, &changed, &body) == signed_part(&method, &uri, &body) {
                    return;
                }
                (changed, body)
            } else if body.is_empty() {
                return;
            } else {
                let mut body = body;
                flip(&mut body, at, mask);
                (uri, body)
            }
        }
        Change::Timestamp { at, mask } if mask != 0 => {
            if !changed_header(&mut headers, family.timestamp_header(), at, mask) {
                return;
            }
            (uri, body)
        }
        Change::ClientId { at, mask } if mask != 0 => {
            if !changed_header(&mut headers, family.client_id_header(), at, mask) {
                return;
            }
            (uri, body)
        }
        _ => return,
    };
    let verdict = verifier.verify(&headers, signed_part(&method, &uri, &body), now);
    assert!(
        verdict.is_err(),
        "a changed request still verified: {headers:?} {uri} {body:?}"
    );
}

fn flip(bytes: &mut [u8], at: usize, mask: u8) {
    let at = at % bytes.len();
    bytes[at] ^= mask;
}

/// Changes one byte of a header; false when the result is no header value.
fn changed_header(headers: &mut HeaderMap, name: &'static str, at: usize, mask: u8) -> bool {
    let mut bytes = headers[name].as_bytes().to_vec();
    flip(&mut bytes, at, mask);
    match HeaderValue::from_bytes(&bytes) {
        Ok(value) => {
            headers.insert(name, value);
            true
        }
        Err(_) => false,
    }
}
