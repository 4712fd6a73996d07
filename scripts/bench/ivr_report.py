#!/usr/bin/env python3
"""Helpers of the IVR benchmark (scripts/bench/ivr.sh):

    ivr_report.py callers DB N          SIPp injection file: N demo customers' mobile numbers
    ivr_report.py wait PROMPTS_DIR      ms until the main menu has been read (welcome + menu + 1 s)
    ivr_report.py samples FILE HZ       kefu RTP out / (50 × open legs) at full load, kefu CPU
    ivr_report.py latency METRICS       digit → next prompt from kefu's /metrics histogram
    ivr_report.py sessions DB           IVR sessions per flow version and how they ended
"""

import os
import re
import sqlite3
import statistics
import sys
import wave


def callers(db, n):
    rows = sqlite3.connect(db).execute(
        "SELECT phone FROM customer_phones WHERE phone LIKE '1%' ORDER BY phone LIMIT ?", (n,)
    )
    print("SEQUENTIAL")
    for (p,) in rows:
        print(f"{p};")


def wait(prompts):
    total = 0.0
    for key in ("main_welcome", "main_menu"):
        with wave.open(os.path.join(prompts, key + ".wav")) as w:
            total += w.getnframes() / w.getframerate()
    print(int(total * 1000 + 1000))


def samples(path, hz):
    rows = [l.split() for l in open(path) if l.strip()]
    if len(rows) < 2:
        print("no samples")
        return
    peak = max(int(r[2]) for r in rows)
    full = []
    for a, b in zip(rows, rows[1:]):
        if int(a[2]) >= peak * 0.98 and int(b[2]) >= peak * 0.98 and peak > 0:
            dt = float(b[0]) - float(a[0])
            legs = (int(a[2]) + int(b[2])) / 2
            out = (int(b[1]) - int(a[1])) / dt
            cpu = (int(b[3]) - int(a[3])) / hz * 100 / dt
            full.append((out / (50 * legs), cpu))
    if not full:
        print(f"peak open legs {peak}; no second at full load")
        return
    ratios = [x[0] for x in full]
    print(
        f"peak open legs {peak}; over {len(full)} s at >= 98 % of it: kefu RTP out / (50 x open legs)"
        f" median {statistics.median(ratios):.3f}, min {min(ratios):.3f};"
        f" kefu CPU median {statistics.median(x[1] for x in full):.0f}% (100% = one core)"
    )


def latency(path):
    buckets, count = {}, 0
    for line in open(path):
        m = re.match(r'kefu_ivr_digit_to_prompt_seconds_bucket\{le="([^"]+)"\} (\d+)', line)
        if m:
            buckets[float(m.group(1))] = int(m.group(2))
        m = re.match(r"kefu_ivr_digit_to_prompt_seconds_count (\d+)", line)
        if m:
            count = int(m.group(1))
    if not count:
        print("digit -> next prompt: nothing measured")
        return

    def q(p):
        for le, c in sorted(buckets.items()):
            if c >= p * count:
                return f"<= {le * 1000:g} ms"
        return "?"

    within = buckets.get(0.05, 0)
    print(
        f"digit -> first frame of the next prompt: {count} measured; p50 {q(.5)}, p90 {q(.9)},"
        f" p99 {q(.99)} (histogram buckets); within 50 ms: {within} of {count}"
    )


def sessions(db):
    q = (
        "SELECT version, COALESCE(end_reason, 'running'), count(*) FROM ivr_sessions"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    )
    for v, reason, n in sqlite3.connect(db).execute(q):
        print(f"sessions on version {v}: {n} ended {reason}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "callers":
        callers(args[0], int(args[1]))
    elif cmd == "wait":
        wait(args[0])
    elif cmd == "samples":
        samples(args[0], int(args[1]))
    elif cmd == "latency":
        latency(args[0])
    elif cmd == "sessions":
        sessions(args[0])
    else:
        sys.exit(__doc__)
