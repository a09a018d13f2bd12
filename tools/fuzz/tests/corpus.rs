//! `make test`'s share of the fuzzing: every target replays its seeds and
//! every input that once failed it, so that a regression fails CI without a
//! fuzzer. `make fuzz` grows the corpus; a crash it finds is copied into
//! `regressions/<target>/` (see tools/fuzz/README.md).

use std::fs;
use std::path::Path;

use tikivip_fuzz::Target;

fn inputs(folder: &str, target: Target) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(folder)
        .join(target.name());
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut inputs: Vec<_> = entries
        .map(|entry| {
            let path = entry.expect("a readable folder").path();
            let data = fs::read(&path).expect("a readable input");
            (path.display().to_string(), data)
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_target_passes_on_its_seeds_and_regressions() {
    for target in Target::ALL {
        let seeds = inputs("seeds", target);
        assert!(!seeds.is_empty(), "{target} has no seeds");
        for (path, data) in seeds.iter().chain(&inputs("regressions", target)) {
            let outcome = std::panic::catch_unwind(|| target.run(data));
            assert!(outcome.is_ok(), "{target} failed on {path}");
        }
    }
}
