//! G.711 (ITU-T G.711, 1988): µ-law (PCMU) and A-law (PCMA) companding between 16-bit linear PCM and
//! 8-bit codes.
//!
//! Encoding follows the segment/mantissa definition of the standard (on the 14-bit µ-law and 13-bit
//! A-law magnitudes, scaled to 16 bits); decoding returns the centre of each quantization interval and
//! goes through 256-entry tables built at compile time. µ-law clips at ±32635 before encoding, as the
//! standard's 14-bit range ends at 8159 · 4.

use crate::Codec;

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

/// Encodes one linear sample to a µ-law code.
pub fn ulaw_encode(sample: i16) -> u8 {
    // The code depends on the sign and on the clipped magnitude without its two lowest bits.
    let magnitude = i32::from(sample).unsigned_abs().min(ULAW_CLIP as u32);
    let code = ULAW_ENCODE_TABLE[(magnitude >> 2) as usize];
    if sample < 0 { code & 0x7F } else { code }
}

/// µ-law encoding by the standard's segment definition (what [`ULAW_ENCODE_TABLE`] is built from).
const fn ulaw_encode_formula(sample: i16) -> u8 {
    let mut magnitude = sample as i32;
    let sign = if magnitude < 0 {
        magnitude = -magnitude;
        0x80
    } else {
        0x00
    };
    if magnitude > ULAW_CLIP {
        magnitude = ULAW_CLIP;
    }
    let biased = magnitude + ULAW_BIAS;
    // `biased` is in 0x84..=0x7FFF, so `biased >> 7` is in 1..=255 and the segment is its bit length - 1.
    let exponent = 7 - ((biased >> 7) as u8).leading_zeros() as i32;
    let mantissa = (biased >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// Decodes one µ-law code to a linear sample.
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TABLE[usize::from(code)]
}

/// Encodes one linear sample to an A-law code (even bits inverted, as transmitted).
pub fn alaw_encode(sample: i16) -> u8 {
    // A-law works on the 13 most significant bits.
    ALAW_ENCODE_TABLE[((sample >> 3) + 4096) as usize]
}

/// A-law encoding by the standard's segment definition (what [`ALAW_ENCODE_TABLE`] is built from).
const fn alaw_encode_formula(sample: i16) -> u8 {
    // Negative values map to the magnitude one below (-1 -> 0).
    let value = (sample as i32) >> 3;
    let (mask, magnitude) = if value >= 0 {
        (0xD5, value)
    } else {
        (0x55, -value - 1)
    };
    let code = if magnitude >= 0x1000 {
        0x7F
    } else if magnitude < 0x20 {
        // Segments 0 and 1 share the same step size.
        magnitude >> 1
    } else {
        // magnitude is 0x20..=0xFFF: the segment is its bit length - 5 (2..=7).
        let segment = 32 - (magnitude as u32).leading_zeros() as i32 - 5;
        (segment << 4) | ((magnitude >> segment) & 0x0F)
    };
    (code as u8) ^ mask
}

/// Decodes one A-law code to a linear sample.
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TABLE[usize::from(code)]
}

/// Encodes `pcm` with `codec`, appending one byte per sample to `out`.
pub fn encode(codec: Codec, pcm: &[i16], out: &mut Vec<u8>) {
    out.reserve(pcm.len());
    match codec {
        Codec::Pcmu => out.extend(pcm.iter().map(|&s| ulaw_encode(s))),
        Codec::Pcma => out.extend(pcm.iter().map(|&s| alaw_encode(s))),
    }
}

/// Decodes `data` with `codec`, appending one sample per byte to `out`.
pub fn decode(codec: Codec, data: &[u8], out: &mut Vec<i16>) {
    let table = decode_table(codec);
    out.reserve(data.len());
    out.extend(data.iter().map(|&b| table[usize::from(b)]));
}

