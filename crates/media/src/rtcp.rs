//! RTCP (RFC 3550 §6): sender and receiver reports, BYE and SDES CNAME, compound packets, and the
//! receiver-side statistics that fill a report block (RFC 3550 Appendix A.1, A.3 and A.8).
//!
//! Parsing accepts any compound packet whose every part has version 2 and a length that fits; packet
//! types kefu does not use (SDES, APP, feedback, XR) come back as [`RtcpPacket::Other`]. It does not
//! insist that a compound packet starts with SR or RR, so reduced-size RTCP (RFC 5506) parses too.
//! The writers append, so a compound packet is built by calling several of them on one buffer.

use thiserror::Error;

use crate::SAMPLE_RATE;

/// RTCP packet types (RFC 3550 §12.1).
pub const PT_SR: u8 = 200;
pub const PT_RR: u8 = 201;
pub const PT_SDES: u8 = 202;
pub const PT_BYE: u8 = 203;

/// The most report blocks (and BYE sources) one packet can carry: the 5-bit count field.
pub const MAX_REPORT_BLOCKS: usize = 31;

const REPORT_BLOCK_LEN: usize = 24;

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ReportBlock {
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost, a signed 24-bit value (negative with duplicates).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles in the upper 16 bits).
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from this source (0 if none).
    pub lsr: u32,
    /// Delay since that SR in 1/65536 s (0 if none).
    pub dlsr: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderReport {
    pub ssrc: u32,
    pub ntp_timestamp: u64,
    pub rtp_timestamp: u32,
    pub packet_count: u32,
    pub octet_count: u32,
    pub reports: Vec<ReportBlock>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverReport {
    pub ssrc: u32,
    pub reports: Vec<ReportBlock>,
}

/// One packet of a compound RTCP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtcpPacket {
    SenderReport(SenderReport),
    ReceiverReport(ReceiverReport),
    Bye { ssrcs: Vec<u32> },
    Other { packet_type: u8 },
}

/// Why a datagram is not a valid (compound) RTCP packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtcpError {
    #[error("empty RTCP packet")]
    Empty,
    #[error("RTCP packet at offset {offset}: {remaining} bytes left, less than a 4-byte header")]
    TooShort { offset: usize, remaining: usize },
    #[error("RTCP packet at offset {offset}: version {version}, expected 2")]
    BadVersion { offset: usize, version: u8 },
    #[error(
        "RTCP packet at offset {offset}: length field says {length} bytes, only {remaining} left"
    )]
    Truncated {
        offset: usize,
        length: usize,
        remaining: usize,
    },
    #[error("RTCP packet at offset {offset}: padding of {padding} bytes is invalid")]
    BadPadding { offset: usize, padding: usize },
    #[error(
        "RTCP packet type {packet_type} at offset {offset}: count {count} does not fit in {length} bytes"
    )]
    CountTooLarge {
        offset: usize,
        packet_type: u8,
        count: usize,
        length: usize,
    },
}

/// Parses a compound RTCP packet into its parts, in order.
pub fn parse_compound(buf: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if buf.is_empty() {
        return Err(RtcpError::Empty);
    }
    let mut packets = Vec::new();
    let mut offset = 0;
    while offset < buf.len() {
        let rest = &buf[offset..];
        if rest.len() < 4 {
            return Err(RtcpError::TooShort {
                offset,
                remaining: rest.len(),
            });
        }
        let version = rest[0] >> 6;
        if version != 2 {
            return Err(RtcpError::BadVersion { offset, version });
        }
        let length = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        if length > rest.len() {
            return Err(RtcpError::Truncated {
                offset,
                length,
                remaining: rest.len(),
            });
        }
        let mut packet = &rest[..length];
        if rest[0] & 0x20 != 0 {
            let padding = usize::from(packet[length - 1]);
            if padding == 0 || padding > length - 4 {
                return Err(RtcpError::BadPadding { offset, padding });
            }
            packet = &packet[..length - padding];
        }
        packets.push(parse_one(packet, offset)?);
        offset += length;
    }
    Ok(packets)
}

