//! The in-process CPU of a request, per route, and of signing: see
//! BENCHMARKS.md. `make bench` runs it; alone:
//! `cargo bench -p tikivip-bench --bench inprocess`.
//!
//! `BENCH_QUICK=1` shortens every measurement (a smoke run).

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::Sha256;
use tikivip_bench::events::{Client, create_body_of_len};
use tikivip_bench::inprocess::{
    Faked, Pure, Route, event, init_tracing_to_sink, through_lambda_http,
};
use tikivip_signing::{Secret, sign, unix_millis};

fn config() -> Criterion {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    Criterion::default()
        .warm_up_time(Duration::from_millis(if quick { 200 } else { 1000 }))
        .measurement_time(Duration::from_millis(if quick { 500 } else { 3000 }))
        .sample_size(if quick { 10 } else { 50 })
        .configure_from_args()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn routes_pure(c: &mut Criterion) {
    init_tracing_to_sink();
    let rt = runtime();
    let pure = Pure::default();
    let mut group = c.benchmark_group("route_pure");
    // The floor: lambda_http alone (event in, a fixed small answer out).
    let event_get = event(Route::GetById);
    group.bench_function("lambda_http_only", |b| {
        b.to_async(&rt).iter(|| async {
            let answer = through_lambda_http(black_box(&event_get), |_request| async {
                lambda_http::Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(lambda_http::Body::Binary(br#"{"code":0}"#.to_vec()))
                    .expect("a response")
            })
            .await;
            black_box(answer)
        })
    });
    for route in Route::ALL {
        // Signed now: valid for the 5 minutes a route's bench takes at most.
        let event = event(route);
        group.bench_function(route.id(), |b| {
            b.to_async(&rt).iter(|| async {
                let answer = through_lambda_http(black_box(&event), |request| {
                    let response = pure.handle(route, &request);
                    async move { response }
                })
                .await;
                black_box(answer)
            })
        });
    }
    group.finish();
}

fn routes_sdk_faked(c: &mut Criterion) {
    init_tracing_to_sink();
    let rt = runtime();
    let faked = Faked::default();
    let mut group = c.benchmark_group("route_sdk_faked");
    for route in Route::ALL {
        let event = event(route);
        group.bench_function(route.id(), |b| {
            b.to_async(&rt).iter(|| async {
                let answer =
                    through_lambda_http(black_box(&event), |request| faked.handle(route, request))
                        .await;
                black_box(answer)
            })
        });
    }
    group.finish();
}

fn signing(c: &mut Criterion) {
    let client = Client::dev_tiki();
    let secret = Secret::new(client.secret.as_bytes());
    let body = create_body_of_len("88062110977884170", 300);
    let now = SystemTime::now();
    let timestamp = unix_millis(now);
    let signature = sign(&secret, timestamp, &client.id, body.as_bytes());
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-tikivip-timestamp",
        timestamp.to_string().parse().unwrap(),
    );
    headers.insert("x-tikivip-client-id", client.id.parse().unwrap());
    headers.insert("x-tikivip-signature", signature.parse().unwrap());
    let verifier = client.verifier();
    verifier
        .verify(&headers, body.as_bytes(), now)
        .expect("a valid signature");
    let payload = format!("{timestamp}.{}.{body}", client.id);
    let encoded = URL_SAFE_NO_PAD.encode(payload.as_bytes());

    let mut group = c.benchmark_group("signing");
    group.bench_function("verify_300B", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(&headers), black_box(body.as_bytes()), now)
                .expect("valid")
        })
    });
    group.bench_function("sign_300B", |b| {
        b.iter(|| {
            sign(
                &secret,
                timestamp,
                black_box(&client.id),
                black_box(body.as_bytes()),
            )
        })
    });
    group.bench_function("raw_hmac_sha256_300B", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(client.secret.as_bytes()))
                .expect("any key length");
            mac.update(black_box(encoded.as_bytes()));
            mac.finalize().into_bytes()
        })
    });
    group.bench_function("raw_base64_then_hmac_300B", |b| {
        b.iter(|| {
            let encoded = URL_SAFE_NO_PAD.encode(black_box(payload.as_bytes()));
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(client.secret.as_bytes()))
                .expect("any key length");
            mac.update(encoded.as_bytes());
            mac.finalize().into_bytes()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = signing, routes_pure, routes_sdk_faked
}
criterion_main!(benches);
