//! The contact-center figures, defined once: the live wallboard and the historical reports compute
//! them with these functions over any interval.
//!
//! Definitions, over the calls that entered a queue in `[from, to)`:
//! - **offered**: calls that entered.
//! - **answered** / **abandoned** (the caller left while waiting) / **overflowed** (moved on by the
//!   queue: timeout, full, closed) / **callbacks** (left to be called back).
//! - **service level**: answered within the threshold T ÷ (answered + abandoned after T). Callers
//!   who gave up within T do not count against it; calls still waiting count once they have waited
//!   longer than T (they already missed it). 100 % when nothing counts.
//! - **abandon rate**: abandoned ÷ offered (0 when nothing was offered).
//! - **ASA** (average speed of answer): the mean wait of answered calls.
//! - **AHT** (average handle time): the mean talk + wrap-up of answered calls that ended.
//! - **waiting** and **longest wait**: calls still waiting at `to`, and the longest of their waits.

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Waiting,
    Answered,
    Abandoned,
    Overflowed,
    Callback,
}

impl Outcome {
    pub fn parse(s: &str) -> Option<Outcome> {
        Some(match s {
            "waiting" => Outcome::Waiting,
            "answered" => Outcome::Answered,
            // `dropped`: the caller was on the line when kefu stopped; for the caller, that is an
            // abandoned call (not served), and the service level counts it so.
            "abandoned" | "dropped" => Outcome::Abandoned,
            "overflowed" | "closed" => Outcome::Overflowed,
            "callback" => Outcome::Callback,
            _ => return None,
        })
    }
}

/// One call's passage through a queue.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueCall {
    pub entered_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// When it left the queue unanswered, or the answered conversation ended.
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Outcome,
    pub talk_ms: i64,
    pub wrap_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QueueMetrics {
    pub offered: u32,
    pub answered: u32,
    pub answered_within: u32,
    pub abandoned: u32,
    pub abandoned_within: u32,
    pub overflowed: u32,
    pub callbacks: u32,
    /// 0-100.
    pub service_level: f64,
    /// 0-100.
    pub abandon_rate: f64,
    pub asa_secs: f64,
    pub aht_secs: f64,
    pub waiting: u32,
    pub longest_wait_secs: i64,
}

/// The figures of `calls` (of one queue, or several together) over `[from, to)` with a service-level
/// threshold of `threshold_secs`.
pub fn queue_metrics(
    calls: &[QueueCall],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    threshold_secs: u32,
) -> QueueMetrics {
    let t_ms = i64::from(threshold_secs) * 1000;
    let mut m = QueueMetrics::default();
    let (mut wait_sum, mut handle_sum, mut handled, mut late_waiting) = (0i64, 0i64, 0u32, 0u32);
    for c in calls {
        // Waiting at `to`, whenever it entered: it had not left the queue by then.
        let left_queue = match c.outcome {
            Outcome::Answered => c.answered_at,
            _ => c.ended_at,
        };
        let waiting_at_to = c.entered_at < to && left_queue.is_none_or(|t| t >= to);
        if waiting_at_to {
            m.waiting += 1;
            m.longest_wait_secs = m.longest_wait_secs.max((to - c.entered_at).num_seconds());
        }
        if c.entered_at < from || c.entered_at >= to {
            continue;
        }
        m.offered += 1;
        match c.outcome {
            Outcome::Answered => {
                let Some(at) = c.answered_at else { continue };
                m.answered += 1;
                let wait = (at - c.entered_at).num_milliseconds().max(0);
                wait_sum += wait;
                if wait <= t_ms {
                    m.answered_within += 1;
                }
                if c.ended_at.is_some() {
                    handled += 1;
                    handle_sum += c.talk_ms.max(0) + c.wrap_ms.max(0);
                }
            }
            Outcome::Abandoned => {
                m.abandoned += 1;
                let waited = c
                    .ended_at
                    .map(|e| (e - c.entered_at).num_milliseconds())
                    .unwrap_or(0);
                if waited <= t_ms {
                    m.abandoned_within += 1;
                }
            }
            Outcome::Overflowed => m.overflowed += 1,
            Outcome::Callback => m.callbacks += 1,
            Outcome::Waiting => {
                if (to - c.entered_at).num_milliseconds() > t_ms {
                    late_waiting += 1;
                }
            }
        }
    }
    let counted = m.answered + (m.abandoned - m.abandoned_within) + late_waiting;
    m.service_level = if counted == 0 {
        100.0
    } else {
        100.0 * f64::from(m.answered_within) / f64::from(counted)
    };
    m.abandon_rate = if m.offered == 0 {
        0.0
    } else {
        100.0 * f64::from(m.abandoned) / f64::from(m.offered)
    };
    m.asa_secs = if m.answered == 0 {
        0.0
    } else {
        wait_sum as f64 / 1000.0 / f64::from(m.answered)
    };
    m.aht_secs = if handled == 0 {
        0.0
    } else {
        handle_sum as f64 / 1000.0 / f64::from(handled)
    };
    m
}

/// One row of an agent's state log: the state, when it started, when it ended (`None`: still in it).
pub type StateSpan = (String, DateTime<Utc>, Option<DateTime<Utc>>);

/// Time in each state over `[from, to)` from an agent's state log: state name → seconds.
pub fn time_in_states(
    log: &[StateSpan],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> std::collections::BTreeMap<String, i64> {
    let mut out = std::collections::BTreeMap::new();
    for (state, start, end) in log {
        let s = (*start).max(from);
        let e = end.unwrap_or(to).min(to);
        if e > s {
            *out.entry(state.clone()).or_insert(0) += (e - s).num_seconds();
        }
    }
    out
}