/// Decodes into a slice: `out[i] = decode(data[i])` for the shorter of the two lengths. Returns how many
/// samples were written. Allocation-free, for the per-packet path.
pub fn decode_into(codec: Codec, data: &[u8], out: &mut [i16]) -> usize {
    let table = decode_table(codec);
    let n = data.len().min(out.len());
    for (o, &b) in out[..n].iter_mut().zip(&data[..n]) {
        *o = table[usize::from(b)];
    }
    n
}

/// Encodes into a slice: `out[i] = encode(pcm[i])` for the shorter of the two lengths. Returns how many
/// bytes were written.
pub fn encode_into(codec: Codec, pcm: &[i16], out: &mut [u8]) -> usize {
    let n = pcm.len().min(out.len());
    match codec {
        Codec::Pcmu => {
            for (o, &s) in out[..n].iter_mut().zip(&pcm[..n]) {
                *o = ulaw_encode(s);
            }
        }
        Codec::Pcma => {
            for (o, &s) in out[..n].iter_mut().zip(&pcm[..n]) {
                *o = alaw_encode(s);
            }
        }
    }
    n
}

/// The code that decodes to silence (0 for µ-law, ±8 for A-law): what a muted or idle stream carries.
pub fn silence_code(codec: Codec) -> u8 {
    match codec {
        Codec::Pcmu => 0xFF,
        Codec::Pcma => 0xD5,
    }
}

fn decode_table(codec: Codec) -> &'static [i16; 256] {
    match codec {
        Codec::Pcmu => &ULAW_TABLE,
        Codec::Pcma => &ALAW_TABLE,
    }
}

static ULAW_TABLE: [i16; 256] = build_ulaw_table();
static ALAW_TABLE: [i16; 256] = build_alaw_table();
/// µ-law codes of the non-negative magnitudes 0..=32635 in steps of 4 (8 KiB).
static ULAW_ENCODE_TABLE: [u8; 8159] = build_ulaw_encode_table();
/// A-law codes of the 13-bit values -4096..=4095 (8 KiB).
static ALAW_ENCODE_TABLE: [u8; 8192] = build_alaw_encode_table();

const fn build_ulaw_encode_table() -> [u8; 8159] {
    let mut table = [0u8; 8159];
    let mut i = 0;
    while i < 8159 {
        table[i] = ulaw_encode_formula((i * 4) as i16);
        i += 1;
    }
    table
}

const fn build_alaw_encode_table() -> [u8; 8192] {
    let mut table = [0u8; 8192];
    let mut i = 0;
    while i < 8192 {
        table[i] = alaw_encode_formula(((i as i32 - 4096) * 8) as i16);
        i += 1;
    }
    table
}

