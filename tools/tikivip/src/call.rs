//! `tikivip call`: sign a request, send it, show the answer. With `--repeat`,
//! a simple sequential benchmark; `{n}` (the call's number) and `{uuid}` in the
//! body are replaced in every call.
//!
//! By default it calls the local API (`make dev`) with the development keys.
//! `--url` targets a deployed stack (its `ApiUrl` output, or a custom domain
//! with its base path) and `--secret-id` signs with the secret the stack keeps
//! in Secrets Manager (its `TikiClientSecretArn`, `PartnerClientSecretArn` or
//! `TiniAppClientSecretArn` output), read with `--profile` and `--region` as
//! the AWS CLI reads them.

use std::time::{Duration, Instant, SystemTime};

use clap::{Args, FromArgMatches};
use http::header::CONTENT_TYPE;
use http::{Method, Uri};
use reqwest::{Client, StatusCode, Url};
use tikivip_signing::{HeaderFamily, Signer, signed_part};

use crate::Error;
use crate::aws::AwsArgs;
use crate::dev_defaults;
use crate::sign::{BodyArgs, SignerArgs};

#[derive(Args, Debug)]
pub struct CallArgs {
    /// GET, POST, …
    pub method: Method,
    /// Path and query from /v1/ on, e.g. '/v1/transactions?tiki_transaction_id=T1'
    pub path: String,
    #[command(flatten)]
    pub body: BodyArgs,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// The API's base URL: a deployed stack's ApiUrl output, or its custom
    /// domain with the base path, e.g. https://api.partner.vn/tikivip
    /// [default: http://127.0.0.1:$PORT, PORT defaulting to 3000]
    #[arg(long, visible_alias = "base-url", value_name = "URL")]
    pub url: Option<String>,
    /// Sign with the secret this Secrets Manager secret holds (its name or
    /// ARN: the stack's TikiClientSecretArn, PartnerClientSecretArn or
    /// TiniAppClientSecretArn output, by --family), the newest one while it
    /// rotates. The client id is then --client-id or $TIKIVIP_CLIENT_ID,
    /// $PARTNER_CLIENT_ID or $TINIAPP_CLIENT_ID, never the development one.
    #[arg(long, value_name = "ID", conflicts_with = "secret")]
    pub secret_id: Option<String>,
    /// Where the secret is read (with --secret-id)
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Send N calls one after the other and print latency percentiles. In the
    /// body, `{uuid}` becomes a fresh UUID and n in braces the call's number,
    /// so that e.g. each POST /v1/transactions creates its own transaction.
    // (clap turns a literal "{n}" in help into a line break.)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
}

impl CallArgs {
    /// The arguments of `tikivip call`, from the words after it.
    pub fn try_parse_from<I, T>(words: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let command = CallArgs::augment_args(clap::Command::new("call").no_binary_name(true));
        CallArgs::from_arg_matches(&command.try_get_matches_from(words)?)
    }

    /// The signer: the development keys (or those given, or in the
    /// environment), or the secret `--secret-id` names.
    async fn signer(&self) -> Result<Signer, Error> {
        let Some(secret_id) = &self.secret_id else {
            return Ok(self.signer.signer());
        };
        let family = HeaderFamily::from(self.signer.family);
        let source = dev_defaults::client_source(family);
        let client_id = self
            .signer
            .client_id
            .clone()
            .or_else(|| std::env::var(source.client_id_var).ok())
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| {
                format!(
                    "--secret-id needs the client id the stack was deployed with: \
                     --client-id or ${}",
                    source.client_id_var
                )
            })?;
        // The functions' own reading of a secret setting (`NAME_ARN` naming
        // the secret): the same text form, "new,old" while rotating, and the
        // same refusals (a key/value JSON secret, an empty one).
        let arn_var = format!("{}{}", source.secret_var, tikivip_api::ARN_SUFFIX);
        let secrets = tikivip_api::load_secrets(&self.aws.load().await, source.secret_var, |var| {
            (var == arn_var).then(|| secret_id.clone())
        })
        .await?;
        let newest = secrets
            .into_iter()
            .next()
            .ok_or_else(|| format!("secret {secret_id} holds no secret"))?;
        Ok(Signer::new(family, client_id, newest))
    }
}

