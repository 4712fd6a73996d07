//! The real-peer test harness of kefu-telephony: SIPp and baresip on loopback, free ports, WAV checks.
//!
//! Use from an integration test with `mod support;` and `use support::*;`. Every peer gets its own
//! temporary directory and free ports, so tests can run in parallel; every process is killed when its
//! handle is dropped, also when a test panics. The peers come from Debian (`scripts/deps.sh test`
//! installs sip-tester and baresip-core); SIPp's pcap play uses raw sockets and needs root (CAP_NET_RAW).
//!
//! Not every test uses every helper.
#![allow(dead_code, unused_imports)]

mod baresip;
mod ports;
mod sipp;
mod wav;

use std::path::PathBuf;

pub use baresip::{Baresip, BaresipOptions};
pub use ports::{
    free_rtp_range, free_sip_port, free_tcp_port, free_udp_port, tcp_listening, udp_bound,
};
pub use sipp::{Sipp, SippChild, SippRun};
pub use wav::{Wav, read_wav, wav_has_tone, wav_rms, wav_seconds, write_tone_wav, write_wav};

/// A SIPp scenario of this crate: crates/telephony/tests/sipp/`name`.
pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("sipp")
        .join(name)
}

/// A prompt of the workspace: assets/prompts/`name` (e.g. "zh-CN/welcome.wav", "beep.wav").
pub fn prompt(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/prompts")
        .join(name)
}
