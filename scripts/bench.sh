#!/usr/bin/env bash
# `make bench`: measures the performance budget and writes the figures into
# BENCHMARKS.md (between its markers; the prose around them stays).
#
#   1. builds: each function's x86_64 release binary, the harness, `tikivip`
#      (what `make dev` runs)
#   2. cold starts: each function exec'd afresh under a local Lambda Runtime
#      API (tools/bench, bench-lambda): init, first event, peak RSS
#   3. in-process CPU per request and signing (criterion)
#   4. `make dev` under load as a ratio to the emulator (bench-load): the
#      emulator's capacity for the mix's own AWS calls, replayed straight to
#      it, then the API at 80 % of it (errors, CPU per request against the
#      emulator's); then the receipt latency of Tini App order notifications
#      (bench-receipt)
#   5. package sizes: `make package` (arm64 zips), else x86_64 zips as a proxy
#   6. the report (bench-report), into BENCHMARKS.md and docs/capacity.md
#
# Settings (environment): BENCH_RUNS (30 instances per function),
# BENCH_BURST (300 events to one instance), BENCH_RECEIPTS (200 Tini App
# notifications, one after another), BENCH_LOAD_SECONDS (60 s of load on
# the API), BENCH_PORT (3900) and BENCH_SIMULATOR_PORT (4910)
# for the `make dev` it starts, BENCH_QUICK=1 for a smoke run (few runs,
# short criterion measurements, 10 s of load; figures not to be quoted),
# BENCH_PACKAGE=proxy to skip `make package`.
#
# Expects the local AWS emulator on $AWS_ENDPOINT_URL (the Makefile's `moto`
# target, a prerequisite of `bench`, starts it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly CARGO=${CARGO:-cargo}
readonly MAKE_CMD=${MAKE:-make}
# Cargo's target directory, wherever CARGO_TARGET_DIR puts it.
readonly TARGET=${CARGO_TARGET_DIR:-target}
readonly OUT=$TARGET/bench
readonly FUNCTIONS=(create-transaction get-transaction refund ipn-receiver ipn-dispatcher ipn-outbox-sweeper
    webview tiniapp-ipn tiniapp-order tiniapp-processor)
# Packaged and sized too, but a daily batch: no cold-start or load figures.
readonly PACKAGED=("${FUNCTIONS[@]}" reconciliation)

if [[ -n ${BENCH_QUICK:-} ]]; then
    RUNS=${BENCH_RUNS:-5}
    BURST=${BENCH_BURST:-30}
    RECEIPTS=${BENCH_RECEIPTS:-30}
    LOAD_SECONDS=${BENCH_LOAD_SECONDS:-10}
    CAPACITY_SECONDS=5
    export BENCH_QUICK
else
    RUNS=${BENCH_RUNS:-30}
    BURST=${BENCH_BURST:-300}
    RECEIPTS=${BENCH_RECEIPTS:-200}
    LOAD_SECONDS=${BENCH_LOAD_SECONDS:-60}
    CAPACITY_SECONDS=20
