//! The `tikivip` command line against a stack: `tikivip call` targets a
//! deployed stack's URL (here the local API behind a custom domain's base
//! path) and signs with the key the stack keeps in Secrets Manager (here the
//! emulator's), as for a first sandbox test with Tiki.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tikivip_it::stack::Running;
use tikivip_it::{TIKI_CLIENT_ID, TIKI_SECRET, emulator_config, tiki_id};
use tikivip_tools::call::{Call, CallArgs};

/// A secret in the emulator's Secrets Manager holding `value`; its ARN.
async fn secret(value: &str) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&emulator_config().await);
    let name = format!("it-{}/tiki-client-secret", uuid::Uuid::now_v7().simple());
    client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("create the secret")
        .arn
        .expect("its ARN")
}

/// `tikivip call WORDS…` once: the answer, or the error it would print.
async fn call(words: &[&str]) -> Result<(StatusCode, Value), String> {
    let args = CallArgs::try_parse_from(words).map_err(|e| e.to_string())?;
    let call = Call::new(&args).await.map_err(|e| e.to_string())?;
    let answer = call
        .send(&reqwest::Client::new(), 1)
        .await
        .map_err(|e| e.to_string())?;
    let body = serde_json::from_slice(&answer.body).expect("a JSON envelope");
    Ok((answer.status, body))
}

#[tokio::test]
async fn call_targets_a_stacks_url_with_the_key_from_secrets_manager() {
    let running = Running::start_at("1,1,1", "/tikivip").await;
    // Mid-rotation, as the template allows: the newest key signs.
    let arn = secret(&format!("{TIKI_SECRET},retired-secret")).await;
    let deployed = [
        "--url",
        running.api.as_str(),
        "--secret-id",
        arn.as_str(),
        "--client-id",
        TIKI_CLIENT_ID,
        "--region",
        "ap-southeast-1",
    ];

    let tiki = tiki_id();
    let body = json!({"tiki_transaction_id": tiki, "transaction_amount": 99000}).to_string();
    let words: Vec<&str> = ["POST", "/v1/transactions", "--body", body.as_str()]
        .into_iter()
        .chain(deployed)
        .collect();
    let (status, created) = call(&words).await.unwrap();
    assert_eq!(
        (status, created["code"].as_i64()),
        (StatusCode::OK, Some(0)),
        "{created}"
    );
    tikivip_it::openapi::check_answer("POST", "/v1/transactions", 200, &created);

    // A GET is signed over the path and query from /v1/ on, the base path
    // left out, as Tiki signs it.
    let lookup = format!("/v1/transactions?tiki_transaction_id={tiki}");
    let words: Vec<&str> = ["GET", lookup.as_str()]
        .into_iter()
        .chain(deployed)
        .collect();
    let (status, found) = call(&words).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        found["data"]["transaction_id"],
        created["data"]["transaction_id"]
    );

    // The development key does not open the deployed stack.
    let words = ["GET", lookup.as_str(), "--url", running.api.as_str()];
    let (status, _) = call(&words).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn call_reports_a_missing_secret_clearly() {
    let arn = secret("some-secret").await;
    let gone = format!("{arn}-gone");
    let error = call(&[
        "GET",
        "/v1/transactions/T1",
        "--secret-id",
        &gone,
        "--client-id=c",
    ])
    .await
    .unwrap_err();
    assert!(error.contains(&format!("reading secret {gone}")), "{error}");
    assert!(error.contains("ResourceNotFound"), "{error}");
}

#[tokio::test]
async fn call_refuses_a_secret_of_the_wrong_shape_clearly() {
    // The console's default, a key/value secret, is not what the stack holds.
    for (value, says) in [
        (
            r#"{"client_secret":"s3cr3t"}"#,
            "holds JSON (a key/value secret)",
        ),
        (" , ", "holds no secret"),
    ] {
        let arn = secret(value).await;
        let error = call(&[
            "GET",
            "/v1/transactions/T1",
            "--secret-id",
            &arn,
            "--client-id=c",
        ])
        .await
        .unwrap_err();
        assert!(error.contains(says), "{value}: {error}");
        assert!(
            !error.contains("s3cr3t"),
            "the secret is never shown: {error}"
        );
    }
}
