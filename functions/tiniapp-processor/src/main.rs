use lambda_runtime::{LambdaEvent, service_fn};
use tiniapp_processor::Processor;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tikivip_api::init_tracing();
    let processor = &*Box::leak(Box::new(Processor::from_env().await?));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, std::convert::Infallible>(processor.handle(event.payload).await)
    }))
    .await
}
