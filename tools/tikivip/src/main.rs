//! `tikivip`: sign and send requests to the API, or run it locally.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tikivip_queue::IpnQueue;
use tikivip_store::Store;
use tikivip_tools::aws::AwsArgs;
use tikivip_tools::output::OutputArgs;
use tikivip_tools::{call, dev, dev_defaults, ops, reconcile, sign, tiniapp_ops};

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
    /// Move every dead-lettered IPN job back to the queue with a fresh
    /// schedule; list what became of each dead letter
    Redrive(List),
    /// List the transactions whose customers must be refunded
    RefundsRequired(List),
    /// Show a Tini App order and every message received about it
    TiniappOrder {
        /// The Tini App order id (`order.id` of its notifications)
        id: String,
        #[command(flatten)]
        list: List,
    },
    /// List the Tini App messages set aside (their order unknown to Tiki)
    TiniappSetAside(List),
    /// Record a refund an operator made by hand for a refund-required payment
    RecordRefund(RecordRefund),
    /// List IPN jobs that ended in an alert: Tiki reporting SUCCESS for a
    /// failed payment, or a status answer that does not match ours
    IpnAlerts(List),
    /// Produce or re-send one day's reconciliation files (to a local
    /// folder, to S3, or to Tiki's SFTP), or show its mismatch reports
    Reconcile(reconcile::ReconcileArgs),
}

#[derive(clap::Args)]
struct RecordRefund {
    #[command(flatten)]
    target: Target,
    /// Our transaction id
    #[arg(long)]
    transaction_id: String,
    /// The amount refunded, in VND
    #[arg(long)]
    amount: u64,
    /// The operator's own reference for the refund; the same reference twice
    /// records one refund
    #[arg(long)]
    reference: String,
    #[arg(long)]
    reason: String,
    /// Who made the refund
    #[arg(long, env = "USER")]
    operator: String,
}

/// Which deployment an operator's command acts on. AWS credentials, region
/// and endpoint come from the usual AWS settings (`--profile`, `--region`,
/// `AWS_PROFILE`, `AWS_ENDPOINT_URL`, …).
#[derive(clap::Args)]
struct Target {
    /// The DynamoDB table (the stack's TableName output)
    #[arg(long, env = "TABLE_NAME", default_value = dev_defaults::TABLE_NAME)]
    table: String,
    /// The IPN queue's name (the stack's IpnQueueName output)
    #[arg(long, env = "IPN_QUEUE_NAME", default_value = "tikivip-dev-ipn")]
    queue_name: String,
    #[command(flatten)]
    aws: AwsArgs,
}

/// A command that lists things: where, and how to print them.
#[derive(clap::Args)]
struct List {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    output: OutputArgs,
}

impl Target {
    /// The table alone: the Tini App commands need no queue.
    async fn store(&self) -> Store {
        let aws = self.aws.load().await;
        Store::new(aws_sdk_dynamodb::Client::new(&aws), &self.table)
    }

    async fn store_and_queue(&self) -> Result<(Store, IpnQueue), tikivip_tools::Error> {
        let aws = self.aws.load().await;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), &self.table);
        let queue = IpnQueue::named(aws_sdk_sqs::Client::new(&aws), &self.queue_name).await?;
        Ok((store, queue))
    }
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
        Command::Redrive(list) => redrive(&list).await,
        Command::RefundsRequired(list) => refunds_required(&list).await,
        Command::RecordRefund(args) => record_refund(&args).await,
        Command::IpnAlerts(list) => ipn_alerts(&list).await,
        Command::TiniappOrder { id, list } => tiniapp_order(&list, &id).await,
        Command::TiniappSetAside(list) => tiniapp_set_aside(&list).await,
        Command::Reconcile(args) => reconcile::run(args).await,
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

async fn redrive(list: &List) -> Result<(), tikivip_tools::Error> {
    let (store, queue) = list.target.store_and_queue().await?;
    let redriven = ops::redrive(&store, &queue).await?;
    ops::redriven_listing(&redriven).print(list.output.format());
    eprintln!(
        "{} IPN job(s) moved back to {}, {} ended meanwhile, {} set aside",
        redriven.moved.len(),
        queue.queue_url(),
        redriven.dropped.len(),
        redriven.set_aside.len()
    );
    Ok(())
}

async fn record_refund(args: &RecordRefund) -> Result<(), tikivip_tools::Error> {
    let (store, _) = args.target.store_and_queue().await?;
    let usage = |e: tikivip_domain::Error| -> tikivip_tools::Error { e.to_string().into() };
    let refund = ops::HandRefund {
        transaction_id: tikivip_domain::TransactionId::parse(args.transaction_id.as_str())
            .map_err(usage)?,
        amount: tikivip_domain::Vnd::new(args.amount).map_err(usage)?,
        reference: args.reference.clone(),
        reason: args.reason.clone(),
        operator: args.operator.clone(),
    };
    let refunded = ops::record_hand_refund(&store, &refund).await?;
    println!(
        "{}",
        serde_json::to_string(&refunded.receipt).unwrap_or_default()
    );
    eprintln!(
        "{}",
        if refunded.is_new {
            "refund recorded; the transaction is off the refund-required list"
        } else {
            "this refund was already recorded"
        }
    );
    Ok(())
}

async fn ipn_alerts(list: &List) -> Result<(), tikivip_tools::Error> {
    let (store, _) = list.target.store_and_queue().await?;
    let alerts = ops::ipn_alerts(&store).await?;
    ops::alerts_listing(&alerts).print(list.output.format());
    eprintln!("{} IPN alert(s)", alerts.len());
    Ok(())
}

async fn refunds_required(list: &List) -> Result<(), tikivip_tools::Error> {
    let (store, _) = list.target.store_and_queue().await?;
    let transactions = ops::refunds_required(&store).await?;
    ops::refunds_listing(&transactions).print(list.output.format());
    eprintln!("{} transaction(s) need a refund", transactions.len());
    Ok(())
}

async fn tiniapp_order(list: &List, id: &str) -> Result<(), tikivip_tools::Error> {
    let view = tiniapp_ops::order(&list.target.store().await, id).await?;
    print!(
        "{}",
        tiniapp_ops::render_order(&view, list.output.format())?
    );
    Ok(())
}

async fn tiniapp_set_aside(list: &List) -> Result<(), tikivip_tools::Error> {
    let ids = tiniapp_ops::set_aside(&list.target.store().await).await?;
    tiniapp_ops::set_aside_listing(&ids).print(list.output.format());
    eprintln!("{} Tini App message(s) set aside", ids.len());
    Ok(())
}
