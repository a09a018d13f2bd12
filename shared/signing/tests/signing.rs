//! Tiki's published test vectors and every way a request is refused.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, Uri};
use tikivip_signing::{
    ClientKey, Error, HeaderFamily, Secret, Signer, Verifier, sign, signed_part,
};

const TIMESTAMP: u64 = 1620621619569;
const CLIENT_ID: &str = "RLCKb7Ae9kx4DXtXsCWjnDXtggFnM43W";
const SECRET: &str = "EhjGcsUUuRSJTHiYPbW5fxzyaKEx0JuAZIKRQ4HnIfNFidB2kMg6locQbTIEz3Vf";
const POST_SIGNATURE: &str = "8ebd092b9df2cf90e8ccbcab2ba87ee14f2abb25eb8f18b4d7286d42adcd45c2";
const GET_PATH: &str = "/order?location=H%C3%A0%20N%E1%BB%99i&order_id=88062110977884170";
const GET_SIGNATURE: &str = "e1e0d63f7f8296dd31b2c082e611351a6c41a3bc0309a9299832f70b693722c8";

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn secret() -> Secret {
    Secret::new(SECRET)
}

fn verifier(family: HeaderFamily) -> Verifier {
    Verifier::new(
        family,
        vec![ClientKey {
            client_id: CLIENT_ID.into(),
            secret: secret(),
        }],
    )
}

fn signed_headers(family: HeaderFamily, ts: u64, part: &[u8]) -> HeaderMap {
    Signer::new(family, CLIENT_ID, secret())
        .headers(at(ts), part)
        .into_iter()
        .collect()
}

#[test]
fn post_vector_from_tikis_documentation() {
    assert_eq!(
        sign(&secret(), TIMESTAMP, CLIENT_ID, br#"{"id":123}"#),
        POST_SIGNATURE
    );
}

#[test]
fn post_vector_signs_the_base64url_payload() {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{TIMESTAMP}.{CLIENT_ID}.{{\"id\":123}}"));
    assert_eq!(
        encoded,
        "MTYyMDYyMTYxOTU2OS5STENLYjdBZTlreDREWHRYc0NXam5EWHRnZ0ZuTTQzVy57ImlkIjoxMjN9"
    );
}

#[test]
fn get_vector_from_tikis_documentation() {
    assert_eq!(
        sign(&secret(), TIMESTAMP, CLIENT_ID, GET_PATH.as_bytes()),
        GET_SIGNATURE
    );
    let uri: Uri = format!("https://api.tala.xyz{GET_PATH}").parse().unwrap();
    assert_eq!(
        signed_part(&Method::GET, &uri, b"ignored"),
        GET_PATH.as_bytes()
    );
}

#[test]
fn a_post_signs_its_body_and_a_get_its_path_and_query() {
    let uri: Uri = "/v1/transactions?tiki_transaction_id=1".parse().unwrap();
    assert_eq!(signed_part(&Method::POST, &uri, b"{}"), b"{}");
    assert_eq!(
        signed_part(&Method::GET, &uri, b"{}"),
        b"/v1/transactions?tiki_transaction_id=1"
    );
}

/// HMAC-SHA256 over the payload encoded in one go, as Tiki's documentation
/// writes it: what the streaming encoder must agree with.
fn reference_signature(secret: &[u8], ts: u64, client_id: &str, part: &[u8]) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut payload = format!("{ts}.{client_id}.").into_bytes();
    payload.extend_from_slice(part);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(encoded.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn signatures_of_bodies_of_every_length_match_the_one_shot_encoding() {
    let secret = secret();
    // Every length to 2000, then around each 1536-byte chunk the encoder
    // works in and the 16 KiB a body may reach.
    let lengths = (0..=2000usize)
        .chain((1..=11).flat_map(|k| k * 1536 - 3..=k * 1536 + 3))
        .chain(16 * 1024 - 3..=16 * 1024 + 3);
    for len in lengths {
        let body: Vec<u8> = (0..len).map(|i| (i * 131 + len) as u8).collect();
        let expected = reference_signature(SECRET.as_bytes(), TIMESTAMP, CLIENT_ID, &body);
        assert_eq!(
            sign(&secret, TIMESTAMP, CLIENT_ID, &body),
            expected,
            "{len} bytes"
        );
        if len % 97 == 0 {
            let headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, &body);
            let v = verifier(HeaderFamily::Tikivip);
            assert_eq!(v.verify(&headers, &body, at(TIMESTAMP)), Ok(CLIENT_ID));
        }
    }
    for ts in [0, 7, 10, 99_999, u64::MAX] {
        assert_eq!(
            sign(&secret, ts, "c", b"{}"),
            reference_signature(SECRET.as_bytes(), ts, "c", b"{}"),
            "timestamp {ts}"
        );
    }
}

#[test]
fn a_timestamp_with_a_plus_or_leading_zeros_signs_as_its_value() {
    let v = verifier(HeaderFamily::Tikivip);
    for written in [format!("+{TIMESTAMP}"), format!("00{TIMESTAMP}")] {
        let mut headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, b"{}");
        headers.insert("x-tikivip-timestamp", written.parse().unwrap());
        assert_eq!(
            v.verify(&headers, b"{}", at(TIMESTAMP)),
            Ok(CLIENT_ID),
            "{written}"
        );
    }
}

