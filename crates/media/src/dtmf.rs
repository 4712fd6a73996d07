//! In-band DTMF detection (ITU-T Q.23/Q.24) for peers that send digits as audio instead of RFC 4733.
//!
//! Goertzel filters at the eight DTMF frequencies over a 205-sample window (25.6 ms, ~39 Hz
//! resolution, enough to separate the rows 73 Hz apart), evaluated every 80 samples (10 ms). A window
//! holds a digit only if all of these hold, which is what keeps speech, music and noise out:
//!
//! - each of the strongest row and column tones is above an absolute level (about -41 dBFS peak);
//! - twist: the column tone is at most 8 dB weaker or 6 dB stronger than the row tone;
//! - relative peak: each is at least 6 dB above every other tone of its group;
//! - the two tones carry at least 60 % of the window's energy.
//!
//! A digit is reported when three consecutive windows agree — tones of 36 ms and more are always
//! caught and tones of 24 ms or less never, as ITU-T Q.24 asks (operate at 40 ms, not at 23 ms) —
//! and once per press: the same digit again needs [`RELEASE_WINDOWS`] windows without it (a pause
//! of about 30 ms) first.

use std::collections::VecDeque;
use std::f32::consts::TAU;

use crate::SAMPLE_RATE;
use crate::tone::{DTMF_COLS, DTMF_KEYS, DTMF_ROWS};

/// Analysis window in samples.
pub const WINDOW: usize = 205;
/// Samples between two evaluations.
pub const HOP: usize = 80;
/// Consecutive windows that must agree before a digit is reported.
pub const PRESENT_WINDOWS: u32 = 3;
/// Consecutive windows without the digit before the same digit can be reported again.
pub const RELEASE_WINDOWS: u32 = 3;

/// Minimum peak amplitude of each tone (≈ -41 dBFS, -38 dBm0).
const MIN_AMPLITUDE: f32 = 300.0;
/// Column power over row power: at most 8 dB below …
const MAX_NORMAL_TWIST: f32 = 6.31;
/// … and 6 dB above.
const MAX_REVERSE_TWIST: f32 = 3.98;
/// The winning tone of a group over every other tone of that group (6 dB).
const RELATIVE_PEAK: f32 = 3.98;
/// Share of the window's energy that the two tones must carry.
const MIN_ENERGY_SHARE: f32 = 0.6;

/// Most digits kept for later `push` calls when one call finds several.
const MAX_PENDING: usize = 16;

/// Detects DTMF digits in 8 kHz audio; feed it every frame of a leg's received audio.
#[derive(Clone, Debug)]
pub struct DtmfDetector {
    coeffs: [f32; 8],
    ring: [f32; WINDOW],
    pos: usize,
    filled: usize,
    since_eval: usize,
    candidate: Option<char>,
    candidate_windows: u32,
    reported: Option<char>,
    absent_windows: u32,
    pending: VecDeque<char>,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl DtmfDetector {
    pub fn new() -> Self {
        let mut coeffs = [0.0f32; 8];
        for (c, f) in coeffs.iter_mut().zip(DTMF_ROWS.iter().chain(&DTMF_COLS)) {
            *c = 2.0 * (TAU * *f as f32 / SAMPLE_RATE as f32).cos();
        }
        Self {
            coeffs,
            ring: [0.0; WINDOW],
            pos: 0,
            filled: 0,
            since_eval: 0,
            candidate: None,
            candidate_windows: 0,
            reported: None,
            absent_windows: 0,
            pending: VecDeque::new(),
        }
    }

    /// Feeds audio (any length; one 20 ms frame at a time is the intended use) and returns a digit
    /// when a new key press was recognized. If one call recognizes several presses (long input), the
    /// later ones are returned by the following calls; [`digits`](Self::digits) returns them all.
    pub fn push(&mut self, pcm: &[i16]) -> Option<char> {
        self.feed(pcm);
        self.pending.pop_front()
    }

    /// Feeds audio and returns every press recognized so far that was not yet returned.
    pub fn digits(&mut self, pcm: &[i16]) -> Vec<char> {
        self.feed(pcm);
        self.pending.drain(..).collect()
    }

    /// Forgets the audio seen so far.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    fn feed(&mut self, pcm: &[i16]) {
        for &x in pcm {
            self.ring[self.pos] = f32::from(x);
            self.pos = (self.pos + 1) % WINDOW;
            self.filled = (self.filled + 1).min(WINDOW);
            self.since_eval += 1;
            if self.filled == WINDOW && self.since_eval >= HOP {
                self.since_eval = 0;
                let digit = self.analyze();
                self.on_window(digit);
            }
        }
    }

