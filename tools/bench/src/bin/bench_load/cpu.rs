//! The CPU watch: the emulator's and the API server's processes found in
//! `/proc`, and the CPU each used over a run.

use std::time::Duration;

/// CPU time (user + system) of a process so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may hold spaces: fields are counted after its `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10)) // USER_HZ is 100 on Linux
}

/// The processes whose CPU a run reports: the emulator and the API server.
fn watched(port: u16) -> Vec<(String, u32)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a.ends_with("moto_server.py")) {
            found.push(("moto (DynamoDB, SQS emulator)".to_owned(), pid));
        } else if args.first().is_some_and(|a| a.ends_with("/tikivip"))
            && args.get(1).is_some_and(|a| a == "dev")
        {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let wanted = format!("PORT={port}");
            if environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes()) {
                found.push(("tikivip dev (the API)".to_owned(), pid));
            }
        }
    }
    found
}

/// The CPU the emulator and the API server use over a run.
pub(super) struct CpuWatch {
    before: Vec<(String, u32, Option<Duration>)>,
}

impl CpuWatch {
    pub(super) fn start(port: u16) -> Self {
        CpuWatch {
            before: watched(port)
                .into_iter()
                .map(|(name, pid)| (name, pid, cpu_time(pid)))
                .collect(),
        }
    }

    /// Each process's CPU since the start, in % of one core over `elapsed`.
    pub(super) fn percent(&self, elapsed: Duration) -> Vec<(String, f64)> {
        self.before
            .iter()
            .filter_map(|(name, pid, before)| {
                let used = cpu_time(*pid)?.checked_sub((*before)?)?;
                Some((
                    name.clone(),
                    100.0 * used.as_secs_f64() / elapsed.as_secs_f64(),
                ))
            })
            .collect()
    }
}