const fn ulaw_decode_formula(code: u8) -> i16 {
    let code = !code;
    let exponent = (code >> 4) & 0x07;
    let mantissa = (code & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if code & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

const fn alaw_decode_formula(code: u8) -> i16 {
    let code = code ^ 0x55;
    let segment = ((code >> 4) & 0x07) as i32;
    let mantissa = (code & 0x0F) as i32;
    let magnitude = match segment {
        0 => (mantissa << 4) + 8,
        _ => ((mantissa << 4) + 0x108) << (segment - 1),
    };
    if code & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

const fn build_ulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = ulaw_decode_formula(i as u8);
        i += 1;
    }
    table
}

const fn build_alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alaw_decode_formula(i as u8);
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference points of ITU-T G.711 Tables 1 and 2 (decoder output scaled to 16 bits) and the
    /// encoder's behaviour at zero and at the extremes.
    #[test]
    fn known_code_pairs() {
        // µ-law: 0xFF/0x7F are +0/-0, 0x80/0x00 the largest magnitudes.
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0xFE), 8);
        assert_eq!(ulaw_decode(0x7E), -8);
        assert_eq!(ulaw_decode(0xF0), 120);
        assert_eq!(ulaw_decode(0xEF), 132);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(-1), 0x7F);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        // A-law: even bits inverted; 0xD5/0x55 are the smallest magnitudes, 0xAA/0x2A the largest.
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xD4), 24);
        assert_eq!(alaw_decode(0xC5), 264);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn tables_match_the_segment_formulas_for_every_input() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(ulaw_encode(x), ulaw_encode_formula(x), "µ-law {x}");
            assert_eq!(alaw_encode(x), alaw_encode_formula(x), "A-law {x}");
        }
    }

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            let a = alaw_decode(code);
            assert_eq!(
                alaw_encode(a),
                code,
                "A-law code {code:#04x} decodes to {a}"
            );
            let u = ulaw_decode(code);
            // µ-law has two zeros; -0 (0x7F) re-encodes as +0 (0xFF).
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(
                ulaw_encode(u),
                expected,
                "µ-law code {code:#04x} decodes to {u}"
            );
        }
    }

    #[test]
    fn decoded_levels_are_monotonic_and_symmetric() {
        // Positive codes in order of increasing magnitude: µ-law 0xFF down to 0x80, A-law by segment.
        let ulaw: Vec<i16> = (0x80..=0xFFu8).rev().map(ulaw_decode).collect();
        assert!(ulaw.windows(2).all(|w| w[0] < w[1]));
        let alaw: Vec<i16> = (0..128u8).map(|c| alaw_decode((c | 0x80) ^ 0x55)).collect();
        assert!(alaw.windows(2).all(|w| w[0] < w[1]));
        for code in 0..128u8 {
            assert_eq!(ulaw_decode(code), -ulaw_decode(code | 0x80));
            assert_eq!(alaw_decode(code), -alaw_decode(code | 0x80));
        }
    }

    /// The encoder quantizes to the nearest level: every input within the codec's range decodes back to
    /// within half a step (the step doubles with each segment).
    #[test]
    fn quantization_error_is_at_most_half_a_step() {
        for x in i16::MIN..=i16::MAX {
            let u = ulaw_decode(ulaw_encode(x));
            if i32::from(x).abs() <= 32124 {
                let exponent = i32::from((!ulaw_encode(x) >> 4) & 7);
                let half_step = 4 << exponent;
                assert!(
                    (i32::from(x) - i32::from(u)).abs() <= half_step,
                    "µ-law {x} -> {u}"
                );
            }
            let a = alaw_decode(alaw_encode(x));
            if i32::from(x).abs() <= 32256 {
                let segment = i32::from(((alaw_encode(x) ^ 0x55) >> 4) & 7);
                let half_step = 8 << segment.max(1) >> 1;
                assert!(
                    (i32::from(x) - i32::from(a)).abs() <= half_step,
                    "A-law {x} -> {a}"
                );
            }
        }
    }

    #[test]
    fn slices_append_and_match_scalar_functions() {
        let pcm: Vec<i16> = (-8..8).map(|i| i * 4000).collect();
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut bytes = vec![0xAB];
            encode(codec, &pcm, &mut bytes);
            assert_eq!(bytes.len(), pcm.len() + 1);
            assert_eq!(bytes[0], 0xAB, "encode appends");
            let mut fixed = vec![0u8; pcm.len()];
            assert_eq!(encode_into(codec, &pcm, &mut fixed), pcm.len());
            assert_eq!(&bytes[1..], &fixed[..]);

            let mut back = vec![7];
            decode(codec, &bytes[1..], &mut back);
            assert_eq!(back[0], 7, "decode appends");
            let mut into = [0i16; 16];
            assert_eq!(decode_into(codec, &bytes[1..], &mut into), 16);
            assert_eq!(&back[1..], &into[..]);
            for (orig, dec) in pcm.iter().zip(&back[1..]) {
                assert!((i32::from(*orig) - i32::from(*dec)).abs() <= 1024);
            }
            let mut silent = Vec::new();
            decode(codec, &[silence_code(codec)], &mut silent);
            assert!(silent[0].abs() <= 8);
        }
    }
}
