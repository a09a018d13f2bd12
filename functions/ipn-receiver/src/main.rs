use ipn_receiver::IpnReceiver;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tikivip_api::init_tracing();
    tikivip_api::run(IpnReceiver::from_env().await?).await
}
