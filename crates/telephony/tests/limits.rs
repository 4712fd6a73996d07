//! The engine's limits on loopback: at most `max_calls` legs (503 beyond), RTP port exhaustion (503,
//! nothing leaked), messages above the size limits (UDP: rsipstack reads 8,192 bytes of a datagram;
//! TCP: 64 KB frames) refused, and 1,000 calls after which every leg, media leg, RTP port, dialog,
//! transaction and socket is released.
//!
//! Four tests assert what the engine does not do yet and fail until it is fixed: oversized UDP and TCP
//! messages are taken, an RTP port is counted free while its sockets are still bound, and
//! `Telephony::start` succeeds without its TCP listener.

mod common;
mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::{Engine, RawSip, engine_with, sipp, status};
use kefu_telephony::{Call, IncomingCall, Stats, Target, Telephony, TelephonyConfig};
use support::{Sipp, free_rtp_range, tcp_listening, udp_bound};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{RwLock, mpsc};

/// The 1,000-call test counts the process's sockets: it runs alone (write), the others side by side
/// (read).
static SOCKETS: RwLock<()> = RwLock::const_new(());

fn routes() -> Vec<(&'static str, Target)> {
    vec![("96777", Target::Flow("main".into()))]
}

/// An engine whose TCP listener is up. rsipstack binds it in a task of its own and only logs a failure,
/// so when the port the kernel picked for UDP is taken for TCP (an outgoing connection of another test
/// has it, say) the engine runs without TCP (`start_fails_when_its_tcp_port_is_taken`); then another
/// engine is started.
async fn engine_up(tune: impl Fn(&mut TelephonyConfig) + Copy) -> Engine {
    for _ in 0..5 {
        let e = engine_with(&routes(), tune).await;
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if tcp_listening(e.addr.port()) {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!(
            "the engine on {} came up without its TCP listener; starting another",
            e.addr
        );
        e.telephony.shutdown().await;
    }
    panic!("five engines in a row came up without their TCP listener");
}

/// Waits (up to `limit`) until no leg, media leg, RTP port, dialog or transaction is left; returns the
/// last stats and how long that took.
async fn wait_idle(t: &Telephony, limit: Duration) -> (Stats, Duration) {
    let start = Instant::now();
    loop {
        let s = t.stats();
        let idle = s.legs == 0
            && s.media_legs == 0
            && s.rtp_ports_in_use == 0
            && s.dialogs == 0
            && s.transactions == 0;
        if idle || start.elapsed() >= limit {
            return (s, start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn assert_idle(t: &Telephony, what: &str) -> Duration {
    let (s, took) = wait_idle(t, Duration::from_secs(60)).await;
    assert_eq!(
        (
            s.legs,
            s.media_legs,
            s.rtp_ports_in_use,
            s.dialogs,
            s.transactions
        ),
        (0, 0, 0, 0, 0),
        "{what}: everything released: {s:?}"
    );
    took
}

/// Answers `n` calls and hands them back (their callers wait for our BYE).
async fn answer(incoming: &mut mpsc::Receiver<IncomingCall>, n: usize) -> Vec<Call> {
    let mut calls = Vec::new();
    while calls.len() < n {
        let IncomingCall { call, .. } =
            tokio::time::timeout(Duration::from_secs(20), incoming.recv())
                .await
                .unwrap_or_else(|_| panic!("{} of {n} calls arrived", calls.len()))
                .expect("the engine runs");
        call.answer().await.expect("answer");
        calls.push(call);
    }
    calls
}

/// An INVITE with an SDP offer from `sock`'s address to 96777.
fn invite(sock: &RawSip) -> String {
    let (addr, local) = (sock.server, sock.local());
    let r: u32 = rand::random();
    let body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
    format!(
        "INVITE sip:96777@{addr} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-limit-{r}\r\nFrom: <sip:limit@{local}>;tag=l{r}\r\nTo: <sip:96777@{addr}>\r\nCall-ID: limit-{r}@test\r\nCSeq: 1 INVITE\r\nContact: <sip:limit@{local}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// One more INVITE from the trunk's address while `held` calls are up: its reply.
async fn one_more_invite(addr: SocketAddr) -> String {
    tokio::task::spawn_blocking(move || {
        let sock = RawSip::new("127.0.0.1", addr);
        sock.send(invite(&sock).as_bytes())
            .expect("a reply to the extra INVITE")
    })
    .await
    .unwrap()
}

/// Holds `n` answered calls from SIPp (callee_hangs_up.xml: the caller waits for our BYE), checks that
/// one INVITE more gets 503 without taking anything, hangs up and checks that all is released.
async fn hold_then_refuse(e: &mut Engine, n: u32, why: &str) {
    let held = tokio::spawn(sipp(
        Sipp::new("callee_hangs_up.xml")
            .remote(e.addr)
            .service("96777")
            .calls(n)
            .rate(10)
            .arg("-l")
            .arg(&n.to_string())
            .timeout(Duration::from_secs(60)),
    ));
    let calls = answer(&mut e.incoming, n as usize).await;
    let before = e.telephony.stats();
    assert_eq!(before.legs, n as usize, "{before:?}");
    assert_eq!(before.rtp_ports_in_use, n as usize, "{before:?}");
    let reply = one_more_invite(e.addr).await;
    assert_eq!(
        status(&reply),
        503,
        "{why}: the INVITE beyond gets 503\n{reply}"
    );
    assert!(
        common::header(&reply, "Retry-After").is_some(),
        "with Retry-After: {reply}"
    );
    let after = e.telephony.stats();
    assert_eq!(
        (after.legs, after.media_legs, after.rtp_ports_in_use),
        (before.legs, before.media_legs, before.rtp_ports_in_use),
        "the refused INVITE took nothing"
    );
    assert!(
        e.incoming.try_recv().is_err(),
        "the refused INVITE never reached the application"
    );
    for c in &calls {
        c.hangup().await.unwrap();
    }
    held.await.unwrap().assert_ok();
    assert_idle(&e.telephony, why).await;
    let records = e.directory.wait_records(n as usize).await;
    assert_eq!(
        records.len(),
        n as usize,
        "one record per held call, none for the refused one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_max_calls_get_503_and_nothing_leaks() {
    let _shared = SOCKETS.read().await;
    let mut e = engine_up(|cfg| cfg.max_calls = 5).await;
    hold_then_refuse(&mut e, 5, "max_calls = 5").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtp_port_exhaustion_gets_503_and_nothing_leaks() {
    let _shared = SOCKETS.read().await;
    // Even ports with RTCP above: (lo, lo + 5) is room for 3 legs.
    let (lo, _) = free_rtp_range(6);
    let mut e = engine_up(move |cfg| cfg.rtp_ports = (lo, lo + 5)).await;
    hold_then_refuse(&mut e, 3, "RTP ports for 3 legs").await;
    // The ports are back: three calls fit again, once the ended legs' sockets are closed (a port goes
    // back to the pool before its sockets close: `an_rtp_port_counted_free_is_not_still_bound`).
    assert!(
        rtp_sockets_closed(lo, lo + 5, Duration::from_secs(10)).await,
        "the ended legs' RTP sockets close"
    );
    let again = tokio::spawn(sipp(
        Sipp::new("callee_hangs_up.xml")
            .remote(e.addr)
            .service("96777")
            .calls(3)
            .rate(10)
            .arg("-l")
            .arg("3"),
    ));
    let calls = answer(&mut e.incoming, 3).await;
    for c in &calls {
        c.hangup().await.unwrap();
    }
    again.await.unwrap().assert_ok();
    assert_idle(&e.telephony, "after the second round").await;
}

async fn udp_send_and_wait(addr: SocketAddr, msg: Vec<u8>) -> Option<String> {
    tokio::task::spawn_blocking(move || {
        let sock = RawSip::new("127.0.0.1", addr);
        sock.sock.send_to(&msg, addr).unwrap();
        sock.recv()
    })
    .await
    .unwrap()
}

fn options(
    addr: SocketAddr,
    local: SocketAddr,
    transport: &str,
    extra: &str,
    body: &str,
) -> Vec<u8> {
    let r: u32 = rand::random();
    format!(
        "OPTIONS sip:{addr} SIP/2.0\r\nVia: SIP/2.0/{transport} {local};branch=z9hG4bK-size-{r}\r\nMax-Forwards: 70\r\nFrom: <sip:size@{local}>;tag=s{r}\r\nTo: <sip:{addr}>\r\nCall-ID: size-{r}@test\r\nCSeq: 1 OPTIONS\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What a TCP exchange ended in.
#[derive(Debug, PartialEq, Eq)]
enum Tcp {
    Reply(u16),
    Closed,
    Open,
}

/// Sends `parts` over one connection (a pause between them, so the server reads them apart) and
/// waits for a reply or the end of the connection.
async fn tcp_send(addr: SocketAddr, parts: Vec<Vec<u8>>) -> Tcp {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if stream.write_all(p).await.is_err() {
            return Tcp::Closed;
        }
    }
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_string();
            if status(&head) != 100 {
                return Tcp::Reply(status(&head));
            }
            got.drain(..end + 4);
            continue;
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Tcp::Closed,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return Tcp::Open,
        }
    }
}

async fn assert_answers_options(addr: SocketAddr) {
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 9));
    let reply = udp_send_and_wait(addr, options(addr, local, "UDP", "", ""))
        .await
        .expect("a reply over UDP");
    assert_eq!(status(&reply), 200, "{reply}");
    let tcp = tcp_send(addr, vec![options(addr, local, "TCP", "", "")]).await;
    assert_eq!(tcp, Tcp::Reply(200), "a valid OPTIONS over TCP");
}

/// Waits until no socket is bound to an RTP or RTCP port in `lo..=hi` on 127.0.0.1.
async fn rtp_sockets_closed(lo: u16, hi: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !(lo..=hi).any(udp_bound) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A port the engine counts as free must be free: today `MediaLeg::close` puts the port back into the
/// pool at once, while the leg's sockets stay bound until the last `Call` handle (and task) holding the
/// leg lets go. An application that keeps a `Call` after it ended (for its records, say) keeps the
/// sockets; `rtp_ports_in_use` says 0, and the next INVITE gets 503 because the only port cannot be
/// bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rtp_port_counted_free_is_not_still_bound() {
    let _shared = SOCKETS.read().await;
    // Room for one leg.
    let (lo, _) = free_rtp_range(2);
    let mut e = engine_up(move |cfg| cfg.rtp_ports = (lo, lo + 1)).await;
    let run = tokio::spawn(sipp(
        Sipp::new("caller_hangs_up.xml")
            .remote(e.addr)
            .service("96777"),
    ));
    let kept = answer(&mut e.incoming, 1).await;
    kept[0].wait_ended().await;
    run.await.unwrap().assert_ok();
    assert_idle(&e.telephony, "after the call").await;
    let counted = e.telephony.stats().rtp_ports_in_use;
    let closed = rtp_sockets_closed(lo, lo + 1, Duration::from_secs(3)).await;
    // The next call: the application declines it (486) if it gets that far.
    let mut incoming = std::mem::replace(&mut e.incoming, mpsc::channel(1).1);
    tokio::spawn(async move {
        if let Some(IncomingCall { call, .. }) = incoming.recv().await {
            let _ = call.reject(486).await;
        }
    });
    let next = one_more_invite(e.addr).await;
    assert!(
        counted > 0 || (closed && status(&next) == 486),
        "rtp_ports_in_use is {counted} while the ended leg's RTP port {lo} is still bound (its Call is \
         kept); the next INVITE got {}",
        next.lines().next().unwrap_or("")
    );
    drop(kept);
}

/// UDP: rsipstack reads at most 8,192 bytes of a datagram, so a bigger one arrives cut. Cut in the
/// headers it is unparsable and dropped; cut in the body (Content-Length says more than arrived) it must
/// not be answered as if whole — today it is (200), since the parser takes a short body as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_datagrams_above_8_kb_are_not_taken_for_whole_messages() {
    let _shared = SOCKETS.read().await;
    let e = engine_up(|_| {}).await;
    let addr = e.addr;
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 9));
    let pad = format!("X-Pad: {}\r\n", "a".repeat(8800));
    let big_header = options(addr, local, "UDP", &pad, "");
    assert!(big_header.len() > 9000);
    let in_header = udp_send_and_wait(addr, big_header).await;
    let big_body = options(
        addr,
        local,
        "UDP",
        "Content-Type: text/plain\r\n",
        &"z".repeat(8800),
    );
    assert!(big_body.len() > 9000);
    let in_body = udp_send_and_wait(addr, big_body).await;
    assert_answers_options(addr).await;
    assert_idle(&e.telephony, "after oversized datagrams").await;
    assert!(
        in_header.is_none(),
        "a 9 KB datagram cut in its headers is dropped: {in_header:?}"
    );
    let in_body = in_body.map(|r| status(&r));
    assert!(
        matches!(in_body, None | Some(400) | Some(413) | Some(513)),
        "a 9 KB datagram cut in its body is refused (400/513) or dropped, not answered as whole: {in_body:?}"
    );
}

/// TCP: a message over 64 KB is refused (the connection closed, or 513), whichever way it is cut into
/// reads; one just under the limit is fine. rsipstack checks the size only while a message is
/// incomplete, so 70 KB that arrive as 60 KB and then the rest are taken today.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_messages_above_64_kb_are_refused() {
    let _shared = SOCKETS.read().await;
    let e = engine_up(|_| {}).await;
    let addr = e.addr;
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 9));
    let msg = |pad: usize| {
        let line = format!("X-Pad: {}\r\n", "a".repeat(pad));
        options(addr, local, "TCP", &line, "")
    };
    let under = msg(63_000);
    assert!(under.len() < 65_535);
    let under = tcp_send(addr, vec![under]).await;
    let over = msg(70 * 1024);
    assert!(over.len() > 65_535);
    let at_once = tcp_send(addr, vec![over.clone()]).await;
    let (a, b) = over.split_at(60_000);
    let in_two = tcp_send(addr, vec![a.to_vec(), b.to_vec()]).await;
    assert_answers_options(addr).await;
    assert_idle(&e.telephony, "after oversized TCP messages").await;
    assert_eq!(under, Tcp::Reply(200), "a 64,000-byte message is fine");
    let refused = |o: &Tcp| matches!(o, Tcp::Closed | Tcp::Reply(513));
    assert!(
        refused(&at_once) && refused(&in_two),
        "70 KB over TCP is refused: written at once {at_once:?}, as 60 KB + the rest {in_two:?}"
    );
}

