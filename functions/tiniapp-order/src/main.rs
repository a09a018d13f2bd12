use tiniapp_order::TiniAppOrder;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tikivip_api::init_tracing();
    tikivip_api::run(TiniAppOrder::from_env().await?).await
}
