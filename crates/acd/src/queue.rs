//! Queue settings.

use serde::{Deserialize, Serialize};

/// How a queue picks among its ready agents. Ties go to the longest idle, then the lowest id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The agent free the longest.
    #[default]
    LongestIdle,
    /// The next agent after the last one offered, in agent order.
    RoundRobin,
    /// The agent who handled the fewest calls since logging in.
    FewestCalls,
    /// The agent with the least talk time since logging in.
    LeastTalkTime,
    /// The highest level of the queue's skill.
    SkillsBased,
    /// Every ready agent at once; the first to answer wins.
    RingAll,
    /// The queue's member order (then extension order): always the first ready one.
    Sequential,
}

impl Strategy {
    pub const ALL: &[Strategy] = &[
        Strategy::LongestIdle,
        Strategy::RoundRobin,
        Strategy::FewestCalls,
        Strategy::LeastTalkTime,
        Strategy::SkillsBased,
        Strategy::RingAll,
        Strategy::Sequential,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Strategy::LongestIdle => "longest_idle",
            Strategy::RoundRobin => "round_robin",
            Strategy::FewestCalls => "fewest_calls",
            Strategy::LeastTalkTime => "least_talk_time",
            Strategy::SkillsBased => "skills_based",
            Strategy::RingAll => "ring_all",
            Strategy::Sequential => "sequential",
        }
    }

    pub fn parse(s: &str) -> Option<Strategy> {
        Strategy::ALL.iter().copied().find(|x| x.key() == s)
    }
}

/// What happens to a caller who waited too long, or finds the queue full or closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Overflow {
    /// Into another queue, keeping the caller's priority.
    Queue {
        queue: String,
    },
    /// A voice message that becomes a work order.
    Voicemail,
    /// The caller hangs up and keeps their place; an agent calls back.
    Callback,
    Hangup,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueConfig {
    pub key: String,
    pub name: String,
    pub strategy: Strategy,
    /// The skill an agent needs (by default the queue key) …
    pub skill: String,
    /// … at least at this level (1-10).
    pub min_level: u8,
    /// Extensions listed as members: they serve the queue whatever their skills, and give the
    /// sequential order.
    pub members: Vec<String>,
    /// 0: no limit.
    pub max_wait_secs: u32,
    /// 0: no limit.
    pub max_len: u32,
    pub overflow: Overflow,
    /// Position and estimated wait every N seconds; 0: never.
    pub announce_secs: u32,
    pub ring_secs: u32,
    pub wrap_up_secs: u32,
    pub service_level_secs: u32,
}

impl QueueConfig {
    /// A queue with the defaults: longest idle, skill = key, level 1, no limits, voicemail on
    /// overflow, announcements every 30 s, 15 s rings, 10 s wrap-up, 20 s service level.
    pub fn new(key: &str) -> QueueConfig {
        QueueConfig {
            key: key.to_string(),
            name: key.to_string(),
            strategy: Strategy::LongestIdle,
            skill: key.to_string(),
            min_level: 1,
            members: Vec::new(),
            max_wait_secs: 0,
            max_len: 0,
            overflow: Overflow::Voicemail,
            announce_secs: 30,
            ring_secs: 15,
            wrap_up_secs: 10,
            service_level_secs: 20,
        }
    }
}
