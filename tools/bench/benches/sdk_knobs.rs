//! What the AWS SDK's per-call options cost: one `GetItem` of a transaction
//! through the store, DynamoDB answering from memory, with each option the
//! SDK offers to skip per-call work (stalled-stream protection, endpoint
//! resolution, the retry strategy) and all of them. BENCHMARKS.md reads the
//! result; not part of `make bench`. Alone:
//! `cargo bench -p tikivip-bench --bench sdk_knobs`.
use std::time::Duration;

use aws_sdk_dynamodb::config::endpoint::{EndpointFuture, Params, ResolveEndpoint};
use aws_sdk_dynamodb::config::{StalledStreamProtectionConfig, retry::RetryConfig};
use aws_smithy_types::endpoint::Endpoint;
use criterion::{Criterion, criterion_group, criterion_main};
use tikivip_bench::fake_aws::{Calls, answer, dynamodb_config, scripted};
use tikivip_bench::inprocess::{TXN_ID, transaction, transaction_item};
use tikivip_domain::{TransactionId, TransactionStatus};
use tikivip_store::Store;

/// An endpoint resolved once, instead of the rules run per call.
#[derive(Debug)]
struct Fixed(Endpoint);
impl ResolveEndpoint for Fixed {
    fn resolve_endpoint<'a>(&'a self, _: &'a Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(self.0.clone()))
    }
}

/// A change to the client's configuration.
type Adjust = Box<dyn Fn(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder>;

fn knobs(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body =
        serde_json::json!({"Item": transaction_item(&transaction(TransactionStatus::Success))})
            .to_string();
    let id = TransactionId::parse(TXN_ID).unwrap();
    let calls = Calls::default();
    let variants: Vec<(&str, Adjust)> = vec![
        ("default", Box::new(|b| b)),
        (
            "no_stall",
            Box::new(|b| b.stalled_stream_protection(StalledStreamProtectionConfig::disabled())),
        ),
        (
            "fixed_endpoint",
            Box::new(|b| {
                b.endpoint_resolver(Fixed(
                    Endpoint::builder()
                        .url("https://dynamodb.ap-southeast-1.amazonaws.com")
                        .build(),
                ))
            }),
        ),
        (
            "no_retry",
            Box::new(|b| b.retry_config(RetryConfig::disabled())),
        ),
        (
            "all",
            Box::new(|b| {
                b.stalled_stream_protection(StalledStreamProtectionConfig::disabled())
                    .endpoint_resolver(Fixed(
                        Endpoint::builder()
                            .url("https://dynamodb.ap-southeast-1.amazonaws.com")
                            .build(),
                    ))
                    .retry_config(RetryConfig::disabled())
            }),
        ),
    ];
    let mut group = c.benchmark_group("sdk_knobs");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    for (name, adjust) in variants {
        let config = adjust(dynamodb_config(
            scripted(vec![answer("GetItem", body.clone())]),
            &calls,
        ))
        .build();
        let store = Store::new(aws_sdk_dynamodb::Client::from_conf(config), "bench");
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                calls.take();
                store.transaction(&id).await.unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, knobs);
criterion_main!(benches);
