#!/usr/bin/env bash
# SIP/RTP benchmarks of `kefu serve --demo` with SIPp 3.6, all on loopback inside a private network
# namespace (so the kernel's UDP counters and the nftables packet counters see only kefu and SIPp).
# Run as root from anywhere; results are summarised at the end and the raw files kept in $OUT.
#
#   scripts/bench/sip.sh                  # all four: cps, audio, rtt, mem
#   scripts/bench/sip.sh cps rtt          # a subset
#   RUNS=5 CPS_RATES="400 600 800" AUDIO_CALLS="1500 2000" scripts/bench/sip.sh cps audio
#
# (a) cps:   bench_playback.xml, -d CPS_HOLD_MS, each rate of CPS_RATES RUNS times for CPS_SECS seconds;
#            a rate is clean when no run had a failed call or a retransmission. Stops at the first
#            rate that is not clean.
# (b) audio: bench_audio.xml, N calls started at AUDIO_RATE CPS, each AUDIO_HOLD_MS long (shorter than the 10.6 s
#            greeting so SIPp hangs up); SIPp streams PCMA at 50 packets/s per call, kefu plays the
#            greeting. nftables counts kefu's RTP out (udp sport 20000-29999) and in (dport ...); the
#            per-second rate of kefu's RTP over the window where all N calls are up is compared with
#            50 × N; kefu's receive drops are the sum of the `drops` column of /proc/net/udp for its
#            RTP sockets, plus the namespace's Udp RcvbufErrors/InErrors. kefu's CPU from
#            /proc/PID/stat, each core's from /proc/stat.
# (c) rtt:   bench_playback.xml at RTT_RATE CPS for RTT_SECS s with -trace_rtt -rtt_freq 1: every
#            INVITE → 200 time (SIPp's response-time duration 1: call start, i.e. INVITE sent, to the
#            200 received); p50/p90/p99/max.
# (d) mem:   VmRSS of kefu warmed up and idle, then with MEM_CALLS established calls (bench_playback,
#            -d 9 s), then after they ended; (busy - idle) / MEM_CALLS.
# (e) ivr:   the IVR bill query under load, with a publish during the run (scripts/bench/ivr.sh; not
#            in the default set: `scripts/bench/sip.sh ivr`).
# (f) acd:   agents on the CTI WebSocket while callers come through the IVR into a queue
#            (scripts/bench/acd.sh; not in the default set: `scripts/bench/sip.sh acd`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
K=${K:-/var/cache/kefu/target/release/kefu}
SIPP=${SIPP:-sipp}
SCEN=$ROOT/crates/telephony/tests/sipp
NS=${NS:-kefubench}
OUT=${OUT:-/tmp/kefu-sipbench}
DATA=${DATA:-/tmp/kefu-sipbench-data}
SIP_PORT=15060
HTTP_PORT=18096
SIPP_PORT=16060
SIPP_MP=16100
RUNS=${RUNS:-3}
CPS_RATES=${CPS_RATES:-"300 400 500 600 700 800 1000 1200"}
CPS_SECS=${CPS_SECS:-10}
CPS_HOLD_MS=${CPS_HOLD_MS:-1000}
AUDIO_CALLS=${AUDIO_CALLS:-"500 1000 1500 2000"}
AUDIO_HOLD_MS=${AUDIO_HOLD_MS:-9000}
AUDIO_RATE=${AUDIO_RATE:-400}
RTT_RATE=${RTT_RATE:-100}
RTT_SECS=${RTT_SECS:-30}
MEM_CALLS=${MEM_CALLS:-1000}
STEPS=${*:-cps audio rtt mem}

[ "$(id -u)" = 0 ] || { echo "run as root (SIPp's RTP/pcap play and the network namespace need it)" >&2; exit 1; }
command -v nft >/dev/null || { echo "needs nft (apt-get install nftables)" >&2; exit 1; }
[ -x "$K" ] || { echo "no $K: cargo build --release -p kefu" >&2; exit 1; }

mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }
inns() { ip netns exec "$NS" "$@"; }

KPID=
cleanup() {
  [ -n "$KPID" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT

ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
inns ip link set lo up
inns nft -f - <<'EOF'
table inet kb {
  counter kefu_rtp_out {}
  counter kefu_rtp_in {}
  chain out {
    type filter hook output priority 0; policy accept;
    udp sport 20000-29999 counter name kefu_rtp_out
    udp dport 20000-29999 counter name kefu_rtp_in
  }
}
EOF
nft_packets() { inns nft list counter inet kb "$1" | awk '/packets/ {print $2}'; }
snmp_udp() { # field name → value, namespace-wide
  inns awk -v f="$1" '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == f) c = i; h = 1 } else print $c }' /proc/net/snmp
}

say "# kefu SIP/RTP benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
say "kernel $(uname -r); $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) CPUs; $($SIPP -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1); kefu $($K --version 2>/dev/null || echo '?')"

# kefu in the namespace, from the repository root (prompts: assets/prompts).
start_kefu() {
  rm -rf "$DATA"
  (
    cd "$ROOT"
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    export KEFU_SIP__MAX_CALLS=5000 KEFU_SIP__RTP_MIN=20000 KEFU_SIP__RTP_MAX=29999 RUST_LOG=${RUST_LOG:-warn}
    exec ip netns exec "$NS" "$K" serve --demo --data-dir "$DATA" --http 127.0.0.1:$HTTP_PORT --sip 127.0.0.1:$SIP_PORT
  ) >"$OUT/kefu.log" 2>&1 &
  KPID=$!
  for _ in $(seq 120); do
    inns curl -fs "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null 2>&1 && break
    sleep 1
  done
  inns curl -fs "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null || { echo "kefu not ready, see $OUT/kefu.log" >&2; exit 1; }
  # the real kefu process (ip netns exec execs it, so the pid is the same)
  echo "kefu pid $KPID, $(grep VmRSS /proc/$KPID/status)"
}

stop_kefu() { [ -n "$KPID" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null || true; KPID=; }

# run_sipp <dir> <scenario> <extra args…>: runs SIPp to completion in the namespace, from <dir>.
run_sipp() {
  local dir=$1 sf=$2; shift 2
  (cd "$dir" && ulimit -n 65536 2>/dev/null; inns "$SIPP" 127.0.0.1:$SIP_PORT -sf "$sf" -s 96777 \
    -i 127.0.0.1 -p $SIPP_PORT -mi 127.0.0.1 -mp $SIPP_MP -nostdin -timeout 300s \
    -trace_stat -fd 1 -stf stat.csv -trace_err "$@" >sipp.out 2>&1) || true
}

# last value of a column of SIPp's stat file
statcol() { python3 - "$1" "$2" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
i = rows[0].index(sys.argv[2])
print(rows[-1][i])
EOF
}
# median of the per-period call rate over the periods that created calls (generation phase)
gen_rate() { python3 - "$1" <<'EOF'
import csv, sys, statistics
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h = rows[0]; r = h.index('CallRate(P)'); o = h.index('OutgoingCall(P)')
vals = [float(x[r]) for x in rows[1:] if x[o] and int(x[o]) > 0]
# drop the first and last (partial) periods
vals = vals[1:-1] if len(vals) > 2 else vals
print(f"{statistics.median(vals):.0f}" if vals else "0")
EOF
}
median() { python3 -c 'import sys, statistics; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):g}")' "$@"; }

cpu_ticks() { awk '{print $14 + $15}' /proc/$KPID/stat; }
core_busy() { awk '/^cpu[0-9]/ {print $1, $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }

# ---------------------------------------------------------------------------------------------------
warmup() { # a few calls so prompts, routes and pools are loaded
  local d; d=$(mktemp -d "$OUT/warm.XXXX"); cp "$SCEN/bench_playback.xml" "$d/"
  run_sipp "$d" bench_playback.xml -d 500 -r 20 -m 40
}

run_cps() {
  say ""
  say "## (a) CPS: bench_playback.xml, -d ${CPS_HOLD_MS} ms, ${CPS_SECS} s per run, $RUNS runs per rate"
  say "rate  achieved(median)  failed(per run)  retrans(per run)"
  local best=0
  for r in $CPS_RATES; do
    local clean=1 achieved=() fails=() retr=()
    for i in $(seq "$RUNS"); do
      local d="$OUT/cps-$r-$i"; rm -rf "$d"; mkdir -p "$d"; cp "$SCEN/bench_playback.xml" "$d/"
      run_sipp "$d" bench_playback.xml -d "$CPS_HOLD_MS" -r "$r" -m $((r * CPS_SECS)) -l $((r * 5))
      local f rt ok
      f=$(statcol "$d/stat.csv" 'FailedCall(C)'); rt=$(statcol "$d/stat.csv" 'Retransmissions(C)')
      ok=$(statcol "$d/stat.csv" 'SuccessfulCall(C)')
      achieved+=("$(gen_rate "$d/stat.csv")"); fails+=("$f"); retr+=("$rt")
      [ "$f" = 0 ] && [ "$rt" = 0 ] && [ "$ok" = $((r * CPS_SECS)) ] || clean=0
    done
    say "$(printf '%-5s %-17s %-16s %s' "$r" "$(median "${achieved[@]}")" "${fails[*]}" "${retr[*]}")"
    if [ $clean = 1 ]; then best=$r; else break; fi
  done
  say "highest clean rate: $best CPS (target ≥ 500)"
}

run_audio() {
  say ""

  say "## (b) concurrent calls with audio both ways: bench_audio.xml, N calls started at $AUDIO_RATE CPS, each -d ${AUDIO_HOLD_MS} ms"
  say "calls  runs: kefu RTP out pkt/s at full load / (50×N)  [total out / expected]  kefu RTP in pkt/s  rx drops  RcvbufErrors  kefu CPU%  core0/core1 busy%  failed"
  for n in $AUDIO_CALLS; do
    local ratios=() lines=()
    for i in $(seq "$RUNS"); do
      local d="$OUT/audio-$n-$i"; rm -rf "$d"; mkdir -p "$d"
      cp "$SCEN/bench_audio.xml" "$d/"; ln -sf "$SCEN/tone_pcma_1khz.al" "$d/"
      local out0 in0 rcv0 ine0
      out0=$(nft_packets kefu_rtp_out); in0=$(nft_packets kefu_rtp_in)
      rcv0=$(snmp_udp RcvbufErrors); ine0=$(snmp_udp InErrors)
      run_sipp "$d" bench_audio.xml -d "$AUDIO_HOLD_MS" -l "$n" -r "$AUDIO_RATE" -m "$n" &
      local spid=$!
      # sample every second: kefu RTP counters, kefu RTP sockets (and their drops), CPU
      local t=0
      : >"$d/samples"
      declare -A drops=(); local sdrops=0
      while kill -0 $spid 2>/dev/null; do
        local legs
        legs=$(inns awk 'NR > 1 { split($2, a, ":"); p = strtonum("0x" a[2]); if (p >= 20000 && p <= 29999 && p % 2 == 0) n++ } END { print n + 0 }' /proc/net/udp)
        sdrops=$(inns awk -v mp=$SIPP_MP 'NR > 1 { split($2, a, ":"); if (strtonum("0x" a[2]) == mp) print $NF }' /proc/net/udp)
        while read -r key dr; do drops[$key]=$dr; done < <(inns awk 'NR > 1 { split($2, a, ":"); p = strtonum("0x" a[2]); if (p >= 20000 && p <= 29999) print $10 "-" p, $NF }' /proc/net/udp)
        echo "$(date +%s.%N) $(nft_packets kefu_rtp_out) $(nft_packets kefu_rtp_in) $legs $(cpu_ticks) $(core_busy | tr '\n' ' ')" >>"$d/samples"
        sleep 1; t=$((t + 1))
      done
      wait $spid || true
      local dsum=0; for v in "${drops[@]}"; do dsum=$((dsum + v)); done
      local f ok
      f=$(statcol "$d/stat.csv" 'FailedCall(C)'); ok=$(statcol "$d/stat.csv" 'SuccessfulCall(C)')
      local out1 in1 rcv1 ine1
      out1=$(nft_packets kefu_rtp_out); in1=$(nft_packets kefu_rtp_in)
      rcv1=$(snmp_udp RcvbufErrors); ine1=$(snmp_udp InErrors)
      local res
      res=$(python3 - "$d/samples" "$n" "$((out1 - out0))" "$ok" "$AUDIO_HOLD_MS" "$(getconf CLK_TCK)" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2]); out_total = int(sys.argv[3]); ok = int(sys.argv[4]); hold = int(sys.argv[5]) / 1000; hz = int(sys.argv[6])
# per-second deltas while all n legs are open (legs counted from /proc/net/udp, ±1%)
full = []
for a, b in zip(rows, rows[1:]):
    if int(a[3]) >= n * 0.99 and int(b[3]) >= n * 0.99:
        dt = float(b[0]) - float(a[0]); legs = (int(a[3]) + int(b[3])) / 2
        out = (int(b[1]) - int(a[1])) / dt; inn = (int(b[2]) - int(a[2])) / dt; cpu = (int(b[4]) - int(a[4])) / hz * 100 / dt
        # cores: fields after index 5 are triples name busy total
        cores = []
        ca, cb = a[5:], b[5:]
        for k in range(0, len(ca), 3):
            busy = int(cb[k + 1]) - int(ca[k + 1]); tot = int(cb[k + 2]) - int(ca[k + 2])
            cores.append(100 * busy / tot if tot else 0)
        full.append((out, inn, cpu, cores, out / (50 * legs)))
if not full:
    print("0 - - - - - -"); sys.exit()
out = statistics.median(x[0] for x in full); inn = statistics.median(x[1] for x in full)
cpu = statistics.median(x[2] for x in full)
cores = "/".join(f"{statistics.median(x[3][k] for x in full):.0f}" for k in range(len(full[0][3])))
expected_total = ok * hold * 50
ratio = statistics.median(x[4] for x in full)
print(f"{ratio:.3f} {out:.0f} {out_total / expected_total if expected_total else 0:.3f} {inn:.0f} {cpu:.0f} {cores} {len(full)}")
EOF
)
      read -r ratio outps tot_ratio inps cpu cores secs <<<"$res"
      ratios+=("$ratio")
      lines+=("run $i: out ${outps}/s = ${ratio} of 50 × open legs over ${secs} s at full load; total ${tot_ratio}; in ${inps}/s; kefu socket drops $dsum; SIPp -mp socket drops ${sdrops:-0} (SIPp never reads kefu's audio); RcvbufErrors $((rcv1 - rcv0)) InErrors $((ine1 - ine0)); CPU ${cpu}%; cores ${cores}%; failed $f of $((f + ok))")
      unset drops
    done
    say "$n: median out/(50×N) $(median "${ratios[@]}")"
    for l in "${lines[@]}"; do say "   $l"; done
  done
}

run_rtt() {
  say ""
  say "## (c) INVITE → 200 at $RTT_RATE CPS, bench_playback.xml -d 1000, ${RTT_SECS} s; times from the wire (sip_rtt.py)"
  local p50s=() p90s=() p99s=()
  for i in $(seq "$RUNS"); do
    local d="$OUT/rtt-$i"; rm -rf "$d"; mkdir -p "$d"; cp "$SCEN/bench_playback.xml" "$d/"
    ip netns exec "$NS" python3 "$ROOT/scripts/bench/sip_rtt.py" "$d/wire_rtt.txt" $SIP_PORT >"$d/wire.out" 2>&1 &
    local cap=$!
    sleep 1
    run_sipp "$d" bench_playback.xml -d 1000 -r "$RTT_RATE" -m $((RTT_RATE * RTT_SECS)) -trace_rtt -rtt_freq 1
    kill -TERM $cap; wait $cap || true
    local cnt p50 p90 p99 p999 mx
    read -r cnt p50 p90 p99 p999 mx <"$d/wire.out"
    local sp99
    sp99=$(python3 - "$d"/bench_playback_*_rtt.csv <<'PY'
import sys
v = sorted(float(l.split(';')[1]) for l in open(sys.argv[1]) if l[0].isdigit())
print(v[min(len(v) - 1, int(.99 * len(v)))])
PY
)
    p50s+=("$p50"); p90s+=("$p90"); p99s+=("$p99")
    say "run $i: p50 $p50 ms, p90 $p90 ms, p99 $p99 ms, p99.9 $p999 ms, max $mx ms ($cnt calls; SIPp: failed $(statcol "$d/stat.csv" 'FailedCall(C)'), retrans $(statcol "$d/stat.csv" 'Retransmissions(C)'), its own p99 ${sp99} ms in 4 ms steps)"
  done
  say "median: p50 $(median "${p50s[@]}") ms, p90 $(median "${p90s[@]}") ms, p99 $(median "${p99s[@]}") ms (target p99 < 5 ms)"
}

run_mem() {
  say ""
  say "## (d) memory per established call: $MEM_CALLS calls (bench_playback.xml, -d 9000, 500 CPS), a fresh kefu, $RUNS waves"
  stop_kefu; start_kefu >/dev/null; warmup
  local per=()
  for i in $(seq "$RUNS"); do
    local d="$OUT/mem-$i"; rm -rf "$d"; mkdir -p "$d"; cp "$SCEN/bench_playback.xml" "$d/"
    sleep 3
    local idle busy after peak=0 legs=0
    idle=$(awk '/VmRSS/ {print $2}' /proc/$KPID/status)
    run_sipp "$d" bench_playback.xml -d 9000 -r 500 -m "$MEM_CALLS" -l "$MEM_CALLS" &
    local spid=$!
    # the highest RSS while all calls are up (RTP sockets counted in /proc/net/udp)
    for _ in $(seq 12); do
      sleep 0.5
      legs=$(inns awk 'NR > 1 { split($2, a, ":"); p = strtonum("0x" a[2]); if (p >= 20000 && p <= 29999 && p % 2 == 0) n++ } END { print n + 0 }' /proc/net/udp)
      if [ "$legs" -ge "$MEM_CALLS" ]; then
        busy=$(awk '/VmRSS/ {print $2}' /proc/$KPID/status); [ "$busy" -gt "$peak" ] && peak=$busy
      fi
    done
    wait $spid || true
    sleep 2
    after=$(awk '/VmRSS/ {print $2}' /proc/$KPID/status)
    local p; p=$(python3 -c "print(f'{($peak - $idle) / $MEM_CALLS / 1024:.3f}')")
    per+=("$p")
    say "run $i: idle ${idle} kB, with $MEM_CALLS calls ${peak} kB, after ${after} kB → $p MB per call; failed $(statcol "$d/stat.csv" 'FailedCall(C)')"
  done
  say "median: $(median "${per[@]}") MB per call (target ≤ 0.2 MB); wave 1 (fresh process): ${per[0]} MB"
}

# shellcheck source=scripts/bench/ivr.sh
. "$ROOT/scripts/bench/ivr.sh"
# shellcheck source=scripts/bench/acd.sh
. "$ROOT/scripts/bench/acd.sh"

start_kefu
warmup
for s in $STEPS; do say ""; say "(load average $(cut -d' ' -f1-3 /proc/loadavg))"; "run_$s"; done
say ""
say "kefu RSS at the end: $(awk '/VmRSS/ {print $2, $3}' /proc/$KPID/status); raw files in $OUT"
