//! The telephony fuzz targets' checks on stable Rust, for CI: the committed seeds and crash
//! reproducers under `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/`, plus deterministic
//! mutations of them (kefu-media's mutator, shared with its own corpus test).

use std::path::Path;

use kefu_media::fuzzing::{Rng, mutate};
use kefu_telephony::fuzzing::TARGETS;

fn files(kind: &str, target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[test]
fn seeds_crash_reproducers_and_their_mutations_pass() {
    for (index, (target, check)) in TARGETS.iter().enumerate() {
        let mut seeds = files("corpus", target);
        seeds.extend(files("artifacts", target));
        assert!(!seeds.is_empty(), "fuzz/corpus/{target}/ has no seeds");
        for s in &seeds {
            check(s);
        }
        let mut rng = Rng(0x5EED_0000 ^ index as u64);
        for _ in 0..5000 {
            let seed = &seeds[rng.below(seeds.len())];
            let other = &seeds[rng.below(seeds.len())];
            check(&mutate(&mut rng, seed, other));
        }
    }
}
