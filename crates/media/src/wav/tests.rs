use super::*;
use crate::tone::{goertzel_power, sine, tone_present};

/// A WAV file written by hound: `channels` copies of a sine of `freq` at `rate`.
fn pcm_wav(
    rate: u32,
    channels: u16,
    bits: u16,
    freq: f64,
    amplitude: i16,
    seconds: f64,
) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let frames = (f64::from(rate) * seconds) as usize;
    let step = f64::from(SAMPLE_RATE) / f64::from(rate);
    let mut cursor = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for n in 0..frames {
        // The sine helper is at 8 kHz: scale the frequency to get `freq` at `rate`.
        let mut s = [0i16; 1];
        sine(freq * step, amplitude, n as u64, &mut s);
        for _ in 0..channels {
            match bits {
                8 => w.write_sample((s[0] >> 8) as i8).unwrap(),
                16 => w.write_sample(s[0]).unwrap(),
                24 => w.write_sample(i32::from(s[0]) << 8).unwrap(),
                _ => unreachable!(),
            }
        }
    }
    w.finalize().unwrap();
    cursor.into_inner()
}

/// A G.711 WAV file built by hand (hound writes no such files).
fn g711_wav(tag: u16, channels: u16, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(4 + 8 + 18 + 8 + data.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&18u32.to_le_bytes());
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&8000u32.to_le_bytes());
    v.extend_from_slice(&(8000 * u32::from(channels)).to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&8u16.to_le_bytes());
    v.extend_from_slice(&0u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    v
}

/// Power of `freq` in the middle of `pcm` (away from the edges), relative to a full-scale sine.
fn power_at(pcm: &[i16], freq: f64) -> f64 {
    let quarter = pcm.len() / 4;
    goertzel_power(&pcm[quarter..pcm.len() - quarter], freq)
}

#[test]
fn a_1_khz_tone_survives_every_rate_and_layout() {
    for rate in [8000, 16_000, 22_050, 44_100, 48_000] {
        for channels in [1, 2] {
            let pcm = load_prompt(&pcm_wav(rate, channels, 16, 1000.0, 10_000, 0.5)).unwrap();
            assert!(
                (pcm.len() as i64 - 4000).abs() <= 1,
                "{rate} Hz: {} samples",
                pcm.len()
            );
            assert!(tone_present(&pcm, 1000.0), "{rate} Hz x{channels}");
            let level = power_at(&pcm, 1000.0).sqrt() * 32768.0;
            assert!(
                (level - 10_000.0).abs() < 150.0,
                "{rate} Hz x{channels}: level {level}"
            );
        }
    }
}

#[test]
fn content_above_4_khz_does_not_alias() {
    // 4.5 kHz would fold to 3.5 kHz, 6 kHz to 2 kHz, 3.9 kHz stays but is mostly filtered.
    for (rate, freq, alias) in [
        (48_000, 4500.0, 3500.0),
        (44_100, 6000.0, 2000.0),
        (16_000, 6000.0, 2000.0),
        (22_050, 4100.0, 3900.0),
    ] {
        let pcm = load_prompt(&pcm_wav(rate, 1, 16, freq, 20_000, 0.5)).unwrap();
        let leaked = power_at(&pcm, alias);
        // 20000 peak is about -4 dBFS; anything left must be 60 dB below that.
        assert!(
            leaked < 4e-7,
            "{rate} Hz, {freq} Hz -> {alias} Hz: {:.1} dBFS",
            10.0 * leaked.log10()
        );
    }
    let pcm = load_prompt(&pcm_wav(48_000, 1, 16, 3900.0, 20_000, 0.5)).unwrap();
    let kept = power_at(&pcm, 3900.0);
    assert!(
        kept < 0.37 * 0.01,
        "3.9 kHz is attenuated by 20 dB or more: {:.1} dBFS",
        10.0 * kept.log10()
    );
    // The telephone band passes unchanged.
    let pcm = load_prompt(&pcm_wav(44_100, 1, 16, 3000.0, 20_000, 0.5)).unwrap();
    let level = power_at(&pcm, 3000.0).sqrt() * 32768.0;
    assert!((level - 20_000.0).abs() < 1000.0, "3 kHz level {level}");
}

