//! The whole system in one process, wired as the SAM template wires it in AWS:
//! the table, the IPN queue and its dead-letter queue, every function's
//! handler behind one router, the SQS-driven dispatcher, the outbox sweeper,
//! and Tiki — the simulator, unless a Tiki base URL is given. `tikivip dev`
//! runs it; the integration tests start the very same stack.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials as AwsCredentials;
use create_transaction::{CreateTransaction, PaymentUrlTemplate};
use get_transaction::GetTransaction;
use http::Method;
use ipn_dispatcher::Dispatcher;
use ipn_outbox_sweeper::Sweeper;
use ipn_receiver::IpnReceiver;
use refund::Refund;
use tiki_simulator::{Simulator, SimulatorConfig};
use tikivip_api::Handler;
use tikivip_domain::RetrySchedule;
use tikivip_queue::IpnQueue;
use tikivip_queue::tiniapp::{OrderEvents, TiniAppOutbox};
use tikivip_signing::{ClientKey, HeaderFamily, Verifier};
use tikivip_store::Store;
use tikivip_tiki_client::{TikiClient, TikiEnvironment, TiniAppClient};
use tiniapp_ipn::TiniAppIpn;
use tiniapp_order::TiniAppOrder;
use tiniapp_processor::Processor;
use webview::WebviewUrl;

use crate::Error;
use crate::dev_defaults::Credentials;
use crate::local_api::Route;
use crate::payment_page::PaymentPage;

/// Where the stack's Tiki is.
#[derive(Clone, Debug)]
pub enum Tiki {
    /// Start the simulator on this port of 127.0.0.1 (0: any free port).
    Simulator { port: u16 },
    /// A Tiki that is already running (`TIKI_BASE_URL`).
    At(TikiEnvironment),
}

/// Everything the stack is built from.
#[derive(Clone, Debug)]
pub struct StackConfig {
    pub aws_endpoint_url: String,
    pub aws_region: String,
    pub table_name: String,
    /// The IPN queue's name; its dead-letter queue is `{name}-dead-letter`.
    pub queue_name: String,
    pub tikivip: Credentials,
    pub partner: Credentials,
    /// The Tini App platform's client: signs its notifications, verified on
    /// `/v1/tiniapp/ipn`; we sign our calls to its order API with it.
    pub tiniapp: Credentials,
    pub tiki: Tiki,
    pub retry_schedule: RetrySchedule,
    pub outbox_grace: Duration,
    pub tiki_timeout: Duration,
    /// The longest one receive hides an IPN message for
    /// ([`tikivip_queue::MAX_HIDE`] as deployed).
    pub max_hide: Duration,
}

/// The running stack.
pub struct Stack {
    pub store: Store,
    pub queue: IpnQueue,
    pub simulator: Option<Simulator>,
    pub tiki_base_url: String,
    pub dispatcher: Arc<Dispatcher>,
    pub sweeper: Arc<Sweeper>,
    /// The client the dispatcher and the webview function call Tiki with.
    tiki: TikiClient,
    /// The Tini App processing queue (`{queue_name}-tiniapp`) and its dead-letter queue.
    pub tiniapp_jobs: IpnQueue,
    /// The FIFO queue of published order events (`{queue_name}-tiniapp-events.fifo`).
    pub order_events: OrderEvents,
    pub tiniapp_processor: Arc<Processor>,
    config: StackConfig,
}

/// How long the IPN queue hides a message that its handler neither deleted
/// nor delayed: above the dispatcher's longest run (two Tiki calls).
pub const QUEUE_VISIBILITY: Duration = Duration::from_secs(60);

