//! The properties the fuzz targets check, one function per target, shared by `fuzz/` (cargo-fuzz,
//! libFuzzer) and `tests/corpus.rs` (stable Rust, the committed corpus plus mutations), so both run
//! exactly the same checks. Each function panics when a property is broken; any input must be
//! accepted or refused without a panic.

use crate::jitter::{JitterBuffer, MAX_CAPACITY_FRAMES};
use crate::telephone_event::EventReceiver;
use crate::{Codec, FRAME_SAMPLES, rtcp, rtp, sdp, telephone_event, wav};

/// A fuzz target's check: panics if the input breaks a property.
pub type Check = fn(&[u8]);

/// Every fuzz target: (name, check).
pub const TARGETS: &[(&str, Check)] = &[
    ("sdp_parse", sdp_parse),
    ("rtp_parse", rtp_parse),
    ("rtcp_parse", rtcp_parse),
    ("telephone_event_parse", telephone_event_parse),
    ("wav_load", wav_load),
    ("jitter_sequence", jitter_sequence),
];

/// SDP: parsing never panics; what parses prints to text that parses back to the same value; offer
/// and answer on it never panic and produce SDP that parses.
pub fn sdp_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = sdp::parse(text) else {
        return;
    };
    let printed = parsed.to_string();
    // Printing normalizes (CRLF, t=, one direction per stream) and may grow past the input limit.
    if printed.len() <= sdp::MAX_SDP_LEN {
        match sdp::parse(&printed) {
            Ok(again) => assert_eq!(again, parsed, "re-parsed SDP differs:\n{printed}"),
            Err(e) => panic!("printed SDP does not parse: {e}\n{printed}"),
        }
    }
    let prefs = [Codec::Pcma, Codec::Pcmu];
    if let Ok(negotiated) = sdp::negotiate_answer(&parsed, &prefs) {
        let answer = sdp::build_answer(&parsed, &negotiated, [127, 0, 0, 1].into(), 4000, 1, 1);
        let text = answer.to_string();
        if text.len() <= sdp::MAX_SDP_LEN {
            let answer = sdp::parse(&text).expect("our answer parses");
            let back = sdp::read_answer(&answer, &prefs).expect("our answer is readable");
            assert_eq!(back.codec, negotiated.codec);
        }
    }
    let _ = sdp::read_answer(&parsed, &prefs);
}

/// RTP: parsing never panics; the payload lies inside the packet; writing the header and payload
/// back and parsing again gives the same values.
pub fn rtp_parse(data: &[u8]) {
    let _ = rtp::is_rtcp(data);
    let Ok((header, payload)) = rtp::parse(data) else {
        return;
    };
    assert!(payload.len() + rtp::HEADER_LEN <= data.len());
    let mut out = Vec::new();
    rtp::write(&header, payload, &mut out);
    let (again, again_payload) = rtp::parse(&out).expect("written RTP parses");
    assert_eq!(again, header);
    assert_eq!(again_payload, payload);
}

/// RTCP: parsing never panics; reports and BYEs write back to the same values.
pub fn rtcp_parse(data: &[u8]) {
    let Ok(packets) = rtcp::parse_compound(data) else {
        return;
    };
    assert!(packets.len() * 4 <= data.len());
    let mut out = Vec::new();
    let mut expected = Vec::new();
    for p in &packets {
        match p {
            rtcp::RtcpPacket::SenderReport(sr) => rtcp::write_sender_report(sr, &mut out),
            rtcp::RtcpPacket::ReceiverReport(rr) => rtcp::write_receiver_report(rr, &mut out),
            rtcp::RtcpPacket::Bye { ssrcs } => rtcp::write_bye(ssrcs, &mut out),
            rtcp::RtcpPacket::Other { .. } => continue,
        }
        expected.push(p.clone());
    }
    if !out.is_empty() {
        assert_eq!(
            rtcp::parse_compound(&out).expect("written RTCP parses"),
            expected
        );
    }
    // The statistics take any sequence of values.
    let mut stats = rtcp::ReceptionStats::new();
    for chunk in data.chunks_exact(10) {
        let seq = u16::from_be_bytes([chunk[0], chunk[1]]);
        let ts = u32::from_be_bytes([chunk[2], chunk[3], chunk[4], chunk[5]]);
        let arrival = u64::from(u32::from_be_bytes([chunk[6], chunk[7], chunk[8], chunk[9]]));
        stats.on_packet(seq, ts, arrival);
        if seq % 7 == 0 {
            stats.on_sender_report(u64::from(ts) << 20, arrival);
        }
        let block = stats.report_block(1);
        assert!((-0x80_0000..=0x7F_FFFF).contains(&block.cumulative_lost));
    }
}

/// RFC 4733: parsing never panics and round-trips; the receiver takes any packet sequence and
/// reports at most one key per packet.
pub fn telephone_event_parse(data: &[u8]) {
    if let Ok(ev) = telephone_event::parse(data) {
        let mut out = Vec::new();
        telephone_event::write(&ev, &mut out);
        assert_eq!(telephone_event::parse(&out), Ok(ev));
    }
    let mut receiver = EventReceiver::new();
    for chunk in data.chunks_exact(8) {
        let ts = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let Ok(ev) = telephone_event::parse(&chunk[4..]) else {
            unreachable!("four bytes always parse");
        };
        if let Some(key) = receiver.on_packet(ts, &ev) {
            assert_eq!(telephone_event::digit_to_event(key), Some(ev.event));
        }
    }
}

