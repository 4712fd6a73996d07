//! Conference mixing: N-party mix-minus, where every participant hears the sum of everybody else.
//!
//! Sums are accumulated in `i32` and clamped once at the end, so loud parties saturate instead of
//! wrapping around (which would be a loud click). One pass computes the total; each output is the
//! total minus its own input, so mixing N parties costs O(N) frames, not O(N²).

use crate::FRAME_SAMPLES;

const FRAME: usize = FRAME_SAMPLES;

/// Adds a frame into an accumulator (a shorter frame adds to the first samples only).
pub fn mix_into(acc: &mut [i32; FRAME], frame: &[i16]) {
    for (a, &x) in acc.iter_mut().zip(frame) {
        *a += i32::from(x);
    }
}

/// Clamps an accumulator to 16-bit samples.
pub fn clamp_into(acc: &[i32; FRAME], out: &mut [i16; FRAME]) {
    for (o, &a) in out.iter_mut().zip(acc) {
        *o = a.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
    }
}

/// Mix-minus: `outputs[i]` is the saturating sum of every present input except `inputs[i]`.
///
/// `None` is a party with nothing to say this tick (muted, or its jitter buffer gave silence); it
/// still gets everybody else. Inputs shorter than a frame are zero-padded. Outputs beyond the inputs
/// (listeners without an input, e.g. a supervisor listening in) get the full mix; inputs beyond the
/// outputs are mixed but get no output.
pub fn mix_minus(inputs: &[Option<&[i16]>], outputs: &mut [[i16; FRAME]]) {
    let mut total = [0i32; FRAME];
    for frame in inputs.iter().flatten() {
        mix_into(&mut total, frame);
    }
    for (i, out) in outputs.iter_mut().enumerate() {
        match inputs.get(i).copied().flatten() {
            Some(own) => {
                let mut acc = total;
                for (a, &x) in acc.iter_mut().zip(own) {
                    *a -= i32::from(x);
                }
                clamp_into(&acc, out);
            }
            None => clamp_into(&total, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{sine, tone_present};

    fn tone(freq: f64) -> [i16; FRAME] {
        let mut f = [0i16; FRAME];
        sine(freq, 8000, 0, &mut f);
        f
    }

    #[test]
    fn two_parties_hear_each_other_not_themselves() {
        let (a, b) = (tone(500.0), tone(1500.0));
        let mut out = [[0i16; FRAME]; 2];
        mix_minus(&[Some(&a), Some(&b)], &mut out);
        assert_eq!(out[0], b);
        assert_eq!(out[1], a);
        assert!(tone_present(&out[0], 1500.0) && !tone_present(&out[0], 500.0));
    }

    #[test]
    fn five_parties_with_one_silent() {
        let freqs = [400.0, 800.0, 1200.0, 2000.0];
        let frames: Vec<[i16; FRAME]> = freqs.iter().map(|&f| tone(f)).collect();
        let mut inputs: Vec<Option<&[i16]>> = frames.iter().map(|f| Some(&f[..])).collect();
        inputs.insert(2, None);
        let mut out = [[0i16; FRAME]; 6];
        mix_minus(&inputs, &mut out);
        let speakers = [Some(400.0), Some(800.0), None, Some(1200.0), Some(2000.0)];
        for (i, own) in speakers.iter().enumerate() {
            for (j, other) in speakers.iter().enumerate() {
                if let Some(f) = other {
                    assert_eq!(
                        tone_present(&out[i], *f),
                        i != j,
                        "party {i} hearing {f} Hz"
                    );
                }
            }
            if let Some(f) = own {
                assert!(!tone_present(&out[i], *f));
            }
        }
        // The silent party and the extra listener hear all four.
        for listener in [2, 5] {
            assert!(freqs.iter().all(|&f| tone_present(&out[listener], f)));
        }
    }

    #[test]
    fn clipping_saturates_and_never_wraps() {
        let loud = [30_000i16; FRAME];
        let quiet_negative = [-30_000i16; FRAME];
        let mut out = [[0i16; FRAME]; 4];
        mix_minus(&[Some(&loud), Some(&loud), Some(&loud), None], &mut out);
        assert!(out[0].iter().all(|&x| x == i16::MAX));
        assert!(out[3].iter().all(|&x| x == i16::MAX));
        mix_minus(
            &[
                Some(&quiet_negative),
                Some(&quiet_negative),
                Some(&quiet_negative),
            ],
            &mut out[..3],
        );
        assert!(out[0].iter().all(|&x| x == i16::MIN));
        // Opposite extremes cancel exactly because the sum is taken before clamping.
        mix_minus(
            &[
                Some(&loud),
                Some(&loud),
                Some(&quiet_negative),
                Some(&quiet_negative),
            ],
            &mut out,
        );
        assert!(out[0].iter().all(|&x| x == -30_000));
    }

    #[test]
    fn short_inputs_are_zero_padded() {
        let a = [1000i16; 80];
        let b = [7i16; FRAME];
        let mut out = [[0i16; FRAME]; 2];
        mix_minus(&[Some(&a), Some(&b)], &mut out);
        assert!(out[1][..80].iter().all(|&x| x == 1000));
        assert!(out[1][80..].iter().all(|&x| x == 0));
        assert!(out[0].iter().all(|&x| x == 7));
    }
}
