//! A stand-in for Tiki's side of the TikiVIP protocol (SPEC.md Part 1), for local
//! development and integration tests.
//!
//! The partner backend calls the simulator exactly as it calls Tiki's API base,
//! with the same signed requests:
//!
//! | method, path | Tiki API |
//! |---|---|
//! | `POST /payment/ipn` | IPN: the partner reports a payment result |
//! | `GET /transaction?tiki_transaction_id=…` | transaction status |
//! | `POST /webview` | webview URL for a user |
//! | `GET /order?order_id=…` | the Tini App platform's order API (signed `X-Tiniapp-*`) |
//!
//! It also plays the Tini App platform's sending side: [`TiniAppPlatform`]
//! (and `POST /_sim/tiniapp/notify`) posts signed order notifications to the
//! partner's API — single, duplicated, racing, out of order, resent on 5xx.
//!
//! Every call is recorded, badly signed ones included, and a test can make the
//! next calls fail, answer a Tiki error code, or answer late. That control API
//! lives under `/_sim/` (unsigned) and on [`SimulatorHandle`] (in-process).
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use tiki_simulator::{Simulator, SimulatorConfig};
//! let sim = Simulator::start_local(SimulatorConfig::new("client", "secret")).await?;
//! // Point the code under test at `sim.base_url()`, run it, then:
//! let ipns = sim.handle().ipns();
//! # Ok(()) }
//! ```

mod control;
mod faults;
mod ipn;
mod server;
mod state;
mod tiki;
mod tiniapp;
mod transaction_status;
mod webview;
mod wire;

use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;

use tikivip_signing::{ClientKey, HeaderFamily, Secret, Verifier};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultOutcome, FaultRoute};
pub use state::{Answer, ForcedStatus, ReceivedIpn, RejectedCall, SimulatorHandle};
pub use tiki::TikiRoute;
pub use tiniapp::{
    ANSWER_WITHIN, Delivery, RESEND_SCHEDULE, SimOrder, TiniAppPlatform, notification,
};

/// The credentials the binary uses when none are given.
pub const DEV_CLIENT_ID: &str = "dev-tiki-client";
pub const DEV_CLIENT_SECRET: &str = "dev-tiki-secret";
pub const DEV_TINIAPP_CLIENT_ID: &str = "dev-tiniapp-client";
pub const DEV_TINIAPP_CLIENT_SECRET: &str = "dev-tiniapp-secret";

/// The one client the simulator accepts signed calls from.
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    pub client_id: String,
    pub client_secret: Secret,
    /// The Tini App client: verified on the order API, signing notifications.
    pub tiniapp_client_id: String,
    pub tiniapp_client_secret: Secret,
}

impl SimulatorConfig {
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Vec<u8>>) -> Self {
        SimulatorConfig {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            tiniapp_client_id: DEV_TINIAPP_CLIENT_ID.into(),
            tiniapp_client_secret: Secret::new(DEV_TINIAPP_CLIENT_SECRET),
        }
    }

    /// The Tini App platform's client, instead of the development one.
    pub fn with_tiniapp(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<Vec<u8>>,
    ) -> Self {
        self.tiniapp_client_id = client_id.into();
        self.tiniapp_client_secret = Secret::new(client_secret);
        self
    }
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig::new(DEV_CLIENT_ID, DEV_CLIENT_SECRET)
    }
}

/// A running simulator. Dropping it stops the server too; [`Simulator::stop`]
/// also waits for answers in flight.
#[derive(Debug)]
pub struct Simulator {
    base_url: String,
    handle: SimulatorHandle,
    tiniapp: TiniAppPlatform,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl Simulator {
    /// Serves on `listener` from a task of the current Tokio runtime.
    pub fn start(listener: TcpListener, config: SimulatorConfig) -> io::Result<Simulator> {
        let base_url = format!("http://{}", listener.local_addr()?);
        let handle = SimulatorHandle::default();
        let tiniapp = TiniAppPlatform::new(
            config.tiniapp_client_id.clone(),
            config.tiniapp_client_secret.clone(),
        );
        let app = Arc::new(server::App {
            tiniapp_verifier: Verifier::new(
                HeaderFamily::Tiniapp,
                vec![ClientKey {
                    client_id: config.tiniapp_client_id,
                    secret: config.tiniapp_client_secret,
                }],
            ),
            tiniapp: tiniapp.clone(),
            verifier: Verifier::new(
                HeaderFamily::Tikivip,
                vec![ClientKey {
                    client_id: config.client_id,
                    secret: config.client_secret,
                }],
            ),
            state: handle.clone(),
            base_url: base_url.clone(),
        });
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(server::run(listener, app, stopped));
        Ok(Simulator {
            base_url,
            handle,
            tiniapp,
            stop,
            server,
        })
    }

    /// Serves on a free port of 127.0.0.1: what a test wants.
    pub async fn start_local(config: SimulatorConfig) -> io::Result<Simulator> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        Simulator::start(listener, config)
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the stand-in for
    /// Tiki's API base.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// What the simulator has recorded, and its in-process control.
    pub fn handle(&self) -> &SimulatorHandle {
        &self.handle
    }

    /// The Tini App platform's sending side, signing as its client.
    pub fn tiniapp(&self) -> &TiniAppPlatform {
        &self.tiniapp
    }

    /// Stops accepting connections and waits (a few seconds at most) for the
    /// answers in flight.
    pub async fn stop(self) {
        // The server stops on this signal or on the sender's drop alike.
        drop(self.stop);
        if let Err(error) = self.server.await {
            tracing::error!(%error, "the simulator's server task failed");
        }
    }
}
