//! RTP fixed header (RFC 3550 §5.1) and RTP/RTCP demultiplexing on one port (RFC 5761 §4).
//!
//! Hand-written rather than wrapping a crate: the header is twelve bytes plus three optional parts
//! (CSRC list, one extension, padding), parsing borrows the payload without copying, and every way a
//! packet can be malformed gets its own error. Parsing validates version 2, that the CSRC list and the
//! extension fit, and that the padding count is neither zero nor longer than the payload; CSRCs and
//! the extension are skipped (kefu neither mixes upstream sources nor uses header extensions).

use thiserror::Error;

/// Length of the fixed RTP header.
pub const HEADER_LEN: usize = 12;

/// The fields of an RTP header that kefu reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtpHeader {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// Why a datagram is not an RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtpError {
    #[error("RTP packet of {0} bytes is shorter than the 12-byte header")]
    TooShort(usize),
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    #[error("RTP CSRC list of {count} entries does not fit in {len} bytes")]
    TruncatedCsrc { count: usize, len: usize },
    #[error("RTP header extension does not fit in {len} bytes")]
    TruncatedExtension { len: usize },
    #[error("RTP padding of {padding} bytes does not fit a {available}-byte payload")]
    BadPadding { padding: usize, available: usize },
}

/// Parses an RTP packet into its header and payload (CSRCs, extension and padding removed).
pub fn parse(buf: &[u8]) -> Result<(RtpHeader, &[u8]), RtpError> {
    if buf.len() < HEADER_LEN {
        return Err(RtpError::TooShort(buf.len()));
    }
    let version = buf[0] >> 6;
    if version != 2 {
        return Err(RtpError::BadVersion(version));
    }
    let has_padding = buf[0] & 0x20 != 0;
    let has_extension = buf[0] & 0x10 != 0;
    let csrc_count = usize::from(buf[0] & 0x0F);

    let mut start = HEADER_LEN + 4 * csrc_count;
    if buf.len() < start {
        return Err(RtpError::TruncatedCsrc {
            count: csrc_count,
            len: buf.len(),
        });
    }
    if has_extension {
        // 16 bits profile-defined, 16 bits length in 32-bit words, then the words.
        let words = buf
            .get(start + 2..start + 4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or(RtpError::TruncatedExtension { len: buf.len() })?;
        start += 4 + 4 * words;
        if buf.len() < start {
            return Err(RtpError::TruncatedExtension { len: buf.len() });
        }
    }
    let mut end = buf.len();
    if has_padding {
        let padding = usize::from(buf[end - 1]);
        let available = end - start;
        if padding == 0 || padding > available {
            return Err(RtpError::BadPadding { padding, available });
        }
        end -= padding;
    }

    let header = RtpHeader {
        marker: buf[1] & 0x80 != 0,
        payload_type: buf[1] & 0x7F,
        sequence: u16::from_be_bytes([buf[2], buf[3]]),
        timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
        ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
    };
    Ok((header, &buf[start..end]))
}

/// Writes a version-2 RTP packet (no padding, extension or CSRCs) into `out`, clearing it first.
/// The payload type is masked to 7 bits.
pub fn write(h: &RtpHeader, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(HEADER_LEN + payload.len());
    out.push(0x80);
    out.push(u8::from(h.marker) << 7 | (h.payload_type & 0x7F));
    out.extend_from_slice(&h.sequence.to_be_bytes());
    out.extend_from_slice(&h.timestamp.to_be_bytes());
    out.extend_from_slice(&h.ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

/// RFC 5761 §4: with RTP and RTCP on one port, a packet whose second byte is 192..=223 (RTCP packet
/// types 192-223, which RTP payload types 64-95 with the marker bit would collide with) is RTCP.
pub fn is_rtcp(buf: &[u8]) -> bool {
    buf.len() >= 2 && (192..=223).contains(&buf[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: 8,
            sequence: 0xBEEF,
            timestamp: 0x0102_0304,
            ssrc: 0xDEAD_BEEF,
        }
    }

    #[test]
    fn write_then_parse_round_trips() {
        let mut out = vec![1, 2, 3];
        write(&header(), &[9; 160], &mut out);
        assert_eq!(out.len(), 172, "write clears the buffer first");
        assert_eq!(&out[..4], &[0x80, 0x88, 0xBE, 0xEF]);
        let (h, payload) = parse(&out).unwrap();
        assert_eq!(h, header());
        assert_eq!(payload, &[9; 160][..]);
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped() {
        let mut p = vec![0x80 | 0x20 | 0x10 | 2, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        p.extend_from_slice(&[0xAA; 8]); // two CSRCs
        p.extend_from_slice(&[0xBE, 0xDE, 0x00, 0x01, 1, 2, 3, 4]); // one-word extension
        p.extend_from_slice(b"hello");
        p.extend_from_slice(&[0, 0, 3]); // three bytes of padding
        let (h, payload) = parse(&p).unwrap();
        assert_eq!(payload, b"hello");
        assert_eq!((h.sequence, h.timestamp, h.ssrc), (1, 2, 3));
        assert!(!h.marker);
    }

    #[test]
    fn malformed_packets_are_rejected_with_the_reason() {
        assert_eq!(parse(&[0x80; 11]), Err(RtpError::TooShort(11)));
        let mut p = vec![0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&p), Err(RtpError::BadVersion(1)));
        p[0] = 0x83;
        assert_eq!(
            parse(&p),
            Err(RtpError::TruncatedCsrc { count: 3, len: 12 })
        );
        p[0] = 0x90;
        assert_eq!(parse(&p), Err(RtpError::TruncatedExtension { len: 12 }));
        p.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0]);
        assert_eq!(parse(&p), Err(RtpError::TruncatedExtension { len: 20 }));
        let mut padded = vec![0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0];
        assert_eq!(
            parse(&padded),
            Err(RtpError::BadPadding {
                padding: 0,
                available: 3
            })
        );
        *padded.last_mut().unwrap() = 4;
        assert_eq!(
            parse(&padded),
            Err(RtpError::BadPadding {
                padding: 4,
                available: 3
            })
        );
        *padded.last_mut().unwrap() = 3;
        assert_eq!(parse(&padded).unwrap().1, b"");
    }

    #[test]
    fn rtcp_demultiplexing_follows_rfc_5761() {
        let mut rtp = Vec::new();
        write(&header(), &[], &mut rtp);
        assert!(!is_rtcp(&rtp));
        assert!(is_rtcp(&[0x80, 200, 0, 6]));
        assert!(is_rtcp(&[0x81, 201]));
        assert!(is_rtcp(&[0x80, 223]));
        assert!(!is_rtcp(&[0x80, 224]));
        assert!(!is_rtcp(&[0x80, 191]));
        assert!(!is_rtcp(&[0x80]));
        assert!(!is_rtcp(&[]));
    }
}
