# The two commands a new user needs: `make run` and `make test`.
CARGO ?= cargo

.PHONY: run build test test-rust lint fmt clean

## run: build and serve API on http://127.0.0.1:8000 with the embedded SQLite database
run:
	$(CARGO) run --release -- serve

build:
	$(CARGO) build --release

## test: every test (unit + black-box integration against the real server)
test: test-rust

test-rust:
	$(CARGO) test --locked --no-fail-fast

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
