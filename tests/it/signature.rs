//! Every Tiki call is verified before anything is parsed or stored.

use std::time::{Duration, SystemTime};

use http::Method;
use tikivip_it::*;
use tikivip_signing::{HeaderFamily, Secret, Signer};

fn create_body() -> Vec<u8> {
    serde_json::json!({"tiki_transaction_id": tiki_id(), "transaction_amount": 1000})
        .to_string()
        .into()
}

/// A create signed now by `signer`.
async fn create_signed_by(api: &TikiApi, signer: &Signer) -> Reply {
    api.send(signed_by(
        signer,
        Method::POST,
        "/v1/transactions",
        create_body(),
        SystemTime::now(),
    ))
    .await
}

async fn assert_unauthorized(api: &TikiApi, reply: Reply, code: i64) {
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (401, code),
        "{:?}",
        reply.body
    );
    assert_eq!(
        item_count(&api.store).await,
        0,
        "a refused request wrote something"
    );
}

#[tokio::test]
async fn a_request_without_signature_headers_is_refused() {
    let api = TikiApi::new().await;
    let reply = api
        .send(unsigned(Method::POST, "/v1/transactions", create_body()))
        .await;
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("x-tikivip-timestamp")
    );
    assert_unauthorized(&api, reply, 1).await;
}

#[tokio::test]
async fn a_request_older_than_five_minutes_is_refused() {
    let api = TikiApi::new().await;
    let at = SystemTime::now() - minutes(5) - Duration::from_secs(1);
    let reply = api
        .send(signed(Method::POST, "/v1/transactions", create_body(), at))
        .await;
    assert_unauthorized(&api, reply, 1).await;
}

#[tokio::test]
async fn a_request_more_than_five_minutes_ahead_is_refused() {
    let api = TikiApi::new().await;
    let at = SystemTime::now() + minutes(6);
    let reply = api
        .send(signed(Method::POST, "/v1/transactions", create_body(), at))
        .await;
    assert_unauthorized(&api, reply, 1).await;
}

#[tokio::test]
async fn an_unknown_client_id_reads_exactly_as_a_wrong_signature() {
    let api = TikiApi::new().await;
    let stranger = Signer::new(HeaderFamily::Tikivip, "stranger", Secret::new(TIKI_SECRET));
    let unknown = create_signed_by(&api, &stranger).await;
    let forger = Signer::new(
        HeaderFamily::Tikivip,
        TIKI_CLIENT_ID,
        Secret::new("guessed"),
    );
    let wrong = create_signed_by(&api, &forger).await;
    assert_eq!(unknown.body, wrong.body, "the same code and message");
    assert_unauthorized(&api, unknown, 1).await;
}

#[tokio::test]
async fn a_request_signed_with_another_secret_is_refused() {
    let api = TikiApi::new().await;
    let forger = Signer::new(
        HeaderFamily::Tikivip,
        TIKI_CLIENT_ID,
        Secret::new("guessed"),
    );
    let reply = create_signed_by(&api, &forger).await;
    assert_unauthorized(&api, reply, 1).await;
}

#[tokio::test]
async fn a_tampered_body_is_refused() {
    let api = TikiApi::new().await;
    let mut request = signed(
        Method::POST,
        "/v1/transactions",
        create_body(),
        SystemTime::now(),
    );
    let tampered = String::from_utf8(request.body().to_vec())
        .unwrap()
        .replace("1000", "1");
    *request.body_mut() = lambda_http::Body::Binary(tampered.into());
    assert_unauthorized(&api, api.send(request).await, 1).await;
}

#[tokio::test]
async fn partner_headers_do_not_open_tikis_routes() {
    let api = TikiApi::new().await;
    let partner = Signer::new(
        HeaderFamily::Partner,
        TIKI_CLIENT_ID,
        Secret::new(TIKI_SECRET),
    );
    let reply = create_signed_by(&api, &partner).await;
    assert_unauthorized(&api, reply, 1).await;
}

#[tokio::test]
async fn a_body_with_spaces_and_newlines_is_verified_byte_for_byte() {
    let api = TikiApi::new().await;
    let body = format!(
        "{{\n  \"tiki_transaction_id\" : \"{}\",\r\n\t\"transaction_amount\":  1000\n}}\n",
        tiki_id()
    );
    let reply = api.post("/v1/transactions", body).await;
    assert_eq!(reply.ok()["transaction_amount"], 1000);
}

#[tokio::test]
async fn a_get_is_verified_over_its_path_and_query_as_sent() {
    let api = TikiApi::new().await;
    let tiki = tiki_id();
    api.created(&tiki, 1000).await;
    let signed_path = format!("/v1/transactions?tiki_transaction_id={tiki}");
    let mut request = signed(Method::GET, &signed_path, Vec::new(), SystemTime::now());
    *request.uri_mut() = format!("/v1/transactions?tiki_transaction_id={tiki}&x=1")
        .parse()
        .unwrap();
    let reply = api.send(request).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (401, 1));
    assert_eq!(
        api.get(&signed_path).await.ok()["tiki_transaction_id"],
        tiki
    );
}