/// Parses one packet (padding removed; at least the 4-byte header).
fn parse_one(packet: &[u8], offset: usize) -> Result<RtcpPacket, RtcpError> {
    let count = usize::from(packet[0] & 0x1F);
    let packet_type = packet[1];
    let body = &packet[4..];
    let too_large = || RtcpError::CountTooLarge {
        offset,
        packet_type,
        count,
        length: packet.len(),
    };
    match packet_type {
        PT_SR => {
            if body.len() < 24 + count * REPORT_BLOCK_LEN {
                return Err(too_large());
            }
            Ok(RtcpPacket::SenderReport(SenderReport {
                ssrc: be32(body, 0),
                ntp_timestamp: u64::from(be32(body, 4)) << 32 | u64::from(be32(body, 8)),
                rtp_timestamp: be32(body, 12),
                packet_count: be32(body, 16),
                octet_count: be32(body, 20),
                reports: parse_blocks(&body[24..], count),
            }))
        }
        PT_RR => {
            if body.len() < 4 + count * REPORT_BLOCK_LEN {
                return Err(too_large());
            }
            Ok(RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: be32(body, 0),
                reports: parse_blocks(&body[4..], count),
            }))
        }
        PT_BYE => {
            if body.len() < 4 * count {
                return Err(too_large());
            }
            Ok(RtcpPacket::Bye {
                ssrcs: (0..count).map(|i| be32(body, 4 * i)).collect(),
            })
        }
        _ => Ok(RtcpPacket::Other { packet_type }),
    }
}