    fn on_window(&mut self, digit: Option<char>) {
        if digit.is_some() && digit == self.candidate {
            self.candidate_windows += 1;
        } else {
            self.candidate = digit;
            self.candidate_windows = u32::from(digit.is_some());
        }
        match digit {
            Some(d) => {
                self.absent_windows = 0;
                if self.candidate_windows >= PRESENT_WINDOWS && self.reported != Some(d) {
                    self.reported = Some(d);
                    if self.pending.len() < MAX_PENDING {
                        self.pending.push_back(d);
                    }
                }
            }
            None => {
                self.absent_windows += 1;
                if self.absent_windows >= RELEASE_WINDOWS {
                    self.reported = None;
                }
            }
        }
    }

    /// Runs the eight Goertzel filters over the current window and applies the checks.
    fn analyze(&self) -> Option<char> {
        let mut s1 = [0.0f32; 8];
        let mut s2 = [0.0f32; 8];
        let mut energy = 0.0f32;
        let (newer, older) = self.ring.split_at(self.pos);
        for &x in older.iter().chain(newer) {
            energy += x * x;
            for k in 0..8 {
                let s0 = x + self.coeffs[k] * s1[k] - s2[k];
                s2[k] = s1[k];
                s1[k] = s0;
            }
        }
        // |X(f)|², which for a sine of peak A is (A·N/2)².
        let mut power = [0.0f32; 8];
        for k in 0..8 {
            power[k] = s1[k] * s1[k] + s2[k] * s2[k] - self.coeffs[k] * s1[k] * s2[k];
        }
        let (rows, cols) = power.split_at(4);
        let (row, row_power) = strongest(rows);
        let (col, col_power) = strongest(cols);

        let n = WINDOW as f32;
        let min_power = (MIN_AMPLITUDE * n / 2.0).powi(2);
        if row_power < min_power || col_power < min_power {
            return None;
        }
        if col_power * MAX_NORMAL_TWIST < row_power || col_power > row_power * MAX_REVERSE_TWIST {
            return None;
        }
        let dominates = |group: &[f32], best: usize, p: f32| {
            group
                .iter()
                .enumerate()
                .all(|(i, &q)| i == best || q * RELATIVE_PEAK <= p)
        };
        if !dominates(rows, row, row_power) || !dominates(cols, col, col_power) {
            return None;
        }
        // A sine's energy over the window is |X|² · 2 / N.
        if (row_power + col_power) * 2.0 / n < MIN_ENERGY_SHARE * energy {
            return None;
        }
        Some(DTMF_KEYS[row][col])
    }
}

