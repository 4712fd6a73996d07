//! The automatic call distributor (ACD) without I/O.
//!
//! - [`agent`]: an agent's one authoritative state (logged out, ready, not ready with a reason,
//!   reserved, on call, wrap-up) and the rule of which change is allowed from which state.
//! - [`queue`]: queue settings (strategy, skill and level, limits, overflow, announcements).
//! - [`router`]: [`Acd`], the agents and waiting calls of every queue; it decides which agent gets
//!   which call and returns what the runtime must do as [`Effect`]s.
//! - [`metrics`]: the contact-center figures (service level, abandon rate, ASA, AHT, longest wait)
//!   over any interval, shared by the live wallboard and the historical reports.
//!
//! Time is always an argument (`now`), so every rule is tested with a simulated clock.

pub mod agent;
pub mod metrics;
pub mod queue;
pub mod router;

pub use agent::{Agent, Change, REASONS, Reason, Refused, State};
pub use queue::{Overflow, QueueConfig, Strategy};
pub use router::{
    Acd, Effect, EnqueueError, Joined, OverflowCause, QueueSnapshot, Waiter, WaiterKind,
};

/// A call's id: the caller leg's call UUID (the telephony engine's `call_uuid`).
pub type CallId = uuid::Uuid;
/// An agent profile's id.
pub type AgentId = uuid::Uuid;
