//! Generated blocks of the project's markdown (BENCHMARKS.md,
//! docs/capacity.md): each run replaces its block, between its markers, and
//! leaves the prose around it alone.

use std::path::Path;

/// Replaces the text from `begin` to `end` (markers included, so `block`
/// must carry them) with `block`, or appends `block` when the markers are
/// missing.
pub fn write_between(path: &Path, begin: &str, end: &str, block: &str) -> std::io::Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let updated = match (existing.find(begin), existing.find(end)) {
        (Some(at), Some(until)) if until > at => format!(
            "{}{}{}",
            &existing[..at],
            block.trim_end(),
            &existing[until + end.len()..]
        ),
        _ => format!("{}\n\n{}", existing.trim_end(), block.trim_end()),
    };
    std::fs::write(path, updated.trim_start().to_owned() + "\n")
}
