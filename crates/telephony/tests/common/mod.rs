//! What the engine tests share: an in-memory directory and an engine on loopback with free ports.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kefu_telephony::digest::{Algorithm, ha1};
use kefu_telephony::{
    CallRecord, Directory, ExtensionAuth, IncomingCall, Route, Target, Telephony, TelephonyConfig,
    Trunk, TrunkTransport,
};
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use crate::support::{self, Sipp};

pub const PASSWORD: &str = "Secret-8001";

/// An in-memory directory: extension 8001/8002, a trunk trusting 127.0.0.1, and routes.
#[derive(Default)]
pub struct Memory {
    extensions: HashMap<String, ExtensionAuth>,
    trunks: Vec<Trunk>,
    routes: HashMap<String, Route>,
    pub records: Mutex<Vec<CallRecord>>,
    recorded: Notify,
}

impl Memory {
    pub fn new(routes: &[(&str, Target)]) -> Memory {
        let mut m = Memory::default();
        for n in ["8001", "8002", "8003"] {
            m.extensions.insert(
                n.into(),
                ExtensionAuth {
                    number: n.into(),
                    display_name: format!("坐席 {n}"),
                    ha1_md5: ha1(Algorithm::Md5, n, "kefu", PASSWORD),
                    ha1_sha256: ha1(Algorithm::Sha256, n, "kefu", PASSWORD),
                    enabled: true,
                },
            );
        }
        m.trunks.push(Trunk {
            id: Uuid::now_v7(),
            name: "本地测试中继".into(),
            enabled: true,
            allowed_sources: vec!["127.0.0.1/32".parse().unwrap()],
            inbound_username: None,
            inbound_ha1_md5: None,
            inbound_ha1_sha256: None,
            proxy: None,
            transport: TrunkTransport::Udp,
            username: None,
            password: None,
            register: false,
            register_expires: 600,
            caller_id: None,
            max_channels: None,
        });
        for (number, target) in routes {
            m.routes.insert(
                number.to_string(),
                Route {
                    number: number.to_string(),
                    target: target.clone(),
                    trunk_id: None,
                },
            );
        }
        m
    }

    pub fn with_trunk(mut self, trunk: Trunk) -> Memory {
        self.trunks.push(trunk);
        self
    }

    /// Waits until `n` call records were written.
    pub async fn wait_records(&self, n: usize) -> Vec<CallRecord> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.recorded.notified();
            {
                let r = self.records.lock();
                if r.len() >= n {
                    return r.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "only {} of {n} call records after 20 s: {:?}",
                    self.records.lock().len(),
                    self.records.lock()
                );
            }
        }
    }
}

#[async_trait]
impl Directory for Memory {
    async fn extension(&self, number: &str) -> anyhow::Result<Option<ExtensionAuth>> {
        Ok(self.extensions.get(number).cloned())
    }
    async fn trunks(&self) -> anyhow::Result<Vec<Trunk>> {
        Ok(self.trunks.clone())
    }
    async fn route(&self, number: &str) -> anyhow::Result<Option<Route>> {
        Ok(self.routes.get(number).cloned())
    }
    async fn record(&self, record: CallRecord) -> anyhow::Result<()> {
        self.records.lock().push(record);
        self.recorded.notify_waiters();
        Ok(())
    }
}

pub fn prompts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/prompts")
}

pub struct Engine {
    pub telephony: Telephony,
    pub directory: Arc<Memory>,
    pub incoming: mpsc::Receiver<IncomingCall>,
    pub addr: SocketAddr,
    pub _dir: tempfile::TempDir,
}

pub async fn engine(routes: &[(&str, Target)]) -> Engine {
    engine_with(routes, |_| {}).await
}

pub async fn engine_with(
    routes: &[(&str, Target)],
    tune: impl FnOnce(&mut TelephonyConfig),
) -> Engine {
    engine_on(Memory::new(routes), tune).await
}

/// A carrier trunk (no inbound allow-list) reached at `proxy`.
pub fn carrier(name: &str, proxy: SocketAddr, register: bool) -> Trunk {
    Trunk {
        id: Uuid::now_v7(),
        name: name.into(),
        enabled: true,
        allowed_sources: Vec::new(),
        inbound_username: None,
        inbound_ha1_md5: None,
        inbound_ha1_sha256: None,
        proxy: Some(proxy.to_string()),
        transport: TrunkTransport::Udp,
        username: Some("kefu-trunk".into()),
        password: Some("secret".into()),
        register,
        register_expires: 120,
        caller_id: Some("057496777".into()),
        max_channels: None,
    }
}

