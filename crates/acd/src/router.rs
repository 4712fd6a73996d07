//! [`Acd`]: every agent and every waiting call, and the decisions between them.
//!
//! The runtime tells it what happened (a caller joined a queue or left, a phone answered or did not,
//! an agent asked for a state, time passed) and does what comes back ([`Effect`]s: persist and
//! publish a state, ring an agent, stop ringing, move a caller on, tell a caller their place). It holds
//! no I/O and no clock, and every decision is deterministic for the same inputs.
//!
//! Order of service: higher priority first (a gas leak, priority 9, jumps every queue), then the
//! earliest arrival. When an agent serves several queues with callers waiting, the same order holds
//! across those queues.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::agent::{Agent, Change, Refused, State};
use crate::queue::{Overflow, QueueConfig, Strategy};
use crate::{AgentId, CallId};

/// An offer whose result the runtime has not reported this long after it should have ended is
/// counted as missed (the safety net against a stuck `reserved`).
pub const OFFER_GRACE_SECS: i64 = 5;
/// The handle time assumed for a queue until calls have been handled (estimated wait).
pub const DEFAULT_AHT_SECS: f64 = 180.0;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WaiterKind {
    /// A caller on the line.
    Caller,
    /// A caller who hung up and keeps their place: an agent calls `number` back.
    Callback { number: String },
}

/// A call waiting in a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Waiter {
    pub call: CallId,
    pub queue: String,
    pub priority: u8,
    pub entered_at: DateTime<Utc>,
    pub seq: u64,
    pub kind: WaiterKind,
    /// Agents whose phones ring for this call now (empty: not being offered).
    pub offered_to: BTreeSet<AgentId>,
    /// Agents who missed this call: tried again only when nobody else is ready.
    pub declined: BTreeSet<AgentId>,
    pub next_announce_at: Option<DateTime<Utc>>,
    /// The caller was offered a callback at max wait (the overflow `callback`): it keeps its place
    /// while it decides, and is not offered one again.
    pub callback_offered: bool,
}

impl Waiter {
    fn order(&self) -> (Reverse<u8>, DateTime<Utc>, u64) {
        (Reverse(self.priority), self.entered_at, self.seq)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowCause {
    /// Waited `max_wait_secs`.
    Timeout,
    /// The queue had `max_len` callers.
    Full,
}

/// What the runtime must do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// An agent's new state: persist it, append it to the log, publish it.
    State {
        agent: AgentId,
        state: State,
        since: DateTime<Utc>,
    },
    /// Ring these agents for `call` until `until` (several: ring-all). For a callback, ring the
    /// agent and then dial `callback`.
    Offer {
        call: CallId,
        queue: String,
        agents: Vec<AgentId>,
        until: DateTime<Utc>,
        callback: Option<String>,
    },
    /// Stop ringing `agent` for `call`.
    CancelOffer { call: CallId, agent: AgentId },
    /// The caller leaves the queue this way (it is no longer waiting) — except for `callback`: the
    /// caller keeps its place until the runtime calls [`Acd::to_callback`] (accepted) or
    /// [`Acd::leave`] (refused and gone); a caller who refuses keeps waiting.
    Overflow {
        call: CallId,
        queue: String,
        action: Overflow,
        cause: OverflowCause,
    },
    /// Tell the caller their place (1 = next) and the estimated wait.
    Announce {
        call: CallId,
        queue: String,
        position: usize,
        ewt_secs: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnqueueError {
    #[error("no queue {0:?}")]
    UnknownQueue(String),
    #[error("the queue is full")]
    Full(Overflow),
    #[error("the call is already waiting")]
    AlreadyWaiting,
}

/// Where a caller joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Joined {
    pub position: usize,
    pub ewt_secs: u32,
}

/// A queue's live figures for the wallboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueSnapshot {
    pub key: String,
    pub waiting: usize,
    pub callbacks: usize,
    pub longest_wait_secs: i64,
    pub agents_logged_in: usize,
    pub agents_ready: usize,
    pub agents_busy: usize,
}

struct QueueState {
    cfg: QueueConfig,
    /// The agent offered last (round robin).
    last_offered: Option<AgentId>,
    /// Average handle time (talk + wrap-up), moving.
    aht_secs: f64,
}

#[derive(Default)]
pub struct Acd {
    agents: BTreeMap<AgentId, Agent>,
    queues: BTreeMap<String, QueueState>,
    waiting: HashMap<CallId, Waiter>,
    seq: u64,
}

impl Acd {
    pub fn new() -> Acd {
        Acd::default()
    }

