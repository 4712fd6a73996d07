//! G.711 against SoX, an independent implementation, where `sox` is installed (Debian's sox
//! package; skipped with a note otherwise).
//!
//! Decoding agrees on all 256 codes of both laws. Encoding agrees on all 65536 inputs once SoX's one
//! difference is allowed for: it rounds 16-bit input to the nearest 13-bit (A-law) or 14-bit
//! (µ-law) value before encoding, where G.711 implementations on 16-bit input (ours, the Sun
//! reference code) drop the low bits. So SoX's code for `x` is ours for `x` rounded to a multiple
//! of 8 (A-law) or 4 (µ-law).

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use kefu_media::g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};

/// Runs sox with `args` on `input`, returning its output, or None when sox is not installed.
fn sox(args: &[&str], input: Vec<u8>) -> Option<Vec<u8>> {
    let mut child = match Command::new("sox")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("skipped: sox not runnable ({e}); apt-get install sox");
            return None;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
    Some(out)
}

const LINEAR: [&str; 8] = ["-t", "raw", "-r", "8000", "-e", "signed", "-b", "16"];

fn law(encoding: &'static str) -> [&'static str; 8] {
    ["-t", "raw", "-r", "8000", "-e", encoding, "-b", "8"]
}

#[test]
fn decoding_matches_sox_for_every_code() {
    for (encoding, decode) in [
        ("a-law", alaw_decode as fn(u8) -> i16),
        ("u-law", ulaw_decode),
    ] {
        let args: Vec<&str> = ["-D", "-c", "1"]
            .into_iter()
            .chain(law(encoding))
            .chain(["-"])
            .chain(LINEAR)
            .chain(["-"])
            .collect();
        let Some(out) = sox(&args, (0..=255u8).collect()) else {
            return;
        };
        for (code, pair) in out.chunks_exact(2).enumerate() {
            let theirs = i16::from_le_bytes([pair[0], pair[1]]);
            assert_eq!(decode(code as u8), theirs, "{encoding} code {code:#04x}");
        }
    }
}

#[test]
fn encoding_matches_sox_up_to_its_rounding() {
    let ramp: Vec<u8> = (i16::MIN..=i16::MAX)
        .flat_map(|x| x.to_le_bytes())
        .collect();
    for (encoding, encode, shift) in [
        ("a-law", alaw_encode as fn(i16) -> u8, 3),
        ("u-law", ulaw_encode, 2),
    ] {
        let args: Vec<&str> = ["-D", "-c", "1"]
            .into_iter()
            .chain(LINEAR)
            .chain(["-"])
            .chain(law(encoding))
            .chain(["-"])
            .collect();
        let Some(out) = sox(&args, ramp.clone()) else {
            return;
        };
        assert_eq!(out.len(), 65536);
        for (x, &theirs) in (i16::MIN..=i16::MAX).zip(&out) {
            // Round to the nearest multiple of 2^shift, as SoX does.
            let rounded = ((i32::from(x) + (1 << (shift - 1))) >> shift) << shift;
            let rounded = rounded.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            assert_eq!(encode(rounded), theirs, "{encoding} of {x}");
        }
    }
}