pub async fn engine_on(memory: Memory, tune: impl FnOnce(&mut TelephonyConfig)) -> Engine {
    let directory = Arc::new(memory);
    let mut cfg = TelephonyConfig::new("127.0.0.1:0".parse().unwrap());
    let (lo, hi) = support::free_rtp_range(200);
    cfg.rtp_ports = (lo, hi);
    cfg.prompts_dir = prompts_dir();
    let dir = tempfile::tempdir().unwrap();
    cfg.recordings_dir = dir.path().to_path_buf();
    cfg.ring_timeout = Duration::from_secs(15);
    tune(&mut cfg);
    let telephony = Telephony::start(cfg, directory.clone())
        .await
        .expect("engine starts");
    let incoming = telephony.incoming().unwrap();
    let addr = telephony.local_addr();
    Engine {
        telephony,
        directory,
        incoming,
        addr,
        _dir: dir,
    }
}

/// Runs a SIPp scenario on a blocking thread.
pub async fn sipp(s: Sipp) -> support::SippRun {
    tokio::task::spawn_blocking(move || s.run()).await.unwrap()
}

/// A bare SIP-over-UDP client for exact checks of replies (what SIPp scenarios cannot compare).
pub struct RawSip {
    pub sock: std::net::UdpSocket,
    pub server: SocketAddr,
    seq: u32,
}

