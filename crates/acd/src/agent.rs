//! An agent's state and the one table of allowed changes.
//!
//! The state is authoritative: the runtime persists every change and reloads it at start, and the
//! telephony engine's view is reconciled into it ([`Change::Gone`]), so an agent can never stay
//! `reserved` or `on_call` without a call, and wrap-up ends only at its time or when the agent ends it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{AgentId, CallId};

/// Not-ready reason codes: (code, 中文, English). `missed` and `forced` are set by kefu, not chosen.
pub const REASONS: &[(&str, &str, &str)] = &[
    ("break", "小休", "Break"),
    ("meal", "用餐", "Meal"),
    ("training", "培训", "Training"),
    ("meeting", "会议", "Meeting"),
    ("after_call", "事后处理", "After-call work"),
    ("other", "其他", "Other"),
    ("login", "签入未就绪", "Just logged in"),
    ("missed", "未接自动置忙", "Missed offers"),
    ("forced", "班长置忙", "Set by supervisor"),
];

/// A not-ready reason code from [`REASONS`].
pub type Reason = String;

/// Reason codes an agent may choose (the rest are kefu's).
pub fn choosable_reason(code: &str) -> bool {
    REASONS.iter().any(|(c, ..)| *c == code) && !matches!(code, "missed" | "forced" | "login")
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    LoggedOut,
    Ready,
    NotReady {
        reason: Reason,
    },
    /// A queue call rings this agent's phone until `until`.
    Reserved {
        call: CallId,
        queue: String,
        until: DateTime<Utc>,
    },
    /// Talking: a queue call (`queue`) or a direct one (a transfer or consultation to the agent).
    OnCall {
        call: CallId,
        queue: Option<String>,
    },
    /// After-call work until `until`.
    WrapUp {
        call: CallId,
        queue: Option<String>,
        until: DateTime<Utc>,
    },
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            State::LoggedOut => "logged_out",
            State::Ready => "ready",
            State::NotReady { .. } => "not_ready",
            State::Reserved { .. } => "reserved",
            State::OnCall { .. } => "on_call",
            State::WrapUp { .. } => "wrap_up",
        }
    }

    /// The call this state holds, if any.
    pub fn call(&self) -> Option<CallId> {
        match self {
            State::Reserved { call, .. } | State::OnCall { call, .. } => Some(*call),
            State::WrapUp { call, .. } => Some(*call),
            _ => None,
        }
    }

    /// Busy with a call (ringing or talking): not available, not to be forced.
    pub fn busy(&self) -> bool {
        matches!(self, State::Reserved { .. } | State::OnCall { .. })
    }
}

/// Something that changes an agent's state: asked by the agent or a supervisor, or reported by the
/// runtime about the agent's phone and calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Log in to these queues (already checked as eligible by [`crate::Acd`]); `ready` at once or
    /// not ready (`login`).
    Login {
        queues: BTreeSet<String>,
        phone: Option<String>,
        ready: bool,
    },
    Logout,
    Ready,
    NotReady(Reason),
    /// A queue call is offered (the router reserves a ready agent).
    Offer {
        call: CallId,
        queue: String,
        until: DateTime<Utc>,
    },
    /// The agent's phone answered the offered call.
    Answered(CallId),
    /// The offer was not answered (no answer, busy, rejected, or expired).
    Missed(CallId),
    /// The offer was taken back without fault of the agent (the caller left, another agent of a
    /// ring-all answered first).
    Withdrawn(CallId),
    /// A call that is not a queue offer reached the agent (a transfer or consultation to it).
    Direct(CallId),
    /// The agent's call ended after `talk_secs`; wrap-up of `wrap_up_secs` follows.
    Ended {
        call: CallId,
        talk_secs: u64,
        wrap_up_secs: u32,
    },
    /// The agent ends wrap-up early.
    EndWrapUp,
    /// The telephony engine no longer has this call (reconciliation): ends whatever holds it.
    Gone(CallId),
    /// A supervisor forces a state: `ready`, `not_ready` (reason `forced`) or `logged_out`.
    Force(State),
    /// Time passed: ends a wrap-up whose time is up.
    Tick,
    /// The process restarted: no call survived.
    Restarted,
}

/// Why a change was refused: a code for programs and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not allowed while {state}: {action}")]
    NotAllowed {
        state: &'static str,
        action: &'static str,
    },
    #[error("unknown not-ready reason {0:?}")]
    UnknownReason(String),
    #[error("the agent's current call is not {0}")]
    WrongCall(CallId),
    #[error("the agent is not logged in to queue {0:?}")]
    NotInQueue(String),
    #[error("no such agent")]
    UnknownAgent,
}

