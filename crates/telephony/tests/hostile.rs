//! Hostile SIP at the engine: a corpus of malformed and abusive messages (tests/corpus/*.sip, plus cases
//! generated below) over UDP and TCP, slow and endless TCP senders, then proof that a valid call still
//! works and that nothing leaked or was written.
//!
//! Every test starts the engine in a network namespace of its own that has only loopback (see
//! tests/netns/), on a thread that entered the namespace and runs its own tokio runtime; the attacker (raw
//! sockets on another thread in the namespace, and SIPp through `ip netns exec`) sends from there, so a
//! reply to a forged address (198.51.100.7) has no route and goes nowhere. The trunk of the test
//! directory trusts 127.0.0.1, so INVITEs whose content matters come from there; everything else comes
//! from an address of its own elsewhere in 127.0.0.0/8 (untrusted, and no case shares the rate limiter or ban
//! list with another).
//!
//! What happens with rsipstack 0.7.14 (UDP reads at most 8,192 bytes, TCP frames of at most 64 KB):
//! "drop" = no reply and nothing happens (rsipstack cannot parse the message or build a transaction key
//! from it and discards it), "open" = TCP: no reply and the connection stays open, "closed" = TCP: the
//! server closes the connection without a reply. BUG marks a case whose current outcome is wrong; the
//! tests named in the last column assert the right one and fail until the engine is fixed.
//!
//! | case                                   | UDP          | TCP          | note                                        |
//! |----------------------------------------|--------------|--------------|---------------------------------------------|
//! | valid_options                          | 200          | 200          | control                                     |
//! | garbage_text                           | drop         | closed       | unparsable                                  |
//! | binary_noise                           | drop         | open         | no CRLFCRLF: TCP waits (up to 64 KB)        |
//! | binary_noise_with_crlfcrlf             | drop         | closed       | unparsable start line                       |
//! | start_line_only                        | drop         | closed       | no Via                                      |
//! | request_uri_garbage                    | drop         | closed       | unparsable                                  |
//! | truncated_invite_mid_header            | drop         | open         | TCP waits for the rest                      |
//! | truncated_invite_mid_body              | BUG 603      | open         | UDP: call created from half an SDP; want 400 (`udp_content_length_must_match_the_datagram`) |
//! | content_length_larger_than_body        | BUG 200      | open         | want 400 (RFC 3261 §18.3) (same test)       |
//! | content_length_smaller_than_body       | 488          | 488          | body cut at Content-Length (RFC 3261 §18.3), SDP incomplete |
//! | content_length_negative                | BUG 200      | closed       | UDP parser reads it as 0; want 400 (same test) |
//! | content_length_not_a_number            | BUG 200      | closed       | as above                                    |
//! | content_length_overflow (2^64-1)       | BUG 200      | BUG open     | TCP: rsipstack's framing overflows and panics (debug builds), the connection task dies (`tcp_content_length_overflow_closes_the_connection`) |
//! | unknown_method (FOO)                   | drop         | closed       | rsipstack's Method has no extension methods; RFC wants 501/405 |
//! | missing_via                            | drop         | closed       | no reply possible                           |
//! | missing_from / _call_id / _cseq        | drop         | open         | no transaction key: dropped before kefu     |
//! | missing_to                             | drop         | open         | kefu sees it; rsipstack cannot build a reply without To |
//! | from_without_tag                       | drop         | open         | no transaction key                          |
//! | cseq_not_a_number                      | drop         | open         | no transaction key                          |
//! | cseq_method_mismatch (INVITE/OPTIONS)  | BUG 603      | BUG 603      | becomes a call; want 400 (`parsable_requests_with_bad_fields_get_4xx`) |
//! | sip_version_3                          | BUG 200      | BUG 200      | answered "SIP/3.0 200 OK"; want 505 (same test) |
//! | nul_in_header_value                    | BUG 200      | BUG 200      | want 400 (same test)                        |
//! | nul_in_method                          | drop         | closed       | unparsable                                  |
//! | utf8_invalid_in_header                 | BUG 200      | BUG 200      | rsipstack's parser silently drops every header from the bad line on; want 400 (upstream) |
//! | utf8_invalid_in_from                   | drop         | open         | From (and all after it) dropped: no key     |
//! | utf8_valid_chinese_display_name        | 200          | 200          | control: valid UTF-8 is fine                |
//! | via_forged_received (198.51.100.7)     | BUG no reply | 200          | UDP: reply sent to 198.51.100.7 (`replies_never_follow_a_forged_via_received`) |
//! | via_forged_received_with_rport         | 200          | 200          | rsipstack rewrites received/rport           |
//! | via_forged_sent_by (198.51.100.7:5060) | 200          | 200          | reply goes to the real source               |
//! | sdp_garbage (trunk INVITE)             | 488          | 488          |                                             |
//! | invite_without_sdp                     | 488          | 488          |                                             |
//! | invite_1000_m_lines                    | 488          | 488          | UDP: 25 KB cut to 8 KB (still 488; dropping it as too large is fine too) |
//! | invite_unknown_dialog (To tag)         | 481          | 481          |                                             |
//! | cancel_unknown_transaction             | 481          | 481          | answered by rsipstack                       |
//! | bye_unknown_dialog                     | 481          | 481          |                                             |
//! | stray_response                         | drop         | open         | no client transaction                       |
//! | register_expires_huge (99999999999)    | 401          | 401          | challenge first; with credentials the grant is 3600 (RFC 3261 §20.19) |
//! | authorization_huge (7 KB / 60 KB)      | 403          | 403          | counted as an auth failure                  |
//! | huge_header (64 KB datagram / 70 KB)   | drop         | BUG 200      | UDP: cut to 8 KB mid-header; TCP: a 70 KB message is taken when it arrives in two reads (limits.rs `tcp_messages_above_64_kb_are_refused`) |
//! | headers_10000 (60 KB)                  | drop         | 200          | UDP: cut to 8 KB; TCP: valid and under 64 KB |
//! | datagram_9000_bytes (body)             | BUG 200      | 200          | UDP: cut to 8,192 bytes and answered as if whole (limits.rs `udp_datagrams_above_8_kb_are_not_taken_for_whole_messages`) |
//! | slowloris (TCP, 20 connections)        |              | open         | held until the client closes, or 300 s of silence (rsipstack's default idle timeout) |
//! | one_megabyte_without_crlfcrlf (TCP)    |              | closed       | after 64 KB                                 |
//!
//! No case leaves a leg, media leg, RTP port, dialog or transaction behind; only the BUG cases that
//! became calls (declined by the application with 603) write call records.