impl Stack {
    pub async fn start(config: StackConfig) -> Result<Stack, Error> {
        // The endpoint is always given here, so the stack never reaches a
        // real AWS account, whatever the shell's AWS settings.
        let aws = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&config.aws_endpoint_url)
            .region(Region::new(config.aws_region.clone()))
            .credentials_provider(AwsCredentials::new(
                "local",
                "local",
                None,
                None,
                "tikivip-dev",
            ))
            .load()
            .await;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), &config.table_name);
        store.create_table().await?;
        // The reconciliation archive, for `tikivip reconcile` against the stack.
        let bucket = std::env::var("ARCHIVE_BUCKET")
            .unwrap_or_else(|_| crate::dev_defaults::ARCHIVE_BUCKET.to_owned());
        tikivip_archive::Archive::new(aws_sdk_s3::Client::new(&aws), bucket)
            .create_bucket()
            .await?;
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let queue = IpnQueue::create(sqs.clone(), &config.queue_name, QUEUE_VISIBILITY)
            .await?
            .with_max_hide(config.max_hide);
        let tiniapp_jobs = IpnQueue::create(
            sqs.clone(),
            &format!("{}-tiniapp", config.queue_name),
            QUEUE_VISIBILITY,
        )
        .await?;
        let order_events =
            OrderEvents::create(sqs, &format!("{}-tiniapp-events", config.queue_name)).await?;

        let (simulator, environment) = match &config.tiki {
            Tiki::Simulator { port } => {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", *port)).await?;
                let simulator_config = SimulatorConfig::new(
                    config.tikivip.client_id.clone(),
                    config.tikivip.secret_bytes(),
                )
                .with_tiniapp(
                    config.tiniapp.client_id.clone(),
                    config.tiniapp.secret_bytes(),
                );
                let simulator = Simulator::start(listener, simulator_config)?;
                let environment = TikiEnvironment::local(simulator.base_url())?;
                (Some(simulator), environment)
            }
            Tiki::At(environment) => (None, environment.clone()),
        };
        let tiki_base_url = environment.base_url().to_owned();
        let tiniapp = TiniAppClient::new(
            &environment,
            config.tiniapp.client_id.clone(),
            config.tiniapp.secret(),
            config.tiki_timeout,
        )?;
        let tiki = TikiClient::new(
            environment,
            config.tikivip.client_id.clone(),
            config.tikivip.secret(),
            config.tiki_timeout,
        )?;
        let dispatcher = Dispatcher::new(
            store.clone(),
            queue.clone(),
            tiki.clone(),
            config.retry_schedule.clone(),
        );
        let sweeper = Sweeper::new(store.clone(), queue.clone(), config.outbox_grace).with_tiniapp(
            TiniAppOutbox::new(store.clone(), tiniapp_jobs.clone(), order_events.clone()),
        );
        let tiniapp_processor = Processor::new(
            store.clone(),
            tiniapp_jobs.clone(),
            order_events.clone(),
            tiniapp,
            config.retry_schedule.clone(),
        );
        Ok(Stack {
            tiniapp_jobs,
            order_events,
            tiniapp_processor: Arc::new(tiniapp_processor),
            store,
            queue,
            simulator,
            tiki_base_url,
            dispatcher: Arc::new(dispatcher),
            sweeper: Arc::new(sweeper),
            tiki,
            config,
        })
    }

    /// The routes of the API (as in the SAM template) and of the development
    /// payment page, for an API served at `api_base_url`.
    pub fn routes(&self, api_base_url: &str) -> Result<Vec<Route>, Error> {
        let tiki = verifier(HeaderFamily::Tikivip, &self.config.tikivip);
        let payment_urls =
            PaymentUrlTemplate::new(format!("{api_base_url}/pay/{{transaction_id}}"))?;
        let create = Arc::new(CreateTransaction::new(
            tiki.clone(),
            self.store.clone(),
            payment_urls,
        ));
        let get = Arc::new(GetTransaction::new(tiki.clone(), self.store.clone()));
        let refund = Arc::new(Refund::new(tiki, self.store.clone()));
        let partner = verifier(HeaderFamily::Partner, &self.config.partner);
        let receiver = Arc::new(IpnReceiver::new(
            partner.clone(),
            self.store.clone(),
            self.queue.clone(),
        ));
        let webview = Arc::new(WebviewUrl::new(
            partner,
            self.tiki.clone(),
            self.store.clone(),
        ));
        let tiniapp_ipn = Arc::new(TiniAppIpn::new(
            verifier(HeaderFamily::Tiniapp, &self.config.tiniapp),
            self.store.clone(),
            self.tiniapp_jobs.clone(),
        ));
        let tiniapp_order = Arc::new(TiniAppOrder::new(
            verifier(HeaderFamily::Partner, &self.config.partner),
            self.store.clone(),
        ));
        let page = Arc::new(PaymentPage::new(
            self.store.clone(),
            api_base_url,
            self.config.partner.clone(),
        ));
        Ok(vec![
            route(Method::POST, "/v1/transactions", create),
            route(Method::GET, "/v1/transactions", get.clone()),
            route(Method::GET, "/v1/transactions/{transaction_id}", get),
            route(Method::POST, "/v1/refunds", refund),
            route(Method::POST, "/v1/ipn", receiver),
            route(Method::POST, "/v1/webview", webview),
            route(Method::POST, "/v1/tiniapp/ipn", tiniapp_ipn),
            route(Method::GET, "/v1/tiniapp/orders/{id}", tiniapp_order),
            route(Method::GET, "/pay/{transaction_id}", page.clone()),
            route(Method::POST, "/pay/{transaction_id}", page),
        ])
    }

    /// The dispatcher's event source: runs until `shutdown`.
    pub async fn run_dispatcher(&self, shutdown: impl std::future::Future<Output = ()>) {
        let dispatcher = self.dispatcher.clone();
        crate::sqs_source::run(
            self.queue.client().clone(),
            self.queue.queue_url().to_owned(),
            move |event| {
                let dispatcher = dispatcher.clone();
                async move { dispatcher.handle(event).await }
            },
            shutdown,
        )
        .await;
    }

    /// One receive of the dispatcher's event source; how many messages it held.
    pub async fn dispatch_once(&self, wait: Duration) -> Result<usize, Error> {
        let dispatcher = &self.dispatcher;
        crate::sqs_source::poll_once(self.queue.client(), self.queue.queue_url(), wait, |event| {
            dispatcher.handle(event)
        })
        .await
    }

    /// The Tini App processor's event source: runs until `shutdown`.
    pub async fn run_tiniapp_processor(&self, shutdown: impl std::future::Future<Output = ()>) {
        let processor = self.tiniapp_processor.clone();
        crate::sqs_source::run(
            self.tiniapp_jobs.client().clone(),
            self.tiniapp_jobs.queue_url().to_owned(),
            move |event| {
                let processor = processor.clone();
                async move { processor.handle(event).await }
            },
            shutdown,
        )
        .await;
    }

    /// One receive of the Tini App processor's event source; how many
    /// messages it held.
    pub async fn tiniapp_process_once(&self, wait: Duration) -> Result<usize, Error> {
        let processor = &self.tiniapp_processor;
        crate::sqs_source::poll_once(
            self.tiniapp_jobs.client(),
            self.tiniapp_jobs.queue_url(),
            wait,
            |event| processor.handle(event),
        )
        .await
    }

    /// The sweeper's schedule: every `every`, until `shutdown`.
    pub async fn run_sweeper(
        &self,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let sweeping = async {
            loop {
                tokio::time::sleep(every).await;
                if let Err(error) = self.sweeper.sweep().await {
                    tracing::warn!(%error, "outbox sweep failed");
                }
            }
        };
        tokio::select! {
            () = sweeping => {}
            () = shutdown => {}
        }
    }
}

fn verifier(family: HeaderFamily, credentials: &Credentials) -> Verifier {
    Verifier::new(
        family,
        vec![ClientKey {
            client_id: credentials.client_id.clone(),
            secret: credentials.secret(),
        }],
    )
}

fn route<H: Handler>(method: Method, path: &str, handler: Arc<H>) -> Route {
    Route::new(method, path, move |request| {
        let handler = handler.clone();
        // As `tikivip_api::run` answers in Lambda: a panic is an envelope too.
        async move { tikivip_api::answer(&*handler, request).await }
    })
}
