//! Per-frame costs of the media path: what one call leg pays every 20 ms.
//! Run: `cargo bench -p kefu-media --bench media`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kefu_media::dtmf::DtmfDetector;
use kefu_media::jitter::JitterBuffer;
use kefu_media::mixer::{HeardBy, mix, mix_minus};
use kefu_media::tone::{dtmf_tone, sine};
use kefu_media::{Codec, FRAME_SAMPLES, g711};

fn speechlike_frame(seed: u64) -> [i16; FRAME_SAMPLES] {
    let mut a = [0i16; FRAME_SAMPLES];
    let mut b = [0i16; FRAME_SAMPLES];
    sine(310.0 + seed as f64 * 17.0, 6000, seed * 160, &mut a);
    sine(1270.0 + seed as f64 * 31.0, 2500, seed * 160, &mut b);
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.saturating_add(y);
    }
    a
}

fn g711_frame(c: &mut Criterion) {
    let pcm = speechlike_frame(1);
    for codec in [Codec::Pcma, Codec::Pcmu] {
        let mut encoded = Vec::with_capacity(FRAME_SAMPLES);
        let mut decoded = Vec::with_capacity(FRAME_SAMPLES);
        c.bench_function(
            &format!("g711 {codec:?} encode+decode 160 samples"),
            |bench| {
                bench.iter(|| {
                    encoded.clear();
                    decoded.clear();
                    g711::encode(codec, black_box(&pcm), &mut encoded);
                    g711::decode(codec, black_box(&encoded), &mut decoded);
                    black_box(&decoded);
                })
            },
        );
    }
}

fn mixing(c: &mut Criterion) {
    for parties in [3usize, 10] {
        let frames: Vec<[i16; FRAME_SAMPLES]> = (0..parties as u64).map(speechlike_frame).collect();
        let inputs: Vec<Option<&[i16]>> = frames.iter().map(|f| Some(&f[..])).collect();
        let mut outputs = vec![[0i16; FRAME_SAMPLES]; parties];
        c.bench_function(&format!("mix_minus {parties} parties"), |bench| {
            bench.iter(|| {
                mix_minus(black_box(&inputs), &mut outputs);
                black_box(&outputs);
            })
        });
        // A supervised call: the last party whispers to the second, the one before listens.
        let mut heard_by = vec![HeardBy::Everyone; parties];
        heard_by[parties - 1] = HeardBy::Only(1);
        heard_by[parties - 2] = HeardBy::Nobody;
        c.bench_function(&format!("mix {parties} parties, whisper"), |bench| {
            bench.iter(|| {
                mix(black_box(&frames), black_box(&heard_by), &mut outputs);
                black_box(&outputs);
            })
        });
    }
}

fn dtmf(c: &mut Criterion) {
    // Speech-like audio (the common case: no digit) and a digit.
    let speech: Vec<i16> = (0..50).flat_map(speechlike_frame).collect();
    let digit = dtmf_tone('5', 5000, 8000);
    for (name, audio) in [("speech", speech), ("digit", digit)] {
        let mut detector = DtmfDetector::new();
        let mut frames = audio.chunks_exact(FRAME_SAMPLES).cycle();
        c.bench_function(
            &format!("DtmfDetector::push 160 samples ({name})"),
            |bench| {
                bench.iter(|| {
                    let frame = frames.next().unwrap_or(&[]);
                    black_box(detector.push(black_box(frame)))
                })
            },
        );
    }
}

fn jitter(c: &mut Criterion) {
    let pcm = speechlike_frame(3);
    let mut payload = Vec::new();
    g711::encode(Codec::Pcma, &pcm, &mut payload);
    let mut jb = JitterBuffer::new(Codec::Pcma, 3, 50);
    let mut out = [0i16; FRAME_SAMPLES];
    let mut seq = 0u16;
    let mut ts = 0u32;
    // Prime to the playout depth, then one push and one pop per tick, as in a call.
    for _ in 0..3 {
        jb.push(seq, ts, &payload);
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(FRAME_SAMPLES as u32);
    }
    c.bench_function("jitter push+pop 20 ms PCMA", |bench| {
        bench.iter(|| {
            jb.push(seq, ts, black_box(&payload));
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(FRAME_SAMPLES as u32);
            black_box(jb.pop(&mut out))
        })
    });
}

criterion_group!(benches, g711_frame, mixing, dtmf, jitter);
criterion_main!(benches);
