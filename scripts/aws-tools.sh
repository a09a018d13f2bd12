#!/usr/bin/env bash
# The AWS deployment tools, pinned, in the project venv (.venv, the one
# scripts/moto.sh makes), and the checks and builds that use them.
#
#   scripts/aws-tools.sh install    cfn-lint, aws-sam-cli, cargo-lambda, zig (ziglang) and openapi-spec-validator into .venv (no-op when present)
#   scripts/aws-tools.sh lint       cfn-lint template.yaml, sam validate --lint (no AWS credentials needed), openapi-spec-validator docs/openapi.yaml
#   scripts/aws-tools.sh package    arm64 release build of every function in one cargo invocation, one zip each
#   scripts/aws-tools.sh sam-build  sam build (no Docker), the way `sam deploy` wants it
#   scripts/aws-tools.sh run CMD…   CMD with the venv's tools first on PATH, e.g. `run sam deploy --config-env sandbox`
#
# Only Python 3, Rust (rustup) and make are needed: everything else comes from PyPI.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly CFN_LINT_VERSION=1.58.0
readonly SAM_CLI_VERSION=1.170.0
readonly CARGO_LAMBDA_VERSION=1.9.2
readonly ZIGLANG_VERSION=0.17.1
# docs/openapi.yaml's validator (OpenAPI 3.1); tests/it/openapi.rs runs it too.
readonly OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
readonly OPENAPI=docs/openapi.yaml
# moto shares the venv: it is named in the same pip call so that one resolver
# run picks versions of boto3 & co. that suit both.
MOTO_VERSION=$(sed -n 's/^readonly MOTO_VERSION=//p' scripts/moto.sh)
WAITRESS_VERSION=$(sed -n 's/^readonly WAITRESS_VERSION=//p' scripts/moto.sh)
readonly MOTO_VERSION
readonly VENV=.venv
readonly TEMPLATE=template.yaml
readonly ARM64_TARGET=aarch64-unknown-linux-gnu
readonly REGION=${AWS_REGION:-ap-southeast-1}

# The venv's tools first; SAM's telemetry off (it would call out).
tools_env() {
    export PATH="$PWD/$VENV/bin:$PATH"
    export SAM_CLI_TELEMETRY=0
    export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-$REGION}
}

# The functions: one crate, and one binary of the same name, under functions/.
functions() {
    local dir
    for dir in functions/*/; do
        [[ -f $dir/src/main.rs ]] && basename "$dir"
    done
}

# True when every tool is installed at its pinned version. Reads package
# metadata only, so it is fast enough to run before every test.
installed() {
    [[ -x $VENV/bin/python ]] &&
        "$VENV/bin/python" - "$CFN_LINT_VERSION" "$SAM_CLI_VERSION" "$CARGO_LAMBDA_VERSION" "$ZIGLANG_VERSION" "$OPENAPI_SPEC_VALIDATOR_VERSION" <<'EOF' 2>/dev/null
import importlib.metadata as m, sys
wanted = dict(zip(["cfn-lint", "aws-sam-cli", "cargo-lambda", "ziglang", "openapi-spec-validator"], sys.argv[1:]))
sys.exit(0 if all(m.version(name) == version for name, version in wanted.items()) else 1)
EOF
}

install() {
    if installed; then
        return
    fi
    # The venv is made (with moto) by scripts/moto.sh; it is a no-op when there.
    bash scripts/moto.sh install
    echo "aws-tools: installing cfn-lint==$CFN_LINT_VERSION aws-sam-cli==$SAM_CLI_VERSION cargo-lambda==$CARGO_LAMBDA_VERSION ziglang==$ZIGLANG_VERSION openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "cfn-lint==$CFN_LINT_VERSION" \
        "aws-sam-cli==$SAM_CLI_VERSION" \
        "cargo-lambda==$CARGO_LAMBDA_VERSION" \
        "ziglang==$ZIGLANG_VERSION" \
        "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION" \
        "moto[server]==$MOTO_VERSION" \
        "waitress==$WAITRESS_VERSION"
}

lint() {
    install
    tools_env
    echo "aws-tools: cfn-lint $TEMPLATE"
    cfn-lint "$TEMPLATE"
    echo "aws-tools: sam validate --lint"
    sam validate --lint --template-file "$TEMPLATE" --region "$AWS_DEFAULT_REGION"
    echo "aws-tools: openapi-spec-validator $OPENAPI"
    openapi-spec-validator "$OPENAPI"
}

# The Rust target for Graviton; rustup fetches it once.
arm64_target() {
    if ! rustup target list --installed | grep -qx "$ARM64_TARGET"; then
        rustup target add "$ARM64_TARGET"
    fi
}

# Every function in ONE cargo invocation from the workspace root: the
# dependencies are compiled once, with the same features `sam build` resolves
# (it, too, runs `cargo lambda build --bin NAME` from the root, so every
# workspace member is selected and features unify the same way), and the two
# share target/aarch64-unknown-linux-gnu/release.
package() {
    install
    arm64_target
    tools_env
    local bins=() name
    while read -r name; do
        bins+=(--bin "$name")
    done < <(functions)
    local started=$SECONDS
    cargo lambda build --release --arm64 --output-format zip "${bins[@]}"
    echo "aws-tools: built in $((SECONDS - started)) s; packages (zip, unzipped bootstrap):"
    local zip
    while read -r name; do
        zip=${CARGO_TARGET_DIR:-target}/lambda/$name/bootstrap.zip
        python3 - "$zip" "$name" <<'EOF'
import os, sys, zipfile
path, name = sys.argv[1:]
unzipped = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
print(f"  {name:<20} {os.path.getsize(path) / 2**20:6.2f} MiB  ({unzipped / 2**20:.2f} MiB)  {path}")
EOF
    done < <(functions)
}

sam_build() {
    install
    arm64_target
    tools_env
    local started=$SECONDS
    sam build --config-env "${SAM_CONFIG_ENV:-sandbox}" "$@"
    echo "aws-tools: sam build took $((SECONDS - started)) s"
}

run() {
    install
    tools_env
    exec "$@"
}

case "${1:-}" in
install | lint | package) "$1" ;;
sam-build)
    shift
    sam_build "$@"
    ;;
run)
    shift
    run "$@"
    ;;
*)
    echo "usage: $0 install|lint|package|sam-build [sam build options]|run CMD..." >&2
    exit 2
    ;;
esac
