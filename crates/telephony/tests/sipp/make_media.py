#!/usr/bin/env python3
"""Writes the media files the SIPp scenarios send (standard library only, deterministic):

  tone_pcma_1khz.pcap  2 s of a 1 kHz sine at -10 dBFS as G.711 A-law RTP (PT 8), 20 ms packets
                       (160-byte payload), 100 packets; for <exec play_pcap_audio=...>
  tone_pcma_1khz.al    1 s of the same tone as raw A-law bytes (8000 bytes; 1 kHz repeats exactly every
                       8 samples, so it loops seamlessly); for <exec rtp_stream="tone_pcma_1khz.al,-1,8"/>

Run from anywhere: python3 crates/telephony/tests/sipp/make_media.py
"""
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
RATE = 8000
AMPLITUDE = 0.316 * 32767  # -10 dBFS


def alaw(sample):
    """G.711 A-law encoding of one 16-bit linear sample (ITU-T G.711, segment search)."""
    sign = 0x80 if sample >= 0 else 0x00
    magnitude = sample if sample >= 0 else -sample - 1
    magnitude = min(magnitude, 32767) >> 3  # 13-bit magnitude
    if magnitude < 32:
        code = magnitude >> 1
    else:
        segment = magnitude.bit_length() - 5  # 1..7
        code = (segment << 4) | ((magnitude >> segment) & 0x0F)
    return (sign | code) ^ 0x55


def tone(freq, seconds):
    n = int(RATE * seconds)
    return bytes(alaw(int(round(AMPLITUDE * math.sin(2 * math.pi * freq * i / RATE)))) for i in range(n))


def ip_checksum(header):
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def rtp_pcap(payload, path, pt=8, samples_per_packet=160, ssrc=0x6B656675):
    """Ethernet/IPv4/UDP/RTP packets 127.0.0.1:40000 -> 127.0.0.1:40002, one per 20 ms (SIPp replays the
    RTP payload with this timing towards the peer's SDP port and rewrites the addresses and ports)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # pcap header, DLT_EN10MB
    base_time = 1_700_000_000
    for i in range(len(payload) // samples_per_packet):
        chunk = payload[i * samples_per_packet:(i + 1) * samples_per_packet]
        rtp = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | pt, 1000 + i, 16000 + i * samples_per_packet,
                          ssrc) + chunk
        udp = struct.pack("!HHHH", 40000, 40002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
        frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
        usec = i * 20_000
        out.append(struct.pack("<IIII", base_time + usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
        out.append(frame)
    with open(path, "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    rtp_pcap(tone(1000, 2.0), os.path.join(HERE, "tone_pcma_1khz.pcap"))
    with open(os.path.join(HERE, "tone_pcma_1khz.al"), "wb") as f:
        f.write(tone(1000, 1.0))
