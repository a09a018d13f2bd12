//! `tikivip`: sign and send requests to the API, or run it locally.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tikivip_tools::{call, dev, sign};

#[derive(Parser)]
#[command(
    name = "tikivip",
    about = "Sign and send TikiVIP requests, or run the API locally"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the X-*-Timestamp, -Client-Id and -Signature headers for a request
    Sign(sign::SignArgs),
    /// Sign and send a request; print the status and the answer
    Call(call::CallArgs),
    /// Serve the API on 127.0.0.1:$PORT against the local AWS emulator
    Dev,
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Sign(args) => sign::run(&args),
        Command::Call(args) => call::run(args).await,
        Command::Dev => {
            // The handlers log with `tracing`; RUST_LOG filters, as in Lambda.
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .init();
            dev::run().await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The causes too: "error sending request" alone does not say
            // whether the connection was refused or the URL was wrong.
            let mut message = error.to_string();
            let mut cause = error.source();
            while let Some(error) = cause {
                message = format!("{message}: {error}");
                cause = error.source();
            }
            eprintln!("tikivip: {message}");
            ExitCode::FAILURE
        }
    }
}