/// One answer.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub latency: Duration,
}

pub async fn run(args: CallArgs) -> Result<(), Error> {
    let call = Call::new(&args).await?;
    let client = Client::new();
    if args.repeat == 1 {
        let answer = call.send(&client, 1).await?;
        eprintln!("HTTP {} in {:.1?}", answer.status, answer.latency);
        println!("{}", pretty(&answer.body));
        if answer.status == StatusCode::UNAUTHORIZED
            && args.url.is_some()
            && args.secret_id.is_none()
        {
            eprintln!(
                "tikivip: a deployed stack wants its own keys, not the development ones: \
                 --secret-id (the stack's secret) and --client-id"
            );
        }
        return match answer.status.is_success() {
            true => Ok(()),
            false => Err(format!("the server answered {}", answer.status).into()),
        };
    }

    let mut latencies = Vec::with_capacity(args.repeat as usize);
    let mut failures = 0;
    for n in 1..=args.repeat {
        let answer = call.send(&client, n).await?;
        if !answer.status.is_success() {
            failures += 1;
            eprintln!(
                "call {n}: HTTP {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
        }
        latencies.push(answer.latency);
    }
    latencies.sort();
    println!(
        "{} calls, {failures} failed; latency p50 {:.1?}  p90 {:.1?}  p99 {:.1?}  max {:.1?}",
        args.repeat,
        percentile(&latencies, 50),
        percentile(&latencies, 90),
        percentile(&latencies, 99),
        latencies[latencies.len() - 1],
    );
    match failures {
        0 => Ok(()),
        _ => Err(format!("{failures} of {} calls failed", args.repeat).into()),
    }
}

/// What every call of one invocation shares.
pub struct Call {
    method: Method,
    url: Url,
    /// The path and query as sent, without the base URL: what a GET signs.
    path_and_query: Uri,
    body_template: Option<String>,
    signer: Signer,
}

impl Call {
    /// Everything but the body's `{n}` and `{uuid}`: the URL, what a GET
    /// signs, and the signer (with its secret read, if from Secrets Manager).
    pub async fn new(args: &CallArgs) -> Result<Self, Error> {
        let base_url = match &args.url {
            Some(url) => url.clone(),
            None => {
                let port = dev_defaults::var_or("PORT", &dev_defaults::PORT.to_string());
                format!("http://127.0.0.1:{port}")
            }
        };
        let base_url = base_url.trim_end_matches('/');
        let url = Url::parse(&format!("{base_url}{}", args.path))
            .map_err(|e| format!("{base_url}{}: {e}", args.path))?;
        // Sign what goes on the wire: the URL parser may have percent-encoded
        // the path or query. A base URL with a path of its own (an API
        // Gateway stage) is not part of what is signed.
        let base_path = Url::parse(base_url)?
            .path()
            .trim_end_matches('/')
            .to_owned();
        let path = url.path().strip_prefix(&base_path).unwrap_or(url.path());
        let path_and_query = match url.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        };
        let body_template = match args.body.read()? {
            Some(bytes) => Some(String::from_utf8(bytes).map_err(|_| "the body is not UTF-8")?),
            None => None,
        };
        Ok(Call {
            method: args.method.clone(),
            url,
            path_and_query: path_and_query.parse()?,
            body_template,
            signer: args.signer().await?,
        })
    }

    /// Signs and sends call number `n`.
    pub async fn send(&self, client: &Client, n: u32) -> Result<Answer, Error> {
        let body = self.body_template.as_ref().map(|template| {
            template
                .replace("{n}", &n.to_string())
                .replace("{uuid}", &uuid::Uuid::now_v7().to_string())
        });
        let body = body.unwrap_or_default().into_bytes();
        let signed = signed_part(&self.method, &self.path_and_query, &body);
        let mut request = client.request(self.method.clone(), self.url.clone());
        for (name, value) in self.signer.headers(SystemTime::now(), signed) {
            request = request.header(name, value);
        }
        if self.body_template.is_some() {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }

        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?.to_vec();
        Ok(Answer {
            status,
            body,
            latency: started.elapsed(),
        })
    }
}

