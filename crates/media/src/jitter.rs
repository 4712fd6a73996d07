//! A jitter buffer for one received G.711 stream: packets in as they arrive, one 20 ms frame out per
//! tick of the mixer.
//!
//! Decoded audio is kept on a ring indexed by RTP timestamp (RFC 3550 §5.1: the timestamp is the
//! sampling instant of the first sample), so reordering, duplicates, odd packet sizes and gaps all
//! reduce to "which samples are present". Playout starts once `depth` frames are buffered and again
//! after each underrun (which also absorbs talk-spurt gaps of senders with silence suppression).
//! One missing frame is concealed by repeating the previous one fading out; further ones are silence.
//!
//! Packets behind the playout point are too late and dropped. Packets so far ahead that they do not
//! fit skip playout forward. A timestamp jump of more than [`RESYNC_SAMPLES`] either way (a new source
//! behind an SBC, a restarted sender) resynchronizes when the sequence number continues from the last
//! packet or when two consecutive packets agree on the new timeline; a single stray packet is dropped.
//! Call [`JitterBuffer::reset`] when the SSRC changes. Memory is one ring of `max_frames` frames,
//! allocated up front.

use std::ops::Range;

use crate::{Codec, FRAME_SAMPLES, g711};

/// A timestamp this far from the playout point (either way) is a jump to a new timeline: 1 s.
pub const RESYNC_SAMPLES: u32 = 8000;
/// Upper bound on the ring, whatever `max_frames` says: 10 s.
pub const MAX_CAPACITY_FRAMES: usize = 500;

const FRAME: usize = FRAME_SAMPLES;

/// What [`JitterBuffer::pop`] produced for this tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pop {
    /// Received audio (missing samples within the frame, if any, are zero).
    Audio,
    /// A lost frame replaced by the previous one, fading out.
    Concealed,
    /// Nothing to play: not started, buffering, or more than one frame lost.
    Silence,
}

