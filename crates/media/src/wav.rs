//! WAV prompts in, WAV recordings out.
//!
//! [`load_prompt`] takes the bytes of a WAV file as customers upload them — PCM of 8 to 32 bits or
//! 32-bit float (through `hound`), or 8-bit A-law/µ-law (format tags 6 and 7, which `hound` does not
//! read, so their `fmt ` chunk is parsed here) — at any of the common sample rates, mixes it down to
//! mono and resamples it to 8 kHz with a windowed-sinc low-pass (cut-off 3.5 kHz, Blackman window),
//! so the 8 kHz result carries no aliases of content above 4 kHz.
//!
//! [`WavRecorder`] writes 8 kHz mono 16-bit WAV to anything seekable, as a thin layer over
//! `hound::WavWriter`.

use std::f64::consts::PI;
use std::io::{Cursor, Seek, Write};

use thiserror::Error;

use crate::{Codec, SAMPLE_RATE, g711};

/// Longest prompt accepted, in seconds.
pub const MAX_PROMPT_SECONDS: u64 = 600;
/// Most channels accepted.
pub const MAX_CHANNELS: u16 = 8;
/// Sample rates accepted (Hz).
pub const SUPPORTED_RATES: [u32; 9] = [
    8000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
];

const WAVE_FORMAT_ALAW: u16 = 6;
const WAVE_FORMAT_MULAW: u16 = 7;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;

#[derive(Debug, Error)]
pub enum WavError {
    #[error("not a WAV file: {0}")]
    Malformed(String),
    #[error("unsupported WAV: {0}")]
    Unsupported(String),
    #[error("prompt of {seconds} s is longer than {MAX_PROMPT_SECONDS} s")]
    TooLong { seconds: u64 },
    #[error("WAV: {0}")]
    Hound(#[from] hound::Error),
    #[error("writing WAV: {0}")]
    Io(#[from] std::io::Error),
}

/// The parts of the `fmt ` chunk that decide how to read the file.
#[derive(Clone, Copy, Debug)]
struct Format {
    tag: u16,
    channels: u16,
    sample_rate: u32,
    bits_per_sample: u16,
}

/// Decodes a WAV file to 8 kHz mono 16-bit samples.
pub fn load_prompt(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    let (format, data) = scan_riff(bytes)?;
    if format.channels == 0 || format.channels > MAX_CHANNELS {
        return Err(WavError::Unsupported(format!(
            "{} channels (1 to {MAX_CHANNELS} are supported)",
            format.channels
        )));
    }
    if !SUPPORTED_RATES.contains(&format.sample_rate) {
        return Err(WavError::Unsupported(format!(
            "sample rate {} Hz (supported: {SUPPORTED_RATES:?})",
            format.sample_rate
        )));
    }
    let channels = usize::from(format.channels);
    let interleaved = match format.tag {
        WAVE_FORMAT_ALAW | WAVE_FORMAT_MULAW => {
            if format.bits_per_sample != 8 {
                return Err(WavError::Unsupported(format!(
                    "{}-bit G.711 (must be 8)",
                    format.bits_per_sample
                )));
            }
            check_length(data.len() as u64 / channels as u64, format.sample_rate)?;
            let codec = if format.tag == WAVE_FORMAT_ALAW {
                Codec::Pcma
            } else {
                Codec::Pcmu
            };
            let mut pcm = Vec::with_capacity(data.len());
            g711::decode(codec, data, &mut pcm);
            pcm
        }
        _ => read_with_hound(bytes)?,
    };
    let mono = downmix(&interleaved, channels);
    Ok(resample_to_8k(&mono, format.sample_rate))
}

fn check_length(frames: u64, sample_rate: u32) -> Result<(), WavError> {
    let seconds = frames / u64::from(sample_rate.max(1));
    if seconds > MAX_PROMPT_SECONDS {
        return Err(WavError::TooLong { seconds });
    }
    Ok(())
}

/// Walks the RIFF chunks for `fmt ` and `data` (the data chunk may be cut short by a truncated file).
fn scan_riff(bytes: &[u8]) -> Result<(Format, &[u8]), WavError> {
    let malformed = |what: &str| WavError::Malformed(what.to_owned());
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(malformed("no RIFF/WAVE header"));
    }
    let mut format = None;
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body_start = pos + 8;
        let body_end = body_start.saturating_add(size).min(bytes.len());
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => format = Some(parse_fmt(body)?),
            b"data" => {
                let format = format.ok_or_else(|| malformed("data chunk before fmt chunk"))?;
                return Ok((format, body));
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        pos = body_start.saturating_add(size).saturating_add(size & 1);
    }
    Err(malformed(if format.is_some() {
        "no data chunk"
    } else {
        "no fmt chunk"
    }))
}

fn parse_fmt(body: &[u8]) -> Result<Format, WavError> {
    if body.len() < 16 {
        return Err(WavError::Malformed(format!(
            "fmt chunk of {} bytes, expected at least 16",
            body.len()
        )));
    }
    let u16_at = |at: usize| u16::from_le_bytes([body[at], body[at + 1]]);
    let mut tag = u16_at(0);
    if tag == WAVE_FORMAT_EXTENSIBLE && body.len() >= 26 {
        // The sub-format GUID starts with the actual format tag.
        tag = u16_at(24);
    }
    Ok(Format {
        tag,
        channels: u16_at(2),
        sample_rate: u32::from_le_bytes([body[4], body[5], body[6], body[7]]),
        bits_per_sample: u16_at(14),
    })
}

/// PCM and float WAV through hound, as interleaved 16-bit samples.
fn read_with_hound(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    let reader = hound::WavReader::new(Cursor::new(bytes))?;
    let spec = reader.spec();
    check_length(u64::from(reader.duration()), spec.sample_rate)?;
    // Reserve no more than the bytes present can hold, whatever the header claims.
    let capacity = (reader.len() as usize).min(bytes.len());
    let mut out = Vec::with_capacity(capacity);
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 1..=16) => {
            let shift = 16 - spec.bits_per_sample;
            for s in reader.into_samples::<i16>() {
                out.push(s? << shift);
            }
        }
        (hound::SampleFormat::Int, 17..=32) => {
            let shift = spec.bits_per_sample - 16;
            for s in reader.into_samples::<i32>() {
                out.push((s? >> shift) as i16);
            }
        }
        (hound::SampleFormat::Float, 32) => {
            for s in reader.into_samples::<f32>() {
                let s = s?;
                let s = if s.is_finite() { s } else { 0.0 };
                out.push((s * 32767.0).round().clamp(-32768.0, 32767.0) as i16);
            }
        }
        (format, bits) => {
            return Err(WavError::Unsupported(format!(
                "{bits}-bit {format:?} samples"
            )));
        }
    }
    Ok(out)
}