fn strongest(group: &[f32]) -> (usize, f32) {
    group.iter().copied().enumerate().fold(
        (0, f32::MIN),
        |best, (i, p)| if p > best.1 { (i, p) } else { best },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{dtmf_tone, sine};

    const KEYS: &str = "123A456B789C*0#D";

    /// A deterministic generator of white noise (xorshift + sum of uniforms, roughly Gaussian).
    struct Noise(u64);
    impl Noise {
        fn sample(&mut self, rms: f64) -> i16 {
            let mut sum = 0.0;
            for _ in 0..4 {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                sum += (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            }
            // Four uniforms of variance 1/12 each: variance 1/3.
            (sum * rms * 3f64.sqrt()).round().clamp(-32768.0, 32767.0) as i16
        }
        fn add(&mut self, pcm: &mut [i16], rms: f64) {
            for x in pcm {
                *x = x.saturating_add(self.sample(rms));
            }
        }
    }

    /// Feeds `pcm` in 20 ms frames, as the runtime does, and collects the digits.
    fn detect(pcm: &[i16]) -> String {
        let mut d = DtmfDetector::new();
        let mut out = String::new();
        for frame in pcm.chunks(160) {
            out.extend(d.push(frame));
        }
        out.extend(d.digits(&[0; 400]));
        out
    }

    /// Digits of `tone_ms` separated by `gap_ms` of silence.
    fn dial(keys: &str, amplitude: i16, tone_ms: usize, gap_ms: usize) -> Vec<i16> {
        let mut pcm = vec![0i16; 8 * gap_ms];
        for k in keys.chars() {
            pcm.extend(dtmf_tone(k, amplitude, 8 * tone_ms));
            pcm.extend(vec![0i16; 8 * gap_ms]);
        }
        pcm
    }

    #[test]
    fn all_sixteen_keys_at_minus_10_dbm0() {
        // -10 dBm0 per tone is a peak of about 7200 in G.711's scale (+3.17 dBm0 = full scale).
        assert_eq!(detect(&dial(KEYS, 7200, 100, 100)), KEYS);
    }

    #[test]
    fn quiet_keys_with_noise() {
        let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
        for (amplitude, noise_rms) in [(7200, 700.0), (2300, 300.0), (720, 100.0), (400, 30.0)] {
            let mut pcm = dial(KEYS, amplitude, 80, 60);
            noise.add(&mut pcm, noise_rms);
            assert_eq!(
                detect(&pcm),
                KEYS,
                "tone peak {amplitude}, noise rms {noise_rms}"
            );
        }
    }

    #[test]
    fn through_g711_both_laws() {
        for codec in [crate::Codec::Pcma, crate::Codec::Pcmu] {
            let pcm = dial(KEYS, 3000, 70, 50);
            let mut coded = Vec::new();
            crate::g711::encode(codec, &pcm, &mut coded);
            let mut decoded = Vec::new();
            crate::g711::decode(codec, &coded, &mut decoded);
            assert_eq!(detect(&decoded), KEYS, "{codec:?}");
        }
    }

    #[test]
    fn one_report_per_press_and_repeats_after_a_pause() {
        // A long press is one digit.
        assert_eq!(detect(&dial("5", 5000, 2000, 100)), "5");
        // The same key twice with a 40 ms pause is two digits.
        assert_eq!(detect(&dial("55", 5000, 60, 40)), "55");
        // A 5 ms dropout in the middle of a press is not a new press.
        let mut pcm = dtmf_tone('7', 5000, 1600);
        pcm[800..840].fill(0);
        assert_eq!(detect(&pcm), "7");
    }

    /// ITU-T Q.24: tones of 40 ms must be detected, tones of 23 ms or less must not; checked at
    /// every alignment of the tone to the 10 ms evaluation grid.
    #[test]
    fn tone_duration_limits() {
        for (ms, expected) in [(23, 0), (40, 80), (50, 80)] {
            let detected = (0..80)
                .filter(|&offset| {
                    let mut pcm = vec![0i16; 400 + offset];
                    pcm.extend(dtmf_tone('9', 5000, ms * 8));
                    pcm.extend(vec![0i16; 400]);
                    !detect(&pcm).is_empty()
                })
                .count();
            assert_eq!(
                detected, expected,
                "{ms} ms tones detected at {detected} of 80 alignments"
            );
        }
    }

    #[test]
    fn no_digits_in_white_noise() {
        let mut noise = Noise(1);
        for rms in [100.0, 1000.0, 8000.0] {
            let mut pcm = vec![0i16; 8000 * 10];
            noise.add(&mut pcm, rms);
            assert_eq!(detect(&pcm), "", "noise rms {rms}");
        }
    }

    #[test]
    fn no_digits_in_single_tones_or_chords() {
        let mut one_khz = vec![0i16; 8000 * 3];
        sine(1000.0, 10_000, 0, &mut one_khz);
        assert_eq!(detect(&one_khz), "");
        // Every DTMF frequency alone (a single tone is not a digit).
        for f in DTMF_ROWS.iter().chain(&DTMF_COLS) {
            let mut t = vec![0i16; 8000];
            sine(*f, 8000, 0, &mut t);
            assert_eq!(detect(&t), "", "{f} Hz alone");
        }
        // A major chord with its octave, and a chord containing a row and a column frequency among
        // others (too little of the energy in the DTMF pair).
        for chord in [
            &[440.0, 554.37, 659.25, 880.0][..],
            &[697.0, 1209.0, 1000.0, 1800.0, 400.0][..],
        ] {
            let mut pcm = vec![0i16; 8000 * 2];
            let mut t = vec![0i16; pcm.len()];
            for f in chord {
                sine(*f, 5000, 0, &mut t);
                for (p, x) in pcm.iter_mut().zip(&t) {
                    *p = p.saturating_add(*x);
                }
            }
            assert_eq!(detect(&pcm), "", "chord {chord:?}");
        }
    }

    #[test]
    fn twist_limits() {
        // Column 10 dB weaker than the row: rejected; 4 dB weaker: accepted.
        for (col_amplitude, expected) in [(2300, ""), (4600, "1")] {
            let mut row = vec![0i16; 800];
            let mut col = vec![0i16; 800];
            sine(697.0, 7300, 0, &mut row);
            sine(1209.0, col_amplitude, 0, &mut col);
            let pcm: Vec<i16> = row.iter().zip(&col).map(|(a, b)| a + b).collect();
            assert_eq!(detect(&pcm), expected, "column peak {col_amplitude}");
        }
    }

    #[test]
    fn push_returns_digits_found_in_one_long_call_one_by_one() {
        let mut d = DtmfDetector::new();
        let pcm = dial("123", 5000, 80, 80);
        assert_eq!(d.push(&pcm), Some('1'));
        assert_eq!(d.push(&[]), Some('2'));
        assert_eq!(d.push(&[]), Some('3'));
        assert_eq!(d.push(&[]), None);
    }
}
