//! Operators see an order and its messages, signed with the partner's key.

use http::StatusCode;
use tikivip_it::stack::TINIAPP_CLIENT_ID;
use tikivip_it::tiniapp::{ago, message_id, order};
use tikivip_signing::Secret;

use super::stack;

#[tokio::test]
async fn an_operator_sees_the_order_and_its_messages_signed_with_the_partners_key() {
    let running = stack().await;
    let held = order("online_paid");
    running.tiki_holds(&held);
    let id = message_id();
    running.notify(&id, &held, ago(5)).await;
    running.notify(&id, &held, ago(5)).await;
    running.processed(&id).await;

    let path = format!("/v1/tiniapp/orders/{}", held.id);
    let reply = running
        .get_as(&tikivip_it::stack::partner_signer(), &path)
        .await;
    let data = reply.ok();
    assert_eq!(data["order_id"], held.id.as_str());
    assert_eq!(data["order"]["status"], "online_paid");
    assert_eq!(data["messages"].as_array().unwrap().len(), 1);
    assert_eq!(data["messages"][0]["message_id"], id.as_str());
    assert_eq!(data["messages"][0]["verdict"], "APPLIED");

    // The Tini App key (Tiki holds it too) does not open the partner's records.
    let tiniapp = tikivip_signing::Signer::new(
        tikivip_signing::HeaderFamily::Tiniapp,
        TINIAPP_CLIENT_ID,
        Secret::new(tikivip_it::stack::TINIAPP_SECRET),
    );
    assert_eq!(
        running.get_as(&tiniapp, &path).await.status,
        StatusCode::UNAUTHORIZED
    );
    let missing = running
        .get_as(
            &tikivip_it::stack::partner_signer(),
            "/v1/tiniapp/orders/nobody",
        )
        .await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, 3));

    // The CLI shows the same.
    let view = tikivip_tools::tiniapp_ops::order(&running.stack.store, &held.id)
        .await
        .unwrap();
    let printed =
        tikivip_tools::tiniapp_ops::render_order(&view, tikivip_tools::output::Output::Json)
            .unwrap();
    assert_eq!(printed.lines().count(), 1, "one JSON line: {printed}");
    let printed: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(&printed, data);
    // The table prints the same times as the API, never the stored form.
    let table =
        tikivip_tools::tiniapp_ops::render_order(&view, tikivip_tools::output::Output::Table)
            .unwrap();
    for time in [&data["order"]["as_of"], &data["messages"][0]["received_at"]] {
        assert!(table.contains(time.as_str().unwrap()), "{time} in\n{table}");
    }
}
