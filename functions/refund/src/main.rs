use refund::Refund;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tikivip_api::init_tracing();
    tikivip_api::run(Refund::from_env().await?).await
}
