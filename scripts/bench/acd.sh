# The ACD benchmark, step (f) of scripts/bench/sip.sh (sourced by it: `scripts/bench/sip.sh acd`).
#
# Issue 6's target: ACD_AGENTS agents connected by WebSocket, ACD_RATE CPS arriving through the IVR
# into a queue: no lost or misdelivered CTI event, event latency p99 < 50 ms.
#
# Once per kefu, through the API as admin (scripts/bench/acd_cti.mjs setup): extension ACD_PHONE,
# ACD_AGENTS users with role agent (acdbench001…) and their agent profiles (skill general 5,
# wrap-up ACD_WRAP_SECS s), and the DID ACD_NUMBER routed to queue general (a route of kind queue:
# kefu's IVR runtime answers the call and does its queue transfer: hold music, announcements, the
# ACD's join, the screen pop from the caller ID).
# Each of ACD_RUNS runs:
#   1. a SIPp phone registers ACD_PHONE (digest) from ACD_PHONE_PORT, then answers every call kefu
#      rings there from that port (scripts/bench/acd_phone.xml): all agents log in on this phone; it
#      talks ACD_TALK_MS and hangs up (or answers kefu's BYE when the caller left first);
#   2. acd_cti.mjs run: the agents sign in, open /api/v1/cti (Authorization: Bearer), log in ready
#      on ACD_PHONE; it records every event until the run ends;
#   3. SIPp callers (scripts/bench/acd_caller.xml, demo customers' caller IDs) call ACD_NUMBER at
#      ACD_RATE CPS for ACD_SECS s; each answers kefu's BYE, or hangs up ACD_PATIENCE_MS after the
#      answer;
#   4. ACD_DRAIN_SECS later the agents log out; acd_cti.mjs compares what each socket received with
#      the server's state log and reports.

ACD_AGENTS=${ACD_AGENTS:-200}
ACD_RATE=${ACD_RATE:-50}
ACD_SECS=${ACD_SECS:-60}
ACD_TALK_MS=${ACD_TALK_MS:-2000}
ACD_PATIENCE_MS=${ACD_PATIENCE_MS:-8000}
ACD_WRAP_SECS=${ACD_WRAP_SECS:-1}
ACD_DRAIN_SECS=${ACD_DRAIN_SECS:-4}
ACD_RUNS=${ACD_RUNS:-$RUNS}
ACD_NUMBER=${ACD_NUMBER:-96600}
ACD_PHONE=${ACD_PHONE:-8999}
ACD_PHONE_PORT=${ACD_PHONE_PORT:-16070}
ACD_PHONE_MP=${ACD_PHONE_MP:-16300}
export ACD_AGENTS ACD_NUMBER ACD_PHONE ACD_WRAP_SECS

# Node 22 has a global WebSocket; Node 20 (≥ 20.10) has it behind a flag.
acd_node() {
  local flags=()
  [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ] && flags=(--experimental-websocket)
  inns node "${flags[@]}" --no-warnings "$ROOT/scripts/bench/acd_cti.mjs" "$@"
}