/// The process's internet sockets (UDP and TCP, v4 and v6), as "proto local-address" lines. Unix
/// sockets are left out: every tokio runtime holds a copy of the signal driver's, and other tests of
/// this binary start runtimes while they wait for [`SOCKETS`].
fn inet_sockets() -> Vec<String> {
    let inodes: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter_map(|l| {
                    let l = l.to_string_lossy().to_string();
                    Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for proto in ["udp", "udp6", "tcp", "tcp6"] {
        let table = std::fs::read_to_string(format!("/proc/self/net/{proto}")).unwrap_or_default();
        for line in table.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 9 && inodes.iter().any(|i| i == cols[9]) {
                out.push(format!("{proto} {}", cols[1]));
            }
        }
    }
    out.sort();
    out
}

/// 1,000 calls from SIPp (bench_playback.xml: INVITE, 200, ACK, 300 ms, BYE) at 100 per second; then
/// every leg, media leg, RTP port, dialog and transaction is released, and the process has the sockets
/// it had before (the engine's SIP sockets). The transactions reach zero as soon as the last call ends:
/// the engine drops a server transaction once it has handled it, so rsipstack's Timers K/L (up to
/// 64·T1 = 32 s) do not keep them counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_release_every_transaction_port_and_socket() {
    let _alone = SOCKETS.write().await;
    let (lo, hi) = free_rtp_range(1000);
    let mut e = engine_up(move |cfg| cfg.rtp_ports = (lo, hi)).await;
    let sockets_before = inet_sockets();
    let mut incoming = std::mem::replace(&mut e.incoming, mpsc::channel(1).1);
    let app = tokio::spawn(async move {
        let mut answered = 0u32;
        while let Some(IncomingCall { call, .. }) = incoming.recv().await {
            answered += 1;
            tokio::spawn(async move {
                if call.answer().await.is_ok() {
                    call.wait_ended().await;
                }
            });
        }
        answered
    });
    let started = Instant::now();
    let run = sipp(
        Sipp::new("bench_playback.xml")
            .remote(e.addr)
            .service("96777")
            .calls(1000)
            .rate(100)
            .call_duration(Duration::from_millis(300))
            .timeout(Duration::from_secs(60))
            .trace_messages(false),
    )
    .await;
    let calls_took = started.elapsed();
    run.assert_ok();
    let released_after = assert_idle(&e.telephony, "after 1,000 calls").await;
    let records = e.directory.wait_records(1000).await;
    assert_eq!(records.len(), 1000);
    assert!(
        records
            .iter()
            .all(|r| r.disposition == kefu_telephony::Disposition::Answered)
    );
    let sockets_after = inet_sockets();
    println!(
        "1,000 calls in {calls_took:?}; legs, ports, dialogs and transactions at zero {released_after:?} \
         later; {} sockets before, {} after",
        sockets_before.len(),
        sockets_after.len()
    );
    // Every socket left was there before the calls (the engine's SIP sockets). The snapshot before
    // may also hold the server side of the TCP connection `Telephony::start` makes to check that SIP
    // over TCP accepts, until rsipstack closes it (a CI run saw it): fewer sockets after is fine,
    // one the calls left behind is not.
    let mut left = sockets_before.clone();
    for s in &sockets_after {
        let i = left.iter().position(|b| b == s).unwrap_or_else(|| {
            panic!("a socket the calls left open: {s} (before: {sockets_before:?}, after: {sockets_after:?})")
        });
        left.remove(i);
    }
    e.telephony.shutdown().await;
    drop(e);
    let _ = app.await;
}

/// A taken TCP port must make `Telephony::start` fail: today rsipstack's listener task logs the bind
/// error and the engine runs on UDP alone, reporting success (on port 0 this happens whenever the port
/// the kernel picked for UDP is in use for TCP).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_fails_when_its_tcp_port_is_taken() {
    let _shared = SOCKETS.read().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sip = taken.local_addr().unwrap();
    let mut cfg = TelephonyConfig::new(sip);
    let (lo, hi) = free_rtp_range(10);
    cfg.rtp_ports = (lo, hi);
    cfg.prompts_dir = common::prompts_dir();
    let dir = tempfile::tempdir().unwrap();
    cfg.recordings_dir = dir.path().to_path_buf();
    let directory = std::sync::Arc::new(common::Memory::new(&routes()));
    let started = Telephony::start(cfg, directory).await;
    if let Ok(t) = &started {
        tokio::time::sleep(Duration::from_millis(300)).await;
        t.shutdown().await;
    }
    assert!(
        started.is_err(),
        "Telephony::start on {sip} succeeded although another socket listens on that TCP port: the \
         engine runs without SIP over TCP"
    );
    drop(taken);
}