fi
readonly RUNS BURST RECEIPTS LOAD_SECONDS CAPACITY_SECONDS
readonly BENCH_PORT=${BENCH_PORT:-3900}
readonly BENCH_SIMULATOR_PORT=${BENCH_SIMULATOR_PORT:-4910}
export AWS_ENDPOINT_URL=${AWS_ENDPOINT_URL:-http://127.0.0.1:${MOTO_PORT:-5005}}

started=$SECONDS
step() { printf '\n== bench: %s (%d s in)\n' "$*" $((SECONDS - started)); }

mkdir -p "$OUT"

# ---------------------------------------------------------------- 1. builds
step "1/6 build (release, x86_64): the functions, get-transaction-nowarmup, the harness; tikivip (dev)"
# The harness too is a release build: its TLS front's crypto (aws-lc) would
# otherwise run unoptimised and be timed as the function's handshake.
bins=()
for name in "${PACKAGED[@]}" get-transaction-nowarmup bench-lambda bench-load bench-receipt bench-reconciliation bench-report; do
    bins+=(--bin "$name")
done
"$CARGO" build --release "${bins[@]}"
# What `make dev` runs, built now so that its start is not timed as a build.
"$CARGO" build -p tikivip-tools --bin tikivip

# ---------------------------------------------------------------- 2. cold starts
step "2/6 cold starts: $RUNS fresh instances per function, then $BURST events to one"
rm -rf "$OUT/logs"
# get-transaction, with and without its warm-up, also against the emulator
# behind TLS (a self-signed certificate made with moto's `cryptography`).
tls_args=()
if .venv/bin/python scripts/bench-tls-cert.py "$OUT/tls"; then
    tls_args=(--tls-dir "$OUT/tls")
else
    echo "bench: no certificate for the TLS front; the warm-up is timed over plain HTTP only" >&2
fi
$TARGET/release/bench-lambda --bin-dir $TARGET/release --runs "$RUNS" --burst "$BURST" \
    --out "$OUT/lambda.json" --logs "$OUT/logs" "${tls_args[@]}"

# ---------------------------------------------------------------- 3. criterion
step "3/6 in-process CPU per request and signing (criterion)"
"$CARGO" bench -p tikivip-bench --bench inprocess

# ---------------------------------------------------------------- 4. load
step "4/6 make dev: the emulator's capacity for the mix's calls, then the API at 80 % of it for $LOAD_SECONDS s, then $RECEIPTS Tini App notifications"
dev_pid=
stop_dev() {
    [[ -n $dev_pid ]] || return 0
    # The whole group setsid gave it: make, cargo run, tikivip.
    kill -INT -- "-$dev_pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 -- "-$dev_pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL -- "-$dev_pid" 2>/dev/null || true
    wait "$dev_pid" 2>/dev/null || true
    dev_pid=
}
trap stop_dev EXIT
# Its own table (and queue) and ports, beside any `make dev` already running.
bench_table="tikivip-bench-$$-$RANDOM"
PORT=$BENCH_PORT TIKI_SIMULATOR_PORT=$BENCH_SIMULATOR_PORT TABLE_NAME="$bench_table" \
    setsid "$MAKE_CMD" --no-print-directory dev >"$OUT/dev.log" 2>&1 &
dev_pid=$!
$TARGET/release/bench-load --base-url "http://127.0.0.1:$BENCH_PORT" --table "$bench_table" \
    --duration "$LOAD_SECONDS" --capacity-seconds "$CAPACITY_SECONDS" \
    --out "$OUT/load.json" --server "make dev" || {
    echo "bench: the load run failed; last lines of $OUT/dev.log:" >&2
    tail -n 20 "$OUT/dev.log" >&2
    exit 1
}
$TARGET/release/bench-receipt --base-url "http://127.0.0.1:$BENCH_PORT" \
    --simulator-url "http://127.0.0.1:$BENCH_SIMULATOR_PORT" --count "$RECEIPTS" \
    --out "$OUT/receipt.json"
stop_dev
# The daily reconciliation file: the writer alone on 1,000,000 rows, then a
# 10,000-row day end to end from the emulator.
$TARGET/release/bench-reconciliation --rows "${BENCH_RECON_ROWS:-1000000}" \
    --emulator-rows "${BENCH_RECON_EMULATOR_ROWS:-10000}" --out "$OUT/reconciliation.json"

# ---------------------------------------------------------------- 5. packages
step "5/6 package sizes"
packages=$TARGET/lambda
label="arm64, \`make package\` (cargo lambda, zip)"
if [[ ${BENCH_PACKAGE:-} != proxy ]] && "$MAKE_CMD" --no-print-directory package; then
    :
else
    # No arm64 build here: the x86_64 release binaries, zipped as cargo lambda
    # zips them (one `bootstrap`, deflated), stand in for the packages.
    packages=$OUT/packages-x86_64
    label="x86_64 release binaries zipped as a PROXY (\`make package\` unavailable or skipped)"
    rm -rf "$packages"
    for name in "${PACKAGED[@]}"; do
        mkdir -p "$packages/$name"
        cp "$TARGET/release/$name" "$packages/$name/bootstrap"
        python3 - "$packages/$name" <<'EOF'
import os, sys, zipfile
d = sys.argv[1]
with zipfile.ZipFile(os.path.join(d, "bootstrap.zip"), "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(os.path.join(d, "bootstrap"), "rb") as f:
        z.writestr(info, f.read())
EOF
    done
fi

# ---------------------------------------------------------------- 6. report
step "6/6 report"
quick_note=
[[ -n ${BENCH_QUICK:-} ]] && quick_note=" (BENCH_QUICK: smoke run, not figures to quote)"
$TARGET/release/bench-report --lambda "$OUT/lambda.json" --load "$OUT/load.json" \
    --receipt "$OUT/receipt.json" --reconciliation "$OUT/reconciliation.json" \
    --criterion $TARGET/criterion --packages "$packages" --packages-label "$label" \
    --markdown BENCHMARKS.md --command "make bench$quick_note" --elapsed $((SECONDS - started))
echo "bench: done in $((SECONDS - started)) s; figures in BENCHMARKS.md, raw results in $OUT/"
