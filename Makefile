# The two commands of the README's Quick start, and helpers.
.PHONY: run test web build fmt lint bench

ADDR ?= 127.0.0.1:8080
# The demo trusts 127.0.0.1 as a trunk; SIP stays on loopback unless you say otherwise.
SIP ?= 127.0.0.1:5060
DATA ?= data

## Build everything and run kefu with the demo tenant on embedded SQLite.
run: web
	cargo build --release --locked -p kefu
	/var/cache/kefu/target/release/kefu serve --demo --data-dir $(DATA) --http $(ADDR) --sip $(SIP)

## The whole test suite (what CI runs).
test:
	scripts/test.sh

## The web app, built into web/dist (embedded into the binary at compile time).
web:
	scripts/deps.sh run
	cd web && npm run --silent build

build: web
	cargo build --release --locked -p kefu

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

## Benchmarks (see docs/benchmarks.md).
bench:
	scripts/bench.sh
