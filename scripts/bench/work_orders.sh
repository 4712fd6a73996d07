#!/usr/bin/env bash
# Work-order benchmarks (issue 4) on SQLite and PostgreSQL, each on a fresh database: a new temporary
# data directory for SQLite, a new database on the local PostgreSQL (created and dropped here).
# Results are summarised at the end; every run's full output stays in $OUT.
#
#   cargo build --release -p kefu
#   scripts/bench/work_orders.sh                       # create, overdue, sweep; SQLite and PostgreSQL
#   scripts/bench/work_orders.sh sweep                 # a subset
#   BACKENDS=sqlite RUNS=1 scripts/bench/work_orders.sh create
#
# create:  `kefu bench work-orders create --tasks 8,32 --secs 25`: create_work_order with a unit
#          (create + dispatch in one call) from 8, then 32 concurrent tasks for 25 s each, on the
#          demo's types; orders/s and latency per create; then the parts of one create timed alone.
#          RUNS fresh databases.
# overdue: `… overdue --orders 1000000 --samples 1000`: bulk-loads 1,000,000 orders (once), then
#          RUNS processes each time 1,000 first pages (20 and 50 per page, with their total) of the
#          overdue list, and of one site's overdue list.
# sweep:   `… sweep --orders 100000 --due-share S`: loads 100,000 open orders with real SLA clocks,
#          S of them due now (0.03, then 1 = all), and times sweep_sla(now, 500) rounds until nothing
#          is due. RUNS fresh databases per share.
# sla:     the pure-domain criterion bench (cargo bench -p kefu-workorders --bench sla).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
K=${K:-${CARGO_TARGET_DIR:-/var/cache/kefu/target}/release/kefu}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PGHOST=${PGHOST:-127.0.0.1}
PGUSER=${PGUSER:-postgres}
export PGHOST PGUSER
OUT=${OUT:-/tmp/kefu-wobench}
RUNS=${RUNS:-3}
BACKENDS=${BACKENDS:-"sqlite postgres"}
TASKS=${TASKS:-8,32}
CREATE_SECS=${CREATE_SECS:-25}
ORDERS=${ORDERS:-1000000}
SAMPLES=${SAMPLES:-1000}
SWEEP_ORDERS=${SWEEP_ORDERS:-100000}
SWEEP_SHARES=${SWEEP_SHARES:-"0.03 1"}
LIMIT=${LIMIT:-600} # seconds per kefu run
STEPS=${*:-create overdue sweep}

[ -x "$K" ] || { echo "no $K: cargo build --release -p kefu" >&2; exit 1; }
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }

DIRS=()
DBS=()
cleanup() {
    for d in "${DIRS[@]}"; do rm -rf "$d"; done
    for db in "${DBS[@]}"; do dropdb --if-exists "$db" 2>/dev/null || true; done
}
trap cleanup EXIT

# fresh BACKEND NAME: a new empty database; sets DIR (data dir) and URL (empty for SQLite).
fresh() {
    DIR=$(mktemp -d /tmp/kefu-wob-XXXXXX)
    DIRS+=("$DIR")
    URL=
    if [ "$1" = postgres ]; then
        local db="kefu_wob_$2_$$"
        dropdb --if-exists "$db"
        createdb "$db"
        DBS+=("$db")
        URL="$PG/$db"
    fi
}

# drop: removes the database `fresh` made last.
drop() {
    rm -rf "$DIR"
    if [ -n "$URL" ]; then dropdb --if-exists "${URL##*/}"; fi
}

# bench LOG ARGS…: kefu bench work-orders ARGS on the current database, output to LOG and the terminal.
bench() {
    local log=$1
    shift
    echo "+ kefu bench --data-dir $DIR work-orders $*${URL:+   (KEFU_DATABASE__URL=$URL)}" | tee "$log"
    if [ -n "$URL" ]; then
        KEFU_DATABASE__URL=$URL timeout "$LIMIT" "$K" bench --data-dir "$DIR" work-orders "$@" 2>&1 | tee -a "$log"
    else
        timeout "$LIMIT" "$K" bench --data-dir "$DIR" work-orders "$@" 2>&1 | tee -a "$log"
    fi
}

say "kefu work-order benchmarks, $(date -u +%FT%TZ), $(nproc) vCPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "binary: $K ($(stat -c %y "$K" | cut -d. -f1))"
for step in $STEPS; do
    for be in $BACKENDS; do
        case $step in
        create)
            for r in $(seq 1 "$RUNS"); do
                fresh "$be" create
                log=$OUT/create-$be-$r.txt
                bench "$log" create --tasks "$TASKS" --secs "$CREATE_SECS"
                drop
                say "[create $be run $r]"
                grep -E '^create\+dispatch, |^create\+dispatch  |^  [a-z+ ]|^ +[0-9]+ ×' "$log" | tee -a "$SUMMARY"
            done
            ;;
        overdue)
            fresh "$be" overdue
            for r in $(seq 1 "$RUNS"); do
                log=$OUT/overdue-$be-$r.txt
                bench "$log" overdue --orders "$ORDERS" --samples "$SAMPLES"
                say "[overdue $be run $r]"
                grep -E '^  [0-9]+ orders in|orders, .* open|^overdue' "$log" | tee -a "$SUMMARY"
            done
            drop
            ;;
        sweep)
            for share in $SWEEP_SHARES; do
                for r in $(seq 1 "$RUNS"); do
                    fresh "$be" sweep
                    log=$OUT/sweep-$be-$share-$r.txt
                    bench "$log" sweep --orders "$SWEEP_ORDERS" --due-share "$share"
                    drop
                    say "[sweep $be due-share $share run $r]"
                    grep -E 'due at now|^sweep_sla|^sweep round|orders in .* rows/s' "$log" | tee -a "$SUMMARY"
                done
            done
            ;;
        sla) ;;
        *)
            echo "unknown step $step (create, overdue, sweep, sla)" >&2
            exit 2
            ;;
        esac
    done
    if [ "$step" = sla ]; then
        (cd "$ROOT" && cargo bench -p kefu-workorders --bench sla) 2>&1 | tee "$OUT/sla-criterion.txt"
        grep -E '^[a-z_ /0-9]+ +time:' "$OUT/sla-criterion.txt" | tee -a "$SUMMARY" || true
    fi
done
say "full output: $OUT"
