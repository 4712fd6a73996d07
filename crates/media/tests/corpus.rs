//! The fuzz targets' checks on stable Rust, for CI: every committed seed and crash reproducer under
//! `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/`, and a few thousand deterministic
//! mutations of them per target. The checks themselves are `kefu_media::fuzzing`, the same functions
//! the cargo-fuzz targets call.

use std::path::{Path, PathBuf};

use kefu_media::fuzzing::TARGETS;

/// Mutations per target, spread over its seeds.
const MUTATIONS_PER_TARGET: usize = 4000;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted by name (none if the directory does not exist).
fn files(kind: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    out
}

/// xorshift64*: a tiny deterministic generator, so every run tests the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values that tend to sit on boundaries of lengths, counts and flags.
const INTERESTING: &[u8] = &[
    0, 1, 2, 3, 4, 0x0F, 0x10, 0x1F, 0x20, 0x3F, 0x40, 0x7F, 0x80, 0x81, 0xC0, 0xFE, 0xFF,
];
/// Text fragments for the SDP parser.
const TOKENS: &[&str] = &[
    "\r\n",
    "\n",
    " ",
    "=",
    "/",
    ":",
    "0",
    "8",
    "101",
    "127",
    "128",
    "65535",
    "65536",
    "-1",
    "m=audio ",
    "c=IN IP4 ",
    "c=IN IP6 ::",
    "0.0.0.0",
    "a=rtpmap:",
    "a=fmtp:",
    "a=ptime:",
    "a=sendonly",
    "a=rtcp-mux",
    "RTP/AVP",
    "PCMA/8000",
    "telephone-event/8000",
    "o=- 1 1 IN IP4 ",
    "v=0",
    "é",
    "\u{2028}",
];

/// One random mutation of `seed`, sometimes spliced with `other`.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                v.insert(i, rng.next() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                v.drain(i..i + n);
            }
            4 => v.truncate(rng.below(len + 1)),
            5 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            6 if len > 0 => {
                // Duplicate a chunk (repeated lines, packets, chunks).
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let chunk = v[i..i + n].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            7 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(len + 1);
                v.splice(at..at, token.iter().copied());
            }
            8 if len >= 4 => {
                // Overwrite a 16- or 32-bit field with an extreme value.
                let i = rng.below(len - 3);
                let value: u32 =
                    [0, 1, 0x7FFF_FFFF, 0x8000_0000, u32::MAX, 0xFFFF, 0x1_0000][rng.below(7)];
                if rng.below(2) == 0 {
                    v[i..i + 4].copy_from_slice(&value.to_be_bytes());
                } else {
                    v[i..i + 2].copy_from_slice(&(value as u16).to_le_bytes());
                }
            }
            _ => {}
        }
    }
    v
}

#[test]
fn every_target_has_seeds() {
    for (target, _) in TARGETS {
        assert!(
            !files("corpus", target).is_empty(),
            "fuzz/corpus/{target}/ has no seeds"
        );
    }
}

#[test]
fn seeds_and_crash_reproducers_pass() {
    for (target, check) in TARGETS {
        for kind in ["corpus", "artifacts"] {
            for (name, bytes) in files(kind, target) {
                eprintln!("{name}");
                check(&bytes);
            }
        }
    }
}

#[test]
fn mutated_inputs_pass() {
    for (index, (target, check)) in TARGETS.iter().enumerate() {
        let seeds: Vec<Vec<u8>> = files("corpus", target)
            .into_iter()
            .chain(files("artifacts", target))
            .map(|(_, b)| b)
            .collect();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ index as u64);
        for _ in 0..MUTATIONS_PER_TARGET {
            let seed = &seeds[rng.below(seeds.len())];
            let other = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, seed, other);
            check(&input);
        }
    }
}

#[test]
fn random_bytes_pass() {
    let mut rng = Rng(42);
    for (target, check) in TARGETS {
        let _ = target;
        for _ in 0..500 {
            let len = rng.below(300);
            let input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            check(&input);
        }
    }
}
