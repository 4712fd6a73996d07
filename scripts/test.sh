#!/usr/bin/env bash
# The whole test suite: formatting, lints, Rust tests on SQLite and PostgreSQL, and browser tests against
# the real server. `make test` and `.ci/run` call this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export KEFU_TEST_POSTGRES_URL=${KEFU_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step() { echo; echo "==> $*"; }

step "dependencies"
scripts/deps.sh test

step "leftover test databases"
psql "$KEFU_TEST_POSTGRES_URL" -Atc "select datname from pg_database where datname like 'kefu_test_%'" 2>/dev/null |
  while read -r db; do psql "$KEFU_TEST_POSTGRES_URL" -qc "drop database if exists $db with (force)" >/dev/null || true; done

step "web app (type check and build)"
(cd web && npm run --silent build)

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "system prompts (espeak-ng, the missing ones)"
cargo run -q --locked -p kefu -- prompts generate --prompts-dir assets/prompts

step "cargo test (SQLite and PostgreSQL)"
cargo test --workspace --locked 2>&1 | tee -a "$log"

step "browser tests (Playwright + Chromium) against kefu serve --demo"
cargo build --locked -p kefu
data=$(mktemp -d)
# Port 0: the kernel picks a free port; kefu prints the address it serves on.
/var/cache/kefu/target/debug/kefu serve --demo --data-dir "$data" --http 127.0.0.1:0 --sip 127.0.0.1:0 >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data" "$log"' EXIT
url=
for _ in $(seq 1 240); do
  url=$(grep -o 'serving http://[0-9.:]*' "$data/server.log" | head -1 | cut -d' ' -f2 || true)
  [ -n "$url" ] && curl -sf "$url/readyz" >/dev/null && break
  sleep 0.5
done
[ -n "$url" ] && curl -sf "$url/readyz" >/dev/null || { cat "$data/server.log"; exit 1; }
set +e
sip=$(grep -o 'SIP on [0-9.:]*' "$data/server.log" | head -1 | cut -d' ' -f3 || true)
(cd web && KEFU_URL="$url" KEFU_SIP="$sip" npm run --silent e2e) 2>&1 | tee -a "$log"
e2e=${PIPESTATUS[0]}
set -e
kill "$server"; wait "$server" 2>/dev/null || true
[ "$e2e" -eq 0 ] || { echo "browser tests failed; server log:"; tail -50 "$data/server.log"; exit 1; }

# One closing line for the whole suite: cargo's "test result" lines plus node's "# pass/# fail".
passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s+=$1} END {print s+0}')
passed=$((passed + $(grep -Eo '^(# |ℹ )pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
failed=$((failed + $(grep -Eo '^(# |ℹ )fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
echo
echo "kefu: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