impl RawSip {
    /// Bound to `ip` (any 127.x.y.z address works on Linux loopback).
    pub fn new(ip: &str, server: SocketAddr) -> RawSip {
        let sock = std::net::UdpSocket::bind((ip, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        RawSip {
            sock,
            server,
            seq: 0,
        }
    }

    pub fn local(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// Sends raw bytes, returns the first reply (or None after 2 s).
    pub fn send(&self, bytes: &[u8]) -> Option<String> {
        self.sock.send_to(bytes, self.server).unwrap();
        self.recv()
    }

    pub fn recv(&self) -> Option<String> {
        let mut buf = vec![0u8; 65535];
        loop {
            match self.sock.recv_from(&mut buf) {
                Ok((n, _)) => {
                    let text = String::from_utf8_lossy(&buf[..n]).to_string();
                    if text.starts_with("SIP/2.0 100") {
                        continue;
                    }
                    return Some(text);
                }
                Err(_) => return None,
            }
        }
    }

    /// A REGISTER for `user`, with an Authorization header when given.
    pub fn register(&mut self, user: &str, authorization: Option<&str>) -> Option<String> {
        self.seq += 1;
        let local = self.local();
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let msg = format!(
            "REGISTER sip:{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-reg-{seq}-{r}\r\nFrom: <sip:{user}@{server}>;tag=reg{r}\r\nTo: <sip:{user}@{server}>\r\nCall-ID: reg-{user}-{port}@test\r\nCSeq: {seq} REGISTER\r\nContact: <sip:{user}@{local}>\r\nExpires: 300\r\nMax-Forwards: 70\r\n{auth}Content-Length: 0\r\n\r\n",
            server = self.server,
            seq = self.seq,
            r = rand::random::<u32>(),
            port = local.port(),
        );
        self.send(msg.as_bytes())
    }

    /// REGISTERs with digest credentials computed from `password` (after a first challenge).
    pub fn register_with_password(&mut self, user: &str, password: &str) -> Option<String> {
        let challenge = self.register(user, None)?;
        let nonce = header(&challenge, "WWW-Authenticate").and_then(|h| param(&h, "nonce"))?;
        let uri = format!("sip:{}", self.server);
        let a = digest_md5(user, "kefu", password, "REGISTER", &uri, &nonce);
        self.register(user, Some(&a))
    }
}

/// The value of the first header called `name` in a SIP message.
pub fn header(msg: &str, name: &str) -> Option<String> {
    msg.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    })
}

pub fn param(value: &str, name: &str) -> Option<String> {
    value.split(',').find_map(|p| {
        let (k, v) = p.trim().trim_start_matches("Digest ").split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
    })
}

pub fn status(msg: &str) -> u16 {
    msg.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// An Authorization value computed here with RFC 2617's formulas (md5 of strings, independent of the
/// server's digest module).
pub fn digest_md5(
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
) -> String {
    use md5::{Digest, Md5};
    let h = |s: String| hex::encode(Md5::digest(s.as_bytes()));
    let ha1 = h(format!("{user}:{realm}:{password}"));
    let ha2 = h(format!("{method}:{uri}"));
    let cnonce = "0a4f113b";
    let response = h(format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"{cnonce}\""
    )
}

impl RawSip {
    /// An INVITE with a PCMA offer to `callee`, with a Proxy-Authorization when given. Returns the first
    /// final reply (provisional ones skipped); a failure is ACKed so the server's transaction completes.
    pub fn invite(&mut self, callee: &str, authorization: Option<&str>) -> Option<String> {
        let reply = self.send_invite(callee, 40000, authorization)?;
        if status(&reply) >= 300 {
            let ack = format!(
                "ACK sip:{callee}@{server} SIP/2.0\r\nVia: {via}\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {seq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                server = self.server,
                via = header(&reply, "Via").unwrap_or_default(),
                from = header(&reply, "From").unwrap_or_default(),
                to = header(&reply, "To").unwrap_or_default(),
                cid = header(&reply, "Call-ID").unwrap_or_default(),
                seq = self.seq,
            );
            self.sock.send_to(ack.as_bytes(), self.server).unwrap();
        }
        Some(reply)
    }

    /// An INVITE offering PCMA at `rtp_port`; the final reply (a 2xx is the caller's to ACK).
    pub fn invite_offering(&mut self, callee: &str, rtp_port: u16) -> Option<String> {
        self.send_invite(callee, rtp_port, None)
    }

    fn send_invite(
        &mut self,
        callee: &str,
        rtp_port: u16,
        authorization: Option<&str>,
    ) -> Option<String> {
        self.seq += 1;
        let local = self.local();
        let ip = local.ip();
        let body = format!(
            "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
        );
        let auth = authorization
            .map(|a| format!("Proxy-Authorization: {a}\r\n"))
            .unwrap_or_default();
        let msg = format!(
            "INVITE sip:{callee}@{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-inv-{seq}-{r}\r\nFrom: <sip:caller@{local}>;tag=f{r}\r\nTo: <sip:{callee}@{server}>\r\nCall-ID: inv-{port}-{seq}@test\r\nCSeq: {seq} INVITE\r\nContact: <sip:caller@{local}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\n{auth}Content-Length: {len}\r\n\r\n{body}",
            server = self.server,
            seq = self.seq,
            r = rand::random::<u32>(),
            port = local.port(),
            len = body.len(),
        );
        self.sock.send_to(msg.as_bytes(), self.server).unwrap();
        loop {
            let reply = self.recv()?;
            if status(&reply) >= 200 {
                return Some(reply);
            }
        }
    }

    /// INVITE, answer the 407 with digest credentials, return the final reply to the second INVITE.
    pub fn invite_with_password(
        &mut self,
        callee: &str,
        user: &str,
        password: &str,
    ) -> Option<String> {
        let challenge = self.invite(callee, None)?;
        assert_eq!(status(&challenge), 407, "{challenge}");
        let nonce = header(&challenge, "Proxy-Authenticate").and_then(|h| param(&h, "nonce"))?;
        let uri = format!("sip:{callee}@{}", self.server);
        let a = digest_md5(user, "kefu", password, "INVITE", &uri, &nonce);
        self.invite(callee, Some(&a))
    }
}

impl RawSip {
    /// ACKs a 2xx (a new transaction: its own branch).
    pub fn ack(&self, ok: &str) {
        let local = self.local();
        let ack = format!(
            "ACK sip:{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-ack-{r}\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {seq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            server = self.server,
            r = rand::random::<u32>(),
            from = header(ok, "From").unwrap_or_default(),
            to = header(ok, "To").unwrap_or_default(),
            cid = header(ok, "Call-ID").unwrap_or_default(),
            seq = header(ok, "CSeq")
                .and_then(|c| c.split_whitespace().next().map(str::to_string))
                .unwrap_or_default(),
        );
        self.sock.send_to(ack.as_bytes(), self.server).unwrap();
    }
}

/// kefu's RTP port in the SDP of a 200 OK.
pub fn answered_rtp_port(ok: &str) -> u16 {
    ok.lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("kefu's RTP port in the answer")
}

/// An RTP packet (PCMA, 20 ms of A-law silence) with sequence `seq`.
pub fn pcma_silence_packet(seq: u16) -> Vec<u8> {
    let mut pkt = vec![
        0x80,
        8,
        (seq >> 8) as u8,
        seq as u8,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        42,
    ];
    pkt[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    pkt.extend_from_slice(&[0xd5; 160]);
    pkt
}
