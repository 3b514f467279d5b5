# The two commands a new user needs: `make run` and `make test`.
CARGO ?= cargo

.PHONY: run build test test-sqlite test-postgres check-postgres lint fmt clean

## run: build and serve API on http://127.0.0.1:8000 with the embedded SQLite database
run:
	$(CARGO) run --release -- serve

build:
	$(CARGO) build --release

# The integration suite runs once per store. PostgreSQL: TEST_DATABASE_URL (default the
# local server's `test` database); each test creates and drops its own schema.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL

## test: every test: unit tests, then the black-box suite on SQLite and on PostgreSQL
test: test-sqlite test-postgres

test-sqlite:
	@echo "== unit tests and integration suite on SQLite"
	$(CARGO) test --locked --no-fail-fast

test-postgres: check-postgres
	@echo "== integration suite on PostgreSQL ($(TEST_DATABASE_URL))"
	TEST_BACKEND=postgres $(CARGO) test --locked --no-fail-fast --test api

# Fails loudly instead of skipping when PostgreSQL is not there.
check-postgres:
	@pg_isready -d "$(TEST_DATABASE_URL)" >/dev/null 2>&1 || { \
	  echo "error: PostgreSQL is not reachable at $(TEST_DATABASE_URL)."; \
	  echo "       The suite runs on PostgreSQL too: start it, or set TEST_DATABASE_URL."; exit 1; }

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
