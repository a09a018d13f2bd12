//! Zipped package sizes (`make package`).

use std::fmt::Write as _;
use std::path::Path;

use crate::{Args, Row, missing, over};

/// The largest package row and the per-function table.
pub(crate) fn add(args: &Args, summary: &mut Vec<Row>, details: &mut String) {
    let mut packages: Vec<(String, u64, u64)> = Vec::new();
    if let Ok(dirs) = std::fs::read_dir(&args.packages) {
        for dir in dirs.flatten() {
            let zip = dir.path().join("bootstrap.zip");
            if let Ok(meta) = std::fs::metadata(&zip) {
                let binary = unzipped_size(&zip).unwrap_or(0);
                packages.push((
                    dir.file_name().to_string_lossy().into_owned(),
                    meta.len(),
                    binary,
                ));
            }
        }
    }
    packages.sort();
    if let Some(largest) = packages.iter().max_by_key(|p| p.1) {
        // MB = 10^6 bytes (the stricter reading of the budget); MiB beside.
        let mb = largest.1 as f64 / 1e6;
        summary.push(Row {
            figure: format!(
                "zipped package per function, largest — {}",
                args.packages_label
            ),
            budget: "≤ 3 MB".into(),
            measured: format!(
                "{mb:.2} MB = {:.2} MiB ({})",
                largest.1 as f64 / (1024.0 * 1024.0),
                largest.0
            ),
            verdict: over(mb, 3.0),
        });
        let _ = writeln!(
            details,
            "\n### Packages — {}\n\n| function | bootstrap.zip | bootstrap |\n|---|---|---|",
            args.packages_label
        );
        for (name, zip, binary) in &packages {
            let _ = writeln!(
                details,
                "| {name} | {:.2} MB ({:.2} MiB) | {} |",
                *zip as f64 / 1e6,
                *zip as f64 / (1024.0 * 1024.0),
                if *binary > 0 {
                    format!("{:.2} MB", *binary as f64 / 1e6)
                } else {
                    "–".into()
                }
            );
        }
    } else {
        summary.push(missing("zipped package per function", &args.packages));
    }
}

/// The sum of the uncompressed sizes in a zip's central directory.
fn unzipped_size(path: &Path) -> Option<u64> {
    let data = std::fs::read(path).ok()?;
    let u16_at = |at: usize| Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?));
    let eocd = (0..data.len().saturating_sub(21))
        .rev()
        .find(|&at| u32_at(at) == Some(0x0605_4b50))?;
    let entries = u16_at(eocd + 10)?;
    let mut at = u32_at(eocd + 16)? as usize;
    let mut total = 0u64;
    for _ in 0..entries {
        if u32_at(at)? != 0x0201_4b50 {
            return None;
        }
        total += u64::from(u32_at(at + 24)?);
        at += 46
            + usize::from(u16_at(at + 28)?)
            + usize::from(u16_at(at + 30)?)
            + usize::from(u16_at(at + 32)?);
    }
    Some(total)
}
