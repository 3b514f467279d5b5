# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
NPM ?= npm

.PHONY: run build build-tests web test test-web test-sqlite test-postgres test-e2e test-interop test-oidc test-import test-schema test-fuzz test-clients fuzz \
        check-postgres api-types check-api-types browser bench bench-scale bench-smoke lint fmt clean \
        image test-image container-tools

## run: build (app included) and serve on http://127.0.0.1:8000 with the embedded SQLite database
run: web
	$(CARGO) run --release --locked -- serve

build: web
	$(CARGO) build --release --locked

# ---- web app -------------------------------------------------------------------------
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
               web/index.html web/vite.config.ts web/tsconfig.json web/package.json

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund

# A stamp, not index.html: the build script leaves a placeholder index.html behind.
web/dist/.built: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && $(NPM) run build
	touch $@

## web: build the web app (embedded into the binary at the next cargo build)
web: web/dist/.built

## api-types: regenerate the web app's API types from the server's OpenAPI document
api-types: web/node_modules/.package-lock.json
	$(CARGO) run -q --locked -- openapi > web/openapi.json
	cd web && npx openapi-typescript openapi.json -o src/lib/api/schema.d.ts && rm openapi.json

# Every Rust build of `make test` is this one: the workspace's tests and the binary with
# one set of dependency features. (A `cargo build` or `cargo run` of the one package
# unifies features differently, so it would compile much of the dependency tree again.)
# The instrumented fuzz build (its own target folder) runs beside it: each build leaves
# one core idle for long stretches (linking, the crate's own long compile), the other fills them.
BIN := target/debug/authenticon
build-tests: web fuzz-tools
	@echo "== building the workspace's tests and the binary (and, beside them, the fuzz targets)"
	@mkdir -p target; \
	(cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz build --dev --sanitizer none >../target/fuzz-build.log 2>&1) & fuzz=$$!; \
	$(CARGO) test --locked --workspace --no-run; tests=$$?; \
	wait $$fuzz; fuzzed=$$?; \
	[ $$fuzzed = 0 ] || { tail -40 target/fuzz-build.log; echo "error: the fuzz build failed (target/fuzz-build.log)"; }; \
	[ $$tests = 0 ] && [ $$fuzzed = 0 ]

# Fails when the committed types no longer match what the server describes.
check-api-types: web/node_modules/.package-lock.json build-tests
	@tmp=$$(mktemp -d) && \
	$(BIN) openapi > $$tmp/openapi.json && \
	(cd web && npx openapi-typescript $$tmp/openapi.json -o $$tmp/schema.d.ts >/dev/null) && \
	if diff -q web/src/lib/api/schema.d.ts $$tmp/schema.d.ts >/dev/null; then \
	  echo "API types match the server's schema."; rm -rf $$tmp; \
	else \
	  diff -u web/src/lib/api/schema.d.ts $$tmp/schema.d.ts | head -40; \
	  echo "error: web/src/lib/api/schema.d.ts is stale: run 'make api-types'"; rm -rf $$tmp; exit 1; \
	fi

# ---- tests ---------------------------------------------------------------------------
# The integration suite runs once per store. PostgreSQL: TEST_DATABASE_URL (default the
# local server's `test` database); each test creates and drops its own schema.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL

## test: every test: web unit tests, Rust unit tests, the black-box suite on SQLite and
## PostgreSQL, the browser tests, JWT and OpenID Connect interop, schemathesis against the
## live schema, fuzzing
test: test-web test-sqlite test-postgres test-e2e test-interop test-oidc test-import test-schema test-fuzz test-clients

test-web: web check-api-types
	@echo "== web app unit tests (Vitest)"
	cd web && npx vitest run

test-sqlite: build-tests .venv/.installed
	@echo "== unit tests and integration suite on SQLite"
	$(CARGO) test --locked --no-fail-fast --workspace

test-postgres: build-tests check-postgres .venv/.installed
	@echo "== integration suite on PostgreSQL ($(TEST_DATABASE_URL))"
	TEST_BACKEND=postgres $(CARGO) test --locked --no-fail-fast --workspace --test api

# Fails loudly instead of skipping when PostgreSQL is not there.
check-postgres:
	@pg_isready -d "$(TEST_DATABASE_URL)" >/dev/null 2>&1 || { \
	  echo "error: PostgreSQL is not reachable at $(TEST_DATABASE_URL)."; \
	  echo "       The suite runs on PostgreSQL too: start it, or set TEST_DATABASE_URL."; exit 1; }

# Debian's Chromium, for the browser tests (browser downloads are not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "== installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

test-e2e: build-tests browser .venv/.installed
	@echo "== browser tests (Chromium, against the real binary)"
	rm -rf test-artifacts/e2e
	cd web && AUTHENTICON_BIN=../$(BIN) node --test --test-concurrency=1 --test-reporter=spec e2e/run.mjs e2e/admin.mjs e2e/oauth.mjs e2e/external.mjs

# Python test tools live in a virtualenv of the project's own.
.venv/.installed: Makefile
	python3 -m venv .venv
	.venv/bin/pip install -q --disable-pip-version-check schemathesis==4.32.5 "pyjwt[crypto]==2.15.1" \
	    django==5.2.19 bcrypt==5.0.0 argon2-cffi==25.1.0 aiosmtpd==1.4.6 \
	    authlib==1.9.10 requests==2.34.2 playwright==1.65.2 djangorestframework==3.18.3 \
	    standardwebhooks==1.1.0 -e ./clients/python
	touch $@

## test-schema: schemathesis generates requests from /api/schema/: no 5xx, no answer off-schema
test-schema: build-tests .venv/.installed
	@echo "== schemathesis against the live /api/schema/"
	SCHEMATHESIS=.venv/bin/schemathesis bash scripts/schemathesis.sh

