//! The functions measured, each with the secrets and settings the template
//! gives it, and what a successful answer of each looks like.

use serde::Serialize;
use tikivip_bench::events::Client;
use tikivip_bench::local_aws::{ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY};

use crate::{Queues, World};

/// The CA bundle of this machine (Debian's).
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What a function is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Create,
    Get,
    Refund,
    PaymentResult,
    Dispatch,
    Sweep,
    Webview,
    TiniAppNotification,
    TiniAppOrder,
    TiniAppProcess,
}

/// Where a function's secrets come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Secrets {
    /// `NAME_ARN` → Secrets Manager, as the template deploys it.
    SecretsManager,
    /// The variable `NAME` itself: the binary's own init, without that call.
    Env,
}

/// A client whose secret a function reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    Tiki,
    Partner,
    TiniApp,
}

/// A setting beside the table, as the template sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `IPN_QUEUE_URL` and its dead-letter queue.
    IpnQueue,
    /// `TINIAPP_QUEUE_URL` and its dead-letter queue.
    TiniAppQueue,
    /// `TINIAPP_EVENTS_QUEUE_URL` (FIFO).
    TiniAppEvents,
    /// Tiki's base URL (the simulator) and a timeout.
    Tiki {
        timeout_ms: u32,
    },
    PaymentUrl,
}

pub struct Function {
    pub binary: &'static str,
    pub kind: Kind,
    pub secrets: &'static [Secret],
    pub settings: &'static [Setting],
}

impl Function {
    pub fn has(&self, setting: Setting) -> bool {
        self.settings.contains(&setting)
    }

    /// Whether it needs queues of its own per instance (see `measure`).
    pub fn uses_queues(&self) -> bool {
        self.settings.iter().any(|s| {
            matches!(
                s,
                Setting::IpnQueue | Setting::TiniAppQueue | Setting::TiniAppEvents
            )
        })
    }
}

const TIKI_10S: Setting = Setting::Tiki { timeout_ms: 10_000 };

pub const FUNCTIONS: &[Function] = &[
    Function {
        binary: "create-transaction",
        kind: Kind::Create,
        secrets: &[Secret::Tiki],
        settings: &[Setting::PaymentUrl],
    },
    Function {
        binary: "get-transaction",
        kind: Kind::Get,
        secrets: &[Secret::Tiki],
        settings: &[],
    },
    Function {
        binary: "refund",
        kind: Kind::Refund,
        secrets: &[Secret::Tiki],
        settings: &[],
    },
    Function {
        binary: "ipn-receiver",
        kind: Kind::PaymentResult,
        secrets: &[Secret::Partner],
        settings: &[Setting::IpnQueue],
    },
    Function {
        binary: "ipn-dispatcher",
        kind: Kind::Dispatch,
        secrets: &[Secret::Tiki],
        settings: &[Setting::IpnQueue, TIKI_10S],
    },
    Function {
        binary: "ipn-outbox-sweeper",
        kind: Kind::Sweep,
        secrets: &[],
        settings: &[
            Setting::IpnQueue,
            Setting::TiniAppQueue,
            Setting::TiniAppEvents,
        ],
    },
    Function {
        binary: "webview",
        kind: Kind::Webview,
        secrets: &[Secret::Partner, Secret::Tiki],
        settings: &[Setting::Tiki { timeout_ms: 5_000 }],
    },
    Function {
        binary: "tiniapp-ipn",
        kind: Kind::TiniAppNotification,
        secrets: &[Secret::TiniApp],
        settings: &[Setting::TiniAppQueue],
    },
    Function {
        binary: "tiniapp-order",
        kind: Kind::TiniAppOrder,
        secrets: &[Secret::Partner],
        settings: &[],
    },
    Function {
        binary: "tiniapp-processor",
        kind: Kind::TiniAppProcess,
        secrets: &[Secret::TiniApp],
        settings: &[Setting::TiniAppQueue, Setting::TiniAppEvents, TIKI_10S],
    },
    // get-transaction without the connection warm-up at init (tools/bench).
    Function {
        binary: "get-transaction-nowarmup",
        kind: Kind::Get,
        secrets: &[Secret::Tiki],
        settings: &[],
    },
];