#[test]
fn a_signature_of_the_wrong_length_is_a_bad_signature() {
    let v = verifier(HeaderFamily::Tikivip);
    for signature in [&POST_SIGNATURE[..62], &format!("{POST_SIGNATURE}00")] {
        let mut headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, br#"{"id":123}"#);
        headers.insert("x-tikivip-signature", signature.parse().unwrap());
        assert_eq!(
            v.verify(&headers, br#"{"id":123}"#, at(TIMESTAMP)),
            Err(Error::BadSignature)
        );
    }
    // Upper-case hex is the same signature.
    let mut headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, br#"{"id":123}"#);
    headers.insert(
        "x-tikivip-signature",
        POST_SIGNATURE.to_uppercase().parse().unwrap(),
    );
    assert_eq!(
        v.verify(&headers, br#"{"id":123}"#, at(TIMESTAMP)),
        Ok(CLIENT_ID)
    );
}

#[test]
fn verifies_both_vectors_with_their_published_headers() {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-tikivip-timestamp",
        TIMESTAMP.to_string().parse().unwrap(),
    );
    headers.insert("x-tikivip-client-id", CLIENT_ID.parse().unwrap());
    headers.insert("x-tikivip-signature", POST_SIGNATURE.parse().unwrap());
    let v = verifier(HeaderFamily::Tikivip);
    assert_eq!(
        v.verify(&headers, br#"{"id":123}"#, at(TIMESTAMP)),
        Ok(CLIENT_ID)
    );
    headers.insert("x-tikivip-signature", GET_SIGNATURE.parse().unwrap());
    assert_eq!(
        v.verify(&headers, GET_PATH.as_bytes(), at(TIMESTAMP + 1000)),
        Ok(CLIENT_ID)
    );
}

#[test]
fn every_family_round_trips_with_its_own_headers() {
    for family in [
        HeaderFamily::Tikivip,
        HeaderFamily::Tiniapp,
        HeaderFamily::Partner,
    ] {
        let headers = signed_headers(family, TIMESTAMP, b"body");
        assert!(headers.contains_key(family.signature_header()));
        assert_eq!(
            verifier(family).verify(&headers, b"body", at(TIMESTAMP)),
            Ok(CLIENT_ID)
        );
    }
}

#[test]
fn headers_of_another_family_are_missing_headers() {
    let headers = signed_headers(HeaderFamily::Partner, TIMESTAMP, b"body");
    assert_eq!(
        verifier(HeaderFamily::Tikivip).verify(&headers, b"body", at(TIMESTAMP)),
        Err(Error::MissingHeader("x-tikivip-timestamp"))
    );
}

#[test]
fn no_headers_is_refused() {
    let headers = HeaderMap::new();
    let err = verifier(HeaderFamily::Tikivip).verify(&headers, b"{}", at(TIMESTAMP));
    assert!(matches!(err, Err(Error::MissingHeader(_))));
}

#[test]
fn each_missing_header_is_named() {
    let family = HeaderFamily::Tikivip;
    for name in [
        family.timestamp_header(),
        family.client_id_header(),
        family.signature_header(),
    ] {
        let mut headers = signed_headers(family, TIMESTAMP, b"{}");
        headers.remove(name);
        assert_eq!(
            verifier(family).verify(&headers, b"{}", at(TIMESTAMP)),
            Err(Error::MissingHeader(name))
        );
    }
}

#[test]
fn a_timestamp_that_is_not_milliseconds_is_refused() {
    let mut headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, b"{}");
    headers.insert(
        "x-tikivip-timestamp",
        "2021-05-10T05:00:19Z".parse().unwrap(),
    );
    assert_eq!(
        verifier(HeaderFamily::Tikivip).verify(&headers, b"{}", at(TIMESTAMP)),
        Err(Error::MalformedTimestamp("x-tikivip-timestamp"))
    );
}

#[test]
fn a_request_older_than_five_minutes_is_stale() {
    let headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, b"{}");
    let v = verifier(HeaderFamily::Tikivip);
    assert!(v.verify(&headers, b"{}", at(TIMESTAMP + 300_000)).is_ok());
    assert_eq!(
        v.verify(&headers, b"{}", at(TIMESTAMP + 300_001)),
        Err(Error::Stale)
    );
}

