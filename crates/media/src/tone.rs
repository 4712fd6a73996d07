//! Tone generation and measurement at 8 kHz: sines and DTMF digits (ITU-T Q.23 frequencies) for
//! prompts, in-band digits and tests, and the Goertzel algorithm to measure one frequency.
//!
//! [`goertzel_power`] and [`tone_present`] are what end-to-end tests use to check audio content
//! ("the caller hears the 1 kHz test tone", "the agent does not hear herself").

use std::f64::consts::TAU;

use crate::SAMPLE_RATE;

/// DTMF row (low group) frequencies in Hz.
pub const DTMF_ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// DTMF column (high group) frequencies in Hz.
pub const DTMF_COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
/// The keypad: `DTMF_KEYS[row][col]`.
pub const DTMF_KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

const FULL_SCALE: f64 = 32768.0;

/// The (row, column) frequencies of a DTMF key; `a`-`d` are accepted as `A`-`D`.
pub fn dtmf_frequencies(digit: char) -> Option<(f64, f64)> {
    let digit = digit.to_ascii_uppercase();
    DTMF_KEYS.iter().enumerate().find_map(|(r, row)| {
        row.iter()
            .position(|&k| k == digit)
            .map(|c| (DTMF_ROWS[r], DTMF_COLS[c]))
    })
}

/// Fills `out` with a sine of `freq_hz` and peak `amplitude`, continuing the phase at `start_sample`
/// (so consecutive frames generated with increasing `start_sample` join without clicks).
pub fn sine(freq_hz: f64, amplitude: i16, start_sample: u64, out: &mut [i16]) {
    let rate = f64::from(SAMPLE_RATE);
    for (i, o) in out.iter_mut().enumerate() {
        let n = start_sample.wrapping_add(i as u64);
        // Reduce the phase to one cycle first, so long calls keep full precision.
        let cycles = (freq_hz * (n % u64::from(SAMPLE_RATE)) as f64 / rate).fract()
            + (freq_hz * (n / u64::from(SAMPLE_RATE)) as f64).fract();
        *o = (f64::from(amplitude) * (TAU * cycles).sin()).round() as i16;
    }
}

/// `samples` samples of a DTMF key: both tones with peak `amplitude` each (the sum saturates at full
/// scale). An unknown key gives an empty vector.
pub fn dtmf_tone(digit: char, amplitude: i16, samples: usize) -> Vec<i16> {
    let Some((low, high)) = dtmf_frequencies(digit) else {
        return Vec::new();
    };
    let mut a = vec![0i16; samples];
    let mut b = vec![0i16; samples];
    sine(low, amplitude, 0, &mut a);
    sine(high, amplitude, 0, &mut b);
    for (x, y) in a.iter_mut().zip(&b) {
        *x = x.saturating_add(*y);
    }
    a
}

