//! The events the functions receive, as AWS sends them: API Gateway HTTP API
//! (payload format 2.0) events carrying signed requests, SQS batches for the
//! dispatcher, and the scheduler's event for the sweeper.

use std::time::{SystemTime, UNIX_EPOCH};

use http::Method;
use serde_json::{Map, Value, json};
use tikivip_signing::{ClientKey, HeaderFamily, Secret, Signer, Verifier, signed_part};

pub const DOMAIN: &str = "abcdef1234.execute-api.ap-southeast-1.amazonaws.com";

/// One client's credentials, both ways: signs requests, builds the verifier
/// the function would hold.
#[derive(Clone, Debug)]
pub struct Client {
    pub family: HeaderFamily,
    pub id: String,
    pub secret: String,
}

impl Client {
    pub fn new(family: HeaderFamily, id: &str, secret: &str) -> Self {
        Client {
            family,
            id: id.to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// The development defaults of `make dev` (tools/tikivip/src/dev_defaults.rs).
    pub fn dev_tiki() -> Self {
        Client::new(HeaderFamily::Tikivip, "dev-tiki-client", "dev-tiki-secret")
    }

    pub fn dev_tiniapp() -> Self {
        Client::new(
            HeaderFamily::Tiniapp,
            tiki_simulator::DEV_TINIAPP_CLIENT_ID,
            tiki_simulator::DEV_TINIAPP_CLIENT_SECRET,
        )
    }

    pub fn dev_partner() -> Self {
        Client::new(
            HeaderFamily::Partner,
            "dev-partner-client",
            "dev-partner-secret",
        )
    }

    pub fn signer(&self) -> Signer {
        Signer::new(self.family, &self.id, Secret::new(self.secret.as_bytes()))
    }

    pub fn verifier(&self) -> Verifier {
        Verifier::new(
            self.family,
            vec![ClientKey {
                client_id: self.id.clone(),
                secret: Secret::new(self.secret.as_bytes()),
            }],
        )
    }
}

/// One HTTP request, before it becomes an event or goes on the wire.
#[derive(Clone, Debug)]
pub struct HttpCall {
    pub method: Method,
    /// Path and query exactly as sent (what a GET signs).
    pub path_and_query: String,
    pub body: Option<String>,
    /// The API's route key (`POST /v1/transactions`), for the event.
    pub route_key: &'static str,
    /// Path parameters of the route, for the event.
    pub path_parameters: Vec<(&'static str, String)>,
}

impl HttpCall {
    pub fn post(path: &str, route_key: &'static str, body: String) -> Self {
        HttpCall {
            method: Method::POST,
            path_and_query: path.to_owned(),
            body: Some(body),
            route_key,
            path_parameters: Vec::new(),
        }
    }

    pub fn get(path_and_query: &str, route_key: &'static str) -> Self {
        HttpCall {
            method: Method::GET,
            path_and_query: path_and_query.to_owned(),
            body: None,
            route_key,
            path_parameters: Vec::new(),
        }
    }

    pub fn with_path_parameter(mut self, name: &'static str, value: &str) -> Self {
        self.path_parameters.push((name, value.to_owned()));
        self
    }

    /// The three signature headers, signed now.
    pub fn signature_headers(&self, client: &Client) -> Vec<(String, String)> {
        let uri: http::Uri = self.path_and_query.parse().expect("a valid path and query");
        let body = self.body.as_deref().unwrap_or_default().as_bytes();
        let signed = signed_part(&self.method, &uri, body);
        client
            .signer()
            .headers(SystemTime::now(), signed)
            .into_iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().expect("ASCII").to_owned(),
                )
            })
            .collect()
    }

