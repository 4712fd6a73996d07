#!/usr/bin/env python3
"""INVITE → 200 OK times from the wire, with kernel timestamps (SIPp 3.6's own response times come in
steps of its scheduler tick, 4 ms here, too coarse for a 5 ms target).

Captures UDP on `lo` (AF_PACKET, root), pairs each Call-ID's first INVITE with its 200 OK (CSeq INVITE)
and on SIGTERM/SIGINT prints: count p50 p90 p99 p999 max (milliseconds), and writes every time to the
file given as the first argument. Optional second argument: the SIP port to watch (default 15060).

    ip netns exec kefubench python3 scripts/bench/sip_rtt.py /tmp/rtt.txt 15060 &
"""

import re
import signal
import socket
import struct
import sys

SO_TIMESTAMPNS = 35
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

out_path = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 15060

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind(("lo", 0))
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.settimeout(0.5)

call_id = re.compile(rb"^(?:Call-ID|i)\s*:\s*(\S+)", re.I | re.M)
cseq = re.compile(rb"^CSeq\s*:\s*\d+\s+INVITE", re.I | re.M)
invites: dict[bytes, int] = {}
times: list[float] = []
stop = False


def done(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, done)
signal.signal(signal.SIGINT, done)

while not stop:
    try:
        data, anc, _, addr = s.recvmsg(65535, 64)
    except (InterruptedError, TimeoutError):
        continue
    if addr[2] == PACKET_OUTGOING:  # loopback shows each packet twice; keep the receive side
        continue
    ts = None
    for level, typ, val in anc:
        if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", val[:16])
            ts = sec * 1_000_000_000 + nsec
    if ts is None or len(data) < 42 or data[12:14] != b"\x08\x00" or data[23] != 17:
        continue
    ihl = (data[14] & 0x0F) * 4
    sport, dport = struct.unpack("!HH", data[14 + ihl : 18 + ihl])
    if port not in (sport, dport):
        continue
    payload = data[22 + ihl :]
    m = call_id.search(payload)
    if not m:
        continue
    cid = m.group(1)
    if payload.startswith(b"INVITE "):
        invites.setdefault(cid, ts)
    elif payload.startswith(b"SIP/2.0 200") and cseq.search(payload):
        t0 = invites.pop(cid, None)
        if t0 is not None:
            times.append((ts - t0) / 1e6)

with open(out_path, "w") as f:
    f.writelines(f"{t:.3f}\n" for t in times)
times.sort()
if times:
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(f"{len(times)} {q(.5):.3f} {q(.9):.3f} {q(.99):.3f} {q(.999):.3f} {times[-1]:.3f}")
else:
    print("0 - - - - -")
