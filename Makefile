# Everyday entry points. `make help` lists them. A fresh machine needs only
# Rust, Python 3 and make: the AWS emulator (moto) installs itself into .venv.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# The local AWS: every AWS SDK client honours AWS_ENDPOINT_URL, so the code
# under test talks to moto without knowing it. Override any of these from the
# environment, e.g. `PORT=4000 make dev`.
MOTO_PORT ?= 5005
AWS_ENDPOINT_URL ?= http://127.0.0.1:$(MOTO_PORT)
AWS_REGION ?= ap-southeast-1
AWS_ACCESS_KEY_ID ?= testing
AWS_SECRET_ACCESS_KEY ?= testing
TABLE_NAME ?= tikivip-dev
PORT ?= 3000
export MOTO_PORT AWS_ENDPOINT_URL AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY TABLE_NAME PORT

CARGO ?= cargo
MOTO := bash scripts/moto.sh
# cfn-lint, the SAM CLI, cargo-lambda and zig, pinned, in the same .venv.
AWS_TOOLS := bash scripts/aws-tools.sh
# nextest runs each test in its own process, in parallel; plain `cargo test`
# is the fallback where it is not installed.
HAVE_NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: help dev reconcile test lint moto moto-stop aws-tools browser sftp template-lint package sam-build

help: ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  make %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

moto: ## install (once) and start the local AWS emulator on 127.0.0.1:$MOTO_PORT (5005)
	$(MOTO) install
	$(MOTO) start

moto-stop: ## stop the local AWS emulator
	$(MOTO) stop

dev: moto ## run the local API on 127.0.0.1:$PORT (3000) against the emulator
	$(CARGO) run -p tikivip-tools --bin tikivip -- dev

# Beside `make dev`: today's reconciliation (Vietnam's day, so far) through
# the whole job, delivered to an OpenSSH server started for the run on
# loopback; copies of the files land in reconciliation-dev/.
DAY ?= $(shell TZ=Asia/Ho_Chi_Minh date +%F)
RECONCILIATION_PARTNER_NAME ?= devpartner
reconcile: moto sftp ## run the daily reconciliation for DAY (today) against the local stack and a local OpenSSH server
	RECONCILIATION_PARTNER_NAME=$(RECONCILIATION_PARTNER_NAME) $(CARGO) run -p tikivip-tools --bin tikivip -- reconcile --date $(DAY) --to sftp --local-sftp --dir reconciliation-dev

# Every suite runs even when an earlier one fails; the target fails if any did.
# template-lint first: cfn-lint and `sam validate --lint` on template.yaml
# (tests/it/template.rs then holds the template against the code). aws-tools
# before moto: every pip install into the shared .venv is done before the
# emulator starts importing from it. browser: Debian's chromium for the
# browser test (tests/it/browser.rs), installed when missing. sftp: Debian's
# openssh-server, which the reconciliation tests start on loopback.
test: aws-tools browser sftp moto ## run every test of the workspace against the emulator, and lint the SAM template
ifeq ($(HAVE_NEXTEST),yes)
	status=0; \
	$(AWS_TOOLS) lint || status=$$?; \
	$(CARGO) nextest run --workspace --no-fail-fast || status=$$?; \
	$(CARGO) test --workspace --doc || status=$$?; \
	exit $$status
else
	status=0; \
	$(AWS_TOOLS) lint || status=$$?; \
	$(CARGO) test --workspace --no-fail-fast || status=$$?; \
	exit $$status
endif

browser: ## install (once) Debian's chromium, the headless browser of the browser test
	bash scripts/browser.sh install

sftp: ## install (once) Debian's openssh-server, the SFTP peer of the reconciliation tests
	bash scripts/sftp.sh install

aws-tools: ## install (once) cfn-lint, the SAM CLI, cargo-lambda and zig, pinned, into .venv
	$(AWS_TOOLS) install

template-lint: aws-tools ## cfn-lint and sam validate --lint on template.yaml
	$(AWS_TOOLS) lint

# Not part of `test`: a cold arm64 release build takes a long while on 2 cores.
package: aws-tools ## arm64 release build of every function (one cargo run), one zip each under target/lambda/
	$(AWS_TOOLS) package

sam-build: aws-tools ## sam build (no Docker) for SAM_CONFIG_ENV (sandbox); then sam deploy, see docs/deploy.md
	$(AWS_TOOLS) sam-build

lint: ## formatting and clippy, warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Not part of `test` (its dependency hygiene check is, in tests/it): the
# performance budget, measured and written into BENCHMARKS.md. A few minutes
# once the release builds are warm; see BENCHMARKS.md.
.PHONY: bench
bench: moto aws-tools ## measure the performance budget into BENCHMARKS.md (cold starts, CPU per request, load, packages)
	bash scripts/bench.sh

# Not part of `test` (which replays the corpus: tools/fuzz/tests/corpus.rs):
# libFuzzer on every target for FUZZ_SECONDS each, on the nightly toolchain
# (cargo-fuzz installs itself); a crash stops the run and is kept under
# target/fuzz/artifacts/ to be copied into tools/fuzz/regressions/.
FUZZ_SECONDS ?= 60
export FUZZ_SECONDS
.PHONY: fuzz
fuzz: ## coverage-guided fuzzing of every parser and function path, FUZZ_SECONDS (60) per target
	bash scripts/fuzz.sh

# Not part of `test`: SOAK_SECONDS (300) of traffic with AWS faults, Tiki
# faults and crashes through `tikivip dev`, then an audit; its counts go to
# BENCHMARKS.md's reliability section.
SOAK_SECONDS ?= 300
export SOAK_SECONDS
.PHONY: soak
soak: moto ## fault soak: traffic, AWS and Tiki faults, SIGKILLs, then an audit of every payment (SOAK_SECONDS, 300)
	$(CARGO) build -p tikivip-tools --bin tikivip -p tikivip-bench --bin soak
	target/debug/soak --tikivip target/debug/tikivip
