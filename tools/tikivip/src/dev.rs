//! `tikivip dev`: the whole API on 127.0.0.1:$PORT against the local AWS
//! emulator (`make dev` starts it first).

use std::fmt;
use std::net::Ipv4Addr;

use tikivip_signing::HeaderFamily;
use tokio::net::TcpListener;

use crate::Error;
use crate::dev_defaults::{self, Credentials};
use crate::local_api::{self, Route};

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

/// The routing table of the local API, mirroring the SAM template.
///
/// LEAD: wire the function crates' handlers here, one [`Route`] each, e.g.
/// `Route::new(Method::POST, "/v1/transactions", move |request| create_transaction::handle(state.clone(), request))`.
/// Async because building the AWS clients is.
pub async fn routes(_config: &DevConfig) -> Vec<Route> {
    Vec::new()
}

pub async fn run() -> Result<(), Error> {
    let config = DevConfig::from_env()?;
    println!("tikivip dev\n{config}");
    let routes = routes(&config).await;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .map_err(|e| format!("listening on 127.0.0.1:{}: {e}", config.port))?;
    println!(
        "listening on http://127.0.0.1:{} — Ctrl-C to stop",
        config.port
    );
    local_api::serve(listener, routes, async {
        // If the handler cannot be installed, Ctrl-C kills the process anyway.
        let _ = tokio::signal::ctrl_c().await;
        println!("stopping: letting requests in flight finish");
    })
    .await;
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
