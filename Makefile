# One entry point for every task; CI calls the same targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

CARGO ?= cargo
PKI_DIR ?= var/pki
TRUST_DOMAIN ?= demo.test
# The demo's state: dev PKI in var/pki (the same as `make pki`), databases, logs.
DEMO_STATE_DIR ?= var

.PHONY: help setup build test e2e lint fmt bench pki pki-renew demo totp clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## Install what building and testing need on a fresh machine (idempotent)
	@scripts/setup.sh

build: setup ## Build every program and crate
	$(CARGO) build --workspace --all-targets

test: setup ## Run every test (with a throwaway PostgreSQL server for the storage tests)
	scripts/with-postgres.sh $(CARGO) test --workspace --no-fail-fast

e2e: setup ## Build the six programs, then run the end-to-end tests against them
	$(CARGO) build --workspace --bins
	$(CARGO) test -p e2e

lint: setup ## Check formatting and run clippy with warnings denied
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

# The end-to-end load run (e2e's chat_load) starts the release programs: built first, as
# `cargo bench` does not build another package's binaries.
bench: setup ## Run the benchmarks, end-to-end load included (figures go to BENCHMARKS.md by hand)
	$(CARGO) build --release --workspace --bins
	$(CARGO) bench --workspace

pki: ## Create the dev PKI (in PKI_DIR, default var/pki) if missing; keeps valid material
	$(CARGO) run --quiet -p dev-pki -- --dir $(PKI_DIR) --trust-domain $(TRUST_DOMAIN)

pki-renew: ## Reissue every workload SVID under the existing dev CA
	$(CARGO) run --quiet -p dev-pki -- --dir $(PKI_DIR) --trust-domain $(TRUST_DOMAIN) --renew

# `exec`: the launcher replaces the recipe's shell, so the SIGTERM make passes on to its child
# (`kill -TERM <make's pid>`) reaches the launcher, which stops the six programs.
demo: setup ## Build (release) and run the whole system locally: http://localhost:8080
	$(CARGO) build --release --workspace --bins
	exec target/release/demo --state-dir $(DEMO_STATE_DIR)

# The binary `make demo` built and runs, on the demo's database (the one the external IAM reads).
totp: ## Print a demo user's current TOTP code: make totp USER=alice (bob, carol)
	@if [ "$(origin USER)" != "command line" ]; then \
		echo "usage: make totp USER=alice   (or bob, carol)" >&2; exit 2; fi
	@if [ ! -f $(DEMO_STATE_DIR)/external-iam/external-iam.db ] || [ ! -x target/release/external-iam ]; then \
		echo "no demo in $(DEMO_STATE_DIR)/: start it first (make demo)" >&2; exit 1; fi
	@target/release/external-iam totp now $(USER) \
		--database-url sqlite://$(DEMO_STATE_DIR)/external-iam/external-iam.db

clean: ## Remove build output and local runtime state (dev PKI, databases)
	$(CARGO) clean
	rm -rf var