/// JSON indented for reading; anything else as it came.
fn pretty(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|json| serde_json::to_string_pretty(&json).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
}

/// The nearest-rank percentile of sorted, non-empty `values`.
fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    use lambda_http::{Body, Response};
    use tikivip_signing::{ClientKey, HeaderFamily, Verifier};
    use tokio::net::TcpListener;

    use crate::dev_defaults::Credentials;
    use crate::local_api::{Route, serve};

    /// Answers 200 when the request is signed by the development partner
    /// client over exactly what arrived, 401 otherwise.
    async fn verify(request: lambda_http::Request) -> Response<Body> {
        let credentials = Credentials::from_env(HeaderFamily::Partner);
        let verifier = Verifier::new(
            HeaderFamily::Partner,
            vec![ClientKey {
                client_id: credentials.client_id.clone(),
                secret: credentials.secret(),
            }],
        );
        let signed = signed_part(request.method(), request.uri(), request.body());
        let status = match verifier.verify(request.headers(), signed, SystemTime::now()) {
            Ok(_) => 200,
            Err(_) => 401,
        };
        let mut response = Response::new(Body::from(request.body().to_vec()));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        response
    }

    #[tokio::test]
    async fn signs_what_goes_on_the_wire() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let routes = ["/v1/ipn", "/v1/transactions"]
            .into_iter()
            .flat_map(|path| {
                [Method::GET, Method::POST].map(|method| Route::new(method, path, verify))
            })
            .collect();
        tokio::spawn(serve(listener, routes, std::future::pending()));
        let client = Client::new();

        for args in [
            // Unencoded: the URL parser percent-encodes it before it is signed.
            vec!["GET", "/v1/transactions?tiki_transaction_id=Hà Nội&x=1"],
            vec![
                "POST",
                "/v1/ipn",
                "--body",
                r#"{ "event_id": "{uuid}", "n": {n} }"#,
            ],
        ] {
            let args = CallArgs::try_parse_from(
                ["--family=partner", "--url", &base_url]
                    .into_iter()
                    .chain(args),
            )
            .unwrap();
            let call = Call::new(&args).await.unwrap();
            let answer = call.send(&client, 7).await.unwrap();
            assert_eq!(answer.status, StatusCode::OK, "{args:?}");
            if args.method == Method::POST {
                let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                assert_eq!(body["n"], 7);
                assert!(uuid::Uuid::parse_str(body["event_id"].as_str().unwrap()).is_ok());
            }
        }
    }

    #[tokio::test]
    async fn a_secret_from_secrets_manager_needs_a_client_id_not_the_development_one() {
        let args = CallArgs::try_parse_from([
            "GET",
            "/v1/transactions/T1",
            "--family=tiniapp",
            "--secret-id=stack/tiniapp-client-secret",
        ])
        .unwrap();
        // (Unless the environment names one, as it may on a developer's machine.)
        if std::env::var("TINIAPP_CLIENT_ID").is_err() {
            let error = Call::new(&args).await.err().unwrap().to_string();
            assert!(
                error.contains("--client-id or $TINIAPP_CLIENT_ID"),
                "{error}"
            );
        }
        // Either key, never both.
        assert!(CallArgs::try_parse_from(["GET", "/v1/x", "--secret-id=s", "--secret=x"]).is_err());
        // `--url`, and `--base-url` as before.
        for flag in ["--url", "--base-url"] {
            let args =
                CallArgs::try_parse_from(["GET", "/v1/x", flag, "https://api.partner.vn/tikivip"])
                    .unwrap();
            assert_eq!(args.url.as_deref(), Some("https://api.partner.vn/tikivip"));
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50), Duration::from_millis(50));
        assert_eq!(percentile(&ms, 99), Duration::from_millis(99));
        let one = [Duration::from_millis(7)];
        assert_eq!(percentile(&one, 50), one[0]);
        assert_eq!(percentile(&one, 99), one[0]);
    }
}