    /// The API Gateway HTTP API (2.0) event for this call, signed now by
    /// `client`, with the headers API Gateway adds.
    pub fn signed_event(&self, client: &Client) -> String {
        let (path, query) = match self.path_and_query.split_once('?') {
            Some((path, query)) => (path, query),
            None => (self.path_and_query.as_str(), ""),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64;
        let mut headers = Map::new();
        let mut header = |name: &str, value: String| {
            headers.insert(name.to_owned(), Value::String(value));
        };
        header("accept", "application/json".into());
        header("host", DOMAIN.into());
        header("user-agent", "Tiki-TikiVIP/1.0".into());
        header(
            "x-amzn-trace-id",
            format!("Root=1-{:x}-0123456789abcdef01234567", now / 1000),
        );
        header("x-forwarded-for", "203.0.113.7".into());
        header("x-forwarded-port", "443".into());
        header("x-forwarded-proto", "https".into());
        if let Some(body) = &self.body {
            header("content-type", "application/json".into());
            header("content-length", body.len().to_string());
        }
        for (name, value) in self.signature_headers(client) {
            header(&name, value);
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": self.route_key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abcdef1234",
                "domainName": DOMAIN,
                "domainPrefix": "abcdef1234",
                "http": {
                    "method": self.method.as_str(),
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.7",
                    "userAgent": "Tiki-TikiVIP/1.0"
                },
                "requestId": format!("bench-{now}"),
                "routeKey": self.route_key,
                "stage": "$default",
                "time": "22/Nov/2025:10:00:00 +0000",
                "timeEpoch": now
            },
            "isBase64Encoded": false
        });
        if !query.is_empty() {
            let params: Map<String, Value> = form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            event["queryStringParameters"] = Value::Object(params);
        }
        if !self.path_parameters.is_empty() {
            let params: Map<String, Value> = self
                .path_parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
                .collect();
            event["pathParameters"] = Value::Object(params);
        }
        if let Some(body) = &self.body {
            event["body"] = Value::String(body.clone());
        }
        event.to_string()
    }
}

/// An SQS event of one message per body, as Lambda's event source sends it.
pub fn sqs_event(queue_arn: &str, bodies: &[String]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({
                "messageId": uuid::Uuid::now_v7().to_string(),
                "receiptHandle": format!("bench-receipt-{now}-{i}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now.to_string(),
                    "SenderId": "AROAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": now.to_string()
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "ap-southeast-1"
            })
        })
        .collect();
    json!({ "Records": records }).to_string()
}

/// EventBridge Scheduler's event, as the sweeper receives it every minute.
pub fn scheduled_event() -> String {
    json!({
        "version": "0",
        "id": uuid::Uuid::now_v7().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2025-11-22T10:00:00Z",
        "region": "ap-southeast-1",
        "resources": ["arn:aws:events:ap-southeast-1:123456789012:rule/ipn-outbox-sweep"],
        "detail": {}
    })
    .to_string()
}

/// A JSON body of exactly `len` bytes: a create whose description pads it.
pub fn create_body_of_len(tiki_id: &str, len: usize) -> String {
    let head = format!(
        r#"{{"tiki_transaction_id":"{tiki_id}","transaction_amount":99000,"description":""#
    );
    let tail = r#""}"#;
    let pad = len
        .checked_sub(head.len() + tail.len())
        .expect("len leaves room for the fields");
    let body = format!("{head}{}{tail}", "x".repeat(pad));
    assert_eq!(body.len(), len);
    body
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn an_event_round_trips_through_lambda_http_and_verifies() {
        let client = Client::dev_tiki();
        for call in [
            HttpCall::post(
                "/v1/transactions",
                "POST /v1/transactions",
                create_body_of_len("t-1", 300),
            ),
            HttpCall::get(
                "/v1/transactions?tiki_transaction_id=t%201",
                "GET /v1/transactions",
            ),
        ] {
            let event = call.signed_event(&client);
            let request = lambda_http::request::from_str(&event).unwrap();
            assert_eq!(request.method(), call.method);
            let signed = signed_part(request.method(), request.uri(), request.body().as_ref());
            client
                .verifier()
                .verify(request.headers(), signed, SystemTime::now())
                .unwrap();
        }
    }
}
