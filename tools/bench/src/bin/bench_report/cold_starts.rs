//! Cold starts and memory, per function (`bench-lambda`'s results).

use std::fmt::Write as _;

use serde_json::Value;

use crate::{Args, Row, f, missing, over, read_json, verdict};

/// The init, first-event and memory rows, and the per-function table.
pub(crate) fn add(args: &Args, summary: &mut Vec<Row>, details: &mut String) {
    if let Some(lambda) = read_json(&args.lambda) {
        let series = lambda["series"].as_array().cloned().unwrap_or_default();
        let deployed: Vec<&Value> = series
            .iter()
            .filter(|s| !s["function"].as_str().unwrap_or("").ends_with("-nowarmup"))
            .filter(|s| s["tls"] != true)
            .collect();
        for (mode, label) in [
            ("env", "secrets in env"),
            (
                "secrets_manager",
                "secrets from Secrets Manager, as deployed",
            ),
        ] {
            let of_mode: Vec<&&Value> = deployed
                .iter()
                .filter(|s| s["secrets"] == mode || (mode == "secrets_manager" && is_secretless(s)))
                .collect();
            if of_mode.is_empty() {
                continue;
            }
            let worst = |key: &str, pct: &str| {
                of_mode
                    .iter()
                    .map(|s| (f(&s[key], pct), s["function"].as_str().unwrap_or("?")))
                    .fold((f64::MIN, "?"), |a, b| if b.0 > a.0 { b } else { a })
            };
            let (p50, p50_fn) = worst("init", "p50_ms");
            let (p99, p99_fn) = worst("init", "p99_ms");
            summary.push(Row {
                figure: format!("init (exec → first `/next`), worst function, {label}"),
                budget: "p50 ≤ 20 ms, p99 ≤ 40 ms".into(),
                measured: format!("p50 {p50:.1} ms ({p50_fn}), p99 {p99:.1} ms ({p99_fn})"),
                verdict: init_verdict(p50, p99),
            });
            let (first, first_fn) = worst("first_event", "p50_ms");
            summary.push(Row {
                figure: format!("first event after init (median of runs), worst function, {label}"),
                budget: "≤ 30 ms".into(),
                measured: format!("{first:.1} ms ({first_fn})"),
                verdict: over(first, 30.0),
            });
        }
        if let Some(tls) = series
            .iter()
            .find(|s| s["function"] == "get-transaction" && s["tls"] == true)
        {
            let (p50, p99) = (f(&tls["init"], "p50_ms"), f(&tls["init"], "p99_ms"));
            summary.push(Row {
                figure: "… init of get-transaction with the emulator behind TLS, as AWS endpoints \
                         are (its warm-up does the process's first TLS handshake)"
                    .into(),
                budget: "p50 ≤ 20 ms, p99 ≤ 40 ms".into(),
                measured: format!("p50 {p50:.1} ms, p99 {p99:.1} ms"),
                verdict: init_verdict(p50, p99),
            });
        }
        let (rss, rss_fn) = deployed
            .iter()
            .map(|s| (f(s, "peak_rss_mb"), s["function"].as_str().unwrap_or("?")))
            .fold((f64::MIN, "?"), |a, b| if b.0 > a.0 { b } else { a });
        summary.push(Row {
            figure: format!(
                "peak memory (VmHWM) of one instance after {} events, largest",
                lambda["burst"].as_u64().unwrap_or(0) + 1
            ),
            budget: "≤ 30 MB".into(),
            measured: format!("{rss:.1} MB ({rss_fn})"),
            verdict: over(rss, 30.0),
        });

        let _ = writeln!(
            details,
            "### Cold starts and memory, per function\n\n\
             `{}`: {} fresh instances per row (each: exec → first `GET /next` = init; \
             event handed out → its response = first event); the last instance then \
             takes {} more events (burst) and its VmHWM is read before it is killed. \
             Medians are p50 over the runs.\n",
            lambda["command"].as_str().unwrap_or("bench-lambda"),
            lambda["runs"],
            lambda["burst"]
        );
        details.push_str(
            "| function | secrets | init p50 | init p99 | first event p50 | first event p99 | exec → first response p50 | burst p50 / p99 | RSS after 1st / peak | binary |\n\
             |---|---|---|---|---|---|---|---|---|---|\n",
        );
        for s in &series {
            let _ = writeln!(
                details,
                "| {} | {} | {:.1} ms | {:.1} ms | {:.2} ms | {:.2} ms | {:.1} ms | {:.2} / {:.2} ms | {:.1} / {:.1} MB | {:.1} MB |",
                s["function"].as_str().unwrap_or("?"),
                match (s["secrets"].as_str(), s["tls"] == true) {
                    (_, true) => "env; AWS over TLS",
                    (Some("secrets_manager"), _) => "Secrets Manager",
                    _ if is_secretless(s) => "(none)",
                    _ => "env",
                },
                f(&s["init"], "p50_ms"),
                f(&s["init"], "p99_ms"),
                f(&s["first_event"], "p50_ms"),
                f(&s["first_event"], "p99_ms"),
                f(&s["cold_start"], "p50_ms"),
                f(&s["burst"], "p50_ms"),
                f(&s["burst"], "p99_ms"),
                f(s, "rss_after_first_mb"),
                f(s, "peak_rss_mb"),
                f(s, "binary_bytes") / 1e6,
            );
            if let Some(errors) = s["errors"].as_array().filter(|e| !e.is_empty()) {
                let _ = writeln!(
                    details,
                    "\n> {} errors in {}: {}\n",
                    errors.len(),
                    s["function"].as_str().unwrap_or("?"),
                    errors.first().map(Value::to_string).unwrap_or_default()
                );
            }
        }
        let warm = &lambda["warmup_ms"];
        if warm.is_object() {
            details.push_str(
                "\n**Connection warm-up at init** (`Store::from_env`'s `GetItem` of an absent \
                 key): get-transaction against `get-transaction-nowarmup` (the same code with \
                 its store built as before the warm-up), secrets in env, p50:\n\n\
                 | endpoint | init with / without | first event with / without |\n|---|---|---|\n",
            );
            for (label, key) in [
                ("emulator, plain HTTP", "plain"),
                ("emulator behind TLS (as AWS endpoints are)", "tls"),
            ] {
                let get = |what: &str| warm[format!("{key}_{what}")].as_f64();
                if let (Some(iw), Some(io), Some(fw), Some(fo)) = (
                    get("init_with"),
                    get("init_without"),
                    get("first_event_with"),
                    get("first_event_without"),
                ) {
                    let _ = writeln!(
                        details,
                        "| {label} | {iw:.1} / {io:.1} ms | **{fw:.1} / {fo:.1} ms** |"
                    );
                }
            }
        }
    } else {
        summary.push(missing("init / first event / peak memory", &args.lambda));
    }
}

/// The sweeper reads no secret: one row serves both modes.
fn is_secretless(series: &Value) -> bool {
    series["function"] == "ipn-outbox-sweeper"
}

/// The init budget: p50 ≤ 20 ms and p99 ≤ 40 ms.
fn init_verdict(p50: f64, p99: f64) -> String {
    if p50 <= 20.0 && p99 <= 40.0 {
        verdict(true).into()
    } else {
        format!(
            "{} (p50 {}, p99 {})",
            verdict(false),
            over(p50, 20.0),
            over(p99, 40.0)
        )
    }
}