## test-interop: tokens of each asymmetric algorithm verify with PyJWT and jose via the JWKS
test-interop: build-tests .venv/.installed
	@echo "== interop: PyJWT and jose verify Authenticon's tokens"
	PYTHON=.venv/bin/python bash scripts/interop.sh

## test-oidc: real relying parties, openid-client (Node) and Authlib (Python), sign in through
## the login page in Chromium and use every endpoint of the identity provider
test-oidc: build-tests browser .venv/.installed
	@echo "== OpenID Connect: openid-client and Authlib against the real binary"
	@status=0; export AUTHENTICON_BIN=$(BIN); \
	interop/oidc/run.sh node --test --test-reporter=spec web/e2e/oidc.mjs || status=1; \
	interop/oidc/run.sh .venv/bin/python interop/oidc/authlib_rp.py || status=1; \
	exit $$status

## test-import: a real Django export (from a real Django) moves over and logs in unchanged
test-import: build-tests .venv/.installed
	@echo "== import from a real Django dumpdata export"
	PYTHON=.venv/bin/python bash scripts/django_import.sh

## test-clients: the Python (DRF) and Node verifier packages, in real services against the
## real binary: offline verification, the revocation feed, failing closed; and webhooks,
## verified by the Standard Webhooks reference library: retries across a restart, dead
## letters replayed
test-clients: build-tests .venv/.installed
	@echo "== clients: services verifying tokens offline against the revocation feed"
	cd clients/node && $(NPM) ci --no-audit --no-fund
	cd clients/node && AUTHENTICON_BIN=../../$(BIN) $(NPM) test
	AUTHENTICON_BIN=$(BIN) .venv/bin/python tests/clients/e2e.py
	@echo "== webhooks: deliveries verified by the Standard Webhooks reference library"
	AUTHENTICON_BIN=$(BIN) .venv/bin/python tests/webhooks/e2e.py

# libFuzzer needs unstable compiler flags; RUSTC_BOOTSTRAP allows them on stable.
FUZZ_TARGETS := token_verify request_body
FUZZ_SECONDS ?= 15
fuzz-tools:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

## test-fuzz: each fuzz target for FUZZ_SECONDS (15), from the committed corpus
test-fuzz: build-tests
	@set -e; for t in $(FUZZ_TARGETS); do \
	  tmp=$$(mktemp -d); echo "== fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  (cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --dev --sanitizer none $$t $$tmp corpus/$$t \
	     -- -max_total_time=$(FUZZ_SECONDS) -seed=1 2>&1 | grep -E '^(#[0-9]+ +DONE|Done|==|SUMMARY|ERROR|panicked)' ); \
	  status=$${PIPESTATUS[0]}; rm -rf $$tmp; [ "$$status" = 0 ] || { echo "error: fuzzing $$t failed"; exit 1; }; \
	done

## fuzz: a longer run (FUZZ_SECONDS=600 make fuzz), with AddressSanitizer
fuzz: fuzz-tools
	@for t in $(FUZZ_TARGETS); do \
	  (cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS)) || exit 1; \
	done

## bench: the benchmarks (not part of make test): writes BENCHMARKS.md
bench:
	python3 bench/run.py

## bench-scale: how cost grows with 10k, 100k and 1M users, on SQLite and PostgreSQL (about an hour)
bench-scale:
	python3 bench/scale.py

## bench-smoke: the benchmark harness end to end in about a minute, no report
bench-smoke:
	python3 bench/run.py --quick

# ---- container image ---------------------------------------------------------------
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
IMAGE ?= authenticon
# Podman by default; `make image CONTAINER=docker` builds the same Containerfile with Docker
# (`make test-image` needs Podman). scripts/containers.conf are the Podman settings the
# image is built and tested with (runc, no default ulimits); CONTAINERS_CONF=… picks others.
CONTAINER ?= podman
ifeq ($(CONTAINER),podman)
image test-image: export CONTAINERS_CONF ?= $(CURDIR)/scripts/containers.conf
# Podman's own (OCI) format has no HEALTHCHECK; Docker's keeps it.
IMAGE_FORMAT := --format docker
endif
CONTAINER_CMD := $(CONTAINER)

container-tools:
	@[ "$(CONTAINER)" != podman ] || { command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1; } || { \
	  echo "== installing Debian's podman and runc"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq podman runc ca-certificates; }

## image: the container image authenticon:<version> (and :latest), from the release build
image: build container-tools
	scripts/image-context.sh target/release/authenticon target/image
	$(CONTAINER_CMD) build $(IMAGE_FORMAT) --build-arg VERSION=$(VERSION) --file target/image/Containerfile \
	  --tag $(IMAGE):$(VERSION) --tag $(IMAGE):latest target/image
	@echo "built $(IMAGE):$(VERSION): $$($(CONTAINER_CMD) image inspect --format '{{.Size}}' $(IMAGE):$(VERSION) | awk '{printf "%.1f MB", $$1/1e6}')"

.venv/.image-tools: .venv/.installed
	.venv/bin/pip install -q --disable-pip-version-check podman-compose==1.6.0
	touch $@

## test-image: the image run on SQLite, then on the local PostgreSQL and Redis, and the compose file (on demand)
test-image: image check-postgres .venv/.image-tools
	@echo "== the container image, as an operator runs it"
	PATH="$(CURDIR)/.venv/bin:$$PATH" CONTAINER="$(CONTAINER_CMD)" DATABASE_URL="$(TEST_DATABASE_URL)" \
	  .venv/bin/python tests/image/test_image.py $(IMAGE):$(VERSION)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	cd web && npx tsc --noEmit

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf web/dist web/node_modules
