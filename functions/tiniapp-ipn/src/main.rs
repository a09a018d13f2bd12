use tiniapp_ipn::TiniAppIpn;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tikivip_api::init_tracing();
    tikivip_api::run(TiniAppIpn::from_env().await?).await
}