/// Averages interleaved channels into one (a trailing partial frame is dropped).
fn downmix(interleaved: &[i16], channels: usize) -> Vec<i16> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    interleaved
        .chunks_exact(channels)
        .map(|frame| {
            let sum: i32 = frame.iter().map(|&s| i32::from(s)).sum();
            (sum / channels as i32) as i16
        })
        .collect()
}

/// Low-pass cut-off (-6 dB) of the resampler, Hz.
const CUTOFF_HZ: f64 = 3500.0;
/// Sinc zero crossings on each side of the kernel's centre.
const ZERO_CROSSINGS: f64 = 24.0;

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Polyphase windowed-sinc resampling from `rate` (one of [`SUPPORTED_RATES`]) to 8 kHz.
fn resample_to_8k(input: &[i16], rate: u32) -> Vec<i16> {
    if rate == SAMPLE_RATE || input.is_empty() {
        return input.to_vec();
    }
    let g = gcd(rate, SAMPLE_RATE);
    let up = (SAMPLE_RATE / g) as usize; // phases
    let down = (rate / g) as usize;
    // Cut-off relative to the input rate, limited by the input's own Nyquist frequency.
    let cutoff = CUTOFF_HZ.min(0.45 * f64::from(rate)) / f64::from(rate);
    let half_width = ZERO_CROSSINGS / (2.0 * cutoff); // in input samples
    let reach = half_width.ceil() as isize;
    let taps = (2 * reach + 1) as usize;

    // kernel[p][j]: weight of input sample i - reach + j for output time i + p/up.
    let mut kernel = vec![0.0f32; up * taps];
    for p in 0..up {
        let frac = p as f64 / up as f64;
        let row = &mut kernel[p * taps..(p + 1) * taps];
        let mut sum = 0.0;
        let mut weights = vec![0.0f64; taps];
        for (j, w) in weights.iter_mut().enumerate() {
            let x = frac - (j as isize - reach) as f64;
            if x.abs() < half_width {
                let arg = 2.0 * cutoff * x;
                let sinc = if arg == 0.0 {
                    1.0
                } else {
                    (PI * arg).sin() / (PI * arg)
                };
                let u = x / half_width;
                let blackman = 0.42 + 0.5 * (PI * u).cos() + 0.08 * (2.0 * PI * u).cos();
                *w = sinc * blackman;
                sum += *w;
            }
        }
        for (r, w) in row.iter_mut().zip(&weights) {
            *r = (w / sum) as f32;
        }
    }

    let out_len = (input.len() * up).div_ceil(down);
    let len = input.len() as isize;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let pos = n * down;
        let i = (pos / up) as isize;
        let row = &kernel[(pos % up) * taps..][..taps];
        let first = i - reach;
        let lo = (-first).max(0) as usize;
        let hi = (len - first).clamp(0, taps as isize) as usize;
        let mut acc = 0.0f32;
        if lo < hi {
            let start = (first + lo as isize) as usize;
            for (w, &x) in row[lo..hi].iter().zip(&input[start..start + (hi - lo)]) {
                acc += w * f32::from(x);
            }
        }
        out.push(acc.round().clamp(-32768.0, 32767.0) as i16);
    }
    out
}

/// Records 8 kHz mono 16-bit WAV.
pub struct WavRecorder<W: Write + Seek> {
    writer: hound::WavWriter<W>,
    samples: u64,
}

impl<W: Write + Seek> WavRecorder<W> {
    /// Starts a WAV file in `writer` (writes the header now).
    pub fn new(writer: W) -> Result<Self, WavError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        Ok(Self {
            writer: hound::WavWriter::new(writer, spec)?,
            samples: 0,
        })
    }

    /// Appends samples.
    pub fn write(&mut self, pcm: &[i16]) -> Result<(), WavError> {
        for chunk in pcm.chunks(1 << 16) {
            let mut w = self.writer.get_i16_writer(chunk.len() as u32);
            for &s in chunk {
                w.write_sample(s);
            }
            w.flush()?;
        }
        self.samples += pcm.len() as u64;
        Ok(())
    }

    /// Samples written so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Completes the header and returns the recording's length in samples.
    pub fn finish(self) -> Result<u64, WavError> {
        self.writer.finalize()?;
        Ok(self.samples)
    }
}

#[cfg(test)]
mod tests;
