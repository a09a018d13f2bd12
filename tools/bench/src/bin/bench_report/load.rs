//! `make dev` under load (`bench-load`) and the Tini App receipt
//! (`bench-receipt`).

use std::fmt::Write as _;

use serde_json::Value;

use crate::{Args, Row, f, missing, over, read_json, verdict};

/// The load rows: the emulator's capacity, then the open-loop run at a share
/// of it, as a ratio of CPU and a count of errors.
pub(crate) fn add(args: &Args, summary: &mut Vec<Row>, details: &mut String) {
    if let Some(load) = read_json(&args.load) {
        let errors = load["errors"].as_u64().unwrap_or(u64::MAX);
        let emulator = &load["emulator"];
        summary.push(Row {
            figure: format!(
                "`{}` at {:.0} % of the emulator's capacity for the same calls ({} req/s for \
                 {} s, mixed create / look-up / refund, signed; capacity {:.1} req/s, \
                 measured in the same run by replaying the calls straight to the emulator)",
                load["server"].as_str().unwrap_or("make dev"),
                f(&load, "load") * 100.0,
                load["rate"],
                load["duration_s"],
                f(emulator, "rate"),
            ),
            budget: "0 errors".into(),
            measured: format!(
                "{errors} errors of {}, p50 {:.1} ms, p99 {:.1} ms",
                load["requests"],
                f(&load["latency"], "p50_ms"),
                f(&load["latency"], "p99_ms"),
            ),
            verdict: verdict(errors == 0).into(),
        });
        let (stack, moto) = (f(&load, "stack_cpu_ms"), f(&load, "emulator_cpu_ms"));
        summary.push(Row {
            figure: "… the stack's own CPU per request ÷ the emulator's, at that rate".into(),
            budget: "≤ 0.5×".into(),
            measured: format!(
                "{:.2}× ({stack:.2} ms ÷ {moto:.2} ms of CPU per request)",
                stack / moto
            ),
            verdict: over(stack / moto, 0.5),
        });
        let _ = writeln!(
            details,
            "\n### The emulator's capacity for the mix\n\n\
             The AWS calls of the same mix, made by the same store code (`replay` in \
             `bench_load/replay.rs`), straight to the emulator by {} closed-loop callers for {} s: \
             **{:.1} requests/s** ({} requests, {} errors). CPU meanwhile, in % of one core: {}.",
            emulator["callers"],
            emulator["duration_s"],
            f(emulator, "rate"),
            emulator["requests"],
            emulator["errors"],
            cpu_shares(&emulator["cpu_percent"]),
        );
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
        if let Some(samples) = load["error_samples"].as_array().filter(|s| !s.is_empty()) {
            let _ = writeln!(details, "\nFirst errors:\n");
            for sample in samples.iter().take(5) {
                let text = sample.as_str().unwrap_or_default();
                let short: String = text.chars().take(200).collect();
                let _ = writeln!(details, "- `{}`", short.replace('`', "'"));
            }
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
