//! The fuzz targets' checks on stable Rust, for CI: every committed seed and crash reproducer under
//! `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/`, and a few thousand deterministic
//! mutations of them per target. The checks themselves are `kefu_media::fuzzing`, the same functions
//! the cargo-fuzz targets call.

use std::path::{Path, PathBuf};

use kefu_media::fuzzing::{Rng, TARGETS, mutate};

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
            let input: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            check(&input);
        }
    }
}
