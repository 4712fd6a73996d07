//! Where each extension's phones are: the bindings made by REGISTER (RFC 3261 §10), with expiry.
//! Pure; the caller passes the time. The contact kefu calls is the address the REGISTER came from
//! (NAT-friendly, like `received`/`rport`), with the phone's Contact URI kept for the Request-URI.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub const MIN_EXPIRES: u32 = 60;
pub const MAX_EXPIRES: u32 = 3600;
pub const DEFAULT_EXPIRES: u32 = 3600;
/// Phones per extension (a desk phone and a softphone, say); the oldest binding makes room.
pub const MAX_BINDINGS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub extension: String,
    /// The phone's Contact URI, as sent.
    pub contact: String,
    /// Where the REGISTER came from: where kefu sends requests for this binding.
    pub source: SocketAddr,
    pub transport: Transport,
    pub user_agent: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Expires value kefu grants for a requested one (`None` = not given).
pub fn grant_expires(requested: Option<u32>) -> u32 {
    match requested {
        None => DEFAULT_EXPIRES,
        Some(0) => 0,
        Some(e) => e.clamp(MIN_EXPIRES, MAX_EXPIRES),
    }
}

#[derive(Default)]
pub struct Registrations {
    by_extension: HashMap<String, Vec<Binding>>,
}

impl Registrations {
    /// Adds or refreshes the binding for (extension, contact); `expires == 0` removes it.
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        &mut self,
        extension: &str,
        contact: &str,
        source: SocketAddr,
        transport: Transport,
        user_agent: Option<String>,
        expires: u32,
        now: DateTime<Utc>,
    ) {
        let list = self.by_extension.entry(extension.to_string()).or_default();
        list.retain(|b| b.expires_at > now);
        if expires == 0 {
            list.retain(|b| b.contact != contact);
        } else {
            let expires_at = now + Duration::from_secs(expires as u64);
            if let Some(b) = list.iter_mut().find(|b| b.contact == contact) {
                b.source = source;
                b.transport = transport;
                b.user_agent = user_agent;
                b.expires_at = expires_at;
            } else {
                if list.len() >= MAX_BINDINGS {
                    list.sort_by_key(|b| b.registered_at);
                    list.remove(0);
                }
                list.push(Binding {
                    extension: extension.to_string(),
                    contact: contact.to_string(),
                    source,
                    transport,
                    user_agent,
                    registered_at: now,
                    expires_at,
                });
            }
        }
        if list.is_empty() {
            self.by_extension.remove(extension);
        }
    }

    /// Removes every binding of the extension (`Contact: *` with `Expires: 0`).
    pub fn unregister_all(&mut self, extension: &str) {
        self.by_extension.remove(extension);
    }

    /// Live bindings of an extension, newest first.
    pub fn lookup(&self, extension: &str, now: DateTime<Utc>) -> Vec<Binding> {
        let mut v: Vec<Binding> = self
            .by_extension
            .get(extension)
            .map(|l| l.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        v.sort_by_key(|b| std::cmp::Reverse(b.registered_at));
        v
    }

    pub fn all(&self, now: DateTime<Utc>) -> Vec<Binding> {
        let mut v: Vec<Binding> = self
            .by_extension
            .values()
            .flatten()
            .filter(|b| b.expires_at > now)
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            a.extension
                .cmp(&b.extension)
                .then(a.contact.cmp(&b.contact))
        });
        v
    }

    /// Drops expired bindings; returns how many.
    pub fn sweep(&mut self, now: DateTime<Utc>) -> usize {
        let mut n = 0;
        self.by_extension.retain(|_, l| {
            let before = l.len();
            l.retain(|b| b.expires_at > now);
            n += before - l.len();
            !l.is_empty()
        });
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }
    fn src(p: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], p))
    }

    #[test]
    fn a_binding_lives_until_it_expires() {
        let mut r = Registrations::default();
        r.register(
            "8001",
            "sip:8001@127.0.0.1:5070",
            src(5070),
            Transport::Udp,
            None,
            60,
            t(0),
        );
        assert_eq!(r.lookup("8001", t(59)).len(), 1);
        assert!(r.lookup("8001", t(60)).is_empty());
        assert_eq!(r.sweep(t(61)), 1);
        assert!(r.all(t(61)).is_empty());
    }

    #[test]
    fn refresh_updates_in_place_and_zero_removes() {
        let mut r = Registrations::default();
        let c = "sip:8001@127.0.0.1:5070";
        r.register("8001", c, src(5070), Transport::Udp, None, 60, t(0));
        r.register(
            "8001",
            c,
            src(6000),
            Transport::Udp,
            Some("baresip".into()),
            120,
            t(30),
        );
        let b = r.lookup("8001", t(100));
        assert_eq!(b.len(), 1);
        assert_eq!(
            b[0].source,
            src(6000),
            "NAT rebinding follows the latest REGISTER"
        );
        r.register("8001", c, src(6000), Transport::Udp, None, 0, t(101));
        assert!(r.lookup("8001", t(101)).is_empty());
    }

    #[test]
    fn at_most_five_phones_per_extension_oldest_goes() {
        let mut r = Registrations::default();
        for i in 0..7u16 {
            r.register(
                "8001",
                &format!("sip:p{i}@127.0.0.1"),
                src(7000 + i),
                Transport::Udp,
                None,
                600,
                t(i as i64),
            );
        }
        let b = r.lookup("8001", t(10));
        assert_eq!(b.len(), MAX_BINDINGS);
        assert_eq!(b[0].contact, "sip:p6@127.0.0.1", "newest first");
        assert!(
            !b.iter()
                .any(|b| b.contact == "sip:p0@127.0.0.1" || b.contact == "sip:p1@127.0.0.1")
        );
    }

    #[test]
    fn expires_is_clamped() {
        assert_eq!(grant_expires(None), 3600);
        assert_eq!(grant_expires(Some(0)), 0);
        assert_eq!(grant_expires(Some(5)), 60);
        assert_eq!(grant_expires(Some(999_999)), 3600);
        assert_eq!(grant_expires(Some(300)), 300);
    }
}
