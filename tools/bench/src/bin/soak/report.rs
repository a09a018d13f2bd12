//! The soak's counts: printed, and written to BENCHMARKS.md's reliability
//! section (between its markers).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use tikivip_bench::markdown::write_between;

use crate::Crashes;
use crate::audit::Audit;
use crate::proxy::AwsFault;

const BEGIN: &str = "<!-- soak:begin -->";
const END: &str = "<!-- soak:end -->";

pub struct Report {
    pub seconds: u64,
    pub requests: u64,
    pub aws_calls: u64,
    pub aws_faults: Vec<(AwsFault, u64)>,
    pub tiki_faults: BTreeMap<&'static str, u64>,
    pub crashes: Crashes,
    pub drained: bool,
    pub unanswered: HashMap<&'static str, u64>,
    pub audit: Audit,
}

impl Report {
    fn lines(&self) -> String {
        let a = &self.audit;
        let mut out = String::new();
        let mut line = |text: String| {
            let _ = writeln!(out, "| {text} |");
        };
        line(format!(
            "traffic | {} s, {} requests (retries included)",
            self.seconds, self.requests
        ));
        let aws: u64 = self.aws_faults.iter().map(|(_, n)| n).sum();
        let kinds: Vec<String> = self
            .aws_faults
            .iter()
            .map(|(fault, n)| format!("{}: {n}", fault.name()))
            .collect();
        line(format!(
            "AWS faults injected | {aws} of {} calls ({})",
            self.aws_calls,
            kinds.join(", ")
        ));
        let tiki: u64 = self.tiki_faults.values().sum();
        let kinds: Vec<String> = self
            .tiki_faults
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        line(format!(
            "Tiki faults injected | {tiki} ({})",
            kinds.join(", ")
        ));
        line(format!(
            "crashes (SIGKILL) | {} ({} between a settling write and its enqueue); unprompted exits: {}",
            self.crashes.plain + self.crashes.between_write_and_enqueue,
            self.crashes.between_write_and_enqueue,
            self.crashes.unprompted
        ));
        line(format!(
            "transactions | {} ({} settled), {} refunds made",
            a.transactions, a.settled, a.refunds
        ));
        line(format!(
            "IPNs | delivered once: {}; delivered, Tiki saw it more than once: {}; waiting: {}; ended without delivery: {}; dead letters: {}",
            a.delivered_once,
            a.delivered_more_than_once,
            a.waiting,
            if a.ended.is_empty() {
                "0".to_owned()
            } else {
                a.ended
                    .iter()
                    .map(|(s, n)| format!("{s} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            a.dead_letters
        ));
        line(format!(
            "system errors | {} inside the fault windows and crashes; drained: {}",
            a.system_errors_in_windows,
            if self.drained { "yes" } else { "no" }
        ));
        let unanswered: u64 = self.unanswered.values().sum();
        line(format!("calls given up by their callers | {unanswered}"));
        line(format!("**audit failures** | **{}**", a.failures.len()));
        out
    }

    pub fn print(&self) {
        println!("{}", self.lines());
        for failure in &self.audit.failures {
            println!("AUDIT FAILURE: {failure}");
        }
    }

    pub fn write(&self, markdown: &Path) -> std::io::Result<()> {
        let block = format!(
            "{BEGIN}\n| | one `make soak` run |\n|---|---|\n{}{END}\n",
            self.lines()
        );
        write_between(markdown, BEGIN, END, &block)
    }
}
