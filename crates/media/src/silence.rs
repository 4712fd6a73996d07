//! Silence detection: how long the audio has stayed below a level, for "the caller said nothing"
//! timeouts in IVR menus and for ending recordings.
//!
//! Levels are in dBFS relative to a full-scale square wave (RMS 32768): a full-scale sine is -3 dBFS,
//! typical speech -20 to -30 dBFS, a quiet line -60 dBFS or less. Time is counted in samples
//! (8 kHz), so it is exact and independent of the frame size.

use crate::SAMPLE_RATE;

/// Counts consecutive silent audio.
#[derive(Clone, Debug)]
pub struct SilenceDetector {
    /// Threshold as mean power relative to full scale.
    threshold: f64,
    silent_samples: u64,
}

impl SilenceDetector {
    /// Frames whose RMS level is below `threshold_dbfs` are silent (-45 dBFS is a good start for
    /// telephone lines).
    pub fn new(threshold_dbfs: f64) -> Self {
        Self {
            threshold: 10f64.powf(threshold_dbfs / 10.0),
            silent_samples: 0,
        }
    }

    /// Adds one frame; returns how many ms of consecutive silence end with it (0 if it is not silent).
    /// An empty frame changes nothing.
    pub fn push(&mut self, frame: &[i16]) -> u32 {
        if !frame.is_empty() {
            if crate::tone::mean_power(frame) < self.threshold {
                self.silent_samples += frame.len() as u64;
            } else {
                self.silent_samples = 0;
            }
        }
        self.silent_ms()
    }

    /// Consecutive silence so far, in ms (saturating).
    pub fn silent_ms(&self) -> u32 {
        u32::try_from(self.silent_samples * 1000 / u64::from(SAMPLE_RATE)).unwrap_or(u32::MAX)
    }

    /// Starts counting afresh.
    pub fn reset(&mut self) {
        self.silent_samples = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::sine;

    #[test]
    fn counts_silence_and_resets_on_sound() {
        let mut d = SilenceDetector::new(-45.0);
        let quiet = [3i16; 160];
        assert_eq!(d.push(&quiet), 20);
        assert_eq!(d.push(&quiet), 40);
        assert_eq!(d.push(&[]), 40);
        let mut speech = [0i16; 160];
        sine(300.0, 3000, 0, &mut speech); // about -21 dBFS
        assert_eq!(d.push(&speech), 0);
        assert_eq!(d.push(&quiet[..80]), 10);
        d.reset();
        assert_eq!(d.silent_ms(), 0);
    }

    #[test]
    fn threshold_is_rms_dbfs() {
        // A sine of peak 184 has RMS 130: 20·log10(130/32768) ≈ -48 dBFS.
        let mut tone = [0i16; 160];
        sine(1000.0, 184, 0, &mut tone);
        assert_eq!(SilenceDetector::new(-45.0).push(&tone), 20);
        assert_eq!(SilenceDetector::new(-50.0).push(&tone), 0);
    }
}