    // ---- configuration ----

    /// Adds a queue or changes its settings (waiting callers stay).
    /// Adds a queue or changes its settings. A queue that starts announcing tells the callers
    /// already waiting their place at the next tick.
    pub fn upsert_queue(&mut self, cfg: QueueConfig) {
        match self.queues.get_mut(&cfg.key) {
            Some(q) => {
                if q.cfg.announce_secs == 0 && cfg.announce_secs > 0 {
                    for w in self.waiting.values_mut() {
                        if w.queue == cfg.key && w.kind == WaiterKind::Caller {
                            w.next_announce_at = Some(w.entered_at);
                        }
                    }
                }
                q.cfg = cfg;
            }
            None => {
                self.queues.insert(
                    cfg.key.clone(),
                    QueueState {
                        cfg,
                        last_offered: None,
                        aht_secs: DEFAULT_AHT_SECS,
                    },
                );
            }
        }
    }

    pub fn queue(&self, key: &str) -> Option<&QueueConfig> {
        self.queues.get(key).map(|q| &q.cfg)
    }

    pub fn queues(&self) -> impl Iterator<Item = &QueueConfig> {
        self.queues.values().map(|q| &q.cfg)
    }

    /// Adds an agent as it is (at start: with its persisted state, see [`Acd::restarted`]).
    pub fn insert_agent(&mut self, agent: Agent) {
        self.agents.insert(agent.id, agent);
    }

    /// Changes an agent's profile; its state and counters stay. A logged-in agent keeps its queues
    /// that it still serves.
    pub fn update_profile(
        &mut self,
        id: AgentId,
        name: &str,
        extension: Option<String>,
        skills: BTreeMap<String, u8>,
        wrap_up_secs: Option<u32>,
        max_missed: u32,
    ) -> Result<(), Refused> {
        let a = self.agents.get_mut(&id).ok_or(Refused::UnknownAgent)?;
        a.name = name.to_string();
        a.extension = extension;
        a.skills = skills;
        a.wrap_up_secs = wrap_up_secs;
        a.max_missed = max_missed;
        let eligible = self.eligible_queues(id);
        if let Some(a) = self.agents.get_mut(&id) {
            a.queues.retain(|q| eligible.contains(q));
        }
        Ok(())
    }

    pub fn agent(&self, id: AgentId) -> Option<&Agent> {
        self.agents.get(&id)
    }

