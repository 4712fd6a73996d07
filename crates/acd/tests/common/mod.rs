//! Helpers shared by the kefu-acd tests: a simulated clock, readable ids, agents and queues, and
//! readers of the effects.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use kefu_acd::{Acd, Agent, AgentId, CallId, Effect, QueueConfig, State, Strategy};
use uuid::Uuid;

/// The simulated clock's origin: t(0).
pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).unwrap() + TimeDelta::seconds(secs)
}

pub fn t_ms(ms: i64) -> DateTime<Utc> {
    t(0) + TimeDelta::milliseconds(ms)
}

/// A clock the test advances itself.
pub struct Clock(pub DateTime<Utc>);

impl Clock {
    pub fn new() -> Clock {
        Clock(t(0))
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.0
    }
    pub fn advance(&mut self, secs: i64) -> DateTime<Utc> {
        self.0 += TimeDelta::seconds(secs);
        self.0
    }
    pub fn set(&mut self, secs: i64) -> DateTime<Utc> {
        self.0 = t(secs);
        self.0
    }
}

/// Agent ids order like their numbers (ties go to the lowest id).
pub fn aid(n: u128) -> AgentId {
    Uuid::from_u128(n)
}

pub fn cid(n: u128) -> CallId {
    Uuid::from_u128(0xCA11_0000_0000 + n)
}

/// An agent `n` with these skills, logged out, max_missed 2.
pub fn agent(n: u128, skills: &[(&str, u8)]) -> Agent {
    let mut a = Agent::new(aid(n), &format!("agent {n}"), t(0));
    a.skills = skills
        .iter()
        .map(|(k, l)| (k.to_string(), *l))
        .collect::<BTreeMap<_, _>>();
    a
}

pub fn queue(key: &str, strategy: Strategy) -> QueueConfig {
    let mut q = QueueConfig::new(key);
    q.strategy = strategy;
    q
}

/// The offers among `effects`: (call, agents).
pub fn offers(effects: &[Effect]) -> Vec<(CallId, Vec<AgentId>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Offer { call, agents, .. } => Some((*call, agents.clone())),
            _ => None,
        })
        .collect()
}

/// The one offer among `effects`, which must name exactly one call.
pub fn offer(effects: &[Effect]) -> (CallId, Vec<AgentId>) {
    let o = offers(effects);
    assert_eq!(o.len(), 1, "expected one offer in {effects:#?}");
    o.into_iter().next().unwrap()
}

/// The agents the one offer among `effects` rings, which must be one.
pub fn offered_agent(effects: &[Effect]) -> AgentId {
    let (_, agents) = offer(effects);
    assert_eq!(agents.len(), 1, "expected one agent in {effects:#?}");
    agents[0]
}

pub fn cancels(effects: &[Effect]) -> Vec<(CallId, AgentId)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::CancelOffer { call, agent } => Some((*call, *agent)),
            _ => None,
        })
        .collect()
}

/// The agent's state names published in `effects`, in order.
pub fn published(effects: &[Effect], id: AgentId) -> Vec<&'static str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::State { agent, state, .. } if *agent == id => Some(state.name()),
            _ => None,
        })
        .collect()
}

pub fn state(acd: &Acd, id: AgentId) -> State {
    acd.agent(id).expect("agent").state.clone()
}

pub fn state_name(acd: &Acd, id: AgentId) -> &'static str {
    acd.agent(id).expect("agent").state.name()
}

/// Logs `n` in to all its queues, ready, at `now`.
pub fn login_ready(acd: &mut Acd, n: u128, now: DateTime<Utc>) -> Vec<Effect> {
    acd.login(aid(n), None, None, true, now).expect("login")
}

/// Answers and ends the call an agent is reserved for (talk `talk` s).
pub fn answer_and_end(acd: &mut Acd, n: u128, talk: u64, now: DateTime<Utc>) -> Vec<Effect> {
    let call = match state(acd, aid(n)) {
        State::Reserved { call, .. } => call,
        s => panic!("agent {n} is not reserved: {s:?}"),
    };
    let mut out = acd.answered(call, aid(n), now).expect("answered");
    out.extend(acd.ended(aid(n), call, talk, now).expect("ended"));
    out
}
