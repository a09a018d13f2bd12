//! `tikivip call`: sign a request, send it, show the answer. With `--repeat`,
//! a simple sequential benchmark; `{n}` (the call's number) and `{uuid}` in the
//! body are replaced in every call.

use std::time::{Duration, Instant, SystemTime};

use clap::Args;
use http::header::CONTENT_TYPE;
use http::{Method, Uri};
use reqwest::{Client, StatusCode, Url};
use tikivip_signing::{Signer, signed_part};

use crate::Error;
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
    /// [default: http://127.0.0.1:$PORT, PORT defaulting to 3000]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Send N calls one after the other and print latency percentiles. In the
    /// body, `{uuid}` becomes a fresh UUID and n in braces the call's number,
    /// so that e.g. each POST /v1/transactions creates its own transaction.
    // (clap turns a literal "{n}" in help into a line break.)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
}

/// One answer.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    latency: Duration,
}

pub async fn run(args: CallArgs) -> Result<(), Error> {
    let call = Call::new(&args)?;
    let client = Client::new();
    if args.repeat == 1 {
        let answer = call.send(&client, 1).await?;
        eprintln!("HTTP {} in {:.1?}", answer.status, answer.latency);
        println!("{}", pretty(&answer.body));
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
struct Call {
    method: Method,
    url: Url,
    /// The path and query as sent, without the base URL: what a GET signs.
    path_and_query: Uri,
    body_template: Option<String>,
    signer: Signer,
}

impl Call {
    fn new(args: &CallArgs) -> Result<Self, Error> {
        let base_url = match &args.base_url {
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
            signer: args.signer.signer(),
        })
    }

    /// Signs and sends call number `n`.
    async fn send(&self, client: &Client, n: u32) -> Result<Answer, Error> {
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

    use clap::Parser;
    use lambda_http::{Body, Response};
    use tikivip_signing::{ClientKey, HeaderFamily, Verifier};
    use tokio::net::TcpListener;

    use crate::dev_defaults::Credentials;
    use crate::local_api::{Route, serve};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        call: CallArgs,
    }

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
            let cli = Cli::parse_from(
                ["call", "--family=partner", "--base-url", &base_url]
                    .into_iter()
                    .chain(args),
            );
            let call = Call::new(&cli.call).unwrap();
            let answer = call.send(&client, 7).await.unwrap();
            assert_eq!(answer.status, StatusCode::OK, "{:?}", cli.call);
            if cli.call.method == Method::POST {
                let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                assert_eq!(body["n"], 7);
                assert!(uuid::Uuid::parse_str(body["event_id"].as_str().unwrap()).is_ok());
            }
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
