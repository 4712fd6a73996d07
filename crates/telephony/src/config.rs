//! The engine's settings (the binary fills them from kefu's configuration).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::guard::GuardPolicy;

#[derive(Clone, Debug)]
pub struct TelephonyConfig {
    /// SIP over UDP and TCP on this address (both transports share the port).
    pub sip: SocketAddr,
    /// The address put in Contact, Via and SDP when `sip` is a wildcard (0.0.0.0).
    pub public_ip: Option<IpAddr>,
    /// RTP ports (even, with RTCP on the odd port above), inclusive.
    pub rtp_ports: (u16, u16),
    /// Digest realm; extension HA1 values are computed with it.
    pub realm: String,
    /// Most simultaneous call legs; more INVITEs get 503.
    pub max_calls: usize,
    pub nonce_ttl: Duration,
    pub guard: GuardPolicy,
    /// Sources never rate-limited or banned besides the trunk allow-lists (a load generator, say).
    pub trusted: Vec<ipnet::IpNet>,
    /// Where `Prompt` names resolve: `<dir>/<language>/<name>.wav`, then `<dir>/<name>.wav`.
    pub prompts_dir: PathBuf,
    pub language: String,
    /// Default folder for recordings given as relative paths.
    pub recordings_dir: PathBuf,
    /// Outbound legs give up after this long unanswered.
    pub ring_timeout: Duration,
    /// A call without any RTP from the peer for this long is ended (0 = never).
    pub media_timeout: Duration,
    /// Jitter buffer depth in 20 ms frames.
    pub jitter_frames: usize,
    pub user_agent: String,
}

impl TelephonyConfig {
    pub fn new(sip: SocketAddr) -> TelephonyConfig {
        TelephonyConfig {
            sip,
            public_ip: None,
            rtp_ports: (20000, 29999),
            realm: "kefu".into(),
            max_calls: 2000,
            nonce_ttl: Duration::from_secs(300),
            guard: GuardPolicy::default(),
            trusted: Vec::new(),
            prompts_dir: PathBuf::from("assets/prompts"),
            language: "zh-CN".into(),
            recordings_dir: PathBuf::from("recordings"),
            ring_timeout: Duration::from_secs(60),
            media_timeout: Duration::from_secs(0),
            jitter_frames: 3,
            user_agent: format!("kefu/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The address peers should use to reach us (Contact, SDP c=).
    pub fn advertised_ip(&self) -> IpAddr {
        match self.public_ip {
            Some(ip) => ip,
            None if self.sip.ip().is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            None => self.sip.ip(),
        }
    }
}
