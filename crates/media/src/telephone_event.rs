//! RFC 4733 telephone events (DTMF digits as RTP payload, formerly RFC 2833).
//!
//! A key press is one event: the sender keeps the RTP timestamp of its start, sends an update every
//! packet interval with a growing duration, and ends with the E bit set, repeating the end packet
//! (usually three times). Packets are lost, duplicated and reordered on the way, so
//! [`EventReceiver`] turns that stream back into exactly one report per press. [`EventSender`]
//! produces the packets for sending a digit.

use thiserror::Error;

use crate::FRAME_SAMPLES;
use crate::rtp::RtpHeader;

/// Length of the RFC 4733 event payload.
pub const PAYLOAD_LEN: usize = 4;

/// One RFC 4733 event payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TelephoneEvent {
    /// Event code: 0-9 digits, 10 `*`, 11 `#`, 12-15 `A`-`D`, 16 flash.
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far in timestamp units (samples).
    pub duration: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    #[error("telephone-event payload of {0} bytes is shorter than 4")]
    TooShort(usize),
    #[error("{0:?} is not a DTMF digit")]
    UnknownDigit(char),
}

/// Parses an event payload. Bytes after the first four are ignored (RFC 4733 §2.5.1.4 allows none;
/// redundancy comes through RFC 2198, which the runtime unwraps before this).
pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, EventError> {
    match payload {
        [event, flags, d0, d1, ..] => Ok(TelephoneEvent {
            event: *event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([*d0, *d1]),
        }),
        _ => Err(EventError::TooShort(payload.len())),
    }
}

/// Appends the 4-byte payload of `ev` (volume masked to 6 bits, reserved bit 0).
pub fn write(ev: &TelephoneEvent, out: &mut Vec<u8>) {
    out.extend_from_slice(&payload_bytes(ev));
}

fn payload_bytes(ev: &TelephoneEvent) -> [u8; PAYLOAD_LEN] {
    let d = ev.duration.to_be_bytes();
    [
        ev.event,
        u8::from(ev.end) << 7 | (ev.volume & 0x3F),
        d[0],
        d[1],
    ]
}

/// The key of a DTMF event code (RFC 4733 §3.2): `0`-`9`, `*`, `#`, `A`-`D`.
pub fn event_to_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// The event code of a key; `a`-`d` are accepted as `A`-`D`.
pub fn digit_to_event(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(c as u8 - b'A' + 12),
        'a'..='d' => Some(c as u8 - b'a' + 12),
        _ => None,
    }
}

/// A packet that repeats an already reported press (same timestamp and event) starts the key again
/// only if it looks like the start of a press: not an end packet and a duration of at most one frame.
/// Senders that replay recorded packets (SIPp's pcaps) reuse timestamps this way; reordered updates
/// of a press, with longer durations, do not.
pub const RESTART_MAX_DURATION: u16 = FRAME_SAMPLES as u16;

/// How many earlier presses are remembered to drop their late packets.
const HISTORY: usize = 4;

/// Reports each key press of an RFC 4733 stream exactly once.
///
/// A new press is a packet with a timestamp or event other than the current press's, unless it is
/// a straggler of one of the last few presses (same timestamp and event). Timestamps are not assumed
/// to increase between presses: senders that replay recorded packets send older ones. A packet of
/// a known press that looks like a start (see [`RESTART_MAX_DURATION`]) after that press ended is the
/// key pressed again. The press is reported on its first packet, so a lost start still reports when
/// any later packet of it arrives.
#[derive(Clone, Debug, Default)]
pub struct EventReceiver {
    current: Option<Press>,
    /// Recent presses (timestamp, event), newest last, to drop their stragglers.
    history: Vec<(u32, u8)>,
}

#[derive(Clone, Copy, Debug)]
struct Press {
    timestamp: u32,
    event: u8,
    /// Set once an end packet arrived: the duration it ended with.
    ended_at: Option<u16>,
}

