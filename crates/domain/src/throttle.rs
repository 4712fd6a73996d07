//! Slows down password guessing: after a few failures each further attempt must wait longer, and after
//! many the key (a username or a source address) is locked for a while. Pure: the caller passes `now`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures allowed before any delay.
    pub free_failures: u32,
    /// Delay after the first failure beyond the free ones; doubles with each further failure.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Failures (within `window`) that lock the key.
    pub lockout_after: u32,
    pub lockout: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            free_failures: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            lockout_after: 10,
            lockout: Duration::from_secs(15 * 60),
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleVerdict {
    Allowed,
    /// Too soon after the last failure: try again after this long.
    Wait(Duration),
    /// Locked: try again after this long.
    Locked(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failure counts per key. Keys are strings such as `user:zhangsan` and `ip:127.0.0.1`.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    keys: HashMap<String, Failures>,
}

/// Bound on remembered keys, so a flood of distinct usernames cannot grow memory without end.
const MAX_KEYS: usize = 100_000;

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> LoginThrottle {
        LoginThrottle {
            policy,
            keys: HashMap::new(),
        }
    }

    /// May an attempt for `key` go ahead now? The strictest verdict of several keys wins.
    pub fn check(&self, key: &str, now: Instant) -> ThrottleVerdict {
        let Some(f) = self.keys.get(key) else {
            return ThrottleVerdict::Allowed;
        };
        let since = now.saturating_duration_since(f.last);
        if since >= self.policy.window {
            return ThrottleVerdict::Allowed;
        }
        if f.count >= self.policy.lockout_after {
            return match self.policy.lockout.checked_sub(since) {
                Some(left) if !left.is_zero() => ThrottleVerdict::Locked(left),
                _ => ThrottleVerdict::Allowed,
            };
        }
        if f.count < self.policy.free_failures {
            return ThrottleVerdict::Allowed;
        }
        let doublings = (f.count - self.policy.free_failures).min(20);
        let delay = self
            .policy
            .base_delay
            .saturating_mul(1 << doublings)
            .min(self.policy.max_delay);
        match delay.checked_sub(since) {
            Some(left) if !left.is_zero() => ThrottleVerdict::Wait(left),
            _ => ThrottleVerdict::Allowed,
        }
    }

    pub fn record_failure(&mut self, key: &str, now: Instant) {
        if self.keys.len() >= MAX_KEYS && !self.keys.contains_key(key) {
            let window = self.policy.window;
            self.keys
                .retain(|_, f| now.saturating_duration_since(f.last) < window);
        }
        let window = self.policy.window;
        let entry = self.keys.entry(key.to_string()).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.saturating_duration_since(entry.last) >= window {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
    }

    /// A successful login clears its user key. Address keys are left to decay, so one valid account does
    /// not reset the counter of an address that is guessing others.
    pub fn record_success(&mut self, key: &str) {
        self.keys.remove(key);
    }

    pub fn failures(&self, key: &str) -> u32 {
        self.keys.get(key).map_or(0, |f| f.count)
    }
}

pub fn strictest(a: ThrottleVerdict, b: ThrottleVerdict) -> ThrottleVerdict {
    use ThrottleVerdict::*;
    match (a, b) {
        (Locked(x), Locked(y)) => Locked(x.max(y)),
        (Locked(x), _) | (_, Locked(x)) => Locked(x),
        (Wait(x), Wait(y)) => Wait(x.max(y)),
        (Wait(x), _) | (_, Wait(x)) => Wait(x),
        (Allowed, Allowed) => Allowed,
    }
}

impl ThrottleVerdict {
    pub fn and(self, other: ThrottleVerdict) -> ThrottleVerdict {
        strictest(self, other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn delay_grows_then_locks_then_forgets() {
        let mut t = LoginThrottle::new(ThrottlePolicy::default());
        let t0 = Instant::now();
        let mut now = t0;
        for _ in 0..3 {
            assert_eq!(t.check("user:a", now), ThrottleVerdict::Allowed);
            t.record_failure("user:a", now);
        }
        // Fourth failure onwards: 1 s, 2 s, 4 s …
        assert_eq!(t.check("user:a", now), ThrottleVerdict::Wait(secs(1)));
        now += secs(1);
        assert_eq!(t.check("user:a", now), ThrottleVerdict::Allowed);
        t.record_failure("user:a", now);
        assert_eq!(t.check("user:a", now), ThrottleVerdict::Wait(secs(2)));
        for _ in 0..6 {
            now += secs(61);
            t.record_failure("user:a", now);
        }
        assert_eq!(t.failures("user:a"), 10);
        assert_eq!(t.check("user:a", now), ThrottleVerdict::Locked(secs(900)));
        assert_eq!(
            t.check("user:a", now + secs(899)),
            ThrottleVerdict::Locked(secs(1))
        );
        assert_eq!(t.check("user:a", now + secs(900)), ThrottleVerdict::Allowed);
        // Other keys are unaffected.
        assert_eq!(t.check("user:b", now), ThrottleVerdict::Allowed);
        // After the window, counting starts again.
        t.record_failure("user:a", now + secs(901));
        assert_eq!(t.failures("user:a"), 1);
    }

    #[test]
    fn success_clears_the_user_key() {
        let mut t = LoginThrottle::new(ThrottlePolicy::default());
        let now = Instant::now();
        for _ in 0..5 {
            t.record_failure("user:a", now);
        }
        t.record_success("user:a");
        assert_eq!(t.check("user:a", now), ThrottleVerdict::Allowed);
    }

    #[test]
    fn strictest_verdict_wins() {
        use ThrottleVerdict::*;
        assert_eq!(Allowed.and(Wait(secs(2))), Wait(secs(2)));
        assert_eq!(Wait(secs(9)).and(Locked(secs(1))), Locked(secs(1)));
        assert_eq!(Wait(secs(1)).and(Wait(secs(3))), Wait(secs(3)));
    }
}