impl Refused {
    pub fn code(&self) -> &'static str {
        match self {
            Refused::NotAllowed { .. } => "state_not_allowed",
            Refused::UnknownReason(_) => "unknown_reason",
            Refused::WrongCall(_) => "wrong_call",
            Refused::NotInQueue(_) => "not_in_queue",
            Refused::UnknownAgent => "unknown_agent",
        }
    }
}

/// One agent: its profile (skills, phone), its state and the counters routing strategies use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    pub extension: Option<String>,
    pub skills: BTreeMap<String, u8>,
    /// Wrap-up seconds of this agent, overriding the queue's.
    pub wrap_up_secs: Option<u32>,
    /// Misses in a row after which the agent is set not ready (`missed`); 0 = never.
    pub max_missed: u32,
    pub state: State,
    pub since: DateTime<Utc>,
    /// The not-ready reason asked for while busy, applied when the call's wrap-up ends.
    pub pending: Option<Reason>,
    /// The queues the agent is logged in to (empty when logged out).
    pub queues: BTreeSet<String>,
    /// Where the agent takes calls (its extension, a site phone …): the runtime's business.
    pub phone: Option<String>,
    /// Since when the agent has been free (longest-idle routing).
    pub idle_since: DateTime<Utc>,
    pub calls_handled: u32,
    pub talk_secs: u64,
    pub missed_in_row: u32,
}

impl Agent {
    pub fn new(id: AgentId, name: &str, now: DateTime<Utc>) -> Agent {
        Agent {
            id,
            name: name.to_string(),
            extension: None,
            skills: BTreeMap::new(),
            wrap_up_secs: None,
            max_missed: 2,
            state: State::LoggedOut,
            since: now,
            pending: None,
            queues: BTreeSet::new(),
            phone: None,
            idle_since: now,
            calls_handled: 0,
            talk_secs: 0,
            missed_in_row: 0,
        }
    }

