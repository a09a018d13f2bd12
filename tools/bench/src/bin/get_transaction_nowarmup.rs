//! get-transaction as deployed, but with its store built as before the
//! connection warm-up (no call at init): the "before" of the warm-up's
//! before/after in BENCHMARKS.md. Not deployed.

use get_transaction::GetTransaction;
use tikivip_signing::{HeaderFamily, Verifier};
use tikivip_store::Store;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tikivip_api::init_tracing();
    let aws = tikivip_api::load_aws_config().await;
    let keys =
        tikivip_api::keys_from_env(&aws, "TIKIVIP_CLIENT_ID", "TIKIVIP_CLIENT_SECRET").await?;
    let table = tikivip_api::required_env("TABLE_NAME")?;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), table);
    tikivip_api::run(GetTransaction::new(
        Verifier::new(HeaderFamily::Tikivip, keys),
        store,
    ))
    .await
}
