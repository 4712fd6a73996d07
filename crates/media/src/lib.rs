//! Media building blocks of kefu's telephony engine.
//!
//! Everything here is sans-I/O and clock-free: packets and samples come in as byte and sample slices,
//! time comes in as sample counts or tick numbers, and every result is deterministic. The telephony
//! runtime owns the sockets, the timers and the threads; this crate owns the formats and the signal
//! processing:
//!
//! - [`g711`]: PCMU/PCMA (ITU-T G.711) encode and decode.
//! - [`rtp`], [`rtcp`]: RTP headers and RTCP SR/RR/BYE/SDES (RFC 3550, RFC 5761 demultiplexing) and
//!   RFC 3550 reception statistics.
//! - [`telephone_event`]: RFC 4733 DTMF events, a receiver that reports each key press once and a sender.
//! - [`dtmf`]: in-band DTMF detection (Goertzel) for peers that do not send RFC 4733.
//! - [`tone`]: tone generation and tone measurement (also used by tests that check audio end to end).
//! - [`jitter`]: a per-leg jitter buffer that turns arriving packets into one frame per 20 ms tick.
//! - [`mixer`]: N-party mix-minus for conferences, and mixing with per-party audiences (mute, listen,
//!   whisper, hold).
//! - [`sdp`]: audio-only SDP parsing, printing and offer/answer (RFC 4566, RFC 3264).
//! - [`wav`]: prompt loading (any common WAV, resampled to 8 kHz) and call recording.
//! - [`silence`]: silence detection for "caller said nothing" and end-of-recording decisions.
//! - [`fuzzing`]: the properties the fuzz targets check, shared with the stable corpus test.

pub mod dtmf;
pub mod fuzzing;
pub mod g711;
pub mod jitter;
pub mod mixer;
pub mod rtcp;
pub mod rtp;
pub mod sdp;
pub mod silence;
pub mod telephone_event;
pub mod tone;
pub mod wav;

/// The sample rate of every signal in this crate (G.711 narrowband).
pub const SAMPLE_RATE: u32 = 8000;

/// Samples in one 20 ms frame at [`SAMPLE_RATE`]: the unit the runtime ticks in.
pub const FRAME_SAMPLES: usize = 160;

/// The audio codecs kefu speaks: G.711 µ-law and A-law, with their static RTP payload types (RFC 3551).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, payload type 0.
    Pcmu,
    /// G.711 A-law, payload type 8.
    Pcma,
}

impl Codec {
    /// The static RTP payload type: 0 for PCMU, 8 for PCMA.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name used in SDP `a=rtpmap` lines.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The codec of a static payload type, if it is one of ours.
    pub fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The codec with this SDP encoding name (case-insensitive, as RFC 4566 says).
    pub fn from_encoding_name(name: &str) -> Option<Codec> {
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Codec::Pcmu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Codec::Pcma)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_payload_types_and_names_round_trip() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            assert_eq!(Codec::from_payload_type(codec.payload_type()), Some(codec));
            assert_eq!(
                Codec::from_encoding_name(codec.encoding_name()),
                Some(codec)
            );
            assert_eq!(
                Codec::from_encoding_name(&codec.encoding_name().to_lowercase()),
                Some(codec)
            );
        }
        assert_eq!(Codec::Pcmu.payload_type(), 0);
        assert_eq!(Codec::Pcma.payload_type(), 8);
        assert_eq!(Codec::from_payload_type(18), None);
        assert_eq!(Codec::from_encoding_name("G729"), None);
    }
}
