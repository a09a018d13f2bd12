//! `tikivip dev`: the whole API on 127.0.0.1:$PORT against the local AWS
//! emulator (`make dev` starts it first).

use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use tikivip_domain::RetrySchedule;
use tikivip_tiki_client::TikiEnvironment;

use tikivip_signing::HeaderFamily;
use tokio::net::TcpListener;

use crate::Error;
use crate::dev_defaults::{self, Credentials};
use crate::local_api;
use crate::stack::{Stack, StackConfig, Tiki};

/// What the local API runs with: the environment, else the development
/// defaults.
pub struct DevConfig {
    pub port: u16,
    /// Where the AWS clients must send their calls: the handlers' AWS clients
    /// are to be built with this endpoint, not from the ambient AWS settings,
    /// so that `tikivip dev` never touches a real account by accident.
    pub aws_endpoint_url: String,
    pub aws_region: String,
    pub table_name: String,
    /// Tiki's client, verified on Tiki's calls.
    pub tikivip: Credentials,
    /// The payment core's client, verified on /v1/ipn.
    pub partner: Credentials,
    /// The Tini App platform's client, verified on /v1/tiniapp/ipn.
    pub tiniapp: Credentials,
}

impl DevConfig {
    pub fn from_env() -> Result<Self, Error> {
        let port = dev_defaults::var_or("PORT", &dev_defaults::PORT.to_string());
        Ok(DevConfig {
            port: port
                .parse()
                .map_err(|_| format!("PORT={port} is not a port"))?,
            aws_endpoint_url: dev_defaults::var_or(
                "AWS_ENDPOINT_URL",
                dev_defaults::AWS_ENDPOINT_URL,
            ),
            aws_region: dev_defaults::var_or("AWS_REGION", dev_defaults::AWS_REGION),
            table_name: dev_defaults::var_or("TABLE_NAME", dev_defaults::TABLE_NAME),
            tikivip: Credentials::from_env(HeaderFamily::Tikivip),
            partner: Credentials::from_env(HeaderFamily::Partner),
            tiniapp: Credentials::from_env(HeaderFamily::Tiniapp),
        })
    }
}

/// The configuration as `tikivip dev` prints it at start: secrets hinted at,
/// never shown.
impl fmt::Display for DevConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  API               http://127.0.0.1:{}", self.port)?;
        writeln!(f, "  AWS endpoint      {}", self.aws_endpoint_url)?;
        writeln!(f, "  AWS region        {}", self.aws_region)?;
        writeln!(f, "  DynamoDB table    {}", self.table_name)?;
        for (who, credentials) in [
            ("Tiki client", &self.tikivip),
            ("partner client", &self.partner),
            ("Tini App client", &self.tiniapp),
        ] {
            writeln!(
                f,
                "  {who:<17} {} (secret {})",
                credentials.client_id,
                credentials.secret_hint()
            )?;
        }
        Ok(())
    }
}

/// Development defaults of the IPN side: retries within seconds, and a
/// sweeper that releases a stranded IPN job within seconds.
const DEV_RETRY_DELAYS_SECONDS: &str = "1,1,1";
const DEV_OUTBOX_GRACE: Duration = Duration::from_secs(5);
const DEV_SWEEP_EVERY: Duration = Duration::from_secs(5);
const DEV_SIMULATOR_PORT: u16 = 4010;

impl DevConfig {
    /// The stack `make dev` runs: Tiki is the simulator unless `TIKI_BASE_URL`
    /// (or `TIKI_ENVIRONMENT`) names another.
    fn stack_config(&self) -> Result<StackConfig, Error> {
        let tiki_is_set = ["TIKI_BASE_URL", "TIKI_ENVIRONMENT"]
            .iter()
            .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()));
        let tiki = if tiki_is_set {
            Tiki::At(TikiEnvironment::from_env()?)
        } else {
            let port = dev_defaults::var_or("TIKI_SIMULATOR_PORT", &DEV_SIMULATOR_PORT.to_string());
            Tiki::Simulator {
                port: port
                    .parse()
                    .map_err(|_| format!("TIKI_SIMULATOR_PORT={port} is not a port"))?,
            }
        };
        let delays = dev_defaults::var_or("IPN_RETRY_DELAYS_SECONDS", DEV_RETRY_DELAYS_SECONDS);
        Ok(StackConfig {
            aws_endpoint_url: self.aws_endpoint_url.clone(),
            aws_region: self.aws_region.clone(),
            table_name: self.table_name.clone(),
            queue_name: format!("{}-ipn", self.table_name),
            tikivip: self.tikivip.clone(),
            partner: self.partner.clone(),
            tiniapp: self.tiniapp.clone(),
            tiki,
            retry_schedule: RetrySchedule::parse(&delays)?,
            outbox_grace: DEV_OUTBOX_GRACE,
            tiki_timeout: Duration::from_secs(10),
            max_hide: tikivip_queue::MAX_HIDE,
        })
    }
}

pub async fn run() -> Result<(), Error> {
    let config = DevConfig::from_env()?;
    println!("tikivip dev\n{config}");
    let stack = Stack::start(config.stack_config()?).await?;
    // As behind a custom domain with an API mapping path (docs/deploy.md).
    let base_path = tikivip_api::BasePath::from_env()?;
    let api = format!("http://127.0.0.1:{}{}", config.port, base_path.as_str());
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .map_err(|e| format!("listening on 127.0.0.1:{}: {e}", config.port))?;
    println!(
        "  Tiki              {}{}",
        stack.tiki_base_url,
        if stack.simulator.is_some() {
            " (simulator; control API under /_sim/)"
        } else {
            ""
        }
    );
    println!("  IPN queue         {}", stack.queue.queue_url());
    println!("  base path         {base_path} (API_BASE_PATH)");
    println!("  Tini App queue    {}", stack.tiniapp_jobs.queue_url());
    println!("  order events      {}", stack.order_events.queue_url());
    println!("  payment page      {api}/pay/{{transaction_id}}");
    println!("listening on {api} — Ctrl-C to stop");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let serving = local_api::serve_at(listener, stack.routes(&api)?, base_path, async {
        // If the handler cannot be installed, Ctrl-C kills the process anyway.
        let _ = tokio::signal::ctrl_c().await;
        println!("stopping: letting requests in flight finish");
        let _ = stop.send(true);
    });
    tokio::join!(
        serving,
        stack.run_dispatcher(until_stopped()),
        stack.run_tiniapp_processor(until_stopped()),
        stack.run_sweeper(DEV_SWEEP_EVERY, until_stopped()),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_configuration_hides_the_secrets() {
        let credentials = |id: &str, secret: &str| {
            Credentials::resolve(HeaderFamily::Tikivip, Some(id.into()), Some(secret.into()))
        };
        let config = DevConfig {
            port: 3000,
            aws_endpoint_url: dev_defaults::AWS_ENDPOINT_URL.into(),
            aws_region: dev_defaults::AWS_REGION.into(),
            table_name: dev_defaults::TABLE_NAME.into(),
            tikivip: credentials("tiki", "tiki-secret-123"),
            partner: credentials("partner", "partner-secret-456"),
            tiniapp: credentials("tiniapp", "tiniapp-secret-789"),
        };
        let printed = config.to_string();
        assert!(printed.contains("tiki (secret tiki…)"), "{printed}");
        for secret in ["secret-123", "secret-456", "secret-789"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
