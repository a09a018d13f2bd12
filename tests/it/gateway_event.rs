//! The local API hands each request to its function through API Gateway's
//! own event path (the 2.0 event JSON, then `lambda_http`'s conversion), so
//! that the GET signature is verified over the path and query exactly as
//! sent: with percent-encoded characters, and behind a custom domain's base
//! path (`API_BASE_PATH`).

use http::StatusCode;
use serde_json::json;
use tikivip_it::stack::Running;
use tikivip_it::tiki_signer;

/// Every character of an id percent-encoded, as a client may send it.
fn encoded(id: &str) -> String {
    id.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn a_get_signed_over_a_percent_encoded_path_verifies_and_finds_the_transaction() {
    let running = Running::start("1").await;
    let id = running.create("tiki-encoded-1", 10_000).await;
    let reply = running
        .get(&format!("/v1/transactions/{}", encoded(&id)))
        .await;
    assert_eq!(reply.ok()["transaction_id"], id.as_str());

    // Signed over the decoded path instead: not what was sent, refused.
    let reply = running
        .get_signed_over(
            &format!("/v1/transactions/{}", encoded(&id)),
            &format!("/v1/transactions/{id}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_tiki_id_with_reserved_characters_is_found_by_its_encoded_query() {
    let running = Running::start("1").await;
    let tiki_id = "a/b&c=d+e%f";
    let body = json!({"tiki_transaction_id": tiki_id, "transaction_amount": 10_000});
    let created = running
        .post(&tiki_signer(), "/v1/transactions", &body)
        .await;
    let id = created.ok()["transaction_id"].clone();
    let query = form_urlencoded_pair("tiki_transaction_id", tiki_id);
    assert_eq!(query, "tiki_transaction_id=a%2Fb%26c%3Dd%2Be%25f");
    let reply = running.get(&format!("/v1/transactions?{query}")).await;
    assert_eq!(reply.ok()["transaction_id"], id);

    // An encoding the server would not produce itself is still verified as sent.
    let reply = running
        .get("/v1/transactions?tiki_transaction_id=H%c3%a0%20N%E1%BB%99i")
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::BAD_REQUEST, 1),
        "{:?}",
        reply.body
    );
}

fn form_urlencoded_pair(name: &str, value: &str) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!("{}={}", encode(name), encode(value))
}

#[tokio::test]
async fn behind_a_base_path_signatures_verify_over_the_path_tiki_signed() {
    let running = Running::start_at("1", "/tikivip").await;
    assert!(running.api.ends_with("/tikivip"));
    let id = running.create("tiki-base-path-1", 20_000).await;

    // Sent to {domain}/tikivip/v1/…, signed over /v1/… (no base URL).
    let path = format!("/v1/transactions/{}", encoded(&id));
    let reply = running.get(&path).await;
    assert_eq!(reply.ok()["transaction_id"], id.as_str());
    let reply = running
        .get("/v1/transactions?tiki_transaction_id=tiki-base-path-1")
        .await;
    assert_eq!(reply.ok()["transaction_id"], id.as_str());

    // Signed over the path with the base path: not what Tiki signs.
    let reply = running
        .get_signed_over(&path, &format!("/tikivip{path}"))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // POSTs (signed over the body) and the partner's routes work there too.
    let paid = running.pay(&id, "SUCCESS", 20_000, "ev-base-path").await;
    assert_eq!(paid.ok()["status"], "SUCCESS");
}
