use create_transaction::CreateTransaction;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tikivip_api::init_tracing();
    tikivip_api::run(CreateTransaction::from_env().await?).await
}