    /// Applies `change` at `now`. Returns whether the state changed (counters may change either way).
    /// On `Err` nothing changed.
    pub fn apply(&mut self, change: Change, now: DateTime<Utc>) -> Result<bool, Refused> {
        let before = self.state.clone();
        let not_allowed = |action: &'static str| Refused::NotAllowed {
            state: before.name(),
            action,
        };
        let next = match (&self.state, change) {
            (
                State::LoggedOut,
                Change::Login {
                    queues,
                    phone,
                    ready,
                },
            ) => {
                self.queues = queues;
                self.phone = phone;
                self.missed_in_row = 0;
                self.pending = None;
                self.idle_since = now;
                // The routing counters are "since logging in" (fewest calls, least talk time).
                self.calls_handled = 0;
                self.talk_secs = 0;
                if ready {
                    State::Ready
                } else {
                    State::NotReady {
                        reason: "login".into(),
                    }
                }
            }
            (_, Change::Login { .. }) => return Err(not_allowed("login")),

            (State::Ready | State::NotReady { .. }, Change::Logout) => {
                self.queues.clear();
                self.phone = None;
                self.pending = None;
                State::LoggedOut
            }
            (State::LoggedOut, Change::Logout) => return Ok(false),
            (_, Change::Logout) => return Err(not_allowed("logout")),

            (State::NotReady { .. }, Change::Ready) => {
                self.missed_in_row = 0;
                self.idle_since = now;
                State::Ready
            }
            (State::Ready, Change::Ready) => {
                self.pending = None;
                return Ok(false);
            }
            // Asking for ready while busy drops a pending not-ready.
            (State::Reserved { .. } | State::OnCall { .. }, Change::Ready) => {
                self.pending = None;
                return Ok(false);
            }
            (State::WrapUp { .. }, Change::Ready) => {
                self.pending = None;
                self.idle_since = now;
                State::Ready
            }
            (State::LoggedOut, Change::Ready) => return Err(not_allowed("ready")),

            (_, Change::NotReady(reason)) if !choosable_reason(&reason) => {
                return Err(Refused::UnknownReason(reason));
            }
            (State::Ready | State::NotReady { .. }, Change::NotReady(reason)) => {
                State::NotReady { reason }
            }
            (State::Reserved { .. } | State::OnCall { .. }, Change::NotReady(reason)) => {
                self.pending = Some(reason);
                return Ok(false);
            }
            (State::WrapUp { .. }, Change::NotReady(reason)) => {
                // Kept until the wrap-up ends: after-call work is not cut short by a break.
                self.pending = Some(reason);
                return Ok(false);
            }
            (State::LoggedOut, Change::NotReady(_)) => return Err(not_allowed("not_ready")),

            (State::Ready, Change::Offer { call, queue, until }) => {
                if !self.queues.contains(&queue) {
                    return Err(Refused::NotInQueue(queue));
                }
                State::Reserved { call, queue, until }
            }
            (_, Change::Offer { .. }) => return Err(not_allowed("offer")),

            (State::Reserved { call, queue, .. }, Change::Answered(c)) if *call == c => {
                self.missed_in_row = 0;
                State::OnCall {
                    call: c,
                    queue: Some(queue.clone()),
                }
            }
            (_, Change::Answered(c)) => return Err(Refused::WrongCall(c)),

            (State::Reserved { call, .. }, Change::Missed(c)) if *call == c => {
                self.missed_in_row += 1;
                self.after_free(
                    now,
                    self.max_missed > 0 && self.missed_in_row >= self.max_missed,
                )
            }
            (_, Change::Missed(c)) => return Err(Refused::WrongCall(c)),

            (State::Reserved { call, .. }, Change::Withdrawn(c)) if *call == c => {
                self.after_free(now, false)
            }
            (_, Change::Withdrawn(c)) => return Err(Refused::WrongCall(c)),

            (State::Ready | State::NotReady { .. } | State::WrapUp { .. }, Change::Direct(c)) => {
                // A transfer reaching the agent: whatever it was doing, it is talking now; a
                // not-ready reason comes back afterwards.
                if let State::NotReady { reason } = &self.state
                    && self.pending.is_none()
                {
                    self.pending = Some(reason.clone());
                }
                State::OnCall {
                    call: c,
                    queue: None,
                }
            }
            (State::LoggedOut, Change::Direct(_)) => return Ok(false),
            (_, Change::Direct(_)) => return Err(not_allowed("direct call")),

            (
                State::OnCall { call, queue },
                Change::Ended {
                    call: c,
                    talk_secs,
                    wrap_up_secs,
                },
            ) if *call == c => {
                self.calls_handled += 1;
                self.talk_secs += talk_secs;
                let secs = self.wrap_up_secs.unwrap_or(wrap_up_secs);
                if secs == 0 {
                    self.after_free(now, false)
                } else {
                    State::WrapUp {
                        call: c,
                        queue: queue.clone(),
                        until: now + TimeDelta::seconds(i64::from(secs)),
                    }
                }
            }
            (_, Change::Ended { call, .. }) => return Err(Refused::WrongCall(call)),

            (State::WrapUp { .. }, Change::EndWrapUp) => self.after_free(now, false),
            (_, Change::EndWrapUp) => return Err(not_allowed("end wrap-up")),

            // The engine lost the offered call: the caller left, no fault of the agent (docs/acd.md:
            // "caller left → ready, not counted as a miss"; an unanswered offer is `Missed`).
            (State::Reserved { call, .. }, Change::Gone(c)) if *call == c => {
                self.after_free(now, false)
            }
            (State::OnCall { call, queue }, Change::Gone(c)) if *call == c => {
                // The engine lost the call without telling us it ended: wrap-up from now.
                let queue = queue.clone();
                self.calls_handled += 1;
                match self.wrap_up_secs.unwrap_or(0) {
                    0 => self.after_free(now, false),
                    secs => State::WrapUp {
                        call: c,
                        queue,
                        until: now + TimeDelta::seconds(i64::from(secs)),
                    },
                }
            }
            (_, Change::Gone(_)) => return Ok(false),

            (state, Change::Force(target)) => {
                if state.busy() {
                    return Err(not_allowed("force"));
                }
                match target {
                    State::Ready if *state != State::LoggedOut => {
                        self.pending = None;
                        self.missed_in_row = 0;
                        self.idle_since = now;
                        State::Ready
                    }
                    State::NotReady { .. } if *state != State::LoggedOut => {
                        self.pending = None;
                        State::NotReady {
                            reason: "forced".into(),
                        }
                    }
                    State::LoggedOut => {
                        self.queues.clear();
                        self.phone = None;
                        self.pending = None;
                        State::LoggedOut
                    }
                    _ => return Err(not_allowed("force")),
                }
            }

            (State::WrapUp { until, .. }, Change::Tick) if now >= *until => {
                self.after_free(now, false)
            }
            (_, Change::Tick) => return Ok(false),

            (State::Reserved { .. } | State::OnCall { .. }, Change::Restarted) => {
                self.after_free(now, false)
            }
            (_, Change::Restarted) => return Ok(false),
        };
        if next == self.state {
            return Ok(false);
        }
        self.state = next;
        self.since = now;
        Ok(true)
    }

    /// The state after a call or offer lets go of the agent: a pending or forced not-ready, else
    /// ready.
    fn after_free(&mut self, now: DateTime<Utc>, missed_too_often: bool) -> State {
        if missed_too_often {
            self.pending = None;
            return State::NotReady {
                reason: "missed".into(),
            };
        }
        match self.pending.take() {
            Some(reason) => State::NotReady { reason },
            None => {
                self.idle_since = now;
                State::Ready
            }
        }
    }

    /// The level of `skill` this agent holds (0: none).
    pub fn level(&self, skill: &str) -> u8 {
        self.skills.get(skill).copied().unwrap_or(0)
    }
}