impl EventReceiver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one received event packet; returns the key when it starts a new press.
    /// Events that are not DTMF keys (flash, tones) are tracked but never reported.
    pub fn on_packet(&mut self, rtp_timestamp: u32, ev: &TelephoneEvent) -> Option<char> {
        let looks_like_start = !ev.end && ev.duration <= RESTART_MAX_DURATION;
        if let Some(cur) = &mut self.current {
            if cur.timestamp == rtp_timestamp && cur.event == ev.event {
                let restarted = cur.ended_at.is_some() && looks_like_start;
                if !restarted {
                    if ev.end {
                        cur.ended_at = Some(cur.ended_at.unwrap_or(0).max(ev.duration));
                    }
                    return None;
                }
            } else if !looks_like_start
                && self
                    .history
                    .iter()
                    .any(|&(ts, event)| ts == rtp_timestamp && event == ev.event)
            {
                return None;
            }
        }
        if let Some(previous) = self.current {
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push((previous.timestamp, previous.event));
        }
        self.current = Some(Press {
            timestamp: rtp_timestamp,
            event: ev.event,
            ended_at: ev.end.then_some(ev.duration),
        });
        event_to_digit(ev.event)
    }

    /// Forgets everything (a new stream, e.g. after an SSRC change).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// How many times the end packet is sent (RFC 4733 §2.5.1.4).
pub const END_PACKETS: u32 = 3;
/// The volume kefu sends: -10 dBm0.
pub const DEFAULT_VOLUME: u8 = 10;
/// Shortest and longest digits sent, in ms.
pub const MIN_DURATION_MS: u32 = 40;
pub const MAX_DURATION_MS: u32 = 5000;

/// One packet to send for a digit. The caller supplies the stream's payload type, next sequence
/// number and SSRC (RFC 4733 packets share the sequence space of the audio stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventPacket {
    /// Set on the first packet of the event.
    pub marker: bool,
    /// The event's start timestamp, the same on every packet of it.
    pub timestamp: u32,
    pub event: TelephoneEvent,
}

impl EventPacket {
    /// The RTP header of this packet.
    pub fn rtp_header(&self, payload_type: u8, sequence: u16, ssrc: u32) -> RtpHeader {
        RtpHeader {
            marker: self.marker,
            payload_type,
            sequence,
            timestamp: self.timestamp,
            ssrc,
        }
    }

    /// The 4-byte payload.
    pub fn payload(&self) -> [u8; PAYLOAD_LEN] {
        payload_bytes(&self.event)
    }
}

/// The packets of one digit, one per 20 ms tick: updates with growing duration (the first with the
/// marker bit), then [`END_PACKETS`] end packets with the final duration.
///
/// The audio stream pauses while the digit is sent; the next audio packet's timestamp continues from
/// `start_timestamp + duration` (see [`EventSender::duration_samples`]).
#[derive(Clone, Debug)]
pub struct EventSender {
    event: u8,
    timestamp: u32,
    total: u16,
    sent_updates: u16,
    sent_ends: u32,
}

impl EventSender {
    /// A digit lasting `duration_ms` (clamped to 40..=5000 ms and rounded up to whole 20 ms packets),
    /// starting at `start_timestamp`.
    pub fn new(digit: char, start_timestamp: u32, duration_ms: u32) -> Result<Self, EventError> {
        let event = digit_to_event(digit).ok_or(EventError::UnknownDigit(digit))?;
        let ms = duration_ms.clamp(MIN_DURATION_MS, MAX_DURATION_MS);
        let packets = ms.div_ceil(20);
        let total = (packets * FRAME_SAMPLES as u32) as u16; // at most 250 * 160 = 40000
        Ok(Self {
            event,
            timestamp: start_timestamp,
            total,
            sent_updates: 0,
            sent_ends: 0,
        })
    }

