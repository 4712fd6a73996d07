# The IVR benchmark, step (e) of scripts/bench/sip.sh (sourced by it: `scripts/bench/sip.sh ivr`).
#
# IVR_CALLS demo customers (caller IDs read from the database) call 96777 at IVR_RATE CPS, at most
# IVR_CONCURRENT at once (scripts/bench/ivr_bill.xml): each waits until the welcome and the main menu
# have been read (so kefu is silent when the key comes), presses 2 (bill query: caller-ID lookup,
# the bill read out) and hangs up 12 s later. IVR_PUBLISH_AT s into the run a new version of the flow
# is saved and published through the API (scripts/bench/ivr_publish.py).
# Reported: failed calls; kefu's RTP out per second at full load / (50 × open legs) and its socket
# drops; the digit → first frame of the next prompt latency (kefu's histogram
# kefu_ivr_digit_to_prompt_seconds on /metrics); sessions per flow version and how they ended.

IVR_CALLS=${IVR_CALLS:-2000}
IVR_CONCURRENT=${IVR_CONCURRENT:-1000}
IVR_RATE=${IVR_RATE:-50}
IVR_PUBLISH_AT=${IVR_PUBLISH_AT:-30}

run_ivr() {
  say ""
  local d="$OUT/ivr"
  rm -rf "$d"; mkdir -p "$d"; cp "$ROOT/scripts/bench/ivr_bill.xml" "$d/"
  python3 "$ROOT/scripts/bench/ivr_report.py" callers "$DATA/kefu.db" "$IVR_CALLS" >"$d/callers.csv"
  local wait_ms
  wait_ms=$(python3 "$ROOT/scripts/bench/ivr_report.py" wait "$ROOT/assets/prompts/zh-CN")
  say "## (e) IVR bill query: $IVR_CALLS calls at $IVR_RATE CPS, at most $IVR_CONCURRENT at once; key 2 after ${wait_ms} ms (welcome + menu + 1 s), then 12 s of the bill; a new version published at ${IVR_PUBLISH_AT} s"
  say "callers: $(($(wc -l <"$d/callers.csv") - 1)) demo customers' mobiles"
  # (set +e: this subshell runs in the background, where a failing ulimit would end it under set -e)
  (set +e; cd "$d"; ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; inns "$SIPP" 127.0.0.1:$SIP_PORT -sf ivr_bill.xml -s 96777 \
    -inf callers.csv -i 127.0.0.1 -p $SIPP_PORT -mi 127.0.0.1 -mp $SIPP_MP -nostdin -timeout 900s \
    -trace_stat -fd 1 -stf stat.csv -trace_err -d "$wait_ms" -r "$IVR_RATE" -l "$IVR_CONCURRENT" \
    -m "$IVR_CALLS" >sipp.out 2>&1) &
  local spid=$! t=0 published=
  : >"$d/samples"
  declare -A drops=()
  while kill -0 $spid 2>/dev/null; do
    local legs
    legs=$(inns awk 'NR > 1 { split($2, a, ":"); p = strtonum("0x" a[2]); if (p >= 20000 && p <= 29999 && p % 2 == 0) n++ } END { print n + 0 }' /proc/net/udp)
    while read -r key dr; do drops[$key]=$dr; done < <(inns awk 'NR > 1 { split($2, a, ":"); p = strtonum("0x" a[2]); if (p >= 20000 && p <= 29999) print $10 "-" p, $NF }' /proc/net/udp)
    echo "$(date +%s.%N) $(nft_packets kefu_rtp_out) $legs $(cpu_ticks)" >>"$d/samples"
    if [ -z "$published" ] && [ "$t" -ge "$IVR_PUBLISH_AT" ]; then
      published=1
      inns python3 "$ROOT/scripts/bench/ivr_publish.py" "http://127.0.0.1:$HTTP_PORT" >"$d/publish.out" 2>&1 &
    fi
    sleep 1; t=$((t + 1))
  done
  wait $spid || true
  local dsum=0 v
  for v in "${drops[@]}"; do dsum=$((dsum + v)); done
  say "SIPp: successful $(statcol "$d/stat.csv" 'SuccessfulCall(C)'), failed $(statcol "$d/stat.csv" 'FailedCall(C)'), retransmissions $(statcol "$d/stat.csv" 'Retransmissions(C)')"
  say "publish during the run: $(tr '\n' ' ' <"$d/publish.out" 2>/dev/null)"
  say "$(python3 "$ROOT/scripts/bench/ivr_report.py" samples "$d/samples" "$(getconf CLK_TCK)")"
  say "kefu RTP socket drops: $dsum"
  inns curl -fs "http://127.0.0.1:$HTTP_PORT/metrics" >"$d/metrics.txt" || true
  say "$(python3 "$ROOT/scripts/bench/ivr_report.py" latency "$d/metrics.txt")"
  python3 "$ROOT/scripts/bench/ivr_report.py" sessions "$DATA/kefu.db" | while read -r l; do say "$l"; done
}
