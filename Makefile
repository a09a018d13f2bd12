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
# nextest runs each test in its own process, in parallel; plain `cargo test`
# is the fallback where it is not installed.
HAVE_NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: help dev test lint moto moto-stop

help: ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  make %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

moto: ## install (once) and start the local AWS emulator on 127.0.0.1:$MOTO_PORT (5005)
	$(MOTO) install
	$(MOTO) start

moto-stop: ## stop the local AWS emulator
	$(MOTO) stop

dev: moto ## run the local API on 127.0.0.1:$PORT (3000) against the emulator
	$(CARGO) run -p tikivip-tools --bin tikivip -- dev

# Every suite runs even when an earlier one fails; the target fails if any did.
test: moto ## run every test of the workspace against the emulator
ifeq ($(HAVE_NEXTEST),yes)
	status=0; \
	$(CARGO) nextest run --workspace --no-fail-fast || status=$$?; \
	$(CARGO) test --workspace --doc || status=$$?; \
	exit $$status
else
	$(CARGO) test --workspace --no-fail-fast
endif

lint: ## formatting and clippy, warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
