use webview::WebviewUrl;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tikivip_api::init_tracing();
    tikivip_api::run(WebviewUrl::from_env().await?).await
}