/// Counters for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets handed to `push` (empty payloads excluded).
    pub packets: u64,
    /// Dropped: behind the playout point, or a stray far from it.
    pub late: u64,
    /// Dropped: every sample already present.
    pub duplicates: u64,
    /// Samples skipped because a packet arrived too far ahead to fit.
    pub skipped_samples: u64,
    /// Times the buffer jumped to a new timeline.
    pub resyncs: u64,
    /// Frames concealed.
    pub concealed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No timeline: waiting for a packet.
    Idle,
    /// Anchored at `play_ts`, waiting for `depth` samples.
    Buffering,
    Playing,
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct JitterBuffer {
    codec: Codec,
    depth: usize,
    samples: Vec<i16>,
    present: Vec<bool>,
    /// Ring index of `play_ts`.
    head: usize,
    /// Timestamp of the next sample to play (meaningful unless Idle).
    play_ts: u32,
    /// End of the furthest present sample, as an offset from `play_ts` (0 when empty).
    buffered: usize,
    state: State,
    /// Timestamp after the last sample played, to drop late packets while Idle.
    played_until: Option<u32>,
    last_seq: Option<u16>,
    /// A far packet seen once: (sequence, timestamp).
    jump_candidate: Option<(u16, u32)>,
    candidate_pcm: Vec<i16>,
    last_frame: [i16; FRAME],
    last_pop: Pop,
    scratch: Vec<i16>,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer that plays `codec` after `depth_frames` frames (20 ms each) are buffered and holds at
    /// most `max_frames` frames (at least `depth_frames + 1`, at most [`MAX_CAPACITY_FRAMES`]).
    pub fn new(codec: Codec, depth_frames: usize, max_frames: usize) -> Self {
        let depth_frames = depth_frames.min(MAX_CAPACITY_FRAMES - 1);
        let capacity = max_frames.clamp(depth_frames + 1, MAX_CAPACITY_FRAMES) * FRAME;
        Self {
            codec,
            depth: depth_frames * FRAME,
            samples: vec![0; capacity],
            present: vec![false; capacity],
            head: 0,
            play_ts: 0,
            buffered: 0,
            state: State::Idle,
            played_until: None,
            last_seq: None,
            jump_candidate: None,
            candidate_pcm: Vec::with_capacity(capacity),
            last_frame: [0; FRAME],
            last_pop: Pop::Silence,
            scratch: Vec::with_capacity(capacity),
            stats: JitterStats::default(),
        }
    }

    fn capacity(&self) -> usize {
        self.samples.len()
    }

    /// The codec this buffer decodes.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Counters since creation.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// The ring's size in samples: the buffer's whole memory for audio, fixed at creation.
    pub fn capacity_samples(&self) -> usize {
        self.capacity()
    }

    /// Audio buffered ahead of the playout point, in whole frames.
    pub fn buffered_frames(&self) -> usize {
        self.buffered / FRAME
    }

    /// Drops all audio and the timeline (keeps the counters): the next packet starts afresh.
    pub fn reset(&mut self) {
        self.clear_ring();
        self.state = State::Idle;
        self.played_until = None;
        self.last_seq = None;
        self.jump_candidate = None;
        self.last_pop = Pop::Silence;
    }

    fn clear_ring(&mut self) {
        self.present.fill(false);
        self.head = 0;
        self.buffered = 0;
    }

    /// Adds a received packet's payload (encoded with the buffer's codec).
    pub fn push(&mut self, sequence: u16, timestamp: u32, payload: &[u8]) {
        if payload.is_empty() {
            return;
        }
        self.stats.packets += 1;
        let capacity = self.capacity();
        let mut decoded = std::mem::take(&mut self.scratch);
        decoded.clear();
        g711::decode(
            self.codec,
            &payload[..payload.len().min(capacity)],
            &mut decoded,
        );
        self.place(sequence, timestamp, &decoded);
        self.scratch = decoded;
    }

    fn place(&mut self, sequence: u16, timestamp: u32, pcm: &[i16]) {
        let capacity = self.capacity();
        let len = pcm.len();
        if self.state == State::Idle {
            if let Some(until) = self.played_until {
                let behind = until.wrapping_sub(timestamp);
                if (1..=RESYNC_SAMPLES).contains(&behind) {
                    self.stats.late += 1;
                    return;
                }
            }
            self.anchor(timestamp);
        }
        let offset = i64::from(timestamp.wrapping_sub(self.play_ts) as i32);
        if offset < 0 {
            let back = offset.unsigned_abs() as usize;
            let before_played = self
                .played_until
                .is_some_and(|until| (until.wrapping_sub(timestamp) as i32) > 0);
            if self.state == State::Buffering && !before_played && back + self.buffered <= capacity
            {
                // Reordered before the first packet while still buffering: move the anchor back.
                self.head = (self.head + capacity - back) % capacity;
                self.play_ts = timestamp;
                self.buffered += back;
            } else if back <= RESYNC_SAMPLES as usize {
                self.stats.late += 1;
                return;
            } else {
                return self.far_packet(sequence, timestamp, pcm);
            }
        } else if offset > i64::from(RESYNC_SAMPLES) {
            return self.far_packet(sequence, timestamp, pcm);
        } else if offset as usize + len > capacity {
            let skip = offset as usize + len - capacity;
            self.advance(skip);
            self.stats.skipped_samples += skip as u64;
        }
        let offset = timestamp.wrapping_sub(self.play_ts) as usize;
        self.write(offset, pcm);
        self.last_seq = Some(sequence);
        self.jump_candidate = None;
    }

    /// A packet more than [`RESYNC_SAMPLES`] from the playout point.
    fn far_packet(&mut self, sequence: u16, timestamp: u32, pcm: &[i16]) {
        let continues = self.last_seq.map(|s| s.wrapping_add(1)) == Some(sequence);
        let confirmed = self.jump_candidate.is_some_and(|(seq, ts)| {
            seq.wrapping_add(1) == sequence && timestamp.wrapping_sub(ts) <= RESYNC_SAMPLES
        });
        if !continues && !confirmed {
            self.stats.late += 1;
            self.jump_candidate = Some((sequence, timestamp));
            self.candidate_pcm.clear();
            self.candidate_pcm.extend_from_slice(pcm);
            return;
        }
        self.stats.resyncs += 1;
        self.clear_ring();
        self.played_until = None;
        match self.jump_candidate {
            Some((_, ts))
                if confirmed
                    && timestamp.wrapping_sub(ts) as usize + pcm.len() <= self.capacity() =>
            {
                // Keep the first packet of the new timeline too.
                self.anchor(ts);
                let candidate = std::mem::take(&mut self.candidate_pcm);
                self.write(0, &candidate);
                self.candidate_pcm = candidate;
                self.write(timestamp.wrapping_sub(ts) as usize, pcm);
            }
            _ => {
                self.anchor(timestamp);
                self.write(0, pcm);
            }
        }
        self.last_seq = Some(sequence);
        self.jump_candidate = None;
    }

    fn anchor(&mut self, timestamp: u32) {
        self.state = State::Buffering;
        self.play_ts = timestamp;
        self.head = 0;
        self.buffered = 0;
    }

    /// The ring indexes of `len` samples from ring index `start`: up to the end, then from 0.
    /// `start < capacity` and `len <= capacity`.
    fn ranges(&self, start: usize, len: usize) -> [Range<usize>; 2] {
        let first = len.min(self.capacity() - start);
        [start..start + first, 0..len - first]
    }

    /// Writes samples at `offset` from the playout point; `offset + pcm.len()` fits the ring.
    fn write(&mut self, offset: usize, pcm: &[i16]) {
        let start = (self.head + offset) % self.capacity();
        let [a, b] = self.ranges(start, pcm.len());
        let all_present = self.present[a.clone()]
            .iter()
            .chain(&self.present[b.clone()])
            .all(|&p| p);
        if all_present {
            self.stats.duplicates += 1;
            return;
        }
        let (first, second) = pcm.split_at(a.len());
        self.samples[a.clone()].copy_from_slice(first);
        self.samples[b.clone()].copy_from_slice(second);
        self.present[a].fill(true);
        self.present[b].fill(true);
        self.buffered = self.buffered.max(offset + pcm.len());
    }

    /// Moves the playout point forward by `n` samples, discarding them.
    fn advance(&mut self, n: usize) {
        let capacity = self.capacity();
        if n >= capacity {
            self.present.fill(false);
            self.head = 0;
        } else {
            let [a, b] = self.ranges(self.head, n);
            self.present[a].fill(false);
            self.present[b].fill(false);
            self.head = (self.head + n) % capacity;
        }
        self.play_ts = self.play_ts.wrapping_add(n as u32);
        self.buffered = self.buffered.saturating_sub(n);
    }

    /// Produces the next 20 ms frame. Call once per tick.
    pub fn pop(&mut self, out: &mut [i16; FRAME]) -> Pop {
        let result = self.next_frame(out);
        self.last_pop = result;
        result
    }

    fn next_frame(&mut self, out: &mut [i16; FRAME]) -> Pop {
        let ready = match self.state {
            State::Idle => false,
            State::Buffering => self.buffered >= self.depth.max(1),
            State::Playing => true,
        };
        if !ready {
            return self.missing(out);
        }
        self.state = State::Playing;
        let [a, b] = self.ranges(self.head, FRAME);
        let (out_a, out_b) = out.split_at_mut(a.len());
        let mut found = 0;
        for (outs, range) in [(out_a, a), (out_b, b)] {
            let (present, samples) = (&self.present[range.clone()], &self.samples[range]);
            for ((o, &p), &x) in outs.iter_mut().zip(present).zip(samples) {
                *o = if p { x } else { 0 };
                found += usize::from(p);
            }
        }
        self.advance(FRAME);
        self.played_until = Some(self.play_ts);
        if self.buffered == 0 {
            // Underrun: wait for `depth` frames again when audio resumes.
            self.state = State::Idle;
        }
        if found == 0 {
            return self.missing(out);
        }
        self.last_frame = *out;
        Pop::Audio
    }

    /// A frame with nothing received: the previous frame fading out right after audio, else silence.
    fn missing(&mut self, out: &mut [i16; FRAME]) -> Pop {
        if self.last_pop != Pop::Audio {
            out.fill(0);
            return Pop::Silence;
        }
        for (i, (o, &x)) in out.iter_mut().zip(&self.last_frame).enumerate() {
            *o = (i32::from(x) * (FRAME - i) as i32 / FRAME as i32) as i16;
        }
        self.stats.concealed += 1;
        Pop::Concealed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A packet whose samples all decode to a value identifying the frame (PCMA code of `n`).
    fn payload(n: u8) -> Vec<u8> {
        vec![n; FRAME]
    }

    fn value(n: u8) -> i16 {
        g711::alaw_decode(n)
    }

    fn jb() -> JitterBuffer {
        JitterBuffer::new(Codec::Pcma, 3, 10)
    }

    /// Pops `n` frames and describes them: the frame's first sample value mapped back to its packet
    /// number, `c` for concealed, `-` for silence.
    fn pops(jb: &mut JitterBuffer, n: usize) -> Vec<String> {
        let mut out = [0i16; FRAME];
        (0..n)
            .map(|_| match jb.pop(&mut out) {
                Pop::Audio => {
                    let n = (0..=255u8).find(|&n| value(n) == out[0]).unwrap();
                    assert!(out.iter().all(|&x| x == out[0]), "frame is one packet");
                    n.to_string()
                }
                Pop::Concealed => "c".into(),
                Pop::Silence => "-".into(),
            })
            .collect()
    }

    /// Packet `n` of a stream starting at sequence `seq0` and timestamp `ts0`.
    fn push(jb: &mut JitterBuffer, seq0: u16, ts0: u32, n: u8) {
        jb.push(
            seq0.wrapping_add(u16::from(n)),
            ts0.wrapping_add(u32::from(n) * FRAME as u32),
            &payload(n),
        );
    }

    #[test]
    fn waits_for_depth_then_plays_in_order() {
        let mut b = jb();
        assert_eq!(pops(&mut b, 1), ["-"]);
        push(&mut b, 100, 1000, 1);
        push(&mut b, 100, 1000, 2);
        assert_eq!(pops(&mut b, 1), ["-"]);
        push(&mut b, 100, 1000, 3);
        assert_eq!(b.buffered_frames(), 3);
        let mut got = pops(&mut b, 1);
        for n in 4..10 {
            push(&mut b, 100, 1000, n);
            got.extend(pops(&mut b, 1));
        }
        assert_eq!(got, ["1", "2", "3", "4", "5", "6", "7"]);
    }

    #[test]
    fn reorders_and_drops_duplicates() {
        let mut b = jb();
        for n in [2, 1, 3, 3, 5, 4, 2, 6] {
            push(&mut b, 0, 0, n);
        }
        assert_eq!(b.stats().duplicates, 2);
        assert_eq!(pops(&mut b, 8), ["1", "2", "3", "4", "5", "6", "c", "-"]);
    }

    #[test]
    fn conceals_one_lost_frame_then_silence() {
        let mut b = jb();
        for n in [1, 2, 3, 6, 7] {
            push(&mut b, 0, 0, n);
        }
        assert_eq!(pops(&mut b, 7), ["1", "2", "3", "c", "-", "6", "7"]);
        assert_eq!(b.stats().concealed, 1);
        let mut out = [0i16; FRAME];
        // The concealed frame fades from the last frame's level to nothing.
        let mut b = jb();
        for n in [1, 2, 3] {
            push(&mut b, 0, 0, 100 + n);
        }
        push(&mut b, 0, 0, 105);
        for _ in 0..3 {
            b.pop(&mut out);
        }
        assert_eq!(b.pop(&mut out), Pop::Concealed);
        assert_eq!(out[0], value(103));
        assert!(out[FRAME - 1].abs() < value(103).abs() / 100 + 1);
    }

    #[test]
    fn late_packets_are_dropped() {
        let mut b = jb();
        for n in [1, 2, 3, 4] {
            push(&mut b, 0, 0, n);
        }
        assert_eq!(pops(&mut b, 2), ["1", "2"]);
        push(&mut b, 0, 0, 1);
        push(&mut b, 0, 0, 2);
        assert_eq!(b.stats().late, 2);
        assert_eq!(pops(&mut b, 3), ["3", "4", "c"]);
    }

    #[test]
    fn sequence_and_timestamp_wrap() {
        let mut b = jb();
        let (seq0, ts0) = (65_530u16, u32::MAX - 3 * FRAME as u32);
        let mut got = vec![];
        for n in 1..=12 {
            push(&mut b, seq0, ts0, n);
            got.extend(pops(&mut b, 1));
        }
        assert_eq!(
            got,
            ["-", "-", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
        );
    }

    #[test]
    fn underrun_rebuffers_and_talk_spurts_follow() {
        let mut b = jb();
        for n in 1..=3 {
            push(&mut b, 0, 0, n);
        }
        assert_eq!(pops(&mut b, 5), ["1", "2", "3", "c", "-"]);
        // The sender resumes after a silent period (timestamps moved on, sequence continues).
        let ts = 50 * FRAME as u32;
        for n in 0..3 {
            b.push(
                4 + u16::from(n),
                ts + u32::from(n) * FRAME as u32,
                &payload(10 + n),
            );
        }
        assert_eq!(pops(&mut b, 4), ["10", "11", "12", "c"]);
    }

    #[test]
    fn timestamp_jump_with_continuous_sequence_resyncs() {
        let mut b = jb();
        for n in 1..=4 {
            push(&mut b, 0, 0, n);
        }
        assert_eq!(pops(&mut b, 2), ["1", "2"]);
        // Sequence 5 continues, but the timestamp jumped by 10 minutes (a new source behind an SBC).
        let ts = 4_800_000;
        for n in 0..3u8 {
            b.push(
                5 + u16::from(n),
                ts + u32::from(n) * FRAME as u32,
                &payload(20 + n),
            );
        }
        assert_eq!(b.stats().resyncs, 1);
        assert_eq!(pops(&mut b, 4), ["20", "21", "22", "c"]);
    }

    #[test]
    fn a_single_stray_packet_does_not_resync_but_two_consistent_ones_do() {
        let mut b = jb();
        for n in 1..=5 {
            push(&mut b, 0, 0, n);
        }
        b.push(9000, 9_000_000, &payload(50));
        assert_eq!(b.stats().resyncs, 0);
        assert_eq!(pops(&mut b, 2), ["1", "2"]);
        b.push(30_000, 7_000_000, &payload(60));
        b.push(30_001, 7_000_000 + FRAME as u32, &payload(61));
        b.push(30_002, 7_000_000 + 2 * FRAME as u32, &payload(62));
        assert_eq!(b.stats().resyncs, 1);
        assert_eq!(pops(&mut b, 4), ["60", "61", "62", "c"]);
    }

    #[test]
    fn far_ahead_packet_skips_forward_within_bounded_memory() {
        let mut b = JitterBuffer::new(Codec::Pcma, 2, 4);
        for n in 1..=2 {
            push(&mut b, 0, 0, n);
        }
        // Packet 9 needs the ring to hold frames 1..=9: frames 1-5 are skipped.
        push(&mut b, 0, 0, 9);
        assert_eq!(b.stats().skipped_samples, 5 * FRAME as u64);
        assert_eq!(b.buffered_frames(), 4);
        assert_eq!(pops(&mut b, 5), ["-", "-", "-", "9", "c"]);
    }

    #[test]
    fn odd_packet_sizes_fill_frames_by_timestamp() {
        // 30 ms packets (240 samples) played as 20 ms frames.
        let mut b = JitterBuffer::new(Codec::Pcmu, 2, 10);
        let mut coded = vec![];
        let pcm: Vec<i16> = (0..720).map(|i| (i * 40 - 14_000) as i16).collect();
        g711::encode(Codec::Pcmu, &pcm, &mut coded);
        for (i, chunk) in coded.chunks(240).enumerate() {
            b.push(i as u16, (i * 240) as u32, chunk);
        }
        let mut out = [0i16; FRAME];
        let mut played = vec![];
        for _ in 0..4 {
            assert_eq!(b.pop(&mut out), Pop::Audio);
            played.extend_from_slice(&out);
        }
        let mut expected = vec![];
        g711::decode(Codec::Pcmu, &coded[..640], &mut expected);
        assert_eq!(played, expected);
    }

    #[test]
    fn reset_forgets_the_timeline() {
        let mut b = jb();
        for n in 1..=4 {
            push(&mut b, 0, 0, n);
        }
        b.reset();
        assert_eq!(pops(&mut b, 1), ["-"]);
        for n in 0..3 {
            b.push(n, 123_456 + u32::from(n) * 160, &payload(30 + n as u8));
        }
        assert_eq!(pops(&mut b, 3), ["30", "31", "32"]);
    }

    #[test]
    fn depth_zero_plays_immediately() {
        let mut b = JitterBuffer::new(Codec::Pcma, 0, 4);
        push(&mut b, 0, 0, 1);
        assert_eq!(pops(&mut b, 2), ["1", "c"]);
    }
}