    /// The event's length in timestamp units.
    pub fn duration_samples(&self) -> u32 {
        u32::from(self.total)
    }
}

impl Iterator for EventSender {
    type Item = EventPacket;

    fn next(&mut self) -> Option<EventPacket> {
        let frame = FRAME_SAMPLES as u16;
        // `total` is at least two frames, so there is at least one update before the ends.
        let updates = self.total / frame - 1;
        let first = self.sent_updates == 0 && self.sent_ends == 0;
        let (duration, end) = if self.sent_updates < updates {
            self.sent_updates += 1;
            (self.sent_updates * frame, false)
        } else if self.sent_ends < END_PACKETS {
            self.sent_ends += 1;
            (self.total, true)
        } else {
            return None;
        };
        Some(EventPacket {
            marker: first,
            timestamp: self.timestamp,
            event: TelephoneEvent {
                event: self.event,
                end,
                volume: DEFAULT_VOLUME,
                duration,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: u8, end: bool, duration: u16) -> TelephoneEvent {
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
    }

    #[test]
    fn payload_round_trips() {
        let e = ev(11, true, 2240);
        let mut out = vec![];
        write(&e, &mut out);
        assert_eq!(out, [11, 0x8A, 0x08, 0xC0]);
        assert_eq!(parse(&out), Ok(e));
        assert_eq!(parse(&[1, 2, 3]), Err(EventError::TooShort(3)));
        // The reserved bit is ignored.
        assert_eq!(parse(&[1, 0x4A, 0, 0]).unwrap(), ev(1, false, 0));
    }

    #[test]
    fn digits_map_both_ways() {
        let keys = "0123456789*#ABCD";
        for (code, key) in keys.chars().enumerate() {
            assert_eq!(event_to_digit(code as u8), Some(key));
            assert_eq!(digit_to_event(key), Some(code as u8));
        }
        assert_eq!(digit_to_event('b'), Some(13));
        assert_eq!(event_to_digit(16), None);
        assert_eq!(digit_to_event('E'), None);
    }

    /// The packet sequence SIPp 3.6 sends (see /usr/share/sip-tester/dtmf_2833_1.pcap): durations
    /// 0, 320, … 1920, then the end packet three times with duration 2240.
    fn sipp_press(receiver: &mut EventReceiver, ts: u32, event: u8) -> Vec<char> {
        let mut got = vec![];
        for i in 0..7u16 {
            got.extend(receiver.on_packet(ts, &ev(event, false, i * 320)));
        }
        for _ in 0..3 {
            got.extend(receiver.on_packet(ts, &ev(event, true, 2240)));
        }
        got
    }

    #[test]
    fn each_press_is_reported_once() {
        let mut r = EventReceiver::new();
        assert_eq!(sipp_press(&mut r, 13_280, 1), vec!['1']);
        assert_eq!(sipp_press(&mut r, 20_000, 1), vec!['1']);
        assert_eq!(sipp_press(&mut r, 30_000, 11), vec!['#']);
    }

    #[test]
    fn lost_start_still_reports_and_late_stragglers_do_not() {
        let mut r = EventReceiver::new();
        // Only end packets of the first press arrive.
        assert_eq!(r.on_packet(1000, &ev(5, true, 800)), Some('5'));
        assert_eq!(r.on_packet(1000, &ev(5, true, 800)), None);
        // A new press starts; then a late end packet of the old one arrives.
        assert_eq!(r.on_packet(3000, &ev(6, false, 160)), Some('6'));
        assert_eq!(r.on_packet(1000, &ev(5, true, 800)), None);
        // A reordered update of the current press after its end does not restart it.
        assert_eq!(r.on_packet(3000, &ev(6, true, 800)), None);
        assert_eq!(r.on_packet(3000, &ev(6, false, 800)), None);
        assert_eq!(r.on_packet(3000, &ev(6, false, 640)), None);
        // A delayed update of the first press after the second started is not a press either.
        assert_eq!(r.on_packet(1000, &ev(5, false, 480)), None);
    }

    #[test]
    fn same_key_on_a_reused_timestamp_after_an_end_is_a_new_press() {
        let mut r = EventReceiver::new();
        assert_eq!(sipp_press(&mut r, 5000, 2), vec!['2']);
        assert_eq!(sipp_press(&mut r, 5000, 2), vec!['2']);
        // A different key on the same timestamp, even without an end.
        assert_eq!(r.on_packet(5000, &ev(3, false, 0)), Some('3'));
    }

    #[test]
    fn flash_and_unknown_events_are_not_reported() {
        let mut r = EventReceiver::new();
        assert_eq!(r.on_packet(0, &ev(16, false, 0)), None);
        assert_eq!(r.on_packet(160, &ev(4, false, 0)), Some('4'));
    }

    #[test]
    fn timestamps_wrap_and_may_go_back() {
        let mut r = EventReceiver::new();
        assert_eq!(r.on_packet(u32::MAX - 100, &ev(7, true, 800)), Some('7'));
        assert_eq!(r.on_packet(500, &ev(8, false, 0)), Some('8'));
        // SIPp's pcaps: "0" was recorded at 17632, "1" at 13280; played in that order, both count.
        assert_eq!(sipp_press(&mut r, 17_632, 0), vec!['0']);
        assert_eq!(sipp_press(&mut r, 13_280, 1), vec!['1']);
        // And "1" replayed after "0" again, identical packets.
        assert_eq!(sipp_press(&mut r, 17_632, 0), vec!['0']);
        assert_eq!(sipp_press(&mut r, 13_280, 1), vec!['1']);
    }

    #[test]
    fn sender_yields_updates_then_three_ends() {
        let packets: Vec<EventPacket> = EventSender::new('#', 48_000, 100).unwrap().collect();
        let durations: Vec<(u16, bool, bool)> = packets
            .iter()
            .map(|p| (p.event.duration, p.event.end, p.marker))
            .collect();
        assert_eq!(
            durations,
            vec![
                (160, false, true),
                (320, false, false),
                (480, false, false),
                (640, false, false),
                (800, true, false),
                (800, true, false),
                (800, true, false),
            ]
        );
        assert!(
            packets
                .iter()
                .all(|p| p.timestamp == 48_000 && p.event.event == 11)
        );
        let h = packets[0].rtp_header(101, 7, 9);
        assert_eq!(
            (h.marker, h.payload_type, h.sequence, h.ssrc),
            (true, 101, 7, 9)
        );
        assert_eq!(parse(&packets[4].payload()).unwrap(), packets[4].event);
        assert_eq!(
            EventSender::new('x', 0, 100).unwrap_err(),
            EventError::UnknownDigit('x')
        );
    }

    #[test]
    fn shortest_digit_and_duration_clamps() {
        let short: Vec<EventPacket> = EventSender::new('1', 0, 1).unwrap().collect();
        assert_eq!(short.len(), 1 + 3);
        assert!(short[0].marker && !short[0].event.end);
        assert!(
            short[1..]
                .iter()
                .all(|p| !p.marker && p.event.end && p.event.duration == 320)
        );
        let long = EventSender::new('1', 0, 60_000).unwrap();
        assert_eq!(long.duration_samples(), 40_000);
        assert_eq!(long.count(), 249 + 3);
    }

    #[test]
    fn sender_output_is_received_as_one_press_per_digit() {
        let mut r = EventReceiver::new();
        let mut ts = 0u32;
        let mut got = String::new();
        for digit in "12#*A0".chars() {
            let sender = EventSender::new(digit, ts, 120).unwrap();
            ts += sender.duration_samples() + 800;
            for p in sender {
                got.extend(r.on_packet(p.timestamp, &parse(&p.payload()).unwrap()));
            }
        }
        assert_eq!(got, "12#*A0");
    }
}