#[test]
fn other_bit_depths_through_hound() {
    for bits in [8, 24] {
        let pcm = load_prompt(&pcm_wav(16_000, 1, bits, 1000.0, 10_000, 0.25)).unwrap();
        assert!(tone_present(&pcm, 1000.0), "{bits}-bit");
    }
}

#[test]
fn g711_wav_files() {
    let mut tone = vec![0i16; 4000];
    sine(1000.0, 8000, 0, &mut tone);
    for (tag, codec) in [(6, Codec::Pcma), (7, Codec::Pcmu)] {
        let mut data = Vec::new();
        g711::encode(codec, &tone, &mut data);
        let pcm = load_prompt(&g711_wav(tag, 1, &data)).unwrap();
        let mut expected = Vec::new();
        g711::decode(codec, &data, &mut expected);
        assert_eq!(pcm, expected);
        // Stereo: both channels averaged.
        let stereo: Vec<u8> = data.iter().flat_map(|&b| [b, b]).collect();
        assert_eq!(load_prompt(&g711_wav(tag, 2, &stereo)).unwrap(), expected);
    }
    let err = load_prompt(&{
        let mut w = g711_wav(6, 1, &[0xD5; 10]);
        w[34] = 16; // bits per sample
        w
    })
    .unwrap_err();
    assert!(err.to_string().contains("16-bit G.711"), "{err}");
}

#[test]
fn recorder_round_trips() {
    let mut tone = vec![0i16; 1000];
    sine(440.0, 12_000, 0, &mut tone);
    let mut file = Cursor::new(Vec::new());
    let mut rec = WavRecorder::new(&mut file).unwrap();
    rec.write(&tone[..160]).unwrap();
    rec.write(&tone[160..]).unwrap();
    rec.write(&[]).unwrap();
    assert_eq!(rec.samples(), 1000);
    assert_eq!(rec.finish().unwrap(), 1000);
    let bytes = file.into_inner();
    assert_eq!(bytes.len(), 44 + 2000);
    assert_eq!(load_prompt(&bytes).unwrap(), tone);
    let spec = hound::WavReader::new(Cursor::new(&bytes)).unwrap().spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (1, 8000, 16)
    );
}

#[test]
fn malformed_and_unsupported_files() {
    let good = pcm_wav(8000, 1, 16, 1000.0, 1000, 0.1);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "no RIFF/WAVE header"),
        (b"RIFF\0\0\0\0WAVE".to_vec(), "no fmt chunk"),
        (good[..36].to_vec(), "no data chunk"),
        (
            {
                let mut v = good.clone();
                v[24..28].copy_from_slice(&7000u32.to_le_bytes());
                v
            },
            "sample rate 7000",
        ),
        (
            {
                let mut v = good.clone();
                v[22..24].copy_from_slice(&9u16.to_le_bytes());
                v
            },
            "9 channels",
        ),
        (
            {
                let mut v = good.clone();
                v[12..16].copy_from_slice(b"junk");
                v
            },
            "data chunk before fmt chunk",
        ),
    ];
    for (bytes, expected) in cases {
        let err = load_prompt(&bytes).unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{err} lacks {expected:?}"
        );
    }
    // A data chunk cut short by a truncated upload is an error, not a shorter prompt.
    assert!(matches!(
        load_prompt(&good[..good.len() - 3]),
        Err(WavError::Hound(_))
    ));
}

#[test]
fn overlong_prompts_are_refused_before_decoding() {
    let mut v = g711_wav(6, 1, &[0xD5; 16]);
    // Claim 11 minutes of data; only 16 bytes are there.
    let claimed = 8000u32 * 660;
    let at = v.len() - 16 - 4;
    v[at..at + 4].copy_from_slice(&claimed.to_le_bytes());
    assert!(
        load_prompt(&v).is_ok(),
        "the claim is cut to the bytes present"
    );
    let long = g711_wav(6, 1, &vec![0xD5; 8000 * 601]);
    assert!(matches!(
        load_prompt(&long),
        Err(WavError::TooLong { seconds: 601 })
    ));
}
