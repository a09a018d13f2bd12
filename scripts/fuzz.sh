#!/usr/bin/env bash
# `make fuzz`: every target of tools/fuzz under libFuzzer for FUZZ_SECONDS
# (default 60) each, seeded from tools/fuzz/seeds/<target>/; the corpus it
# grows stays in target/fuzz/corpus/. Prints executions per target and stops
# at the first crash (its input: target/fuzz/artifacts/<target>/).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_DIR=tools/fuzz/cargo-fuzz
BUILD=target/fuzz-build

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz: needs the nightly toolchain (rustup toolchain install nightly)" >&2
    exit 1
fi

# -detect_leaks=0: libFuzzer runs LeakSanitizer's scan of the whole heap after
# every run that ends with more allocations than frees. A run that reaches the
# AWS SDK often does (what it keeps for later calls), which made those
# targets ~6x slower (handler_get: 213 executions/s, 1,355 without). The heap
# does not grow (60,000 look-ups in one process: flat RSS), and what the scan
# finds, unreachable memory, safe Rust rarely leaves.
targets=$(ls "$FUZZ_DIR/fuzz_targets" | sed 's/\.rs$//')
cargo +nightly fuzz build --fuzz-dir "$FUZZ_DIR" --target-dir "$BUILD"
summary=target/fuzz/summary.txt
mkdir -p target/fuzz
: > "$summary"
for target in $targets; do
    corpus=target/fuzz/corpus/$target
    artifacts=target/fuzz/artifacts/$target/
    mkdir -p "$corpus" "$artifacts"
    log=target/fuzz/$target.log
    status=0
    cargo +nightly fuzz run --fuzz-dir "$FUZZ_DIR" --target-dir "$BUILD" "$target" \
        "$corpus" "tools/fuzz/seeds/$target" -- \
        -max_total_time="$FUZZ_SECONDS" -artifact_prefix="$artifacts" -print_final_stats=1 \
        -detect_leaks=0 \
        > "$log" 2>&1 || status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    inputs=$(ls "$corpus" | wc -l)
    printf '| `%s` | %s | %s | %s |\n' "$target" "$runs" "$FUZZ_SECONDS" "$inputs" | tee -a "$summary"
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $target failed; see $log and $artifacts" >&2
        tail -40 "$log" >&2
        exit "$status"
    fi
done
# The figures into BENCHMARKS.md, between its fuzz markers.
python3 - "$summary" <<'PY'
import sys, datetime
rows = open(sys.argv[1]).read()
total = sum(int(r.split("|")[2]) for r in rows.splitlines() if r.split("|")[2].strip().isdigit())
block = ("<!-- fuzz:begin -->\n"
         f"One `make fuzz` run, {datetime.date.today()}: no crash in any target, "
         f"{total:,} executions in all.\n\n"
         "| target | executions | seconds | corpus (inputs) |\n|---|---|---|---|\n"
         + rows + "<!-- fuzz:end -->")
text = open("BENCHMARKS.md").read()
begin, end = text.index("<!-- fuzz:begin -->"), text.index("<!-- fuzz:end -->") + len("<!-- fuzz:end -->")
open("BENCHMARKS.md", "w").write(text[:begin] + block + text[end:])
PY
echo "fuzz: every target ran ${FUZZ_SECONDS}s without a failure (BENCHMARKS.md, target/fuzz/summary.txt)"