mod common;
mod netns;
mod support;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::Memory;
use kefu_telephony::{IncomingCall, Stats, Target, Telephony};
use netns::Netns;
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

// ---------------------------------------------------------------------------------------------------
// The engine in a namespace

/// The engine, started inside a fresh namespace on its own thread and tokio runtime.
struct Lab {
    addr: SocketAddr,
    telephony: Telephony,
    directory: Arc<Memory>,
    /// Calls the application was handed for anything but the valid call's flow (it declines them 603).
    declined: Arc<Mutex<Vec<String>>>,
    stop: Option<oneshot::Sender<()>>,
    engine_thread: Option<JoinHandle<()>>,
    /// Dropped last: the namespace goes after the engine has stopped.
    ns: Netns,
}

fn routes() -> Vec<(&'static str, Target)> {
    vec![
        ("96777", Target::Flow("main".into())),
        ("96666", Target::Flow("hostile".into())),
    ]
}

impl Lab {
    fn start() -> Lab {
        let ns = Netns::new();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let declined = Arc::new(Mutex::new(Vec::new()));
        let seen = declined.clone();
        let engine_thread = ns.spawn("kefu-engine", move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            rt.block_on(async move {
                let common::Engine {
                    telephony,
                    directory,
                    incoming,
                    addr,
                    _dir,
                } = common::engine_with(&routes(), |_| {}).await;
                tokio::spawn(application(incoming, seen));
                ready_tx
                    .send((telephony.clone(), directory, addr))
                    .expect("the test waits for the engine");
                let _ = stop_rx.await;
                telephony.shutdown().await;
                drop(_dir);
            });
            rt.shutdown_timeout(Duration::from_secs(5));
        });
        let (telephony, directory, addr) = match ready_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(x) => x,
            Err(e) => match engine_thread.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => panic!("the engine did not start in the namespace: {e}"),
            },
        };
        assert!(
            addr.ip().is_loopback(),
            "the engine listens on loopback: {addr}"
        );
        Lab {
            addr,
            telephony,
            directory,
            declined,
            stop: Some(stop_tx),
            engine_thread: Some(engine_thread),
            ns,
        }
    }

    /// Runs an async attacker on a thread inside the namespace (its own current-thread runtime).
    fn attacker<T, F, Fut>(&self, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T>,
    {
        self.ns.run(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
                .block_on(f())
        })
    }

    /// One message over `transport` from `source`, and what came back.
    fn exchange(
        &self,
        transport: Transport,
        template: Vec<u8>,
        source: Ipv4Addr,
    ) -> (Outcome, String) {
        let server = self.addr;
        self.attacker(move || async move {
            match transport {
                Transport::Udp => udp_exchange(server, &template, source, 0).await,
                Transport::Tcp => tcp_exchange(server, &template, source, 0).await,
            }
        })
    }

    /// A valid OPTIONS over both transports gets 200: the engine is alive and not wedged.
    fn assert_alive(&self, source: Ipv4Addr) {
        for t in [Transport::Udp, Transport::Tcp] {
            let (outcome, reply) = self.exchange(t, crlf(&valid_options()), source);
            assert_eq!(
                outcome,
                Outcome::Reply(200),
                "the engine still answers a valid OPTIONS over {t:?}: {reply}"
            );
        }
    }

    /// Waits (up to `limit`) until no leg, media leg, RTP port, dialog or transaction is left.
    fn wait_idle(&self, limit: Duration) -> Stats {
        let deadline = Instant::now() + limit;
        loop {
            let s = self.telephony.stats();
            let idle = s.legs == 0
                && s.media_legs == 0
                && s.rtp_ports_in_use == 0
                && s.dialogs == 0
                && s.transactions == 0;
            if idle || Instant::now() >= deadline {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn assert_idle(&self, what: &str) {
        let s = self.wait_idle(Duration::from_secs(40));
        assert_eq!(
            (
                s.legs,
                s.media_legs,
                s.rtp_ports_in_use,
                s.dialogs,
                s.transactions
            ),
            (0, 0, 0, 0, 0),
            "{what}: nothing may be left behind: {s:?}"
        );
    }

    /// SIPp inside the namespace (`ip netns exec`), one call of `scenario` to `service`; returns its
    /// exit code (0: the call succeeded) and its logs.
    fn sipp(&self, scenario: &str, service: &str) -> (Option<i32>, String) {
        let dir = tempfile::Builder::new()
            .prefix("kefu-hostile-sipp-")
            .tempdir()
            .unwrap();
        let file = |n: &str| dir.path().join(n);
        let mut cmd = self.ns.command("sipp");
        cmd.arg("-sf")
            .arg(support::scenario(scenario))
            .arg(self.addr.to_string())
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", "5070"])
            .args(["-mp", "16000", "-m", "1", "-s", service])
            .args(["-timeout", "30s", "-timeout_error", "-nostdin"])
            .arg("-trace_err")
            .arg("-error_file")
            .arg(file("errors.log"))
            .arg("-trace_screen")
            .arg("-screen_file")
            .arg(file("screen.log"))
            .arg("-trace_msg")
            .arg("-message_file")
            .arg(file("messages.log"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(file("stdout.log")).unwrap())
            .stderr(std::fs::File::create(file("stderr.log")).unwrap());
        let mut child = cmd.spawn().expect("ip netns exec ... sipp starts");
        let deadline = Instant::now() + Duration::from_secs(45);
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut log = String::new();
        for n in [
            "errors.log",
            "stderr.log",
            "stdout.log",
            "screen.log",
            "messages.log",
        ] {
            let text = std::fs::read_to_string(file(n)).unwrap_or_default();
            if !text.trim().is_empty() {
                log.push_str(&format!("--- {n} ---\n{text}\n"));
            }
        }
        (code, log)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.engine_thread.take() {
            let _ = t.join();
        }
    }
}

/// The application: answers the valid call's flow and waits for its end; declines anything else with
/// 603, so a hostile INVITE the engine let through shows up as 603 (never as one of the engine's 4xx).
async fn application(
    mut incoming: mpsc::Receiver<IncomingCall>,
    declined: Arc<Mutex<Vec<String>>>,
) {
    while let Some(IncomingCall { call, target }) = incoming.recv().await {
        match target {
            Target::Flow(f) if f == "main" => {
                tokio::spawn(async move {
                    if call.answer().await.is_ok() {
                        call.wait_ended().await;
                    }
                });
            }
            _ => {
                declined.lock().push(call.info().sip_call_id.clone());
                let _ = call.reject(603).await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Messages

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// The first reply other than 100 Trying, by status.
    Reply(u16),
    /// UDP: nothing came back within [`WAIT`].
    Dropped,
    /// TCP: no reply within [`WAIT`], the connection still open.
    Open,
    /// TCP: the server closed or reset the connection without replying.
    Closed,
}

use Outcome::{Closed, Dropped, Open, Reply};

/// How long a case waits for a reply before it counts as dropped (or left open).
const WAIT: Duration = Duration::from_secs(4);

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Corpus files are stored with LF line ends; SIP wants CRLF.
fn crlf(text: &str) -> Vec<u8> {
    text.replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes()
}

fn corpus(name: &str) -> String {
    std::fs::read_to_string(corpus_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn valid_options() -> String {
    corpus("valid_options.sip")
}

/// `message` (CRLF) with `extra` header lines inserted before its Content-Length, and `body` appended.
fn with_headers(message: &[u8], extra: &[u8], body: &[u8]) -> Vec<u8> {
    let at = find(message, b"Content-Length").expect("a Content-Length header");
    let mut out = message[..at].to_vec();
    out.extend_from_slice(extra);
    out.extend_from_slice(&message[at..]);
    out.extend_from_slice(body);
    out
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

/// Deterministic noise (xorshift).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Fills a template's placeholders: {server} {local} {transport} {branch} {tag} {callid} {sdp}, and
/// {len} with the length of what follows the first CRLFCRLF.
fn render(
    template: &[u8],
    server: SocketAddr,
    local: SocketAddr,
    transport: Transport,
    n: usize,
) -> Vec<u8> {
    let r: u32 = rand::random();
    let vars: [(&str, String); 7] = [
        ("{server}", server.to_string()),
        ("{local}", local.to_string()),
        (
            "{transport}",
            match transport {
                Transport::Udp => "UDP".into(),
                Transport::Tcp => "TCP".into(),
            },
        ),
        ("{branch}", format!("z9hG4bK-hostile-{n}-{r}")),
        ("{tag}", format!("t{n}x{r}")),
        ("{callid}", format!("hostile-{n}-{r}@attacker")),
        ("{sdp}", SDP.into()),
    ];
    let mut out = template.to_vec();
    for (k, v) in &vars {
        out = replace_all(&out, k.as_bytes(), v.as_bytes());
    }
    if let Some(sep) = find(&out, b"\r\n\r\n") {
        let len = out.len() - sep - 4;
        out = replace_all(&out, b"{len}", len.to_string().as_bytes());
    }
    out
}

fn status_of(reply: &str) -> u16 {
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn header_line<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.split("\r\n").find(|l| {
        l.split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
    })
}

/// The ACK for a non-2xx final reply to an INVITE (RFC 3261 §17.1.1.3), when the request has the
/// headers it takes.
fn ack_for(request: &[u8], reply: &str) -> Option<Vec<u8>> {
    let req = std::str::from_utf8(request).ok()?;
    if !req.starts_with("INVITE ") || status_of(reply) < 300 {
        return None;
    }
    let uri = req.lines().next()?.split(' ').nth(1)?;
    let via = header_line(req, "Via")?;
    let from = header_line(req, "From")?;
    let call_id = header_line(req, "Call-ID")?;
    let cseq = header_line(req, "CSeq")?
        .split(':')
        .nth(1)?
        .split_whitespace()
        .next()?;
    let to = header_line(reply, "To")?;
    Some(
        format!(
            "ACK {uri} SIP/2.0\r\n{via}\r\n{from}\r\n{to}\r\n{call_id}\r\nCSeq: {cseq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
}

async fn udp_exchange(
    server: SocketAddr,
    template: &[u8],
    source: Ipv4Addr,
    n: usize,
) -> (Outcome, String) {
    let (sock, msg) = udp_send(server, template, source, n).await;
    udp_receive(server, sock, msg).await
}

async fn udp_send(
    server: SocketAddr,
    template: &[u8],
    source: Ipv4Addr,
    n: usize,
) -> (tokio::net::UdpSocket, Vec<u8>) {
    let sock = tokio::net::UdpSocket::bind((source, 0)).await.unwrap();
    let local = sock.local_addr().unwrap();
    let msg = render(template, server, local, Transport::Udp, n);
    sock.send_to(&msg, server)
        .await
        .unwrap_or_else(|e| panic!("sending {} bytes: {e}", msg.len()));
    (sock, msg)
}

async fn udp_receive(
    server: SocketAddr,
    sock: tokio::net::UdpSocket,
    msg: Vec<u8>,
) -> (Outcome, String) {
    let mut buf = vec![0u8; 65536];
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await {
            Ok(Ok((len, _))) => {
                let text = String::from_utf8_lossy(&buf[..len]).to_string();
                if status_of(&text) == 100 {
                    continue;
                }
                if let Some(ack) = ack_for(&msg, &text) {
                    let _ = sock.send_to(&ack, server).await;
                }
                return (Reply(status_of(&text)), text);
            }
            Ok(Err(e)) => return (Dropped, format!("receive: {e}")),
            Err(_) => return (Dropped, String::new()),
        }
    }
}

/// The engine's UDP socket as the kernel sees it (this thread's namespace): bytes waiting to be read,
/// and datagrams dropped because its buffer was full.
fn udp_socket_queue(port: u16) -> Option<(u64, u64)> {
    let table = std::fs::read_to_string("/proc/thread-self/net/udp").ok()?;
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.get(1) != Some(&local.as_str()) {
            return None;
        }
        let rx = u64::from_str_radix(cols.get(4)?.split(':').nth(1)?, 16).ok()?;
        let drops = cols.last()?.parse().ok()?;
        Some((rx, drops))
    })
}

/// Waits until the engine has read everything sent to its UDP socket, so the next datagram cannot be
/// lost to a full socket buffer (a few 64 KB datagrams fill it).
async fn udp_drained(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while udp_socket_queue(port).is_some_and(|(rx, _)| rx > 0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn tcp_exchange(
    server: SocketAddr,
    template: &[u8],
    source: Ipv4Addr,
    n: usize,
) -> (Outcome, String) {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(source.into(), 0)).unwrap();
    let mut stream = sock.connect(server).await.unwrap();
    let local = stream.local_addr().unwrap();
    let msg = render(template, server, local, Transport::Tcp, n);
    if let Err(e) = stream.write_all(&msg).await {
        return (Closed, format!("write: {e}"));
    }
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // Whole replies: headers and as much body as their Content-Length says.
        while let Some(end) = find(&got, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end + 4]).to_string();
            let cl: usize = header_line(&head, "Content-Length")
                .and_then(|l| l.split(':').nth(1)?.trim().parse().ok())
                .unwrap_or(0);
            if got.len() < end + 4 + cl {
                break;
            }
            got.drain(..end + 4 + cl);
            if status_of(&head) == 100 {
                continue;
            }
            if let Some(ack) = ack_for(&msg, &head) {
                let _ = stream.write_all(&ack).await;
            }
            return (Reply(status_of(&head)), head);
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) => return (Closed, "EOF".into()),
            Ok(Err(e)) => return (Closed, e.to_string()),
            Ok(Ok(len)) => got.extend_from_slice(&buf[..len]),
            Err(_) => return (Open, String::new()),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// The corpus

struct Case {
    name: String,
    template: Vec<u8>,
    /// Sent from 127.0.0.1, the trusted trunk: the engine looks at an INVITE's content only for trusted
    /// callers (anyone else gets 403 first).
    trunk: bool,
}

/// What a case may end in over one transport: the acceptable outcomes, and what happens today where
/// that is a known bug (tested by a failing test of its own).
#[derive(Clone, Copy, Debug)]
struct Exp {
    ok: &'static [Outcome],
    bug: &'static [Outcome],
}

const fn ok(ok: &'static [Outcome]) -> Exp {
    Exp { ok, bug: &[] }
}

const fn bug(ok: &'static [Outcome], bug: &'static [Outcome]) -> Exp {
    Exp { ok, bug }
}

/// (UDP, TCP) expectations per case. Every corpus file must be listed.
fn expected(name: &str) -> Option<(Exp, Exp)> {
    Some(match name {
        "valid_options.sip" => (ok(&[Reply(200)]), ok(&[Reply(200)])),
        "garbage_text.sip" => (ok(&[Dropped]), ok(&[Closed])),
        "binary_noise" => (ok(&[Dropped]), ok(&[Open])),
        "binary_noise_with_crlfcrlf" => (ok(&[Dropped]), ok(&[Closed])),
        "start_line_only.sip" => (ok(&[Dropped]), ok(&[Closed])),
        "request_uri_garbage.sip" => (ok(&[Dropped]), ok(&[Closed])),
        "truncated_invite_mid_header.sip" => (ok(&[Dropped]), ok(&[Open])),
        "truncated_invite_mid_body.sip" => (bug(&[Reply(400)], &[Reply(603)]), ok(&[Open])),
        "content_length_larger_than_body.sip" => (bug(&[Reply(400)], &[Reply(200)]), ok(&[Open])),
        "content_length_smaller_than_body.sip" => (ok(&[Reply(488)]), ok(&[Reply(488)])),
        "content_length_negative.sip" | "content_length_not_a_number.sip" => {
            (bug(&[Reply(400)], &[Reply(200)]), ok(&[Closed]))
        }
        "content_length_overflow.sip" => {
            (bug(&[Reply(400)], &[Reply(200)]), bug(&[Closed], &[Open]))
        }
        "unknown_method.sip" => (ok(&[Dropped]), ok(&[Closed])),
        "missing_via.sip" => (ok(&[Dropped]), ok(&[Closed])),
        "missing_from.sip" | "missing_to.sip" | "missing_call_id.sip" | "missing_cseq.sip" => {
            (ok(&[Dropped]), ok(&[Open]))
        }
        "from_without_tag.sip" | "cseq_not_a_number.sip" => (ok(&[Dropped]), ok(&[Open])),
        "cseq_method_mismatch.sip" => (
            bug(&[Reply(400)], &[Reply(603)]),
            bug(&[Reply(400)], &[Reply(603)]),
        ),
        "sip_version_3.sip" => (
            bug(&[Reply(505), Reply(400)], &[Reply(200)]),
            bug(&[Reply(505), Reply(400)], &[Reply(200)]),
        ),
        "nul_in_header_value" | "utf8_invalid_in_header" => (
            bug(&[Reply(400)], &[Reply(200)]),
            bug(&[Reply(400)], &[Reply(200)]),
        ),
        "nul_in_method" => (ok(&[Dropped]), ok(&[Closed])),
        "utf8_invalid_in_from" => (ok(&[Dropped]), ok(&[Open])),
        "utf8_valid_chinese_display_name" => (ok(&[Reply(200)]), ok(&[Reply(200)])),
        "via_forged_received.sip" => (bug(&[Reply(200)], &[Dropped]), ok(&[Reply(200)])),
        "via_forged_received_with_rport.sip" | "via_forged_sent_by.sip" => {
            (ok(&[Reply(200)]), ok(&[Reply(200)]))
        }
        "sdp_garbage.sip" | "invite_without_sdp.sip" => (ok(&[Reply(488)]), ok(&[Reply(488)])),
        // UDP: 25 KB, cut to 8 KB by rsipstack (still 488), or dropped as too large.
        "invite_1000_m_lines" => (ok(&[Reply(488), Dropped]), ok(&[Reply(488)])),
        "invite_unknown_dialog.sip"
        | "cancel_unknown_transaction.sip"
        | "bye_unknown_dialog.sip" => (ok(&[Reply(481)]), ok(&[Reply(481)])),
        "stray_response.sip" => (ok(&[Dropped]), ok(&[Open])),
        "register_expires_huge.sip" => (ok(&[Reply(401)]), ok(&[Reply(401)])),
        "authorization_huge" => (ok(&[Reply(403)]), ok(&[Reply(403)])),
        "huge_header" => (ok(&[Dropped]), bug(&[Closed, Reply(513)], &[Reply(200)])),
        // 60 KB: under the limit, valid SIP (a cap on the number of headers could refuse it).
        "headers_10000" => (ok(&[Dropped]), ok(&[Reply(200), Reply(513)])),
        "datagram_9000_bytes" => (
            bug(&[Dropped, Reply(400), Reply(513)], &[Reply(200)]),
            ok(&[Reply(200)]),
        ),
        _ => return None,
    })
}

/// INVITEs whose content is the point come from the trusted trunk.
const FROM_TRUNK: &[&str] = &[
    "truncated_invite_mid_header.sip",
    "truncated_invite_mid_body.sip",
    "content_length_smaller_than_body.sip",
    "cseq_method_mismatch.sip",
    "sdp_garbage.sip",
    "invite_without_sdp.sip",
    "invite_unknown_dialog.sip",
    "invite_1000_m_lines",
];

fn cases(transport: Transport) -> Vec<Case> {
    let case = |name: &str, template: Vec<u8>| Case {
        trunk: FROM_TRUNK.contains(&name),
        name: name.into(),
        template,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sip"))
        .collect();
    files.sort();
    let mut out: Vec<Case> = files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            case(&name, crlf(&std::fs::read_to_string(p).unwrap()))
        })
        .collect();
    let options = crlf(&valid_options());
    let tcp = transport == Transport::Tcp;

    out.push(case("binary_noise", noise(1200, 7)));
    let mut b = noise(1200, 11);
    b.extend_from_slice(b"\r\n\r\n");
    out.push(case("binary_noise_with_crlfcrlf", b));
    // UDP: the largest datagram there is (65,507 bytes of payload); TCP: a 70 KB header.
    let pad = if tcp { 70 * 1024 } else { 64_000 };
    let mut line = b"X-Pad: ".to_vec();
    line.extend(std::iter::repeat_n(b'a', pad));
    line.extend_from_slice(b"\r\n");
    out.push(case("huge_header", with_headers(&options, &line, b"")));
    out.push(case(
        "headers_10000",
        with_headers(&options, &b"X: y\r\n".repeat(10_000), b""),
    ));
    out.push(case(
        "datagram_9000_bytes",
        with_headers(&options, b"Content-Type: text/plain\r\n", &[b'z'; 8800]),
    ));
    let mut sdp = SDP.to_string();
    for i in 0..1000 {
        sdp.push_str(&format!("m=audio {} RTP/AVP 8\r\n", 40002 + 2 * i));
    }
    let invite =
        corpus("invite_without_sdp.sip").replace("Content-Length: 0", "Content-Length: {len}");
    let mut m = crlf(&invite);
    m.extend_from_slice(sdp.as_bytes());
    out.push(case("invite_1000_m_lines", m));
    let n = if tcp { 60_000 } else { 7_000 };
    let auth = format!(
        "Authorization: Digest username=\"8001\", realm=\"kefu\", nonce=\"n\", uri=\"sip:{{server}}\", response=\"{}\", algorithm=MD5\r\n",
        "f".repeat(n)
    );
    let register = corpus("register_expires_huge.sip").replace("99999999999", "300");
    out.push(case(
        "authorization_huge",
        with_headers(&crlf(&register), auth.as_bytes(), b""),
    ));
    out.push(case(
        "nul_in_header_value",
        with_headers(&options, b"X-Nul: a\0b\r\n", b""),
    ));
    let mut nul = options.clone();
    nul.splice(3..3, [0u8]);
    out.push(case("nul_in_method", nul));
    out.push(case(
        "utf8_invalid_in_header",
        with_headers(&options, b"Subject: \xff\xfe\xfd garbage\r\n", b""),
    ));
    out.push(case(
        "utf8_invalid_in_from",
        replace_all(&options, b"<sip:hostile@", b"<sip:h\xc3\x28stile@"),
    ));
    out.push(case(
        "utf8_valid_chinese_display_name",
        crlf(&valid_options().replace("From: <sip:", "From: \"坐席 张三\" <sip:")),
    ));
    out
}

/// The address case `i` sends from: the trunk's 127.0.0.1, or one of its own.
fn source(case: &Case, i: usize, transport: Transport) -> Ipv4Addr {
    if case.trunk {
        return Ipv4Addr::LOCALHOST;
    }
    let t = match transport {
        Transport::Udp => 1,
        Transport::Tcp => 2,
    };
    Ipv4Addr::new(127, t, (i / 250) as u8, (i % 250 + 1) as u8)
}

/// Throws every case at the engine over `transport`, each from its own socket, and waits for all the
/// replies at once. UDP datagrams go one after the other, each once the engine has read the one before
/// (so none is lost in the kernel); returns (name, outcome, first reply line) per case.
fn attack(lab: &Lab, transport: Transport) -> Vec<(String, Outcome, String)> {
    let server = lab.addr;
    let results = lab.attacker(move || async move {
        let drops_before = udp_socket_queue(server.port()).map(|(_, d)| d);
        let mut tasks = Vec::new();
        for (i, case) in cases(transport).into_iter().enumerate() {
            let src = source(&case, i, transport);
            let task = match transport {
                Transport::Udp => {
                    udp_drained(server.port()).await;
                    let (sock, msg) = udp_send(server, &case.template, src, i).await;
                    tokio::spawn(async move { udp_receive(server, sock, msg).await })
                }
                Transport::Tcp => {
                    tokio::spawn(async move { tcp_exchange(server, &case.template, src, i).await })
                }
            };
            tasks.push((case.name, task));
        }
        let mut out = Vec::new();
        for (name, task) in tasks {
            let (outcome, detail) = task.await.expect("a case's task");
            out.push((
                name,
                outcome,
                detail.lines().next().unwrap_or("").to_string(),
            ));
        }
        let drops_after = udp_socket_queue(server.port()).map(|(_, d)| d);
        (out, drops_before, drops_after)
    });
    let (out, before, after) = results;
    assert!(
        before.is_some(),
        "the engine's UDP socket is in /proc/thread-self/net/udp"
    );
    assert_eq!(
        before, after,
        "no datagram was lost in the kernel: every drop is the engine's"
    );
    out
}

/// TCP connections that send part of an INVITE a byte at a time, then give up and close.
async fn slowloris(server: SocketAddr, connections: usize, hold: Duration) -> Vec<Outcome> {
    let mut tasks = Vec::new();
    for i in 0..connections {
        tasks.push(tokio::spawn(async move {
            let sock = tokio::net::TcpSocket::new_v4().unwrap();
            sock.bind(SocketAddr::new(
                Ipv4Addr::new(127, 3, 0, (i + 1) as u8).into(),
                0,
            ))
            .unwrap();
            let mut stream = sock.connect(server).await.unwrap();
            let local = stream.local_addr().unwrap();
            let msg = render(
                &crlf(&corpus("invite_without_sdp.sip")),
                server,
                local,
                Transport::Tcp,
                i,
            );
            let deadline = Instant::now() + hold;
            let mut sent = 0;
            let mut buf = [0u8; 1024];
            while Instant::now() < deadline && sent < msg.len() - 4 {
                if stream.write_all(&msg[sent..sent + 1]).await.is_err() {
                    return Closed;
                }
                sent += 1;
                // Anything back (a reply, EOF) means the server did not wait for the rest.
                match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await
                {
                    Err(_) => {}
                    Ok(Ok(0)) | Ok(Err(_)) => return Closed,
                    Ok(Ok(_)) => return Reply(0),
                }
            }
            Open
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// A TCP connection that sends 1 MB without ever ending its headers: the server must close it.
async fn one_megabyte_without_crlfcrlf(server: SocketAddr) -> (Outcome, usize) {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(Ipv4Addr::new(127, 4, 0, 1).into(), 0))
        .unwrap();
    let mut stream = sock.connect(server).await.unwrap();
    let chunk = b"OPTIONS sip:x SIP/2.0\r\nX-Endless: ".to_vec();
    let filler = vec![b'a'; 16 * 1024];
    let mut sent = 0;
    let result = tokio::time::timeout(WAIT * 2, async {
        if stream.write_all(&chunk).await.is_err() {
            return Closed;
        }
        while sent < 1024 * 1024 {
            if stream.write_all(&filler).await.is_err() {
                return Closed;
            }
            sent += filler.len();
        }
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => Closed,
            Ok(_) => Reply(0),
        }
    })
    .await;
    (result.unwrap_or(Open), sent)
}

// ---------------------------------------------------------------------------------------------------
// Tests

#[test]
fn the_corpus_over_udp_and_tcp_leaves_nothing_behind_and_a_valid_call_still_works() {
    let lab = Lab::start();
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    for transport in [Transport::Udp, Transport::Tcp] {
        let results = attack(&lab, transport);
        for (name, outcome, first) in results {
            let (udp, tcp) =
                expected(&name).unwrap_or_else(|| panic!("no expectation for the case {name}"));
            let exp = if transport == Transport::Udp {
                udp
            } else {
                tcp
            };
            let verdict = if exp.ok.contains(&outcome) {
                "ok"
            } else if exp.bug.contains(&outcome) {
                "KNOWN BUG"
            } else {
                wrong.push(format!(
                    "{transport:?} {name}: {outcome:?}, expected {exp:?} ({first})"
                ));
                "UNEXPECTED"
            };
            report.push(format!(
                "{transport:?} {name:38} {:12} {verdict:10} {first}",
                format!("{outcome:?}")
            ));
        }
        lab.assert_alive(Ipv4Addr::new(127, 9, 0, 1));
    }

    // Slow and endless TCP senders.
    let server = lab.addr;
    let (slow, megabyte) = lab.attacker(move || async move {
        let slow = tokio::spawn(slowloris(server, 20, Duration::from_secs(3)));
        // Meanwhile the engine answers others.
        let during_udp = udp_exchange(
            server,
            &crlf(&valid_options()),
            Ipv4Addr::new(127, 9, 0, 2),
            0,
        )
        .await;
        let during_tcp = tcp_exchange(
            server,
            &crlf(&valid_options()),
            Ipv4Addr::new(127, 9, 0, 3),
            0,
        )
        .await;
        assert_eq!(during_udp.0, Reply(200), "UDP during the slowloris");
        assert_eq!(during_tcp.0, Reply(200), "TCP during the slowloris");
        let megabyte = one_megabyte_without_crlfcrlf(server).await;
        (slow.await.unwrap(), megabyte)
    });
    report.push(format!("Tcp slowloris x20 {slow:?}"));
    report.push(format!(
        "Tcp one_megabyte_without_crlfcrlf {:?} after {} bytes",
        megabyte.0, megabyte.1
    ));
    assert!(
        slow.iter().all(|o| *o == Open),
        "a partial message is waited for (until the client closes): {slow:?}"
    );
    assert_eq!(
        megabyte.0, Closed,
        "a connection that sends more than 64 KB without ending its headers is closed"
    );
    println!("{}", report.join("\n"));
    assert!(
        wrong.is_empty(),
        "unexpected outcomes:\n{}\n\nall:\n{}",
        wrong.join("\n"),
        report.join("\n")
    );

    // Nothing leaked, nothing written but the calls of known bugs (declined by the application).
    lab.assert_alive(Ipv4Addr::new(127, 9, 0, 4));
    lab.assert_idle("after the corpus");
    assert_eq!(lab.telephony.stats().registrations, 0, "no registration");
    let declined = lab.declined.lock().clone();
    let known = ["cseq_method_mismatch.sip", "truncated_invite_mid_body.sip"];
    let known_prefixes: Vec<String> = ["udp", "tcp"]
        .iter()
        .flat_map(|t| {
            let transport = if *t == "udp" {
                Transport::Udp
            } else {
                Transport::Tcp
            };
            cases(transport)
                .into_iter()
                .enumerate()
                .filter(|(_, c)| known.contains(&c.name.as_str()))
                .map(|(i, _)| format!("hostile-{i}-"))
                .collect::<Vec<_>>()
        })
        .collect();
    for call_id in &declined {
        assert!(
            known_prefixes.iter().any(|p| call_id.starts_with(p)),
            "a hostile INVITE other than the known bugs became a call: {call_id}"
        );
    }
    let records = lab.directory.records.lock().clone();
    assert_eq!(
        records.len(),
        declined.len(),
        "call records only for the calls of known bugs: {records:?}"
    );

    // A valid call through SIPp, inside the namespace.
    let (code, log) = lab.sipp("caller_hangs_up.xml", "96777");
    assert_eq!(
        code,
        Some(0),
        "SIPp's call succeeds after the attack\n{log}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while lab.directory.records.lock().len() < records.len() + 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let records = lab.directory.records.lock().clone();
    let call = records
        .iter()
        .find(|r| r.callee == "96777")
        .unwrap_or_else(|| panic!("a record of the valid call: {records:?}"));
    assert_eq!(call.disposition, kefu_telephony::Disposition::Answered);
    assert_eq!(call.hangup_side, kefu_telephony::Side::Caller);
    lab.assert_idle("after the valid call");
}

/// UDP: Content-Length must describe the datagram's body (RFC 3261 §18.3: larger than the body → 400;
/// a body longer than Content-Length is cut, which is fine). rsipstack's parser reads a bad value as 0
/// and takes a short body as it is, so these are answered, or become calls, today.
#[test]
fn udp_content_length_must_match_the_datagram() {
    let lab = Lab::start();
    let mut got = Vec::new();
    for (i, name) in [
        "content_length_larger_than_body.sip",
        "content_length_negative.sip",
        "content_length_not_a_number.sip",
        "content_length_overflow.sip",
        "truncated_invite_mid_body.sip",
    ]
    .iter()
    .enumerate()
    {
        let src = if FROM_TRUNK.contains(name) {
            Ipv4Addr::LOCALHOST
        } else {
            Ipv4Addr::new(127, 5, 0, i as u8 + 1)
        };
        let (outcome, reply) = lab.exchange(Transport::Udp, crlf(&corpus(name)), src);
        got.push((name.to_string(), outcome, reply));
    }
    let bad: Vec<String> = got
        .iter()
        .filter(|(_, o, _)| *o != Reply(400))
        .map(|(n, o, r)| format!("{n}: {o:?} {}", r.lines().next().unwrap_or("")))
        .collect();
    assert!(
        bad.is_empty(),
        "a Content-Length that does not match the datagram gets 400:\n{}",
        bad.join("\n")
    );
    assert!(lab.declined.lock().is_empty(), "and never becomes a call");
    lab.assert_idle("after bad Content-Lengths");
}

/// Requests rsipstack parses but whose fields contradict themselves or the protocol get a 4xx (505 for
/// the version), and never become calls.
#[test]
fn parsable_requests_with_bad_fields_get_4xx() {
    let lab = Lab::start();
    let options = crlf(&valid_options());
    let checks: Vec<(&str, Vec<u8>, Ipv4Addr, &[u16])> = vec![
        (
            "INVITE with CSeq: 1 OPTIONS",
            crlf(&corpus("cseq_method_mismatch.sip")),
            Ipv4Addr::LOCALHOST,
            &[400],
        ),
        (
            "NUL in a header value",
            with_headers(&options, b"X-Nul: a\0b\r\n", b""),
            Ipv4Addr::new(127, 6, 0, 1),
            &[400],
        ),
        (
            "SIP/3.0",
            crlf(&corpus("sip_version_3.sip")),
            Ipv4Addr::new(127, 6, 0, 2),
            &[505, 400],
        ),
    ];
    let mut bad = Vec::new();
    for (what, msg, src, want) in checks {
        for t in [Transport::Udp, Transport::Tcp] {
            let (outcome, reply) = lab.exchange(t, msg.clone(), src);
            if !want.iter().any(|s| outcome == Reply(*s)) {
                bad.push(format!(
                    "{t:?} {what}: {outcome:?} (want {want:?}) {}",
                    reply.lines().next().unwrap_or("")
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(
        lab.declined.lock().is_empty(),
        "no bad request became a call: {:?}",
        lab.declined.lock()
    );
    lab.assert_idle("after bad fields");
}

/// A Via whose sent-by is the real source but carries `received=198.51.100.7`: the reply must go to the
/// source the request came from (RFC 3261 §18.2.2, RFC 3581), never to an address the sender names.
/// rsipstack strips a forged `received` only when it adds its own, so today the reply goes to
/// 198.51.100.7 — a reflection anyone can aim. To show where it goes, 198.51.100.7 is then put on the
/// namespace's loopback and a "victim" socket listens there.
#[test]
fn replies_never_follow_a_forged_via_received() {
    let lab = Lab::start();
    let server = lab.addr;
    let template = crlf(&corpus("via_forged_received.sip"));
    let (attacker, victim) = lab.attacker(move || async move {
        let (outcome, _) = udp_exchange(server, &template, Ipv4Addr::new(127, 7, 0, 1), 0).await;
        assert!(
            std::process::Command::new("ip")
                .args(["addr", "add", "198.51.100.7/32", "dev", "lo"])
                .status()
                .unwrap()
                .success(),
            "198.51.100.7 on the namespace's loopback"
        );
        let sock = tokio::net::UdpSocket::bind((Ipv4Addr::new(127, 7, 0, 2), 0))
            .await
            .unwrap();
        let local = sock.local_addr().unwrap();
        let victim = tokio::net::UdpSocket::bind(("198.51.100.7", local.port()))
            .await
            .unwrap();
        let msg = render(&template, server, local, Transport::Udp, 1);
        sock.send_to(&msg, server).await.unwrap();
        let mut buf = vec![0u8; 65536];
        let mut victim_buf = vec![0u8; 65536];
        let got = tokio::time::timeout(WAIT, async {
            tokio::select! {
                r = sock.recv_from(&mut buf) => ("attacker", String::from_utf8_lossy(&buf[..r.unwrap().0]).to_string()),
                r = victim.recv_from(&mut victim_buf) => ("victim", String::from_utf8_lossy(&victim_buf[..r.unwrap().0]).to_string()),
            }
        })
        .await;
        (outcome, got)
    });
    let (who, reply) = victim.expect("a reply somewhere within 4 s");
    assert!(
        attacker == Reply(200) && who == "attacker",
        "the reply goes back to the source, never to the forged received=198.51.100.7; without that \
         address in the namespace the source got {attacker:?}, with it the reply went to the {who}:\n{reply}"
    );
}

/// TCP, `Content-Length: 18446744073709551615`: rsipstack's stream framing adds it to the header length,
/// which overflows (a panic in debug builds) and kills the connection's task without closing the
/// connection; then more bytes pile up unread. The server must refuse the frame and close the
/// connection, as it does for any message over 64 KB.
#[test]
fn tcp_content_length_overflow_closes_the_connection() {
    let lab = Lab::start();
    let server = lab.addr;
    let template = crlf(&corpus("content_length_overflow.sip"));
    let outcome = lab.attacker(move || async move {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(SocketAddr::new(Ipv4Addr::new(127, 8, 0, 1).into(), 0))
            .unwrap();
        let mut stream = sock.connect(server).await.unwrap();
        let local = stream.local_addr().unwrap();
        let msg = render(&template, server, local, Transport::Tcp, 0);
        stream.write_all(&msg).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        // More than a frame's worth of body: a live connection task closes the connection now.
        let _ = stream.write_all(&vec![b'z'; 70 * 1024]).await;
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(WAIT, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => Closed,
            Ok(Ok(_)) => Reply(0),
            Err(_) => Open,
        }
    });
    assert_eq!(
        outcome, Closed,
        "the connection is closed (today its task has panicked and nobody reads it)"
    );
    lab.assert_alive(Ipv4Addr::new(127, 8, 0, 2));
}

/// REGISTER with `Expires: 99999999999` and good credentials: the value is malformed (above 2^32-1), so
/// the registrar grants its default (RFC 3261 §20.19: treat as 3600), not forever.
#[test]
fn a_huge_expires_is_granted_the_default_not_forever() {
    let lab = Lab::start();
    let server = lab.addr;
    let reply = lab.attacker(move || async move {
        let sock = tokio::net::UdpSocket::bind((Ipv4Addr::new(127, 10, 0, 1), 0))
            .await
            .unwrap();
        let local = sock.local_addr().unwrap();
        let template = corpus("register_expires_huge.sip");
        let mut buf = vec![0u8; 65536];
        let send = |auth: Option<String>, cseq: u32, expires: &str| {
            let mut t = template
                .replace("CSeq: 1 REGISTER", &format!("CSeq: {cseq} REGISTER"))
                .replace("Expires: 99999999999", &format!("Expires: {expires}"))
                .replace("{callid}", "huge-expires@attacker")
                .replace("{tag}", "huge");
            if let Some(a) = auth {
                t = t.replace(
                    "Content-Length",
                    &format!("Authorization: {a}\nContent-Length"),
                );
            }
            render(&crlf(&t), server, local, Transport::Udp, cseq as usize)
        };
        sock.send_to(&send(None, 1, "99999999999"), server)
            .await
            .unwrap();
        let (n, _) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf))
            .await
            .expect("a challenge")
            .unwrap();
        let challenge = String::from_utf8_lossy(&buf[..n]).to_string();
        assert_eq!(status_of(&challenge), 401, "{challenge}");
        let nonce = common::header(&challenge, "WWW-Authenticate")
            .and_then(|h| common::param(&h, "nonce"))
            .expect("a nonce");
        let uri = format!("sip:{server}");
        let auth = common::digest_md5("8001", "kefu", common::PASSWORD, "REGISTER", &uri, &nonce);
        sock.send_to(&send(Some(auth.clone()), 2, "99999999999"), server)
            .await
            .unwrap();
        let (n, _) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf))
            .await
            .expect("a reply")
            .unwrap();
        let reply = String::from_utf8_lossy(&buf[..n]).to_string();
        // Unregister again.
        sock.send_to(&send(Some(auth), 3, "0"), server)
            .await
            .unwrap();
        let _ = tokio::time::timeout(WAIT, sock.recv_from(&mut buf)).await;
        reply
    });
    assert_eq!(status_of(&reply), 200, "{reply}");
    let contact = common::header(&reply, "Contact").expect("the granted contact");
    let granted: u64 = contact
        .split("expires=")
        .nth(1)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("an expires parameter: {contact}"));
    assert!(granted <= 3600, "granted {granted} s");
    assert_eq!(lab.telephony.stats().registrations, 0, "unregistered again");
}
