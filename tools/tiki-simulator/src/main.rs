//! `tiki-simulator`: Tiki's TikiVIP API on 127.0.0.1, for local development.
//! Point the partner backend's Tiki base URL at the address it prints.

use std::net::Ipv4Addr;
use std::process::ExitCode;

use clap::Parser;
use tiki_simulator::{DEV_CLIENT_ID, DEV_CLIENT_SECRET, Simulator, SimulatorConfig};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// Plays Tiki's side of the TikiVIP protocol: IPN, transaction status and
/// webview APIs, with a control API under /_sim/.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1 to serve on.
    #[arg(long, default_value_t = 4010)]
    port: u16,
    /// The client id callers must sign with.
    #[arg(long, env = "TIKIVIP_CLIENT_ID", default_value = DEV_CLIENT_ID)]
    client_id: String,
    /// The secret callers must sign with.
    #[arg(long, env = "TIKIVIP_CLIENT_SECRET", default_value = DEV_CLIENT_SECRET, hide_env_values = true)]
    client_secret: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "tiki-simulator failed");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> std::io::Result<()> {
    // Local only: the simulator accepts well-known development credentials.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, args.port)).await?;
    let config = SimulatorConfig::new(args.client_id, args.client_secret);
    let simulator = Simulator::start(listener, config)?;
    tracing::info!(
        base_url = simulator.base_url(),
        "Tiki simulator listening; Ctrl-C stops it"
    );
    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping");
    simulator.stop().await;
    Ok(())
}
