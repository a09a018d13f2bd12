//! Every function: its binary, runtime and architecture.

use serde_json::json;
use std::collections::BTreeSet;

use super::*;

#[test]
fn every_function_crate_is_deployed_and_built_by_cargo_lambda_from_the_workspace() {
    let deployed: BTreeSet<String> = functions().into_keys().collect();
    assert_eq!(
        deployed,
        function_crates(),
        "template functions vs functions/*"
    );
    for (binary, (id, f)) in functions() {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
        // The workspace root: one target directory for every function.
        assert_eq!(property(f, "CodeUri"), Some(&json!(".")), "{id} ({binary})");
    }
}

#[test]
fn runtime_architecture_and_handler_are_exact_everywhere() {
    // cfn-lint accepts any string here; Lambda would fail only at deploy time.
    for (binary, (id, f)) in functions() {
        assert_eq!(
            property(f, "Runtime"),
            Some(&json!("provided.al2023")),
            "{id} ({binary})"
        );
        assert_eq!(
            property(f, "Architectures"),
            Some(&json!(["arm64"])),
            "{id} ({binary})"
        );
        assert_eq!(
            property(f, "Handler"),
            Some(&json!("bootstrap")),
            "{id} ({binary})"
        );
        assert_eq!(
            property(f, "Tracing"),
            Some(&json!("Active")),
            "{id} ({binary})"
        );
        let timeout = as_u64(property(f, "Timeout").expect("a timeout"), "Timeout");
        if binary == BATCH_JOB {
            // Streams a whole day to S3 and SFTP: Lambda's longest run, and
            // the memory for a CPU share that writes 500,000 rows in seconds.
            assert_eq!(property(f, "MemorySize"), Some(&json!(512)), "{id}");
            assert_eq!(timeout, 900, "{id}");
            continue;
        }
        assert_eq!(
            property(f, "MemorySize"),
            Some(&json!(128)),
            "{id} ({binary})"
        );
        assert!(
            (1..=60).contains(&timeout),
            "{id}: a small timeout, not {timeout} s"
        );
    }
}

/// The one function that is a daily batch, not a request or a message.
const BATCH_JOB: &str = "reconciliation";

/// docs/capacity.md recommends a memory size from the measured figures
/// (`make bench` rewrites it); the template deploys that size.
#[test]
fn the_functions_have_the_memory_size_the_capacity_model_recommends() {
    let capacity = read(&workspace().join("docs/capacity.md"));
    let recommended: u64 = capacity
        .split("Recommended: **")
        .nth(1)
        .and_then(|rest| rest.split(" MB**").next())
        .and_then(|mb| mb.parse().ok())
        .expect("docs/capacity.md states a recommended size");
    assert_eq!(
        template()["Globals"]["Function"]["MemorySize"],
        recommended,
        "Globals.Function.MemorySize"
    );
}
