use ipn_dispatcher::Dispatcher;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tikivip_api::init_tracing();
    let dispatcher = &*Box::leak(Box::new(Dispatcher::from_env().await?));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, std::convert::Infallible>(dispatcher.handle(event.payload).await)
    }))
    .await
}