/// The Goertzel filter's squared magnitude at `freq_hz`, unnormalized.
fn goertzel_raw(pcm: &[i16], freq_hz: f64) -> f64 {
    let coeff = 2.0 * (TAU * freq_hz / f64::from(SAMPLE_RATE)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in pcm {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// The power of the `freq_hz` component of `pcm`, relative to a full-scale sine: a sine of peak `A`
/// at that frequency gives `(A / 32768)²`, so 1.0 is 0 dBFS and 1e-4 is -40 dBFS. The frequency
/// resolution is about `8000 / pcm.len()` Hz. Empty input gives 0.
pub fn goertzel_power(pcm: &[i16], freq_hz: f64) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    let n = pcm.len() as f64;
    goertzel_raw(pcm, freq_hz) * 4.0 / (n * n * FULL_SCALE * FULL_SCALE)
}

/// Mean power of `pcm` relative to full scale (a full-scale square wave is 1.0, a full-scale sine 0.5).
pub fn mean_power(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    let sum: f64 = pcm.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    sum / (pcm.len() as f64 * FULL_SCALE * FULL_SCALE)
}

/// Block length for [`tone_present`]: 50 ms, a 20 Hz resolution that tolerates phase jumps between
/// blocks (lost or concealed packets).
const PRESENCE_BLOCK: usize = 400;
/// The tone must be at least -40 dBFS …
const PRESENCE_MIN_POWER: f64 = 1e-4;
/// … and carry at least 5 % of the signal's power (so it is found in a mix of many parties but not in
/// noise or in a different tone).
const PRESENCE_MIN_SHARE: f64 = 0.05;

/// Whether a tone of `freq_hz` is clearly present in `pcm`: measured block by block (50 ms), its
/// power over the whole signal must be at least -40 dBFS and at least 5 % of the signal's power.
/// A tone 40 Hz or more away, noise, or silence is not "present". Needs at least 10 ms of audio.
pub fn tone_present(pcm: &[i16], freq_hz: f64) -> bool {
    if pcm.len() < 80 {
        return false;
    }
    let blocks: Vec<&[i16]> = if pcm.len() < PRESENCE_BLOCK {
        vec![pcm]
    } else {
        pcm.chunks_exact(PRESENCE_BLOCK).collect()
    };
    let used: usize = blocks.iter().map(|b| b.len()).sum();
    let tone: f64 = blocks
        .iter()
        .map(|b| goertzel_power(b, freq_hz) * b.len() as f64)
        .sum::<f64>()
        / used as f64;
    let total: f64 = blocks
        .iter()
        .map(|b| mean_power(b) * b.len() as f64)
        .sum::<f64>()
        / used as f64;
    // A sine of power p (relative to a full-scale sine) has mean power p / 2.
    tone >= PRESENCE_MIN_POWER && tone / 2.0 >= PRESENCE_MIN_SHARE * total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, amplitude: i16, samples: usize) -> Vec<i16> {
        let mut v = vec![0; samples];
        sine(freq, amplitude, 0, &mut v);
        v
    }

    #[test]
    fn sine_continues_its_phase_across_frames() {
        let whole = tone(1000.0, 10_000, 320);
        let mut a = vec![0; 160];
        let mut b = vec![0; 160];
        sine(1000.0, 10_000, 0, &mut a);
        sine(1000.0, 10_000, 160, &mut b);
        a.extend(b);
        assert_eq!(whole, a);
        // 1 kHz at 8 kHz: period 8 samples.
        assert_eq!(
            &whole[..8],
            &[0, 7071, 10_000, 7071, 0, -7071, -10_000, -7071]
        );
        // A far-away start keeps the phase exact.
        let mut late = vec![0; 8];
        sine(1000.0, 10_000, 8 * 1_000_000_000, &mut late);
        assert_eq!(&late[..], &whole[..8]);
    }

    #[test]
    fn goertzel_power_measures_a_sine_in_dbfs() {
        let t = tone(1000.0, 16_384, 800);
        let p = goertzel_power(&t, 1000.0);
        assert!((p - 0.25).abs() < 0.01, "{p}"); // -6 dBFS
        assert!(goertzel_power(&t, 1500.0) < 1e-6);
        assert!((mean_power(&t) - 0.125).abs() < 0.001);
        assert_eq!(goertzel_power(&[], 1000.0), 0.0);
    }

    #[test]
    fn tone_present_finds_tones_alone_and_in_mixes() {
        let t = tone(1000.0, 8000, 8000);
        assert!(tone_present(&t, 1000.0));
        assert!(!tone_present(&t, 1040.0));
        assert!(!tone_present(&t, 2000.0));
        assert!(!tone_present(&vec![0; 8000], 1000.0));
        // Too quiet: -50 dBFS.
        assert!(!tone_present(&tone(1000.0, 100, 8000), 1000.0));
        // In a mix of three tones, each is present.
        let mix: Vec<i16> = tone(440.0, 6000, 8000)
            .iter()
            .zip(tone(1000.0, 6000, 8000))
            .zip(tone(2500.0, 6000, 8000))
            .map(|((a, b), c)| a + b + c)
            .collect();
        for f in [440.0, 1000.0, 2500.0] {
            assert!(tone_present(&mix, f), "{f}");
        }
        assert!(!tone_present(&mix, 1800.0));
    }

    #[test]
    fn dtmf_tone_has_both_frequencies() {
        let t = dtmf_tone('5', 8000, 800);
        assert_eq!(t.len(), 800);
        assert!(tone_present(&t, 770.0) && tone_present(&t, 1336.0));
        assert!(!tone_present(&t, 697.0) && !tone_present(&t, 1209.0));
        assert_eq!(dtmf_frequencies('d'), Some((941.0, 1633.0)));
        assert!(dtmf_tone('x', 8000, 800).is_empty());
    }
}