/// WAV: loading never panics and never yields more than the longest prompt allowed.
pub fn wav_load(data: &[u8]) {
    if let Ok(pcm) = wav::load_prompt(data) {
        let limit = (wav::MAX_PROMPT_SECONDS as usize + 1) * crate::SAMPLE_RATE as usize;
        assert!(pcm.len() <= limit, "{} samples", pcm.len());
    }
}

/// Jitter buffer: any sequence of pushes (any sequence numbers, timestamps and payload sizes) and
/// pops never panics, keeps its memory bound and always fills the output frame.
///
/// Input: byte 0 picks the codec and depth, byte 1 the capacity; then operations: a byte with the
/// low bit clear is a pop; with it set a push of `seq: u16, ts: u32, len: u8` and `len` bytes.
pub fn jitter_sequence(data: &[u8]) {
    let [setup, capacity, ops @ ..] = data else {
        return;
    };
    let codec = if setup & 0x80 != 0 {
        Codec::Pcma
    } else {
        Codec::Pcmu
    };
    let mut jb = JitterBuffer::new(codec, usize::from(setup & 0x0F), usize::from(*capacity));
    let bound = jb.capacity_samples();
    assert!(bound <= MAX_CAPACITY_FRAMES * FRAME_SAMPLES);
    let mut out = [0i16; FRAME_SAMPLES];
    let mut rest = ops;
    while let [op, tail @ ..] = rest {
        rest = tail;
        if op & 1 == 0 {
            jb.pop(&mut out);
            continue;
        }
        let [s0, s1, t0, t1, t2, t3, len, tail @ ..] = rest else {
            break;
        };
        // Small timestamp steps are likelier to hit the interesting cases: use the op's upper bits
        // to pick between a raw timestamp and a frame-aligned one.
        let raw = u32::from_be_bytes([*t0, *t1, *t2, *t3]);
        let ts = if op & 2 != 0 {
            raw
        } else {
            (raw % 64) * FRAME_SAMPLES as u32
        };
        let len = usize::from(*len).min(tail.len());
        jb.push(u16::from_be_bytes([*s0, *s1]), ts, &tail[..len]);
        rest = &tail[len..];
        assert!(jb.buffered_frames() * FRAME_SAMPLES <= bound);
        assert_eq!(jb.capacity_samples(), bound);
    }
}

// ---- deterministic mutation, for the stable corpus tests (kefu-media's and kefu-telephony's) ----

/// xorshift64*: a tiny deterministic generator, so every run tests the same inputs.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Values that tend to sit on boundaries of lengths, counts and flags.
const INTERESTING: &[u8] = &[
    0, 1, 2, 3, 4, 0x0F, 0x10, 0x1F, 0x20, 0x3F, 0x40, 0x7F, 0x80, 0x81, 0xC0, 0xFE, 0xFF,
];
/// Text fragments for the text parsers (SDP, SIP header values).
const TOKENS: &[&str] = &[
    "\r\n",
    "\n",
    " ",
    "=",
    "/",
    ":",
    "0",
    "8",
    "101",
    "127",
    "128",
    "65535",
    "65536",
    "-1",
    "m=audio ",
    "c=IN IP4 ",
    "c=IN IP6 ::",
    "0.0.0.0",
    "a=rtpmap:",
    "a=fmtp:",
    "a=ptime:",
    "a=sendonly",
    "a=rtcp-mux",
    "RTP/AVP",
    "PCMA/8000",
    "telephone-event/8000",
    "o=- 1 1 IN IP4 ",
    "v=0",
    "Digest ",
    "username=\"",
    "\"",
    ",",
    "<sip:",
    "@",
    ">;expires=",
    "é",
    "\u{2028}",
];

/// One random mutation of `seed`, sometimes spliced with `other`.
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                v.insert(i, rng.next_u64() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                v.drain(i..i + n);
            }
            4 => v.truncate(rng.below(len + 1)),
            5 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            6 if len > 0 => {
                // Duplicate a chunk (repeated lines, packets, chunks).
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let chunk = v[i..i + n].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            7 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(len + 1);
                v.splice(at..at, token.iter().copied());
            }
            8 if len >= 4 => {
                // Overwrite a 16- or 32-bit field with an extreme value.
                let i = rng.below(len - 3);
                let value: u32 =
                    [0, 1, 0x7FFF_FFFF, 0x8000_0000, u32::MAX, 0xFFFF, 0x1_0000][rng.below(7)];
                if rng.below(2) == 0 {
                    v[i..i + 4].copy_from_slice(&value.to_be_bytes());
                } else {
                    v[i..i + 2].copy_from_slice(&(value as u16).to_le_bytes());
                }
            }
            _ => {}
        }
    }
    v
}