/// Reads `count` report blocks; the caller has checked that they fit.
fn parse_blocks(body: &[u8], count: usize) -> Vec<ReportBlock> {
    body.chunks_exact(REPORT_BLOCK_LEN)
        .take(count)
        .map(|b| {
            let lost = u32::from_be_bytes([0, b[5], b[6], b[7]]);
            // Sign-extend the 24-bit cumulative loss.
            let cumulative_lost = ((lost << 8) as i32) >> 8;
            ReportBlock {
                ssrc: be32(b, 0),
                fraction_lost: b[4],
                cumulative_lost,
                highest_seq: be32(b, 8),
                jitter: be32(b, 12),
                lsr: be32(b, 16),
                dlsr: be32(b, 20),
            }
        })
        .collect()
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn write_header(out: &mut Vec<u8>, count: usize, packet_type: u8, body_len: usize) {
    debug_assert!(body_len.is_multiple_of(4) && count <= MAX_REPORT_BLOCKS);
    out.push(0x80 | count as u8);
    out.push(packet_type);
    out.extend_from_slice(&((body_len / 4) as u16).to_be_bytes());
}

fn write_blocks(out: &mut Vec<u8>, blocks: &[ReportBlock]) {
    for b in blocks {
        out.extend_from_slice(&b.ssrc.to_be_bytes());
        out.push(b.fraction_lost);
        let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32;
        out.extend_from_slice(&lost.to_be_bytes()[1..]);
        out.extend_from_slice(&b.highest_seq.to_be_bytes());
        out.extend_from_slice(&b.jitter.to_be_bytes());
        out.extend_from_slice(&b.lsr.to_be_bytes());
        out.extend_from_slice(&b.dlsr.to_be_bytes());
    }
}

/// Appends a sender report. At most [`MAX_REPORT_BLOCKS`] report blocks are written; the cumulative
/// loss is clamped to 24 bits.
pub fn write_sender_report(sr: &SenderReport, out: &mut Vec<u8>) {
    let blocks = &sr.reports[..sr.reports.len().min(MAX_REPORT_BLOCKS)];
    write_header(
        out,
        blocks.len(),
        PT_SR,
        24 + blocks.len() * REPORT_BLOCK_LEN,
    );
    out.extend_from_slice(&sr.ssrc.to_be_bytes());
    out.extend_from_slice(&sr.ntp_timestamp.to_be_bytes());
    out.extend_from_slice(&sr.rtp_timestamp.to_be_bytes());
    out.extend_from_slice(&sr.packet_count.to_be_bytes());
    out.extend_from_slice(&sr.octet_count.to_be_bytes());
    write_blocks(out, blocks);
}

/// Appends a receiver report. At most [`MAX_REPORT_BLOCKS`] report blocks are written.
pub fn write_receiver_report(rr: &ReceiverReport, out: &mut Vec<u8>) {
    let blocks = &rr.reports[..rr.reports.len().min(MAX_REPORT_BLOCKS)];
    write_header(
        out,
        blocks.len(),
        PT_RR,
        4 + blocks.len() * REPORT_BLOCK_LEN,
    );
    out.extend_from_slice(&rr.ssrc.to_be_bytes());
    write_blocks(out, blocks);
}

/// Appends a BYE for up to [`MAX_REPORT_BLOCKS`] sources (no reason text).
pub fn write_bye(ssrcs: &[u32], out: &mut Vec<u8>) {
    let ssrcs = &ssrcs[..ssrcs.len().min(MAX_REPORT_BLOCKS)];
    write_header(out, ssrcs.len(), PT_BYE, 4 * ssrcs.len());
    for s in ssrcs {
        out.extend_from_slice(&s.to_be_bytes());
    }
}

/// Appends an SDES packet with one chunk carrying a CNAME item, which RFC 3550 §6.1 requires in every
/// compound packet. The CNAME is cut to 255 bytes.
pub fn write_sdes_cname(ssrc: u32, cname: &str, out: &mut Vec<u8>) {
    let cname = &cname.as_bytes()[..cname.len().min(255)];
    // SSRC, item type 1, length, text, then at least one zero byte ending the item list, padded to 4.
    let chunk_len = (4 + 2 + cname.len() + 1).div_ceil(4) * 4;
    write_header(out, 1, PT_SDES, chunk_len);
    let start = out.len();
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.push(1);
    out.push(cname.len() as u8);
    out.extend_from_slice(cname);
    out.resize(start + chunk_len, 0);
}

/// Converts a duration in samples to the 1/65536 s units of DLSR, saturating.
fn samples_to_dlsr(samples: u64) -> u32 {
    let units = u128::from(samples) * 65536 / u128::from(SAMPLE_RATE);
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// A dropout of more than this many sequence numbers ahead is a restart, not loss (RFC 3550 A.1).
pub const MAX_DROPOUT: u16 = 3000;
/// A sequence number up to this far behind the highest seen is a late or duplicate packet.
pub const MAX_MISORDER: u16 = 100;

/// What one received RTP stream looked like, for its report block (RFC 3550 A.1, A.3, A.8).
///
/// Feed every RTP packet of the source with [`on_packet`](Self::on_packet); arrival times are in
/// sample units (8 kHz) on any monotonic origin. The first packet validates the source immediately
/// (the source was signalled in SDP, so the probation of A.1 buys nothing). A jump of more than
/// [`MAX_DROPOUT`] sequence numbers is taken as a restart once two consecutive packets confirm it.
#[derive(Clone, Debug, Default)]
pub struct ReceptionStats {
    started: bool,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: Option<u16>,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    last_transit: u32,
    /// Jitter in timestamp units, scaled by 16 (A.8's integer form).
    jitter_q4: u32,
    last_arrival: u64,
    last_sr: Option<(u32, u64)>,
}

impl ReceptionStats {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one received RTP packet.
    pub fn on_packet(&mut self, sequence: u16, rtp_timestamp: u32, arrival: u64) {
        self.last_arrival = self.last_arrival.max(arrival);
        if !self.started {
            self.started = true;
            self.restart(sequence);
        } else {
            let delta = sequence.wrapping_sub(self.max_seq);
            if delta < MAX_DROPOUT {
                if sequence < self.max_seq {
                    self.cycles = self.cycles.wrapping_add(1 << 16);
                }
                self.max_seq = sequence;
            } else if delta <= u16::MAX - MAX_MISORDER {
                // A very large jump: only a restart if the next packet follows on from this one.
                if self.bad_seq == Some(sequence) {
                    self.restart(sequence);
                } else {
                    self.bad_seq = Some(sequence.wrapping_add(1));
                    return;
                }
            }
            // Otherwise a duplicate or reordered packet: counted, not moving max_seq.
        }
        self.received = self.received.wrapping_add(1);

        // Interarrival jitter (A.8), on the 32-bit wrapping clock of RTP timestamps.
        let transit = (arrival as u32).wrapping_sub(rtp_timestamp);
        if self.received > 1 {
            let d = transit.wrapping_sub(self.last_transit) as i32;
            let d = d.unsigned_abs();
            // J += (|D| - J) / 16, in units of 1/16.
            self.jitter_q4 = self
                .jitter_q4
                .wrapping_add(d)
                .wrapping_sub((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = transit;
    }

    fn restart(&mut self, sequence: u16) {
        self.max_seq = sequence;
        self.cycles = 0;
        self.base_seq = u32::from(sequence);
        self.bad_seq = None;
        self.received = 0;
        self.expected_prior = 0;
        self.received_prior = 0;
    }

    /// Records a sender report from this source: its NTP timestamp and when it arrived (samples).
    pub fn on_sender_report(&mut self, ntp_timestamp: u64, arrival: u64) {
        self.last_sr = Some(((ntp_timestamp >> 16) as u32, arrival));
        self.last_arrival = self.last_arrival.max(arrival);
    }

    /// The extended highest sequence number received.
    pub fn extended_highest_seq(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected: extended highest minus first sequence number, plus one (0 before any packet).
    pub fn expected(&self) -> u32 {
        if !self.started {
            return 0;
        }
        self.extended_highest_seq()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Packets received (duplicates included, as RFC 3550 counts them).
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Cumulative packets lost: expected minus received, negative when duplicates outnumber losses.
    pub fn lost(&self) -> i64 {
        i64::from(self.expected()) - i64::from(self.received)
    }

    /// Interarrival jitter in timestamp units (samples).
    pub fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }

    /// The report block for this source, using the latest arrival time seen as "now" for DLSR.
    /// Starts a new interval for the fraction lost.
    pub fn report_block(&mut self, ssrc: u32) -> ReportBlock {
        self.report_block_at(ssrc, self.last_arrival)
    }

    /// The report block for this source with DLSR computed at `now` (samples, same origin as arrivals).
    /// Starts a new interval for the fraction lost.
    pub fn report_block_at(&mut self, ssrc: u32, now: u64) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        let (lsr, dlsr) = match self.last_sr {
            Some((lsr, at)) => (lsr, samples_to_dlsr(now.saturating_sub(at))),
            None => (0, 0),
        };
        ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: self.lost().clamp(-0x80_0000, 0x7F_FFFF) as i32,
            highest_seq: self.extended_highest_seq(),
            jitter: self.jitter(),
            lsr,
            dlsr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u32) -> ReportBlock {
        ReportBlock {
            ssrc: n,
            fraction_lost: 12,
            cumulative_lost: -3,
            highest_seq: 70_000 + n,
            jitter: 44,
            lsr: 0x1234_5678,
            dlsr: 65536,
        }
    }

    #[test]
    fn compound_sr_sdes_bye_round_trips() {
        let sr = SenderReport {
            ssrc: 7,
            ntp_timestamp: 0x0102_0304_0506_0708,
            rtp_timestamp: 160_000,
            packet_count: 1000,
            octet_count: 160_000,
            reports: vec![block(1), block(2)],
        };
        let mut out = vec![];
        write_sender_report(&sr, &mut out);
        assert_eq!(out.len(), 28 + 48);
        write_sdes_cname(7, "kefu@10.0.0.1", &mut out);
        write_bye(&[7, 8], &mut out);
        let parsed = parse_compound(&out).unwrap();
        assert_eq!(
            parsed,
            vec![
                RtcpPacket::SenderReport(sr),
                RtcpPacket::Other {
                    packet_type: PT_SDES
                },
                RtcpPacket::Bye { ssrcs: vec![7, 8] },
            ]
        );
    }

    #[test]
    fn receiver_report_round_trips_and_clamps_24_bit_loss() {
        let mut b = block(3);
        b.cumulative_lost = 10_000_000;
        let rr = ReceiverReport {
            ssrc: 9,
            reports: vec![b],
        };
        let mut out = vec![];
        write_receiver_report(&rr, &mut out);
        let parsed = parse_compound(&out).unwrap();
        let RtcpPacket::ReceiverReport(got) = &parsed[0] else {
            panic!("{parsed:?}")
        };
        assert_eq!(got.reports[0].cumulative_lost, 0x7F_FFFF);
        b.cumulative_lost = -20_000_000;
        let mut out = vec![];
        write_receiver_report(
            &ReceiverReport {
                ssrc: 9,
                reports: vec![b],
            },
            &mut out,
        );
        let RtcpPacket::ReceiverReport(got) = &parse_compound(&out).unwrap()[0] else {
            panic!()
        };
        assert_eq!(got.reports[0].cumulative_lost, -0x80_0000);
    }

    #[test]
    fn writers_cap_the_count_field() {
        let rr = ReceiverReport {
            ssrc: 1,
            reports: (0..40).map(block).collect(),
        };
        let mut out = vec![];
        write_receiver_report(&rr, &mut out);
        let RtcpPacket::ReceiverReport(got) = &parse_compound(&out).unwrap()[0] else {
            panic!()
        };
        assert_eq!(got.reports.len(), MAX_REPORT_BLOCKS);
    }

    #[test]
    fn malformed_compound_packets_are_rejected() {
        assert_eq!(parse_compound(&[]), Err(RtcpError::Empty));
        let mut rr = vec![];
        write_receiver_report(
            &ReceiverReport {
                ssrc: 1,
                reports: vec![],
            },
            &mut rr,
        );
        let mut trailing = rr.clone();
        trailing.extend_from_slice(&[0x80, 0xC8]);
        assert_eq!(
            parse_compound(&trailing),
            Err(RtcpError::TooShort {
                offset: 8,
                remaining: 2
            })
        );
        let mut v1 = rr.clone();
        v1[0] = 0x40;
        assert!(matches!(
            parse_compound(&v1),
            Err(RtcpError::BadVersion { version: 1, .. })
        ));
        let mut long = rr.clone();
        long[3] = 5;
        assert!(matches!(
            parse_compound(&long),
            Err(RtcpError::Truncated { length: 24, .. })
        ));
        let mut counted = rr.clone();
        counted[0] |= 1; // claims a report block that is not there
        assert!(matches!(
            parse_compound(&counted),
            Err(RtcpError::CountTooLarge { count: 1, .. })
        ));
        let mut padded = rr.clone();
        padded[0] |= 0x20;
        padded[7] = 9;
        assert!(matches!(
            parse_compound(&padded),
            Err(RtcpError::BadPadding { padding: 9, .. })
        ));
    }

    #[test]
    fn in_order_stream_has_no_loss() {
        let mut s = ReceptionStats::new();
        for i in 0..100u16 {
            let seq = 65_500u16.wrapping_add(i);
            s.on_packet(seq, u32::from(i) * 160, u64::from(i) * 160);
        }
        assert_eq!(s.expected(), 100);
        assert_eq!(s.received(), 100);
        assert_eq!(s.lost(), 0);
        assert_eq!(s.jitter(), 0);
        let b = s.report_block(42);
        assert_eq!(b.ssrc, 42);
        assert_eq!(b.fraction_lost, 0);
        assert_eq!(b.cumulative_lost, 0);
        // Wrapped once: cycles count in the upper 16 bits.
        assert_eq!(
            b.highest_seq,
            (1 << 16) + u32::from(65_500u16.wrapping_add(99))
        );
    }

    #[test]
    fn loss_fraction_is_per_interval_and_cumulative_overall() {
        let mut s = ReceptionStats::new();
        // 100 packets, every 4th lost: 25 % loss.
        for i in 0..100u16 {
            if i % 4 != 3 {
                s.on_packet(i, u32::from(i) * 160, u64::from(i) * 160);
            }
        }
        let b = s.report_block(1);
        assert_eq!(s.expected(), 99); // highest received is 98
        assert_eq!(b.cumulative_lost, 24);
        assert_eq!(b.fraction_lost, (24 * 256 / 99) as u8);
        // Next interval: only packet 99, lost in the previous one, is missing: 1 of 101.
        for i in 100..200u16 {
            s.on_packet(i, u32::from(i) * 160, u64::from(i) * 160);
        }
        let b = s.report_block(1);
        assert_eq!(b.fraction_lost, (256 / 101) as u8);
        assert_eq!(b.cumulative_lost, 25);
        // And then nothing lost.
        for i in 200..300u16 {
            s.on_packet(i, u32::from(i) * 160, u64::from(i) * 160);
        }
        assert_eq!(s.report_block(1).fraction_lost, 0);
    }

    #[test]
    fn duplicates_make_loss_negative_and_reordering_is_not_loss() {
        let mut s = ReceptionStats::new();
        for seq in [0u16, 1, 3, 2, 4, 4, 4] {
            s.on_packet(seq, u32::from(seq) * 160, u64::from(seq) * 160);
        }
        assert_eq!(s.expected(), 5);
        assert_eq!(s.received(), 7);
        assert_eq!(s.lost(), -2);
        assert_eq!(s.report_block(1).fraction_lost, 0);
    }

    #[test]
    fn jitter_follows_rfc_3550_a8() {
        // Every other packet arrives 80 samples late: |D| = 80 for every packet after the first.
        let mut s = ReceptionStats::new();
        let mut expected = 0.0f64;
        for i in 0..200u32 {
            let late = if i % 2 == 1 { 80 } else { 0 };
            s.on_packet(i as u16, i * 160, u64::from(i * 160 + late));
            if i > 0 {
                expected += (80.0 - expected) / 16.0;
            }
        }
        assert!(
            (f64::from(s.jitter()) - expected).abs() <= 1.0,
            "{} vs {expected}",
            s.jitter()
        );
        assert!(s.jitter() >= 78);
    }

    #[test]
    fn sequence_restart_is_confirmed_by_two_packets() {
        let mut s = ReceptionStats::new();
        for i in 0..10u16 {
            s.on_packet(i, 0, 0);
        }
        s.on_packet(40_000, 0, 0); // a stray: ignored
        assert_eq!(s.received(), 10);
        s.on_packet(30_000, 0, 0);
        s.on_packet(30_001, 0, 0); // confirmed: restart
        assert_eq!(s.expected(), 1);
        assert_eq!(s.received(), 1);
        assert_eq!(s.extended_highest_seq(), 30_001);
    }

    #[test]
    fn lsr_and_dlsr_come_from_the_last_sender_report() {
        let mut s = ReceptionStats::new();
        assert_eq!(s.report_block(1).lsr, 0);
        s.on_sender_report(0xAAAA_BBBB_CCCC_DDDD, 8000);
        let b = s.report_block_at(1, 8000 + 4000);
        assert_eq!(b.lsr, 0xBBBB_CCCC);
        assert_eq!(b.dlsr, 32768); // half a second
    }
}
