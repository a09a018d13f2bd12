use ipn_outbox_sweeper::Sweeper;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tikivip_api::init_tracing();
    let sweeper = &*Box::leak(Box::new(Sweeper::from_env().await?));
    // The scheduled event carries nothing the sweep needs.
    lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let swept = sweeper.sweep().await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({
                "released": swept.released,
                "waiting": swept.waiting,
            }))
        },
    ))
    .await
}
