//! SQS's 12-hour visibility window, counted from the receive (scaled down).

use http::StatusCode;
use std::time::Duration;
use tiki_simulator::{Fault, FaultRoute};
use tikivip_domain::IpnState;
use tikivip_it::emulator::set_visibility_window;
use tikivip_it::stack::Running;
use tikivip_it::*;

use super::*;

#[tokio::test]
async fn every_step_of_the_default_schedule_scaled_down_passes_the_12_hour_rule() {
    // The default schedule with SQS's 12 h window scaled to 4 s: the steps
    // at half, one and two windows must be hidden in parts, each within it.
    let running = Running::start_hiding("1,1,1,1,2,4,8", Duration::from_secs(3)).await;
    let queue_name = running
        .stack
        .queue
        .queue_url()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    set_visibility_window(&queue_name, 4).await;
    running.tiki().fail(
        FaultRoute::Ipn,
        100,
        Fault::http_status(StatusCode::BAD_GATEWAY),
    );
    let id = paid(&running, &tiki_id()).await;
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while running.job(&id).await.state == IpnState::Pending {
        assert!(std::time::Instant::now() < until, "the job stalled");
        running
            .stack
            .dispatch_once(Duration::from_secs(1))
            .await
            .unwrap();
    }
    let job = running.job(&id).await;
    assert_eq!((job.state, job.attempts), (IpnState::Exhausted, 8));
    assert_eq!(running.ipns(&id).len(), 8, "every step was attempted");
}

#[tokio::test]
async fn a_hide_beyond_the_window_from_the_receive_is_refused_as_aws_does() {
    let running = Running::start("1").await;
    let queue = &running.stack.queue;
    let queue_name = queue.queue_url().rsplit('/').next().unwrap().to_owned();
    set_visibility_window(&queue_name, 4).await;
    let id = running.create(&tiki_id(), AMOUNT).await;
    queue
        .enqueue(&tikivip_queue::IpnMessage {
            transaction_id: txn_id(&id),
            chain: 0,
        })
        .await
        .unwrap();
    let received = queue
        .client()
        .receive_message()
        .queue_url(queue.queue_url())
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let handle = received.messages()[0].receipt_handle().unwrap().to_owned();
    let unbounded = queue.clone().with_max_hide(Duration::from_secs(10));
    let err = unbounded
        .retry_after(&handle, Duration::from_secs(8))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("InvalidParameterValue"), "{err}");
    assert!(
        queue
            .retry_after(&handle, Duration::from_secs(3))
            .await
            .is_ok()
    );
}
