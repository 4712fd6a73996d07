//! Per-source protection for the SIP port: a token-bucket rate limit on requests and a temporary ban after
//! repeated authentication failures. Pure: the caller passes the time, so tests run on simulated time.
//! Trusted sources (trunk allow-lists, a benchmark load generator) are never limited or banned.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct GuardPolicy {
    /// Sustained requests per second per source.
    pub rate: f64,
    /// Bucket size: requests a source may send in a burst.
    pub burst: f64,
    /// Authentication failures within `window` that earn a ban.
    pub max_failures: u32,
    pub window: Duration,
    pub ban: Duration,
    /// Sources remembered at most; the stalest are forgotten first.
    pub max_sources: usize,
}

impl Default for GuardPolicy {
    fn default() -> Self {
        GuardPolicy {
            rate: 50.0,
            burst: 200.0,
            max_failures: 5,
            window: Duration::from_secs(60),
            ban: Duration::from_secs(600),
            max_sources: 100_000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Too many requests right now: answer 503 with Retry-After (or drop).
    Limited,
    /// Banned until the given instant: drop silently.
    Banned(Instant),
}

#[derive(Clone, Debug)]
struct Source {
    tokens: f64,
    refilled: Instant,
    failures: Vec<Instant>,
    banned_until: Option<Instant>,
    seen: Instant,
}

pub struct SourceGuard {
    policy: GuardPolicy,
    sources: HashMap<IpAddr, Source>,
    trusted: Vec<ipnet::IpNet>,
}

impl SourceGuard {
    pub fn new(policy: GuardPolicy) -> SourceGuard {
        SourceGuard {
            policy,
            sources: HashMap::new(),
            trusted: Vec::new(),
        }
    }

    pub fn set_trusted(&mut self, nets: Vec<ipnet::IpNet>) {
        self.trusted = nets;
    }

    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    fn entry(&mut self, ip: IpAddr, now: Instant) -> &mut Source {
        if self.sources.len() >= self.policy.max_sources && !self.sources.contains_key(&ip) {
            self.evict(now);
        }
        let burst = self.policy.burst;
        self.sources.entry(ip).or_insert(Source {
            tokens: burst,
            refilled: now,
            failures: Vec::new(),
            banned_until: None,
            seen: now,
        })
    }

    fn evict(&mut self, now: Instant) {
        // Forget sources not banned and idle longest; at least a tenth so eviction is amortized.
        let mut idle: Vec<(IpAddr, Instant)> = self
            .sources
            .iter()
            .filter(|(_, s)| s.banned_until.is_none_or(|u| u <= now))
            .map(|(ip, s)| (*ip, s.seen))
            .collect();
        idle.sort_by_key(|(_, seen)| *seen);
        let n = (self.policy.max_sources / 10).max(1);
        for (ip, _) in idle.into_iter().take(n) {
            self.sources.remove(&ip);
        }
    }

    /// A request arrived from `ip`.
    pub fn request(&mut self, ip: IpAddr, now: Instant) -> Verdict {
        if self.is_trusted(ip) {
            return Verdict::Allow;
        }
        let policy = self.policy.clone();
        let s = self.entry(ip, now);
        s.seen = now;
        if let Some(until) = s.banned_until {
            if until > now {
                return Verdict::Banned(until);
            }
            s.banned_until = None;
            s.failures.clear();
        }
        let elapsed = now.saturating_duration_since(s.refilled).as_secs_f64();
        s.tokens = (s.tokens + elapsed * policy.rate).min(policy.burst);
        s.refilled = now;
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            Verdict::Allow
        } else {
            Verdict::Limited
        }
    }

    /// An authentication attempt from `ip` failed. Returns the ban's end when this failure earned one.
    pub fn failure(&mut self, ip: IpAddr, now: Instant) -> Option<Instant> {
        if self.is_trusted(ip) {
            return None;
        }
        let policy = self.policy.clone();
        let s = self.entry(ip, now);
        s.failures
            .retain(|t| now.saturating_duration_since(*t) < policy.window);
        s.failures.push(now);
        if s.failures.len() as u32 >= policy.max_failures {
            let until = now + policy.ban;
            s.banned_until = Some(until);
            s.failures.clear();
            return Some(until);
        }
        None
    }

    /// A source authenticated: its failure count starts again.
    pub fn success(&mut self, ip: IpAddr) {
        if let Some(s) = self.sources.get_mut(&ip) {
            s.failures.clear();
        }
    }

    pub fn banned(&self, now: Instant) -> Vec<(IpAddr, Instant)> {
        self.sources
            .iter()
            .filter_map(|(ip, s)| s.banned_until.filter(|u| *u > now).map(|u| (*ip, u)))
            .collect()
    }

    pub fn tracked(&self) -> usize {
        self.sources.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn five_failures_in_a_minute_ban_for_ten_minutes() {
        let mut g = SourceGuard::new(GuardPolicy::default());
        let t0 = Instant::now();
        let a = ip("192.0.2.7");
        for i in 0..4 {
            assert_eq!(g.failure(a, t0 + Duration::from_secs(i)), None);
        }
        let until = g
            .failure(a, t0 + Duration::from_secs(10))
            .expect("fifth failure bans");
        assert_eq!(until, t0 + Duration::from_secs(610));
        assert_eq!(
            g.request(a, t0 + Duration::from_secs(11)),
            Verdict::Banned(until)
        );
        assert_eq!(
            g.request(ip("192.0.2.8"), t0),
            Verdict::Allow,
            "others are not affected"
        );
        assert_eq!(g.request(a, until), Verdict::Allow, "the ban ends");
    }

    #[test]
    fn failures_spread_over_more_than_the_window_do_not_ban() {
        let mut g = SourceGuard::new(GuardPolicy::default());
        let t0 = Instant::now();
        for i in 0..20 {
            assert_eq!(
                g.failure(ip("192.0.2.1"), t0 + Duration::from_secs(i * 20)),
                None
            );
        }
    }

    #[test]
    fn a_success_resets_the_count() {
        let mut g = SourceGuard::new(GuardPolicy::default());
        let t0 = Instant::now();
        let a = ip("192.0.2.1");
        for _ in 0..4 {
            g.failure(a, t0);
        }
        g.success(a);
        assert_eq!(g.failure(a, t0), None);
    }

    #[test]
    fn rate_limit_allows_the_burst_then_the_rate() {
        let policy = GuardPolicy {
            rate: 10.0,
            burst: 20.0,
            ..GuardPolicy::default()
        };
        let mut g = SourceGuard::new(policy);
        let t0 = Instant::now();
        let a = ip("198.51.100.1");
        let allowed = (0..100)
            .filter(|_| g.request(a, t0) == Verdict::Allow)
            .count();
        assert_eq!(allowed, 20);
        let t1 = t0 + Duration::from_secs(1);
        let allowed = (0..100)
            .filter(|_| g.request(a, t1) == Verdict::Allow)
            .count();
        assert_eq!(allowed, 10);
    }

    #[test]
    fn trusted_sources_are_never_limited_or_banned() {
        let mut g = SourceGuard::new(GuardPolicy {
            burst: 1.0,
            ..GuardPolicy::default()
        });
        g.set_trusted(vec!["127.0.0.0/8".parse().unwrap()]);
        let t0 = Instant::now();
        for _ in 0..50 {
            assert_eq!(g.failure(ip("127.0.0.1"), t0), None);
            assert_eq!(g.request(ip("127.0.0.1"), t0), Verdict::Allow);
        }
    }

    #[test]
    fn memory_is_bounded_under_a_spoofed_source_flood() {
        let mut g = SourceGuard::new(GuardPolicy {
            max_sources: 1000,
            ..GuardPolicy::default()
        });
        let t0 = Instant::now();
        for i in 0..50_000u32 {
            let a = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            g.request(a, t0 + Duration::from_micros(i as u64));
        }
        assert!(g.tracked() <= 1000, "{}", g.tracked());
    }
}
