use lambda_runtime::{LambdaEvent, service_fn};
use reconciliation::{Reconciliation, RunRequest};
use tikivip_domain::Timestamp;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tikivip_api::init_tracing();
    let job = &*Box::leak(Box::new(Reconciliation::from_env().await?));
    // The schedule sends `{}` (yesterday); an operator may name a day.
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<RunRequest>| async move {
            let report = job.run(&event.payload, Timestamp::now_utc()).await?;
            Ok::<_, lambda_runtime::Error>(report)
        },
    ))
    .await
}