#[test]
fn a_request_more_than_five_minutes_ahead_is_refused() {
    let headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, b"{}");
    let v = verifier(HeaderFamily::Tikivip);
    assert!(v.verify(&headers, b"{}", at(TIMESTAMP - 300_000)).is_ok());
    assert_eq!(
        v.verify(&headers, b"{}", at(TIMESTAMP - 300_001)),
        Err(Error::FromTheFuture)
    );
}

#[test]
fn an_unknown_client_is_refused() {
    let headers = Signer::new(HeaderFamily::Tikivip, "someone-else", secret())
        .headers(at(TIMESTAMP), b"{}")
        .into_iter()
        .collect();
    assert_eq!(
        verifier(HeaderFamily::Tikivip).verify(&headers, b"{}", at(TIMESTAMP)),
        Err(Error::UnknownClient)
    );
}

#[test]
fn a_wrong_secret_is_a_bad_signature() {
    let headers = Signer::new(HeaderFamily::Tikivip, CLIENT_ID, Secret::new("wrong"))
        .headers(at(TIMESTAMP), b"{}")
        .into_iter()
        .collect();
    assert_eq!(
        verifier(HeaderFamily::Tikivip).verify(&headers, b"{}", at(TIMESTAMP)),
        Err(Error::BadSignature)
    );
}

#[test]
fn a_signature_that_is_not_hex_is_a_bad_signature() {
    let mut headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, b"{}");
    headers.insert("x-tikivip-signature", "zz".parse().unwrap());
    assert_eq!(
        verifier(HeaderFamily::Tikivip).verify(&headers, b"{}", at(TIMESTAMP)),
        Err(Error::BadSignature)
    );
}

#[test]
fn a_header_that_is_not_text_is_missing() {
    let family = HeaderFamily::Tikivip;
    for name in [
        family.timestamp_header(),
        family.client_id_header(),
        family.signature_header(),
    ] {
        let mut headers = signed_headers(family, TIMESTAMP, b"{}");
        headers.insert(name, http::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
        assert_eq!(
            verifier(family).verify(&headers, b"{}", at(TIMESTAMP)),
            Err(Error::MissingHeader(name))
        );
    }
}

#[test]
fn of_a_header_sent_twice_the_first_counts() {
    let family = HeaderFamily::Tikivip;
    let good = signed_headers(family, TIMESTAMP, b"{}");
    let wrong = "0".repeat(64);
    for (first, second, expected) in [
        (
            &good[family.signature_header()],
            wrong.as_str(),
            Ok(CLIENT_ID),
        ),
        (
            &wrong.parse().unwrap(),
            good[family.signature_header()].to_str().unwrap(),
            Err(Error::BadSignature),
        ),
    ] {
        let mut headers = good.clone();
        headers.insert(family.signature_header(), first.clone());
        headers.append(family.signature_header(), second.parse().unwrap());
        assert_eq!(
            verifier(family).verify(&headers, b"{}", at(TIMESTAMP)),
            expected
        );
    }
}

#[test]
fn a_tampered_body_is_a_bad_signature() {
    let headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, br#"{"amount":100}"#);
    assert_eq!(
        verifier(HeaderFamily::Tikivip).verify(&headers, br#"{"amount":900}"#, at(TIMESTAMP)),
        Err(Error::BadSignature)
    );
}

#[test]
fn a_body_with_spaces_and_newlines_is_verified_byte_for_byte() {
    let body = b"{\n  \"id\" : 123 ,\r\n\t\"note\": \"a  b\"\n}\n";
    let headers = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, body);
    let v = verifier(HeaderFamily::Tikivip);
    assert!(v.verify(&headers, body, at(TIMESTAMP)).is_ok());
    let compact = br#"{"id":123,"note":"a  b"}"#;
    assert_eq!(
        v.verify(&headers, compact, at(TIMESTAMP)),
        Err(Error::BadSignature)
    );
}

#[test]
fn two_active_secrets_both_verify_during_a_rotation() {
    let new_secret = Secret::new("the-next-secret");
    let v = Verifier::new(
        HeaderFamily::Tikivip,
        vec![
            ClientKey {
                client_id: CLIENT_ID.into(),
                secret: new_secret.clone(),
            },
            ClientKey {
                client_id: CLIENT_ID.into(),
                secret: secret(),
            },
        ],
    );
    let old: HeaderMap = signed_headers(HeaderFamily::Tikivip, TIMESTAMP, b"{}");
    let new: HeaderMap = Signer::new(HeaderFamily::Tikivip, CLIENT_ID, new_secret)
        .headers(at(TIMESTAMP), b"{}")
        .into_iter()
        .collect();
    assert!(v.verify(&old, b"{}", at(TIMESTAMP)).is_ok());
    assert!(v.verify(&new, b"{}", at(TIMESTAMP)).is_ok());
}

#[test]
fn secrets_never_show_in_debug_output() {
    assert!(!format!("{:?}", verifier(HeaderFamily::Tikivip)).contains(SECRET));
}