run_acd() {
  say ""
  local base="http://127.0.0.1:$HTTP_PORT" calls=$((ACD_RATE * ACD_SECS))
  say "## (f) ACD: $ACD_AGENTS agents on the CTI WebSocket, $calls calls at $ACD_RATE CPS to $ACD_NUMBER (route → queue general through the IVR runtime); the agents' phone talks ${ACD_TALK_MS} ms, wrap-up ${ACD_WRAP_SECS} s; callers hang up after kefu's BYE or ${ACD_PATIENCE_MS} ms; $ACD_RUNS runs"
  command -v node >/dev/null || { say "no node: skipped"; return; }
  if ! acd_node setup "$base" >"$OUT/acd-setup.out" 2>&1; then
    say "setup failed: $(tail -5 "$OUT/acd-setup.out")"; return
  fi
  say "$(cat "$OUT/acd-setup.out")"
  local p99s=() p50s=() maxs=() i
  for i in $(seq "$ACD_RUNS"); do
    local d="$OUT/acd-$i"
    rm -rf "$d"; mkdir -p "$d"
    sed "s/ACD_PATIENCE_MS/$ACD_PATIENCE_MS/" "$ROOT/scripts/bench/acd_caller.xml" >"$d/acd_caller.xml"
    sed "s/ACD_TALK_MS/$ACD_TALK_MS/" "$ROOT/scripts/bench/acd_phone.xml" >"$d/acd_phone.xml"
    python3 "$ROOT/scripts/bench/ivr_report.py" callers "$DATA/kefu.db" "$calls" >"$d/callers.csv"
    # 1. the agents' phone: register, then answer from the same port
    mkdir -p "$d/register"
    (cd "$d/register" && inns "$SIPP" 127.0.0.1:$SIP_PORT -sf "$SCEN/register_digest.xml" -s "$ACD_PHONE" \
      -au "$ACD_PHONE" -ap "${ACD_PASSWORD:-Kefu@2026}" -i 127.0.0.1 -p $ACD_PHONE_PORT -nostdin -m 1 \
      -timeout 10s -timeout_error >sipp.out 2>&1) || { say "registering $ACD_PHONE failed: $d/register"; return; }
    mkdir -p "$d/phone"
    (set +e; cd "$d/phone"; ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
     exec ip netns exec "$NS" "$SIPP" -sf ../acd_phone.xml -s "$ACD_PHONE" -i 127.0.0.1 -p $ACD_PHONE_PORT \
      -mi 127.0.0.1 -mp $ACD_PHONE_MP -nostdin -trace_stat -fd 1 -stf stat.csv -trace_err >sipp.out 2>&1) &
    local phone=$!
    # 2. the agents
    acd_node run "$base" "$d" >"$d/cti.out" 2>&1 &
    local agents=$! t=0
    until [ -e "$d/ready" ] || ! kill -0 $agents 2>/dev/null || [ $t -ge 300 ]; do sleep 1; t=$((t + 1)); done
    if [ ! -e "$d/ready" ]; then
      say "run $i: the agents did not come up: $(tail -3 "$d/cti.out")"
      kill $agents $phone 2>/dev/null || true; wait $agents $phone 2>/dev/null || true
      continue
    fi
    # 3. the callers
    local cpu0 load0
    cpu0=$(cpu_ticks); load0=$(cut -d' ' -f1 /proc/loadavg)
    local s0; s0=$(date +%s.%N)
    (set +e; cd "$d"; ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; inns "$SIPP" 127.0.0.1:$SIP_PORT \
      -sf acd_caller.xml -s "$ACD_NUMBER" -inf callers.csv -i 127.0.0.1 -p $SIPP_PORT -mi 127.0.0.1 -mp $SIPP_MP \
      -nostdin -timeout 600s -trace_stat -fd 1 -stf stat.csv -trace_err -r "$ACD_RATE" -m "$calls" -l 2000 \
      >sipp.out 2>&1) || true
    local s1 cpu1; s1=$(date +%s.%N); cpu1=$(cpu_ticks)
    # 4. wrap-ups end; the agents log out; the report
    sleep "$ACD_DRAIN_SECS"
    touch "$d/stop"
    wait $agents || say "run $i: acd_cti.mjs failed: $(tail -3 "$d/cti.out")"
    kill $phone 2>/dev/null; wait $phone 2>/dev/null || true
    local cpu; cpu=$(python3 -c "print(f'{($cpu1 - $cpu0) / $(getconf CLK_TCK) * 100 / ($s1 - $s0):.0f}')")
    say "run $i: callers (SIPp): successful $(statcol "$d/stat.csv" 'SuccessfulCall(C)'), failed $(statcol "$d/stat.csv" 'FailedCall(C)'), retransmissions $(statcol "$d/stat.csv" 'Retransmissions(C)'), $(python3 -c "print(f'{$s1 - $s0:.0f}')") s; agents' phone: answered $(statcol "$d/phone/stat.csv" 'SuccessfulCall(C)') (failed $(statcol "$d/phone/stat.csv" 'FailedCall(C)')); kefu CPU ${cpu}% (100% = one core); load average at the start $load0"
    while read -r l; do say "run $i: $l"; done <"$d/cti.out"
    if [ -s "$d/cti.json" ]; then
      local p50 p99 mx
      read -r p50 p99 mx < <(python3 -c "import json; l = json.load(open('$d/cti.json'))['latency_ms']; print(l['p50'], l['p99'], l['max'])")
      p50s+=("$p50"); p99s+=("$p99"); maxs+=("$mx")
    fi
  done
  if [ ${#p99s[@]} -gt 0 ]; then say "median of ${#p99s[@]} runs: event latency p50 $(median "${p50s[@]}") ms, p99 $(median "${p99s[@]}") ms (target < 50 ms), max $(median "${maxs[@]}") ms"; fi
}
