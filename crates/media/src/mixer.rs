//! Conference mixing: N-party mix-minus, where every participant hears the sum of everybody else, and
//! its generalization [`mix`], where each party also has an audience ([`HeardBy`]): everyone (a normal
//! participant), nobody (muted, a supervisor listening in, a party on hold), or one other party (a
//! supervisor whispering to the agent).
//!
//! Sums are accumulated in `i32` and clamped once at the end, so loud parties saturate instead of
//! wrapping around (which would be a loud click). One pass computes the total; each output is the
//! total minus its own input, so mixing N parties costs O(N) frames, not O(N²). Neither function
//! allocates: the runtime calls them for every room every 20 ms.

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

/// Who hears a party of a [`mix`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeardBy {
    /// Every other party: a normal participant.
    Everyone,
    /// Nobody: muted, a supervisor listening in, a party on hold.
    Nobody,
    /// Only the party at this index: a supervisor whispering to the agent. An index out of range, or
    /// the party's own, reaches nobody.
    Only(usize),
}

/// Mix with audiences: `outputs[i]` is the saturating sum of every `inputs[j]`, `j != i`, that
/// `heard_by[j]` lets party `i` hear. Every party hears everyone else who is heard by everyone, plus
/// whoever whispers to it; nobody hears itself.
///
/// Parties are the first `min(inputs.len(), heard_by.len())` entries. Outputs beyond them (listeners
/// without an input) get what everyone hears; parties beyond the outputs are mixed but get no output.
/// A party whose output is not used (a party on hold hears music instead) costs one frame copy.
pub fn mix(inputs: &[[i16; FRAME]], heard_by: &[HeardBy], outputs: &mut [[i16; FRAME]]) {
    let parties = inputs.len().min(heard_by.len());
    let (inputs, heard_by) = (&inputs[..parties], &heard_by[..parties]);
    let mut total = [0i32; FRAME];
    let mut whispers = false;
    for (frame, audience) in inputs.iter().zip(heard_by) {
        match audience {
            HeardBy::Everyone => mix_into(&mut total, frame),
            HeardBy::Only(_) => whispers = true,
            HeardBy::Nobody => {}
        }
    }
    for (i, out) in outputs.iter_mut().enumerate() {
        let mut acc = total;
        if heard_by.get(i) == Some(&HeardBy::Everyone) {
            for (a, &x) in acc.iter_mut().zip(&inputs[i]) {
                *a -= i32::from(x);
            }
        }
        if whispers {
            for (j, (frame, audience)) in inputs.iter().zip(heard_by).enumerate() {
                if j != i && *audience == HeardBy::Only(i) {
                    mix_into(&mut acc, frame);
                }
            }
        }
        clamp_into(&acc, out);
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

    /// Which of the tones `freqs` each output carries.
    fn heard(out: &[[i16; FRAME]], freqs: &[f64]) -> Vec<Vec<bool>> {
        out.iter()
            .map(|o| freqs.iter().map(|&f| tone_present(o, f)).collect())
            .collect()
    }

    // Parties of the call-centre cases: 0 the caller, 1 the agent, 2 the supervisor.
    const CALLER: f64 = 500.0;
    const AGENT: f64 = 1300.0;
    const SUPERVISOR: f64 = 2100.0;
    const FREQS: [f64; 3] = [CALLER, AGENT, SUPERVISOR];

    fn three(heard_by: [HeardBy; 3]) -> Vec<Vec<bool>> {
        let inputs = FREQS.map(tone);
        let mut out = [[0i16; FRAME]; 3];
        mix(&inputs, &heard_by, &mut out);
        heard(&out, &FREQS)
    }

    #[test]
    fn everyone_heard_by_everyone_is_mix_minus() {
        let inputs = FREQS.map(tone);
        let mut out = [[0i16; FRAME]; 3];
        mix(&inputs, &[HeardBy::Everyone; 3], &mut out);
        let mut expected = [[0i16; FRAME]; 3];
        let refs: Vec<Option<&[i16]>> = inputs.iter().map(|f| Some(&f[..])).collect();
        mix_minus(&refs, &mut expected);
        assert_eq!(out, expected);
    }

    #[test]
    fn a_listening_supervisor_hears_both_and_is_heard_by_nobody() {
        use HeardBy::*;
        assert_eq!(
            three([Everyone, Everyone, Nobody]),
            vec![
                vec![false, true, false], // the caller hears the agent
                vec![true, false, false], // the agent hears the caller
                vec![true, true, false],  // the supervisor hears both
            ]
        );
    }

    #[test]
    fn a_whisper_reaches_only_its_party() {
        use HeardBy::*;
        assert_eq!(
            three([Everyone, Everyone, Only(1)]),
            vec![
                vec![false, true, false],
                vec![true, false, true], // the agent hears the caller and the supervisor
                vec![true, true, false],
            ]
        );
    }

    #[test]
    fn barge_is_everyone_and_mute_is_nobody() {
        use HeardBy::*;
        assert_eq!(
            three([Everyone; 3]),
            vec![
                vec![false, true, true],
                vec![true, false, true],
                vec![true, true, false],
            ]
        );
        // The agent mutes: its tone reaches nobody, it still hears both.
        assert_eq!(
            three([Everyone, Nobody, Everyone]),
            vec![
                vec![false, false, true],
                vec![true, false, true],
                vec![true, false, false],
            ]
        );
    }

    #[test]
    fn a_party_on_hold_is_heard_by_nobody() {
        use HeardBy::*;
        // The caller is held (its output is replaced by music; it is still computed).
        let got = three([Nobody, Everyone, Everyone]);
        assert_eq!(got[1], vec![false, false, true]);
        assert_eq!(got[2], vec![false, true, false]);
    }

    #[test]
    fn whispers_to_oneself_or_to_nobody_in_range_reach_nobody() {
        use HeardBy::*;
        let got = three([Everyone, Only(1), Only(7)]);
        assert_eq!(
            got,
            vec![
                vec![false, false, false],
                vec![true, false, false],
                vec![true, false, false],
            ]
        );
    }

    #[test]
    fn extra_outputs_hear_everyone_heard_by_everyone_and_extra_inputs_are_mixed() {
        use HeardBy::*;
        let inputs = FREQS.map(tone);
        let mut out = [[0i16; FRAME]; 4];
        mix(&inputs, &[Everyone, Only(3), Nobody], &mut out);
        // Party 1 whispers to index 3, which is a listener without an input.
        assert_eq!(heard(&out[3..], &FREQS), vec![vec![true, true, false]]);
        // Only two audiences for three inputs: the third input is no party.
        let mut out = [[0i16; FRAME]; 2];
        mix(&inputs, &[Everyone, Everyone], &mut out);
        assert_eq!(
            heard(&out, &FREQS),
            vec![vec![false, true, false], vec![true, false, false]]
        );
    }

    #[test]
    fn a_whisper_saturates_like_the_rest() {
        use HeardBy::*;
        let loud = [[30_000i16; FRAME]; 3];
        let mut out = [[0i16; FRAME]; 3];
        mix(&loud, &[Everyone, Everyone, Only(0)], &mut out);
        assert!(out[0].iter().all(|&x| x == i16::MAX));
        assert!(out[1].iter().all(|&x| x == 30_000));
    }
}
