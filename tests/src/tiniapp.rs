//! The Tini App flow on a running stack: the simulator plays the Tini App
//! platform (its order API, and its notifications), the processor runs on
//! the real SQS queue, events are read back from the order events queue.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_dynamodb::types::AttributeValue;
use tiki_simulator::{Delivery, SimOrder, TiniAppPlatform, notification};
use tikivip_domain::tiniapp::{MessageState, Order, OrderEvent, RecordedMessage};
use tikivip_domain::{TiniAppMessageId, TiniAppOrderId};
use time::OffsetDateTime;

use tikivip_signing::Signer;

use crate::stack::Running;
use crate::{Reply, emulator_client};

impl Running {
    /// A GET over HTTP, signed by `signer` over the path and query sent.
    pub async fn get_as(&self, signer: &Signer, path_and_query: &str) -> Reply {
        let mut request = reqwest::Client::new().get(format!("{}{path_and_query}", self.api));
        for (name, value) in signer.headers(SystemTime::now(), path_and_query.as_bytes()) {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("the API answers");
        let status = http::StatusCode::from_u16(response.status().as_u16()).unwrap();
        Reply {
            status,
            body: response.json().await.expect("a JSON envelope"),
        }
    }

    /// The Tini App platform, signing as the stack's Tini App client.
    pub fn tiniapp(&self) -> &TiniAppPlatform {
        self.stack
            .simulator
            .as_ref()
            .expect("the stack runs the simulator")
            .tiniapp()
    }

    /// Tiki's order API reports `order` from now on.
    pub fn tiki_holds(&self, order: &SimOrder) {
        self.tiki().put_order(order.clone());
    }

    /// Posts one notification of `order` as at `created_at`.
    pub async fn notify(
        &self,
        message_id: &str,
        order: &SimOrder,
        created_at: OffsetDateTime,
    ) -> Delivery {
        self.tiniapp()
            .notify(&self.api, &notification(message_id, order, created_at))
            .await
    }

    /// Runs the processor's event source until `done` holds, or panics after `within`.
    pub async fn process_until(&self, within: Duration, mut done: impl AsyncFnMut() -> bool) {
        let deadline = Instant::now() + within;
        loop {
            if done().await {
                return;
            }
            assert!(Instant::now() < deadline, "not done within {within:?}");
            self.stack
                .tiniapp_process_once(Duration::from_secs(1))
                .await
                .expect("receive from SQS");
        }
    }

    /// Runs the processor's event source for `during`.
    pub async fn process_for(&self, during: Duration) {
        let deadline = Instant::now() + during;
        while Instant::now() < deadline {
            self.stack
                .tiniapp_process_once(Duration::from_secs(1))
                .await
                .expect("receive from SQS");
        }
    }

    /// Processes until the message has left RECEIVED.
    pub async fn processed(&self, message_id: &str) -> RecordedMessage {
        self.process_until(Duration::from_secs(30), async || {
            self.message(message_id)
                .await
                .is_some_and(|m| m.state != MessageState::Received)
        })
        .await;
        self.message(message_id).await.expect("stored")
    }

    pub async fn message(&self, message_id: &str) -> Option<RecordedMessage> {
        self.stack
            .store
            .tiniapp_message(&TiniAppMessageId::parse(message_id).unwrap())
            .await
            .unwrap()
            .map(|stored| stored.record)
    }

    pub async fn order(&self, order_id: &str) -> Option<Order> {
        self.stack
            .store
            .tiniapp_order(&TiniAppOrderId::parse(order_id).unwrap())
            .await
            .unwrap()
    }

    /// Everything published on the order events queue so far (taken off it).
    pub async fn published(&self) -> Vec<OrderEvent> {
        self.stack
            .order_events
            .drain(Duration::from_secs(1))
            .await
            .expect("read the order events queue")
    }

    /// How many Tini App messages the table holds.
    pub async fn stored_messages(&self) -> usize {
        let output = emulator_client()
            .await
            .scan()
            .table_name(self.stack.store.table())
            .consistent_read(true)
            .filter_expression("begins_with(pk, :prefix)")
            .expression_attribute_values(":prefix", AttributeValue::S("TINIAPP_MSG#".into()))
            .send()
            .await
            .expect("scan the table");
        output.items().len()
    }
}

/// An order of its own for one test, as Tiki holds it.
pub fn order(status: &str) -> SimOrder {
    SimOrder::new(
        format!("o-{}", uuid::Uuid::now_v7().simple()),
        status,
        99_000,
    )
}

/// A message id of its own for one test.
pub fn message_id() -> String {
    format!("m-{}", uuid::Uuid::now_v7().simple())
}

/// A recent `message_created_at`, `seconds_ago` before now (whole seconds).
pub fn ago(seconds: i64) -> OffsetDateTime {
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    now - time::Duration::seconds(seconds)
}