/// The environment Lambda and the template give the function.
pub fn environment(
    world: &World,
    table: &str,
    queues: &Queues,
    function: &Function,
    secrets: Secrets,
    runtime_api: &str,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), runtime_api.into()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), function.binary.into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", function.binary),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), "bench".into()),
        ("AWS_REGION".into(), REGION.into()),
        ("AWS_DEFAULT_REGION".into(), REGION.into()),
        ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY_ID.into()),
        ("AWS_SECRET_ACCESS_KEY".into(), SECRET_ACCESS_KEY.into()),
        ("AWS_SESSION_TOKEN".into(), "bench".into()),
        ("AWS_ENDPOINT_URL".into(), world.endpoint.clone()),
        // No HOME, so no profile files; no instance metadata: as in Lambda.
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        // Lambda's image (AL2023) has one CA bundle where this Debian machine
        // has the bundle and a directory of ~150 certificate files, which
        // rustls-native-certs would read one by one (milliseconds of init
        // Lambda does not spend): the bundle alone, as there.
        ("SSL_CERT_FILE".into(), CA_BUNDLE.into()),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("RUST_LOG".into(), "info".into()),
        ("TABLE_NAME".into(), table.into()),
    ];
    for secret in function.secrets {
        let (prefix, client, arn) = match secret {
            Secret::Tiki => ("TIKIVIP", Client::dev_tiki(), &world.tiki_secret_arn),
            Secret::Partner => ("PARTNER", Client::dev_partner(), &world.partner_secret_arn),
            Secret::TiniApp => ("TINIAPP", Client::dev_tiniapp(), &world.tiniapp_secret_arn),
        };
        env.push((format!("{prefix}_CLIENT_ID"), client.id));
        env.push(match secrets {
            Secrets::SecretsManager => (format!("{prefix}_CLIENT_SECRET_ARN"), arn.clone()),
            Secrets::Env => (format!("{prefix}_CLIENT_SECRET"), client.secret),
        });
    }
    for setting in function.settings {
        match *setting {
            Setting::IpnQueue => {
                env.push(("IPN_QUEUE_URL".into(), queues.jobs.queue_url().into()));
                env.push((
                    "IPN_DEAD_LETTER_QUEUE_URL".into(),
                    queues.jobs.dead_letter_url().into(),
                ));
            }
            Setting::TiniAppQueue => {
                env.push(("TINIAPP_QUEUE_URL".into(), queues.jobs.queue_url().into()));
                env.push((
                    "TINIAPP_DEAD_LETTER_QUEUE_URL".into(),
                    queues.jobs.dead_letter_url().into(),
                ));
            }
            Setting::TiniAppEvents => {
                let events = queues.events.as_ref().expect("made for TiniAppEvents");
                env.push(("TINIAPP_EVENTS_QUEUE_URL".into(), events.queue_url().into()));
            }
            Setting::Tiki { timeout_ms } => {
                env.push(("TIKI_ENVIRONMENT".into(), "local".into()));
                env.push((
                    "TIKI_BASE_URL".into(),
                    world.simulator.base_url().to_owned(),
                ));
                env.push(("TIKI_TIMEOUT_MS".into(), timeout_ms.to_string()));
            }
            Setting::PaymentUrl => env.push((
                "PAYMENT_URL_TEMPLATE".into(),
                "https://pay.partner.example/tikivip/{transaction_id}".into(),
            )),
        }
    }
    env
}

/// Whether an answer is the success it should be.
pub fn check(kind: Kind, body: &[u8]) -> Result<(), String> {
    let answer: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("not JSON ({e}): {}", String::from_utf8_lossy(body)))?;
    let ok = match kind {
        Kind::Create
        | Kind::Get
        | Kind::Refund
        | Kind::PaymentResult
        | Kind::Webview
        | Kind::TiniAppNotification
        | Kind::TiniAppOrder => answer["statusCode"] == 200,
        Kind::Dispatch | Kind::TiniAppProcess => answer["batchItemFailures"]
            .as_array()
            .is_none_or(|failures| failures.is_empty()),
        Kind::Sweep => answer["released"].is_number(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected answer: {answer}"))
    }
}
