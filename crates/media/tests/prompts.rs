//! The repository's real prompts (assets/prompts: espeak-ng speech in Mandarin and English, hold
//! music, a beep) as test material: they load, the in-band DTMF detector hears no digit in speech
//! or music (talk-off), and, where SoX is installed, the same audio converted by SoX to other rates,
//! channel counts and encodings loads back to the same content.

use std::path::{Path, PathBuf};
use std::process::Command;

use kefu_media::dtmf::DtmfDetector;
use kefu_media::tone::{goertzel_power, mean_power, tone_present};
use kefu_media::{Codec, FRAME_SAMPLES, g711, wav};

const PROMPTS: [&str; 4] = [
    "zh-CN/welcome.wav",
    "en/welcome.wav",
    "hold_music.wav",
    "beep.wav",
];

fn prompt_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/prompts")
        .join(name)
}

/// The prompt's samples, or None (with a note) when the file is not in this checkout.
fn load(name: &str) -> Option<Vec<i16>> {
    let path = prompt_path(name);
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipped: {} is missing", path.display());
        return None;
    };
    Some(wav::load_prompt(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")))
}

#[test]
fn prompts_load_as_8khz_audio() {
    for name in PROMPTS {
        let Some(pcm) = load(name) else { continue };
        assert!(pcm.len() >= 3200, "{name}: {} samples", pcm.len());
        assert!(mean_power(&pcm) > 1e-4, "{name} is not silent");
    }
    if let Some(beep) = load("beep.wav") {
        assert!(tone_present(&beep, 1000.0));
    }
}

#[test]
fn no_dtmf_talk_off_in_speech_or_music() {
    for name in PROMPTS {
        let Some(pcm) = load(name) else { continue };
        for codec in [None, Some(Codec::Pcma), Some(Codec::Pcmu)] {
            let audio = match codec {
                None => pcm.clone(),
                Some(codec) => {
                    let mut coded = Vec::new();
                    g711::encode(codec, &pcm, &mut coded);
                    let mut decoded = Vec::new();
                    g711::decode(codec, &coded, &mut decoded);
                    decoded
                }
            };
            let mut detector = DtmfDetector::new();
            let digits: Vec<char> = audio
                .chunks(FRAME_SAMPLES)
                .filter_map(|frame| detector.push(frame))
                .collect();
            assert!(digits.is_empty(), "{name} via {codec:?}: {digits:?}");
        }
    }
}

/// Converts a prompt with SoX into `args` (output options) and returns the new file's bytes.
fn sox_convert(name: &str, args: &[&str]) -> Option<Vec<u8>> {
    let input = prompt_path(name);
    if !input.exists() {
        return None;
    }
    let output = std::env::temp_dir().join(format!(
        "kefu-media-{}-{}.wav",
        std::process::id(),
        args.join("_")
    ));
    let status = Command::new("sox")
        .arg(&input)
        .args(args)
        .arg(&output)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("skipped: sox unavailable ({other:?})");
            return None;
        }
    }
    let bytes = std::fs::read(&output).unwrap();
    let _ = std::fs::remove_file(&output);
    Some(bytes)
}

/// The energy of `a - b` relative to the energy of `a`, over the telephone band of interest
/// (both already at 8 kHz and time-aligned), in dB.
fn difference_db(a: &[i16], b: &[i16]) -> f64 {
    let n = a.len().min(b.len());
    let signal: f64 = a[..n].iter().map(|&x| f64::from(x).powi(2)).sum();
    let error: f64 = a[..n]
        .iter()
        .zip(&b[..n])
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    10.0 * (error / signal).log10()
}

#[test]
fn sox_conversions_load_back_to_the_same_audio() {
    let Some(original) = load("en/welcome.wav") else {
        return;
    };
    // SoX's band-limited resampling up, then ours down: the speech must come back within the
    // error that the 3.5 kHz low-pass and both filters' ripple leave.
    for (args, limit_db) in [
        (&["-r", "48000", "-c", "2"][..], -18.0),
        (&["-r", "44100"][..], -18.0),
        (&["-r", "16000", "-b", "24"][..], -18.0),
        (&["-e", "a-law"][..], -30.0),
        (&["-e", "u-law", "-c", "2"][..], -30.0),
    ] {
        let Some(bytes) = sox_convert("en/welcome.wav", args) else {
            return;
        };
        let back = wav::load_prompt(&bytes).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(
            (back.len() as i64 - original.len() as i64).abs() <= 2,
            "{args:?}: {} samples, expected {}",
            back.len(),
            original.len()
        );
        let diff = difference_db(&original, &back);
        eprintln!("{args:?}: {diff:.1} dB");
        assert!(diff < limit_db, "{args:?}: difference {diff:.1} dB");
    }
    // A 1 kHz beep at 22.05 kHz stays a 1 kHz beep at the same level.
    if let (Some(beep), Some(bytes)) = (load("beep.wav"), sox_convert("beep.wav", &["-r", "22050"]))
    {
        let back = wav::load_prompt(&bytes).unwrap();
        let (p0, p1) = (goertzel_power(&beep, 1000.0), goertzel_power(&back, 1000.0));
        assert!((10.0 * (p1 / p0).log10()).abs() < 0.5, "{p0} vs {p1}");
    }
}
