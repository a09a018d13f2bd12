use get_transaction::GetTransaction;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tikivip_api::init_tracing();
    tikivip_api::run(GetTransaction::from_env().await?).await
}
