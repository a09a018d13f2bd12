//! The way back, in a real browser (headless Chromium): the user opens the
//! payment page, presses Pay (or Cancel), sees the result, and lands on Tiki's
//! checkout-result page.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tikivip_it::browser::Browser;
use tikivip_it::stack::{Running, partner_signer};
use tikivip_it::{tiki_id, tiki_signer};

/// A transaction of 99.000 ₫ created after the user's webview request, as
/// Tiki would: its payment URL and the webview's checkout-result URL.
async fn webview_then_create(running: &Running) -> (String, String, String) {
    let identify_code = format!("user-{}", uuid::Uuid::now_v7().simple());
    let webview = running
        .post(
            &partner_signer(),
            "/v1/webview",
            &json!({"identify_code": identify_code, "identify_phone": "0912345678"}),
        )
        .await;
    let checkout_result = webview.ok()["url_checkout_result"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = running
        .post(
            &tiki_signer(),
            "/v1/transactions",
            &json!({"tiki_transaction_id": tiki_id(), "transaction_amount": 99_000,
                    "customer": {"identify_code": identify_code}}),
        )
        .await;
    let data = created.ok();
    (
        data["transaction_id"].as_str().unwrap().to_owned(),
        data["payment_url"].as_str().unwrap().to_owned(),
        checkout_result,
    )
}

fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

async fn press_and_land(button: &str, expected_status: &str) {
    let started = Instant::now();
    let running = Running::start("1").await;
    let (id, payment_url, checkout_result) = webview_then_create(&running).await;

    let mut browser = Browser::launch().await;
    let launched = started.elapsed();
    browser.navigate(&payment_url).await;
    browser
        .wait_for(
            &format!(
                "document.readyState === 'complete' && !!document.getElementById({})",
                quoted(button)
            ),
            Duration::from_secs(10),
        )
        .await;
    // What the user sees inside the webview.
    let amount = browser
        .eval("document.getElementById('amount').textContent")
        .await
        .unwrap();
    assert_eq!(
        amount.as_str().map(|a| a.replace('\u{a0}', " ")),
        Some("99.000 ₫".into())
    );
    let viewport = browser
        .eval("document.querySelector('meta[name=viewport]').content")
        .await
        .unwrap();
    assert!(
        viewport.as_str().unwrap().contains("width=device-width"),
        "{viewport}"
    );

    // `TIKIVIP_SCREENSHOTS=DIR`: what the user saw, before and after.
    let screenshots = std::env::var_os("TIKIVIP_SCREENSHOTS").map(std::path::PathBuf::from);
    if let Some(dir) = &screenshots {
        browser
            .screenshot(&dir.join(format!("{button}-before.png")))
            .await;
    }
    browser
        .eval(&format!(
            "document.getElementById({}).click(); true",
            quoted(button)
        ))
        .await
        .unwrap();
    // The result state is shown before the browser is sent back...
    browser
        .wait_for(
            &format!(
                "location.href === {} || (document.getElementById('result') || {{}}).dataset?.status === {}",
                quoted(&checkout_result),
                quoted(expected_status)
            ),
            Duration::from_secs(10),
        )
        .await;
    if let Some(dir) = &screenshots {
        browser
            .screenshot(&dir.join(format!("{button}-result.png")))
            .await;
    }
    // ...then it ends at Tiki's checkout-result page.
    browser
        .wait_for(
            &format!("location.href === {}", quoted(&checkout_result)),
            Duration::from_secs(10),
        )
        .await;
    let title = browser.eval("document.title").await.unwrap();
    browser.close().await;

    let lookup = running.get(&format!("/v1/transactions/{id}")).await;
    assert_eq!(lookup.ok()["status"], expected_status);
    assert_eq!(lookup.ok()["redirect_url"], checkout_result.as_str());
    assert_eq!(title, "TikiVIP: checkout result");
    eprintln!(
        "browser walk ({button}): {:?} in all, {launched:?} to start the stack and the browser",
        started.elapsed()
    );
}

#[tokio::test]
async fn pressing_pay_settles_the_transaction_and_lands_on_tikis_checkout_result() {
    press_and_land("pay", "SUCCESS").await;
}

#[tokio::test]
async fn pressing_cancel_fails_the_transaction_and_lands_on_tikis_checkout_result() {
    press_and_land("cancel", "FAILURE").await;
}