    pub fn agents(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    /// The queues an agent may log in to: its skill at the queue's level, or listed as a member.
    pub fn eligible_queues(&self, id: AgentId) -> BTreeSet<String> {
        let Some(a) = self.agents.get(&id) else {
            return BTreeSet::new();
        };
        self.queues
            .values()
            .filter(|q| serves(a, &q.cfg))
            .map(|q| q.cfg.key.clone())
            .collect()
    }

    // ---- agents ----

    /// Logs an agent in to `queues` (all it may serve when `None`).
    pub fn login(
        &mut self,
        id: AgentId,
        queues: Option<Vec<String>>,
        phone: Option<String>,
        ready: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Effect>, Refused> {
        let eligible = self.eligible_queues(id);
        let queues = match queues {
            None => eligible,
            Some(list) => {
                if let Some(q) = list.iter().find(|q| !eligible.contains(*q)) {
                    return Err(Refused::NotInQueue(q.clone()));
                }
                list.into_iter().collect()
            }
        };
        self.change(
            id,
            Change::Login {
                queues,
                phone,
                ready,
            },
            now,
        )
    }

    /// Applies an agent's own or a supervisor's change (ready, not ready, logout, end wrap-up,
    /// force, a direct call), then routes. Offers and their outcomes have their own methods.
    pub fn change(
        &mut self,
        id: AgentId,
        change: Change,
        now: DateTime<Utc>,
    ) -> Result<Vec<Effect>, Refused> {
        // These go through the waiting calls (or all agents): applied to the agent alone they
        // would leave a caller offered to an agent that no longer rings for it.
        let action = match change {
            Change::Offer { .. } => Some("offer"),
            Change::Answered(_) => Some("answered"),
            Change::Missed(_) => Some("missed"),
            Change::Withdrawn(_) => Some("withdrawn"),
            Change::Gone(_) => Some("gone"),
            Change::Restarted => Some("restarted"),
            _ => None,
        };
        if let Some(action) = action {
            let a = self.agents.get(&id).ok_or(Refused::UnknownAgent)?;
            return Err(Refused::NotAllowed {
                state: a.state.name(),
                action,
            });
        }
        let mut out = Vec::new();
        self.apply(id, change, now, &mut out)?;
        self.route_into(now, &mut out);
        Ok(out)
    }

    fn apply(
        &mut self,
        id: AgentId,
        change: Change,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) -> Result<(), Refused> {
        let a = self.agents.get_mut(&id).ok_or(Refused::UnknownAgent)?;
        if a.apply(change, now)? {
            out.push(Effect::State {
                agent: id,
                state: a.state.clone(),
                since: a.since,
            });
        }
        Ok(())
    }

    /// After a restart: no call survived, so offers and calls in progress are over, and nobody
    /// waits any more.
    pub fn restarted(&mut self, now: DateTime<Utc>) -> Vec<Effect> {
        self.waiting.clear();
        let ids: Vec<AgentId> = self.agents.keys().copied().collect();
        let mut out = Vec::new();
        for id in ids {
            let _ = self.apply(id, Change::Restarted, now, &mut out);
        }
        out
    }

    // ---- callers ----

    /// A caller joins `queue`. Refused when the queue is unknown or full (with its overflow).
    pub fn enqueue(
        &mut self,
        call: CallId,
        queue: &str,
        priority: u8,
        now: DateTime<Utc>,
    ) -> Result<(Joined, Vec<Effect>), EnqueueError> {
        if self.waiting.contains_key(&call) {
            return Err(EnqueueError::AlreadyWaiting);
        }
        let q = self
            .queues
            .get(queue)
            .ok_or_else(|| EnqueueError::UnknownQueue(queue.to_string()))?;
        let in_queue = self.waiting.values().filter(|w| w.queue == queue).count();
        if q.cfg.max_len > 0 && in_queue >= q.cfg.max_len as usize {
            return Err(EnqueueError::Full(q.cfg.overflow.clone()));
        }
        self.seq += 1;
        let announce = (q.cfg.announce_secs > 0)
            .then(|| now + TimeDelta::seconds(i64::from(q.cfg.announce_secs)));
        self.waiting.insert(
            call,
            Waiter {
                call,
                queue: queue.to_string(),
                priority,
                entered_at: now,
                seq: self.seq,
                kind: WaiterKind::Caller,
                offered_to: BTreeSet::new(),
                declined: BTreeSet::new(),
                next_announce_at: announce,
                callback_offered: false,
            },
        );
        let mut out = Vec::new();
        self.route_into(now, &mut out);
        let position = self.position(call).unwrap_or(0);
        let joined = Joined {
            position,
            ewt_secs: self.ewt_secs(queue, position),
        };
        Ok((joined, out))
    }

    /// The caller left the queue (hung up, or taken out by the runtime): offers for it stop.
    pub fn leave(&mut self, call: CallId, now: DateTime<Utc>) -> Vec<Effect> {
        let mut out = Vec::new();
        self.leave_into(call, now, &mut out);
        self.route_into(now, &mut out);
        out
    }

    /// [`Acd::leave`] without routing.
    fn leave_into(&mut self, call: CallId, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        if let Some(w) = self.waiting.remove(&call) {
            for agent in w.offered_to {
                out.push(Effect::CancelOffer { call, agent });
                let _ = self.apply(agent, Change::Withdrawn(call), now, out);
            }
        }
    }

    /// The caller hung up to be called back: the waiting call stays at its place as a callback to
    /// `number`. No more announcements or overflow for it. A phone ringing for the caller stops
    /// (its agent is free again; the callback is offered afresh, as a callback). `None`: not a
    /// waiting caller (unknown, or already a callback).
    pub fn to_callback(
        &mut self,
        call: CallId,
        number: &str,
        now: DateTime<Utc>,
    ) -> Option<Vec<Effect>> {
        let w = self.waiting.get_mut(&call)?;
        if w.kind != WaiterKind::Caller {
            return None;
        }
        w.kind = WaiterKind::Callback {
            number: number.to_string(),
        };
        w.next_announce_at = None;
        let ringing = std::mem::take(&mut w.offered_to);
        let mut out = Vec::new();
        for agent in ringing {
            out.push(Effect::CancelOffer { call, agent });
            let _ = self.apply(agent, Change::Withdrawn(call), now, &mut out);
        }
        self.route_into(now, &mut out);
        Some(out)
    }

    /// A callback that was waiting when the runtime stopped, back at its place (`entered_at`, the
    /// time the caller first joined): callers who joined later stay behind it. Refused like
    /// [`Acd::enqueue`] for an unknown queue or a call already waiting; a full queue takes it anyway
    /// (it was accepted before).
    pub fn restore_callback(
        &mut self,
        call: CallId,
        queue: &str,
        priority: u8,
        number: &str,
        entered_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Effect>, EnqueueError> {
        if self.waiting.contains_key(&call) {
            return Err(EnqueueError::AlreadyWaiting);
        }
        if !self.queues.contains_key(queue) {
            return Err(EnqueueError::UnknownQueue(queue.to_string()));
        }
        self.seq += 1;
        self.waiting.insert(
            call,
            Waiter {
                call,
                queue: queue.to_string(),
                priority,
                entered_at,
                seq: self.seq,
                kind: WaiterKind::Callback {
                    number: number.to_string(),
                },
                offered_to: BTreeSet::new(),
                declined: BTreeSet::new(),
                next_announce_at: None,
                callback_offered: true,
            },
        );
        let mut out = Vec::new();
        self.route_into(now, &mut out);
        Ok(out)
    }

    /// `agent`'s phone answered `call`. Refused when the agent is not ringing for it (a double or
    /// late answer); then the runtime hangs up that phone.
    pub fn answered(
        &mut self,
        call: CallId,
        agent: AgentId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Effect>, Refused> {
        let offered = self
            .waiting
            .get(&call)
            .is_some_and(|w| w.offered_to.contains(&agent));
        if !offered {
            return Err(Refused::WrongCall(call));
        }
        let mut out = Vec::new();
        self.apply(agent, Change::Answered(call), now, &mut out)?;
        let w = self.waiting.remove(&call).expect("checked above");
        if let Some(q) = self.queues.get_mut(&w.queue) {
            q.last_offered = Some(agent);
        }
        for other in w.offered_to.into_iter().filter(|a| *a != agent) {
            out.push(Effect::CancelOffer { call, agent: other });
            let _ = self.apply(other, Change::Withdrawn(call), now, &mut out);
        }
        self.route_into(now, &mut out);
        Ok(out)
    }

    /// `agent` did not answer `call` (no answer, busy, rejected): the caller keeps its place and is
    /// offered again.
    pub fn missed(&mut self, call: CallId, agent: AgentId, now: DateTime<Utc>) -> Vec<Effect> {
        let mut out = Vec::new();
        if let Some(w) = self.waiting.get_mut(&call) {
            w.offered_to.remove(&agent);
            w.declined.insert(agent);
        }
        let _ = self.apply(agent, Change::Missed(call), now, &mut out);
        self.route_into(now, &mut out);
        out
    }

    /// `agent`'s call ended after `talk_secs`: wrap-up (the queue's time, or the agent's own).
    pub fn ended(
        &mut self,
        agent: AgentId,
        call: CallId,
        talk_secs: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<Effect>, Refused> {
        let mut out = Vec::new();
        self.end_into(agent, call, talk_secs, now, &mut out)?;
        self.route_into(now, &mut out);
        Ok(out)
    }

    /// [`Acd::ended`] without routing.
    fn end_into(
        &mut self,
        agent: AgentId,
        call: CallId,
        talk_secs: u64,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) -> Result<(), Refused> {
        let a = self.agents.get(&agent).ok_or(Refused::UnknownAgent)?;
        let queue = match &a.state {
            State::OnCall { queue, .. } => queue.clone(),
            _ => None,
        };
        let wrap = queue
            .as_deref()
            .and_then(|q| self.queues.get(q))
            .map(|q| q.cfg.wrap_up_secs)
            .unwrap_or(0);
        self.apply(
            agent,
            Change::Ended {
                call,
                talk_secs,
                wrap_up_secs: wrap,
            },
            now,
            out,
        )?;
        if let Some(q) = queue.as_deref().and_then(|q| self.queues.get_mut(q)) {
            let wrap = self
                .agents
                .get(&agent)
                .and_then(|a| a.wrap_up_secs)
                .unwrap_or(wrap);
            let handle = (talk_secs + u64::from(wrap)) as f64;
            q.aht_secs = 0.8 * q.aht_secs + 0.2 * handle;
        }
        Ok(())
    }

    /// Time passed: wrap-ups end, forgotten offers count as missed, callers who waited too long
    /// overflow, announcements fall due; then routing.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Effect> {
        let mut out = Vec::new();
        let ids: Vec<AgentId> = self.agents.keys().copied().collect();
        for id in ids {
            let expired = match &self.agents[&id].state {
                State::Reserved { call, until, .. }
                    if now >= *until + TimeDelta::seconds(OFFER_GRACE_SECS) =>
                {
                    Some(*call)
                }
                _ => None,
            };
            if let Some(call) = expired {
                out.push(Effect::CancelOffer { call, agent: id });
                if let Some(w) = self.waiting.get_mut(&call) {
                    w.offered_to.remove(&id);
                    w.declined.insert(id);
                }
                let _ = self.apply(id, Change::Missed(call), now, &mut out);
            }
            let _ = self.apply(id, Change::Tick, now, &mut out);
        }
        // Overflow: callers on the line, not ringing an agent, past the queue's max wait.
        let mut gone = Vec::new();
        for w in self.waiting.values() {
            let Some(q) = self.queues.get(&w.queue) else {
                continue;
            };
            if w.kind == WaiterKind::Caller
                && w.offered_to.is_empty()
                && !w.callback_offered
                && q.cfg.max_wait_secs > 0
                && now >= w.entered_at + TimeDelta::seconds(i64::from(q.cfg.max_wait_secs))
            {
                gone.push((w.order(), w.call));
            }
        }
        gone.sort();
        for (_, call) in gone {
            let queue = self.waiting[&call].queue.clone();
            let action = self.queues[&queue].cfg.overflow.clone();
            if action == Overflow::Callback {
                // The caller keeps its place while it is asked whether it wants a callback.
                if let Some(w) = self.waiting.get_mut(&call) {
                    w.callback_offered = true;
                }
            } else {
                self.waiting.remove(&call);
            }
            out.push(Effect::Overflow {
                call,
                queue,
                action,
                cause: OverflowCause::Timeout,
            });
        }
        // Announcements, in queue order.
        let mut due: Vec<_> = self
            .waiting
            .values()
            .filter(|w| w.next_announce_at.is_some_and(|t| now >= t) && w.offered_to.is_empty())
            .map(|w| (w.order(), w.call))
            .collect();
        due.sort();
        for (_, call) in due {
            let queue = self.waiting[&call].queue.clone();
            let every = self.queues.get(&queue).map_or(0, |q| q.cfg.announce_secs);
            if let Some(w) = self.waiting.get_mut(&call) {
                // 0: the queue no longer announces (changed while the caller waited).
                w.next_announce_at =
                    (every > 0).then(|| now + TimeDelta::seconds(i64::from(every)));
            }
            if every == 0 {
                continue;
            }
            let position = self.position(call).unwrap_or(0);
            let ewt_secs = self.ewt_secs(&queue, position);
            out.push(Effect::Announce {
                call,
                queue,
                position,
                ewt_secs,
            });
        }
        self.route_into(now, &mut out);
        out
    }

    /// Makes the state agree with the telephony engine: `live(call)` says whether the engine still
    /// has a call. Agents holding a call the engine lost are released; callers it lost leave.
    pub fn reconcile(&mut self, live: impl Fn(CallId) -> bool, now: DateTime<Utc>) -> Vec<Effect> {
        let mut out = Vec::new();
        // Callers first, so that no agent freed here is offered a caller who is gone.
        let mut callers: Vec<CallId> = self
            .waiting
            .values()
            .filter(|w| w.kind == WaiterKind::Caller && !live(w.call))
            .map(|w| w.call)
            .collect();
        callers.sort();
        for call in callers {
            self.leave_into(call, now, &mut out);
        }
        let lost: Vec<(AgentId, CallId)> = self
            .agents
            .values()
            .filter_map(|a| match &a.state {
                // An offer younger than the grace may not have reached the engine yet.
                State::Reserved { call, .. }
                    if !live(*call) && now >= a.since + TimeDelta::seconds(OFFER_GRACE_SECS) =>
                {
                    Some((a.id, *call))
                }
                State::OnCall { call, .. } if !live(*call) => Some((a.id, *call)),
                _ => None,
            })
            .collect();
        for (agent, call) in lost {
            if let Some(w) = self.waiting.get_mut(&call) {
                w.offered_to.remove(&agent);
            }
            // A lost conversation ends as if the runtime had said so: the queue's wrap-up (not 0)
            // and the talk time since it began count.
            let talking = match self.agents.get(&agent) {
                Some(a) if matches!(a.state, State::OnCall { .. }) => {
                    Some((now - a.since).num_seconds().max(0) as u64)
                }
                _ => None,
            };
            let _ = match talking {
                Some(talk) => self.end_into(agent, call, talk, now, &mut out),
                None => self.apply(agent, Change::Gone(call), now, &mut out),
            };
        }
        self.route_into(now, &mut out);
        out
    }

    // ---- routing ----

    /// Offers waiting calls to ready agents, in order of service.
    pub fn route(&mut self, now: DateTime<Utc>) -> Vec<Effect> {
        let mut out = Vec::new();
        self.route_into(now, &mut out);
        out
    }

    fn route_into(&mut self, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        // Ready agents per queue they are logged in to.
        let mut ready: HashMap<&str, Vec<AgentId>> = HashMap::new();
        for a in self.agents.values() {
            if a.state == State::Ready {
                for q in &a.queues {
                    ready.entry(q.as_str()).or_default().push(a.id);
                }
            }
        }
        if ready.is_empty() {
            return;
        }
        let mut order: Vec<_> = self
            .waiting
            .values()
            .filter(|w| w.offered_to.is_empty() && ready.contains_key(w.queue.as_str()))
            .map(|w| (w.order(), w.call))
            .collect();
        if order.is_empty() {
            return;
        }
        order.sort_unstable();
        let mut taken: BTreeSet<AgentId> = BTreeSet::new();
        let mut decisions = Vec::new();
        for (_, call) in order {
            let w = &self.waiting[&call];
            let Some(q) = self.queues.get(&w.queue) else {
                continue;
            };
            let candidates: Vec<&Agent> = ready[w.queue.as_str()]
                .iter()
                .filter(|id| !taken.contains(*id))
                .map(|id| &self.agents[id])
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let fresh: Vec<&Agent> = candidates
                .iter()
                .copied()
                .filter(|a| !w.declined.contains(&a.id))
                .collect();
            let pool = if fresh.is_empty() { candidates } else { fresh };
            let chosen = pick(&q.cfg, q.last_offered, &pool);
            taken.extend(chosen.iter().copied());
            let until = now + TimeDelta::seconds(i64::from(q.cfg.ring_secs));
            decisions.push((call, w.queue.clone(), chosen, until));
        }
        for (call, queue, agents, until) in decisions {
            let callback = match &self.waiting[&call].kind {
                WaiterKind::Callback { number } => Some(number.clone()),
                WaiterKind::Caller => None,
            };
            for &agent in &agents {
                let _ = self.apply(
                    agent,
                    Change::Offer {
                        call,
                        queue: queue.clone(),
                        until,
                    },
                    now,
                    out,
                );
            }
            if let Some(w) = self.waiting.get_mut(&call) {
                w.offered_to.extend(agents.iter().copied());
            }
            if let Some(q) = self.queues.get_mut(&queue)
                && agents.len() == 1
            {
                q.last_offered = Some(agents[0]);
            }
            out.push(Effect::Offer {
                call,
                queue,
                agents,
                until,
                callback,
            });
        }
    }

    // ---- what callers and the wallboard see ----

    pub fn waiter(&self, call: CallId) -> Option<&Waiter> {
        self.waiting.get(&call)
    }

    pub fn waiters(&self) -> impl Iterator<Item = &Waiter> {
        self.waiting.values()
    }

    /// A waiting call's place in its queue: 1 = next.
    pub fn position(&self, call: CallId) -> Option<usize> {
        let w = self.waiting.get(&call)?;
        let key = w.order();
        Some(
            1 + self
                .waiting
                .values()
                .filter(|o| o.queue == w.queue && o.order() < key)
                .count(),
        )
    }

    /// Estimated wait at `position`: the calls ahead times the average handle time, shared by the
    /// agents working the queue.
    pub fn ewt_secs(&self, queue: &str, position: usize) -> u32 {
        let Some(q) = self.queues.get(queue) else {
            return 0;
        };
        let staffed = self
            .agents
            .values()
            .filter(|a| a.queues.contains(queue) && !matches!(a.state, State::NotReady { .. }))
            .count()
            .max(1);
        let ahead = position.saturating_sub(1) as f64;
        (ahead * q.aht_secs / staffed as f64).round() as u32
    }

    pub fn snapshot(&self, now: DateTime<Utc>) -> Vec<QueueSnapshot> {
        self.queues
            .values()
            .map(|q| {
                let key = &q.cfg.key;
                let waiters: Vec<&Waiter> =
                    self.waiting.values().filter(|w| &w.queue == key).collect();
                let agents: Vec<&Agent> = self
                    .agents
                    .values()
                    .filter(|a| a.queues.contains(key))
                    .collect();
                QueueSnapshot {
                    key: key.clone(),
                    waiting: waiters
                        .iter()
                        .filter(|w| w.kind == WaiterKind::Caller)
                        .count(),
                    callbacks: waiters
                        .iter()
                        .filter(|w| w.kind != WaiterKind::Caller)
                        .count(),
                    longest_wait_secs: waiters
                        .iter()
                        .filter(|w| w.kind == WaiterKind::Caller)
                        .map(|w| (now - w.entered_at).num_seconds().max(0))
                        .max()
                        .unwrap_or(0),
                    agents_logged_in: agents.len(),
                    agents_ready: agents.iter().filter(|a| a.state == State::Ready).count(),
                    agents_busy: agents.iter().filter(|a| a.state.busy()).count(),
                }
            })
            .collect()
    }
}

/// Whether an agent may serve a queue.
fn serves(a: &Agent, q: &QueueConfig) -> bool {
    a.level(&q.skill) >= q.min_level.max(1)
        || a.extension
            .as_ref()
            .is_some_and(|e| q.members.iter().any(|m| m == e))
}

/// The agents to ring, by the queue's strategy, from a non-empty pool of ready agents.
fn pick(q: &QueueConfig, last: Option<AgentId>, pool: &[&Agent]) -> Vec<AgentId> {
    // Ties: longest idle, then the lowest id.
    fn tie(a: &Agent) -> (DateTime<Utc>, AgentId) {
        (a.idle_since, a.id)
    }
    let one = match q.strategy {
        Strategy::RingAll => {
            let mut all: Vec<AgentId> = pool.iter().map(|a| a.id).collect();
            all.sort();
            return all;
        }
        Strategy::LongestIdle => pool.iter().min_by_key(|a| tie(a)),
        Strategy::FewestCalls => pool.iter().min_by_key(|a| (a.calls_handled, tie(a))),
        Strategy::LeastTalkTime => pool.iter().min_by_key(|a| (a.talk_secs, tie(a))),
        Strategy::SkillsBased => pool
            .iter()
            .min_by_key(|a| (Reverse(a.level(&q.skill)), tie(a))),
        Strategy::RoundRobin => {
            let next = last.and_then(|l| pool.iter().filter(|a| a.id > l).min_by_key(|a| a.id));
            next.or_else(|| pool.iter().min_by_key(|a| a.id))
        }
        Strategy::Sequential => pool.iter().min_by_key(|a| {
            let listed = a
                .extension
                .as_ref()
                .and_then(|e| q.members.iter().position(|m| m == e))
                .unwrap_or(usize::MAX);
            // Listed members first, then extension order (agents without one last).
            (listed, a.extension.is_none(), a.extension.clone(), tie(a))
        }),
    };
    one.map(|a| vec![a.id]).unwrap_or_default()
}
