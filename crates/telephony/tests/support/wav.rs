//! 16-bit PCM WAV files and the audio checks the tests make on them.

use std::fs;
use std::io;
use std::path::Path;

/// The sample rate of everything G.711 carries.
pub const RATE: u32 = 8000;

/// A WAV file's 16-bit samples (channels interleaved) and its format.
#[derive(Debug, Clone)]
pub struct Wav {
    pub rate: u32,
    pub channels: u16,
    pub samples: Vec<i16>,
}

impl Wav {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate) / f64::from(self.channels.max(1))
    }
}

/// Reads a 16-bit PCM WAV file. A data chunk whose declared size is 0 or runs past the end of the file (a
/// file still being written, or whose writer was killed before it fixed the header) is read to the end.
pub fn read_wav(path: &Path) -> io::Result<Wav> {
    let bytes = fs::read(path)?;
    let bad = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {why}", path.display()),
        )
    };
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut format = None;
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(pos + 4) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if body + 16 > bytes.len() {
                return Err(bad("short fmt chunk"));
            }
            let (tag, channels, rate, bits) = (
                u16_at(body),
                u16_at(body + 2),
                u32_at(body + 4),
                u16_at(body + 14),
            );
            // 1 = PCM; 0xFFFE = WAVE_FORMAT_EXTENSIBLE (libsndfile writes it for some layouts).
            if !(tag == 1 || tag == 0xFFFE) || bits != 16 {
                return Err(bad(&format!("not 16-bit PCM (format {tag}, {bits} bits)")));
            }
            format = Some((channels, rate));
        } else if id == b"data" {
            let (channels, rate) = format.ok_or_else(|| bad("data before fmt"))?;
            let available = bytes.len() - body;
            let len = if size == 0 || size > available {
                available
            } else {
                size
            };
            let samples = bytes[body..body + len - len % 2]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
            return Ok(Wav {
                rate,
                channels,
                samples,
            });
        }
        pos = body + size + size % 2;
    }
    Err(bad("no data chunk"))
}

/// Writes `samples` as a mono 16-bit PCM WAV file.
pub fn write_wav(path: &Path, rate: u32, samples: &[i16]) -> io::Result<()> {
    let data_len =
        u32::try_from(samples.len() * 2).map_err(|_| io::Error::other("WAV too long"))?;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    fs::write(path, out)
}

/// Writes `seconds` of a `freq_hz` sine at -10 dBFS as an 8 kHz mono 16-bit WAV file.
pub fn write_tone_wav(path: &Path, freq_hz: f64, seconds: f64) {
    let n = (f64::from(RATE) * seconds).round() as usize;
    let amplitude = 0.316 * f64::from(i16::MAX);
    let samples: Vec<i16> = (0..n)
        .map(|i| {
            (amplitude * (std::f64::consts::TAU * freq_hz * i as f64 / f64::from(RATE)).sin())
                .round() as i16
        })
        .collect();
    write_wav(path, RATE, &samples).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Analysis blocks of 100 ms: at 8 kHz a block of 800 samples puts every multiple of 10 Hz on a bin.
const BLOCK_SECONDS: f64 = 0.1;
/// What `wav_has_tone` skips at the start (call set-up, jitter buffer filling, codec start).
const SKIP_SECONDS: f64 = 0.5;

/// Whether the WAV file carries a sine of `freq_hz`: after the first 0.5 s, the file is cut into 100 ms
/// blocks, and a block has the tone when the Goertzel amplitude at `freq_hz` is at least -40 dBFS and the
/// tone holds at least 20% of the block's energy (so a mix of two tones has both, while noise, silence and
/// other tones do not). The file has the tone if at least 5 blocks (0.5 s) do, or, for shorter files, 40%
/// of them. A missing or unreadable file has no tone. Stereo files are analysed on their first channel.
pub fn wav_has_tone(path: &Path, freq_hz: f64) -> bool {
    let Ok(wav) = read_wav(path) else {
        return false;
    };
    let channels = usize::from(wav.channels.max(1));
    let mono: Vec<f64> = wav
        .samples
        .iter()
        .step_by(channels)
        .map(|&s| f64::from(s) / 32768.0)
        .collect();
    let rate = f64::from(wav.rate);
    let block = (rate * BLOCK_SECONDS) as usize;
    let skip = ((rate * SKIP_SECONDS) as usize).min(mono.len());
    let blocks: Vec<&[f64]> = mono[skip..].chunks_exact(block).collect();
    if blocks.is_empty() {
        return false;
    }
    let with_tone = blocks
        .iter()
        .filter(|b| {
            let energy = b.iter().map(|x| x * x).sum::<f64>() / b.len() as f64;
            let amplitude = goertzel_amplitude(b, freq_hz, rate);
            amplitude >= 0.01 && amplitude * amplitude / 2.0 >= 0.2 * energy
        })
        .count();
    with_tone >= 5 || (blocks.len() < 13 && with_tone * 5 >= blocks.len() * 2)
}

/// The amplitude (peak, full scale = 1.0) of the `freq_hz` component of `x`.
fn goertzel_amplitude(x: &[f64], freq_hz: f64, rate: f64) -> f64 {
    let coeff = 2.0 * (std::f64::consts::TAU * freq_hz / rate).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s0 = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0);
    2.0 * power.sqrt() / x.len() as f64
}

/// The RMS level of the whole file as a fraction of full scale (a full-scale square wave is 1.0, a
/// full-scale sine 0.707, silence 0.0); 0.0 for a missing or unreadable file.
pub fn wav_rms(path: &Path) -> f64 {
    let Ok(wav) = read_wav(path) else { return 0.0 };
    if wav.samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = wav
        .samples
        .iter()
        .map(|&s| (f64::from(s) / 32768.0).powi(2))
        .sum();
    (sum / wav.samples.len() as f64).sqrt()
}

/// The length of the file in seconds; 0.0 for a missing or unreadable file.
pub fn wav_seconds(path: &Path) -> f64 {
    read_wav(path).map(|w| w.seconds()).unwrap_or(0.0)
}
