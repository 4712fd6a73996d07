//! Free loopback ports for tests that run in parallel.
//!
//! A port is found by binding 127.0.0.1:0 (or a candidate) and closing the socket again, so another process
//! could take it before the test binds it; to keep two tests of the same binary from ever getting the same
//! port, every port handed out is remembered and never handed out again by this process.

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// RTP ranges are picked below Linux's ephemeral range (32768-60999), so that they do not collide with the
/// ports the kernel hands out for `bind(0)` and outgoing connections.
const RTP_LOW: u16 = 20_000;
const RTP_HIGH: u16 = 32_000;

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Marks `ports` as handed out if none of them was; false if one already was.
fn claim(ports: impl IntoIterator<Item = u16> + Clone) -> bool {
    let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if ports.clone().into_iter().any(|p| set.contains(&p)) {
        return false;
    }
    set.extend(ports);
    true
}

fn udp_free(port: u16) -> bool {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

fn tcp_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// A free UDP port on 127.0.0.1.
pub fn free_udp_port() -> u16 {
    for _ in 0..1000 {
        let port = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|s| s.local_addr())
            .expect("bind a UDP socket on 127.0.0.1")
            .port();
        if claim([port]) {
            return port;
        }
    }
    panic!("no free UDP port on 127.0.0.1");
}

/// A free TCP port on 127.0.0.1.
pub fn free_tcp_port() -> u16 {
    for _ in 0..1000 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|s| s.local_addr())
            .expect("bind a TCP socket on 127.0.0.1")
            .port();
        if claim([port]) {
            return port;
        }
    }
    panic!("no free TCP port on 127.0.0.1");
}

/// A port free for both UDP and TCP on 127.0.0.1 (a SIP listener serves both), and, with `tls_next`, also
/// the next port for TCP (baresip listens for SIP over TLS on its SIP port + 1).
pub fn free_sip_port(tls_next: bool) -> u16 {
    for _ in 0..1000 {
        let port = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|s| s.local_addr())
            .expect("bind a UDP socket on 127.0.0.1")
            .port();
        if port == u16::MAX || !tcp_free(port) || (tls_next && !tcp_free(port + 1)) {
            continue;
        }
        let claimed = if tls_next {
            claim([port, port + 1])
        } else {
            claim([port])
        };
        if claimed {
            return port;
        }
    }
    panic!("no free SIP port (UDP and TCP) on 127.0.0.1");
}

/// A range of `len` consecutive free UDP ports on 127.0.0.1 starting at an even port: `(first, last)`,
/// both included. Picked at random between 20000 and 32000 and checked port by port.
pub fn free_rtp_range(len: u16) -> (u16, u16) {
    assert!(len > 0 && len < 2000, "RTP range length {len}");
    let span = RTP_HIGH - RTP_LOW - len;
    for attempt in 0..1000u32 {
        let base = (RTP_LOW + (random_u32(attempt) % u32::from(span)) as u16) & !1;
        let ports = base..base + len;
        if ports.clone().all(udp_free) && claim(ports.clone()) {
            return (base, base + len - 1);
        }
    }
    panic!("no {len} consecutive free UDP ports on 127.0.0.1");
}

fn random_u32(salt: u32) -> u32 {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(salt);
    h.write_u32(std::process::id());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    h.write_u128(now.as_nanos());
    h.finish() as u32
}

/// Whether some socket of this network namespace is bound to 127.0.0.1:`port` (or 0.0.0.0:`port`) for UDP,
/// read from /proc/net/udp (no bind attempt, so no race with the process that is about to bind it).
pub fn udp_bound(port: u16) -> bool {
    proc_net_has("/proc/net/udp", port, None)
}

/// Whether some socket listens on 127.0.0.1:`port` (or 0.0.0.0:`port`) for TCP, from /proc/net/tcp.
pub fn tcp_listening(port: u16) -> bool {
    proc_net_has("/proc/net/tcp", port, Some("0A"))
}

fn proc_net_has(file: &str, port: u16, state: Option<&str>) -> bool {
    let Ok(table) = fs::read_to_string(file) else {
        return false;
    };
    let loopback = format!("0100007F:{port:04X}");
    let any = format!("00000000:{port:04X}");
    table.lines().skip(1).any(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        cols.len() > 3
            && (cols[1] == loopback || cols[1] == any)
            && state.is_none_or(|s| cols[3] == s)
    })
}
