//! CPU per request in process and signing (criterion's results).

use std::fmt::Write as _;

use tikivip_bench::inprocess::{Faked, Route};
use tikivip_bench::stats::Machine;

use crate::{Args, Row, criterion_ns, missing, over};

/// Each route's in-process CPU, pure and with the SDK faked.
pub(crate) fn in_process(
    args: &Args,
    calls: &[(Route, Vec<String>)],
    summary: &mut Vec<Row>,
    details: &mut String,
) {
    let routes: Vec<(&str, &str)> = Route::ALL.iter().map(|r| (r.id(), r.name())).collect();
    let pure: Vec<Option<f64>> = routes
        .iter()
        .map(|(id, _)| criterion_ns(&args.criterion, "route_pure", id))
        .collect();
    let faked: Vec<Option<f64>> = routes
        .iter()
        .map(|(id, _)| criterion_ns(&args.criterion, "route_sdk_faked", id))
        .collect();
    if pure.iter().any(Option::is_some) {
        let worst = routes
            .iter()
            .zip(&pure)
            .filter_map(|((_, name), ns)| ns.map(|ns| (ns, *name)))
            .fold((f64::MIN, "?"), |a, b| if b.0 > a.0 { b } else { a });
        summary.push(Row {
            figure: "in-process CPU per request, no I/O (event → verify → parse → domain → response JSON), worst route".into(),
            budget: "≤ 20 µs".into(),
            measured: format!("{:.1} µs ({})", worst.0 / 1e3, worst.1),
            verdict: over(worst.0 / 1e3, 20.0),
        });
        let worst_faked = routes
            .iter()
            .zip(&faked)
            .filter_map(|((_, name), ns)| ns.map(|ns| (ns, *name)))
            .fold((f64::MIN, "?"), |a, b| if b.0 > a.0 { b } else { a });
        if worst_faked.0 > 0.0 {
            summary.push(Row {
                figure: "the same through the real handler, DynamoDB/SQS answered in memory (adds the SDK's CPU: request building, SigV4, JSON), worst route".into(),
                budget: "(≤ 20 µs, if the budget counts the SDK)".into(),
                measured: format!("{:.1} µs ({})", worst_faked.0 / 1e3, worst_faked.1),
                verdict: over(worst_faked.0 / 1e3, 20.0),
            });
        }
        details.push_str(
            "\n### In-process CPU per request, per route\n\n\
             `cargo bench -p tikivip-bench --bench inprocess` (criterion, median). Each \
             iteration: the API Gateway event JSON (signed) → `lambda_http`'s own adapter \
             → handler → API Gateway response JSON, logging as the functions do (JSON, to \
             a sink). *Pure*: the handler's steps with the store call replaced by the \
             domain work on a fixture transaction. *SDK faked*: the real handler, its \
             DynamoDB/SQS clients answering from memory.\n\n\
             | route | pure | SDK faked | AWS calls (counted from the SDK) |\n|---|---|---|---|\n",
        );
        if let Some(floor) = criterion_ns(&args.criterion, "route_pure", "lambda_http_only") {
            let _ = writeln!(
                details,
                "| *floor: `lambda_http` alone (event → request, a fixed answer → response JSON)* | {:.2} µs | | |",
                floor / 1e3
            );
        }
        for (((_, name), (p, fk)), (_, calls)) in
            routes.iter().zip(pure.iter().zip(&faked)).zip(calls)
        {
            let calls = format!("{} ({})", calls.len(), calls.join(", "));
            let us =
                |ns: &Option<f64>| ns.map_or("–".to_owned(), |ns| format!("{:.2} µs", ns / 1e3));
            let _ = writeln!(details, "| `{name}` | {} | {} | {calls} |", us(p), us(fk));
        }
    } else {
        summary.push(missing("in-process CPU per request", &args.criterion));
    }
}

/// The AWS calls of one request of each route, as the SDK sent them to the
/// in-memory fake (counted on the wire).
pub(crate) fn calls_per_route() -> Vec<(Route, Vec<String>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let faked = Faked::default();
    Route::ALL
        .iter()
        .map(|route| (*route, runtime.block_on(faked.calls_of(*route))))
        .collect()
}

/// Signing and verification against raw HMAC-SHA256.
pub(crate) fn signing(
    args: &Args,
    machine: &Machine,
    summary: &mut Vec<Row>,
    details: &mut String,
) {
    let sign = criterion_ns(&args.criterion, "signing", "sign_300B");
    let verify = criterion_ns(&args.criterion, "signing", "verify_300B");
    let raw = criterion_ns(&args.criterion, "signing", "raw_hmac_sha256_300B");
    let raw_b64 = criterion_ns(&args.criterion, "signing", "raw_base64_then_hmac_300B");
    if let (Some(verify), Some(raw)) = (verify, raw) {
        summary.push(Row {
            figure: "signature verification, 300-byte body".into(),
            budget: "≤ 1 µs".into(),
            measured: format!("{:.0} ns", verify),
            verdict: over(verify, 1000.0),
        });
        summary.push(Row {
            figure: "… against raw HMAC-SHA256 over the same base64 payload".into(),
            budget: "≤ 1.5×".into(),
            measured: format!("{:.2}× ({:.0} ns raw)", verify / raw, raw),
            verdict: over(verify / raw, 1.5),
        });
        let _ = writeln!(
            details,
            "\n### Signing, 300-byte body\n\n\
             criterion medians. The payload HMAC'd is `base64url(timestamp.client_id.body)` \
             (~450 bytes); *raw* is `Hmac::<Sha256>::new_from_slice` + `update` + `finalize` \
             over that payload already encoded (the key schedule redone per call); *raw, \
             encoding included* encodes it into a buffer first. `sign` and `verify` start \
             from an HMAC keyed once per secret and stream the payload through base64-simd \
             in chunks.{}\n\n\
             | | median | ÷ raw |\n|---|---|---|\n\
             | `Verifier::verify` (headers, timestamp window, hex, constant-time compare) | {verify:.0} ns | {:.2}× |\n\
             | `sign` (hex out) | {} | {} |\n\
             | raw HMAC-SHA256 | {raw:.0} ns | 1.00× |\n\
             | raw, encoding included (`base64` crate into a `String`) | {} | {} |",
            if machine.sha_ni {
                " This CPU has SHA-NI; sha2 0.10 uses it (cpufeatures, detected at run time)."
            } else {
                " This CPU lacks SHA-NI: sha2 falls back to its portable code."
            },
            verify / raw,
            sign.map_or("–".into(), |ns| format!("{ns:.0} ns")),
            sign.map_or("–".into(), |ns| format!("{:.2}×", ns / raw)),
            raw_b64.map_or("–".into(), |ns| format!("{ns:.0} ns")),
            raw_b64.map_or("–".into(), |ns| format!("{:.2}×", ns / raw)),
        );
    } else {
        summary.push(missing("signature verification", &args.criterion));
    }
}
