#!/usr/bin/env python3
"""Writes the seed inputs of corpus/<target>/ (small, hand-made, deterministic). Run from fuzz/."""
import math
import os
import struct


def put(target, name, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(f"corpus/{target}/{name}", "wb") as f:
        f.write(data)


# SDP
put("sdp_parse", "sipp_offer", "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
put("sdp_parse", "softphone_offer", "v=0\r\no=- 3894570001 3894570002 IN IP4 192.0.2.10\r\ns=Linphone\r\nc=IN IP4 192.0.2.10\r\nb=AS:380\r\nt=0 0\r\na=ice-ufrag:abcd\r\nm=audio 7078 RTP/AVP 96 0 8 101 97\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:97 telephone-event/48000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=rtcp-mux\r\nm=video 9078 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n")
put("sdp_parse", "kefu_offer", "v=0\r\no=kefu 7 8 IN IP4 10.1.2.3\r\ns=kefu\r\nc=IN IP4 10.1.2.3\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n")
put("sdp_parse", "hold_ipv6_lf", "v=0\no=- 1 2 IN IP6 2001:db8::1\ns=\nc=IN IP6 ::\na=sendonly\nm=audio 4000/2 RTP/SAVP 8\nc=IN IP4 224.2.1.1/127/3\nm=image 0 udptl t38\na=inactive\n")

# RTP
def rtp(pt, seq, ts, ssrc, payload, marker=False, csrcs=(), ext=None, pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrcs)
    out = struct.pack(">BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    for c in csrcs:
        out += struct.pack(">I", c)
    if ext is not None:
        out += struct.pack(">HH", 0xBEDE, len(ext) // 4) + ext
    out += payload
    if pad:
        out += b"\0" * (pad - 1) + bytes([pad])
    return out

put("rtp_parse", "pcma_20ms", rtp(8, 7000, 160000, 0xDEADBEEF, bytes([0xD5]) * 160, marker=True))
put("rtp_parse", "csrc_ext_pad", rtp(0, 65535, 4294967295, 1, b"hello", csrcs=(1, 2), ext=b"\1\2\3\4", pad=3))
put("rtp_parse", "rtcp_lookalike", bytes([0x80, 0xC8, 0, 6]) + b"\0" * 24)

# RTCP
def block(ssrc):
    return struct.pack(">IB3sIIII", ssrc, 12, (0xFFFFFD).to_bytes(3, "big"), 70001, 44, 0x12345678, 65536)

def header(count, pt, body, pad=0):
    length = (len(body) + pad) // 4
    return struct.pack(">BBH", 0x80 | (0x20 if pad else 0) | count, pt, length) + body

sr = header(1, 200, struct.pack(">IQIII", 7, 0x0102030405060708, 160000, 1000, 160000) + block(9))
sdes_body = struct.pack(">IBB", 7, 1, 4) + b"kefu" + b"\0\0"
sdes = header(1, 202, sdes_body)
bye = header(2, 203, struct.pack(">II", 7, 8))
put("rtcp_parse", "sr_sdes_bye", sr + sdes + bye)
put("rtcp_parse", "rr_two_blocks", header(2, 201, struct.pack(">I", 5) + block(1) + block(2)))
# An empty RR with four bytes of padding (P bit, length 2 words, last byte 4).
put("rtcp_parse", "rr_padded", struct.pack(">BBHI", 0xA0, 201, 2, 5) + b"\0\0\0\4")
put("rtcp_parse", "app_and_feedback", header(0, 204, b"abcdname") + header(1, 205, b"\0" * 8))

# RFC 4733: payloads, then a stream of (timestamp, payload) pairs as the receiver check reads them.
put("telephone_event_parse", "end_pound", bytes([11, 0x8A, 0x08, 0xC0]))
press = b""
for i in range(7):
    press += struct.pack(">IBBH", 13280, 1, 0x0A, i * 320)
for _ in range(3):
    press += struct.pack(">IBBH", 13280, 1, 0x8A, 2240)
put("telephone_event_parse", "sipp_press_1", press)

# WAV
def wav(tag, channels, rate, bits, data, extensible=False):
    block_align = channels * bits // 8
    if extensible:
        fmt = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block_align, block_align, bits)
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + bytes(14)
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block_align, block_align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if len(data) % 2 == 1:
        body += b"LIST" + struct.pack("<I", 3) + b"abc\0"
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body

def sine16(rate, freq, n, channels=1):
    out = b""
    for i in range(n):
        s = int(8000 * math.sin(2 * math.pi * freq * i / rate))
        out += struct.pack("<h", s) * channels
    return out

put("wav_load", "pcm16_8k_mono", wav(1, 1, 8000, 16, sine16(8000, 1000, 160)))
put("wav_load", "pcm16_44k_stereo", wav(1, 2, 44100, 16, sine16(44100, 1000, 441, 2)))
put("wav_load", "pcm16_16k_extensible", wav(1, 1, 16000, 16, sine16(16000, 440, 200), extensible=True))
put("wav_load", "alaw_8k", wav(6, 1, 8000, 8, bytes([0xD5, 0x55, 0xAA, 0x2A]) * 40))
put("wav_load", "ulaw_8k_stereo", wav(7, 2, 8000, 8, bytes([0xFF, 0x80, 0x00]) * 41))
put("wav_load", "pcm8_22k", wav(1, 1, 22050, 8, bytes(range(0, 256, 2))))
put("wav_load", "pcm24_48k", wav(1, 1, 48000, 24, b"\x00\x10\x00\x00\xf0\xff" * 50))
put("wav_load", "float32_12k", wav(3, 1, 12000, 32, struct.pack("<4f", 0.5, -0.5, 1.5, -1.0) * 10))

# Jitter buffer: setup (PCMA, depth 3), capacity 10, then operations (see kefu_media::fuzzing).
def push(seq, ts, payload, raw=True):
    return bytes([0x03 if raw else 0x01]) + struct.pack(">HIB", seq, ts, len(payload)) + payload

ops = b""
for n in [1, 3, 2, 2, 5, 4]:
    ops += push(n, n * 160, bytes([n]) * 160) + b"\x00"
ops += b"\x00" * 4 + push(7, 4_800_000, bytes([7]) * 160) + push(8, 4_800_160, bytes([8]) * 160) + b"\x00" * 3
put("jitter_sequence", "reorder_dup_loss_jump", bytes([0x83, 10]) + ops)
ops = b""
for n in range(8):
    ops += push(65530 + n & 0xFFFF, (4294966816 + n * 240) & 0xFFFFFFFF, bytes([0x80 + n]) * 240) + b"\x00\x00"
put("jitter_sequence", "wrap_30ms_pcmu", bytes([0x02, 4]) + ops)
