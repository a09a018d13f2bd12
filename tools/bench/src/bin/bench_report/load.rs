//! `make dev` under load (`bench-load`, wrk) and the Tini App receipt
//! (`bench-receipt`).

use std::fmt::Write as _;

use serde_json::Value;

use crate::{Args, Row, f, missing, over, read_json, verdict};

/// The load rows: the open-loop run, the sweep, wrk.
pub(crate) fn add(args: &Args, summary: &mut Vec<Row>, details: &mut String) {
    if let Some(load) = read_json(&args.load) {
        let errors = load["errors"].as_u64().unwrap_or(u64::MAX);
        let p99 = f(&load["latency"], "p99_ms");
        summary.push(Row {
            figure: format!(
                "`{}` under {} req/s for {} s (mixed create / look-up / refund, signed)",
                load["server"].as_str().unwrap_or("make dev"),
                load["rate"],
                load["duration_s"]
            ),
            budget: "0 errors, p99 ≤ 25 ms".into(),
            measured: format!(
                "{errors} errors of {}, p50 {:.1} ms, p99 {p99:.1} ms",
                load["requests"],
                f(&load["latency"], "p50_ms")
            ),
            verdict: if errors == 0 && p99 <= 25.0 {
                verdict(true).into()
            } else if errors == 0 {
                format!("{} (p99 {})", verdict(false), over(p99, 25.0))
            } else {
                format!(
                    "{} ({errors} errors; p99 {})",
                    verdict(false),
                    over(p99, 25.0)
                )
            },
        });
        if load["sweep"].as_array().is_some_and(|s| !s.is_empty()) {
            summary.push(Row {
                figure: "… the highest rate it holds within that budget (capacity sweep)".into(),
                budget: "300 req/s".into(),
                measured: load["sustained_rate"]
                    .as_u64()
                    .map_or("no step within budget".into(), |r| format!("{r} req/s")),
                verdict: match load["sustained_rate"].as_f64() {
                    Some(rate) if rate >= 300.0 => verdict(true).into(),
                    Some(rate) => format!("{} ({:.0}× short)", verdict(false), 300.0 / rate),
                    None => verdict(false).into(),
                },
            });
        }
        let _ = writeln!(
            details,
            "\n### Load on `{}`\n\n`{}`: open loop at {} req/s for {} s (latency from when each \
             request was due), achieved {:.1} req/s; the driver's own lateness p99 {:.2} ms.\n\n\
             | requests | errors | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|",
            load["server"].as_str().unwrap_or("make dev"),
            load["command"].as_str().unwrap_or("bench-load"),
            load["rate"],
            load["duration_s"],
            f(&load, "achieved_rate"),
            f(&load, "driver_lateness_p99_ms"),
        );
        let mut row = |label: String, summary: &Value, errors: &Value| {
            let _ = writeln!(
                details,
                "| {label} | {errors} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
                f(summary, "p50_ms"),
                f(summary, "p90_ms"),
                f(summary, "p99_ms"),
                f(summary, "max_ms"),
            );
        };
        row(
            format!("all {}", load["requests"]),
            &load["latency"],
            &load["errors"],
        );
        for kind in load["by_kind"].as_array().cloned().unwrap_or_default() {
            row(
                format!(
                    "{} {}",
                    kind["kind"].as_str().unwrap_or("?"),
                    kind["requests"]
                ),
                &kind["latency"],
                &kind["errors"],
            );
        }
        if load["cpu_percent"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
        {
            let _ = writeln!(
                details,
                "\nCPU during the run, in % of one core (2 cores in all): {}.",
                cpu_shares(&load["cpu_percent"])
            );
        }
        if let Some(steps) = load["sweep"].as_array().filter(|s| !s.is_empty()) {
            let _ = writeln!(
                details,
                "\nCapacity sweep before the run ({} s per step, stopping at the first step \
                 over budget): **{}**.\n\n\
                 | rate | achieved | errors | p50 | p99 | within budget | CPU (% of a core) |\n\
                 |---|---|---|---|---|---|---|",
                load["step_seconds"],
                match load["sustained_rate"].as_u64() {
                    Some(rate) => format!("holds {rate} req/s within budget"),
                    None => "no step within budget".to_owned(),
                }
            );
            for step in steps {
                let cpu: Vec<String> = step["cpu_percent"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|pair| {
                        format!(
                            "{} {:.0}",
                            pair[0]
                                .as_str()
                                .unwrap_or("?")
                                .split(' ')
                                .next()
                                .unwrap_or("?"),
                            pair[1].as_f64().unwrap_or(f64::NAN)
                        )
                    })
                    .collect();
                let _ = writeln!(
                    details,
                    "| {} req/s | {:.1} | {} | {:.1} ms | {:.1} ms | {} | {} |",
                    step["rate"],
                    f(step, "achieved_rate"),
                    step["errors"],
                    f(step, "p50_ms"),
                    f(step, "p99_ms"),
                    if step["within_budget"] == true {
                        "yes"
                    } else {
                        "no"
                    },
                    cpu.join(", ")
                );
            }
        }
        if let Some(samples) = load["error_samples"].as_array().filter(|s| !s.is_empty()) {
            let _ = writeln!(details, "\nFirst errors:\n");
            for sample in samples.iter().take(5) {
                let text = sample.as_str().unwrap_or_default();
                let short: String = text.chars().take(200).collect();
                let _ = writeln!(details, "- `{}`", short.replace('`', "'"));
            }
        }
        if let Some(wrk) = load.get("wrk").filter(|w| w.is_object()) {
            let errors = wrk["errors"].as_u64().unwrap_or(u64::MAX);
            let p99 = f(&wrk["latency_ms"], "p99");
            summary.push(Row {
                figure: format!(
                    "… the same mix through wrk ({} connections paced to {:.0} req/s; closed loop)",
                    wrk["connections"],
                    f(wrk, "offered_rate")
                ),
                budget: "0 errors, p99 ≤ 25 ms".into(),
                measured: format!(
                    "{errors} errors of {} at {:.1} req/s, p50 {:.1} ms, p99 {p99:.1} ms",
                    wrk["requests"],
                    f(wrk, "achieved_rate"),
                    f(&wrk["latency_ms"], "p50")
                ),
                verdict: if errors == 0 && p99 <= 25.0 {
                    verdict(true).into()
                } else {
                    format!(
                        "{} ({errors} errors; p99 {})",
                        verdict(false),
                        over(p99, 25.0)
                    )
                },
            });
            let _ = writeln!(
                details,
                "\nThe same mix through **wrk** (Debian's, installed by `scripts/bench.sh`), \
                 after the run, requests signed beforehand as above: `{}`. wrk has no fixed \
                 rate: each connection waits between requests so that together they offer \
                 {:.0} req/s, and its latency runs from when a request went out.\n\n\
                 | requests | achieved | errors | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|---|\n\
                 | {} | {:.1} req/s | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |\n\n\
                 CPU during it, in % of one core: {}.{}",
                wrk["command"].as_str().unwrap_or("wrk"),
                f(wrk, "offered_rate"),
                wrk["requests"],
                f(wrk, "achieved_rate"),
                wrk["errors"],
                f(&wrk["latency_ms"], "p50"),
                f(&wrk["latency_ms"], "p90"),
                f(&wrk["latency_ms"], "p99"),
                f(&wrk["latency_ms"], "max"),
                cpu_shares(&wrk["cpu_percent"]),
                match wrk["first_error"].as_str().filter(|e| !e.is_empty()) {
                    Some(error) => format!(
                        " First answer other than 200: `{}`.",
                        error
                            .chars()
                            .take(200)
                            .collect::<String>()
                            .replace('`', "'")
                    ),
                    None => String::new(),
                }
            );
        }
    } else {
        summary.push(missing("make dev under load", &args.load));
    }
}

/// Tiki resends a notification unanswered within 15 s; the receipt only
/// records it and answers, so a few hundred milliseconds is the budget.
pub(crate) fn receipt(args: &Args, summary: &mut Vec<Row>) {
    // Tiki resends a notification unanswered within 15 s; the receipt only
    // records it and answers, so a few hundred milliseconds is the budget.
    if let Some(receipt) = read_json(&args.receipt) {
        let errors = receipt["errors"].as_array().map_or(usize::MAX, Vec::len);
        let p99 = f(&receipt["latency"], "p99_ms");
        summary.push(Row {
            figure: format!(
                "Tini App notification receipt through `make dev`, {} one after another \
                 (signed `X-Tiniapp-*`, recorded with its outbox entry, answered)",
                receipt["sent"]
            ),
            budget: "0 errors, p99 ≤ 300 ms (Tiki waits 15 s)".into(),
            measured: format!(
                "{errors} errors, p50 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
                f(&receipt["latency"], "p50_ms"),
                f(&receipt["latency"], "max_ms"),
            ),
            verdict: if errors == 0 {
                over(p99, 300.0)
            } else {
                format!("{} ({errors} errors)", verdict(false))
            },
        });
    } else {
        summary.push(missing("Tini App notification receipt", &args.receipt));
    }
}

/// `[[process, percent], …]` as "process 42%, …".
fn cpu_shares(cpu_percent: &Value) -> String {
    let shares: Vec<String> = cpu_percent
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|pair| {
            format!(
                "{} {:.0}%",
                pair[0].as_str().unwrap_or("?"),
                pair[1].as_f64().unwrap_or(f64::NAN)
            )
        })
        .collect();
    shares.join(", ")
}
