//! The ACD's persistence (issue 6, `docs/acd.md`): agent profiles with their persisted live state
//! and the state log, queue settings' checks, the calls that went through queues, call recordings,
//! agents' own tasks (callbacks and follow-ups) and webhooks with their delivery outbox.
//!
//! What a person changes (profiles, a supervisor's forced state, tasks, webhooks, a playback) is
//! audited in the same transaction. What the ACD does by itself (state changes, queue calls,
//! recordings, webhook deliveries) is system data written at call rate, not audited, like call
//! records.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use kefu_domain::{CustomerId, FieldErrors, UserId, WorkOrderId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::entities::{customer, extension, user, work_order};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit};

mod ent {
    pub mod agent {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "agents")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub user_id: Uuid,
            pub extension: Option<String>,
            pub skills: Json,
            pub wrap_up_secs: Option<i32>,
            pub max_missed: i32,
            pub auto_answer: bool,
            pub enabled: bool,
            pub state: String,
            pub reason: Option<String>,
            pub call_id: Option<Uuid>,
            pub queue: Option<String>,
            pub since: DateTimeUtc,
            pub until: Option<DateTimeUtc>,
            pub pending: Option<String>,
            pub phone: Option<String>,
            pub login_queues: Json,
            pub missed_in_row: i32,
            pub idle_since: Option<DateTimeUtc>,
            pub calls_handled: i32,
            pub talk_secs: i64,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod state_log {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "agent_state_log")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub agent_id: Uuid,
            pub state: String,
            pub reason: Option<String>,
            pub call_id: Option<Uuid>,
            pub queue: Option<String>,
            pub started_at: DateTimeUtc,
            pub ended_at: Option<DateTimeUtc>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod queue_call {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "queue_calls")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub call_id: Uuid,
            pub queue: String,
            pub priority: i32,
            pub caller: String,
            pub customer_id: Option<Uuid>,
            pub ivr_path: Json,
            pub entered_at: DateTimeUtc,
            pub answered_at: Option<DateTimeUtc>,
            pub ended_at: Option<DateTimeUtc>,
            pub agent_id: Option<Uuid>,
            pub outcome: String,
            pub overflow_to: Option<String>,
            pub talk_ms: i64,
            pub wrap_ms: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod recording {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "call_recordings")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub call_id: Uuid,
            pub queue_call_id: Option<Uuid>,
            pub agent_id: Option<Uuid>,
            pub customer_id: Option<Uuid>,
            pub caller: String,
            pub path: String,
            pub started_at: DateTimeUtc,
            pub ended_at: Option<DateTimeUtc>,
            pub bytes: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod task {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "agent_tasks")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub user_id: Uuid,
            pub kind: String,
            pub customer_id: Option<Uuid>,
            pub phone: Option<String>,
            pub work_order_id: Option<Uuid>,
            pub note: String,
            pub due_at: DateTimeUtc,
            pub remind_at: Option<DateTimeUtc>,
            pub reminded_at: Option<DateTimeUtc>,
            pub done_at: Option<DateTimeUtc>,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod webhook {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "webhooks")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub url: String,
            pub events: Json,
            pub secret: String,
            pub active: bool,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod delivery {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "webhook_deliveries")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub webhook_id: Uuid,
            pub event_type: String,
            pub body: Json,
            pub attempts: i32,
            pub next_at: Option<DateTimeUtc>,
            pub delivered_at: Option<DateTimeUtc>,
            pub last_error: Option<String>,
            pub created_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use ent::{agent, delivery, queue_call, recording, state_log, task, webhook};

// ---- agents ----

/// An agent: a user's profile (skills, phone) and its persisted live state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentProfile {
    pub id: Uuid,
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub extension: Option<String>,
    pub skills: BTreeMap<String, u8>,
    pub wrap_up_secs: Option<u32>,
    pub max_missed: u32,
    pub auto_answer: bool,
    pub enabled: bool,
    pub status: AgentStatus,
}

/// An agent's live state as the ACD persists it (see `docs/acd.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub state: String,
    pub reason: Option<String>,
    pub call_id: Option<Uuid>,
    pub queue: Option<String>,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub pending: Option<String>,
    pub phone: Option<String>,
    pub queues: Vec<String>,
    pub missed_in_row: u32,
    pub idle_since: Option<DateTime<Utc>>,
    pub calls_handled: u32,
    pub talk_secs: u64,
}

impl AgentStatus {
    /// Logged out since `at`, with no counters.
    pub fn logged_out(at: DateTime<Utc>) -> AgentStatus {
        AgentStatus {
            state: "logged_out".into(),
            reason: None,
            call_id: None,
            queue: None,
            since: at,
            until: None,
            pending: None,
            phone: None,
            queues: Vec::new(),
            missed_in_row: 0,
            idle_since: None,
            calls_handled: 0,
            talk_secs: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub username: String,
    pub extension: Option<String>,
    pub skills: BTreeMap<String, u8>,
    pub wrap_up_secs: Option<u32>,
    pub max_missed: Option<u32>,
    pub auto_answer: bool,
}

/// What to change; `None` leaves a field as it is (`Some(None)` clears a clearable one).
#[derive(Debug, Clone, Default)]
pub struct AgentChanges {
    pub extension: Option<Option<String>>,
    pub skills: Option<BTreeMap<String, u8>>,
    pub wrap_up_secs: Option<Option<u32>>,
    pub max_missed: Option<u32>,
    pub auto_answer: Option<bool>,
    pub enabled: Option<bool>,
}

/// One state an agent was in, from `started_at` until `ended_at` (`None`: still in it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentStateLogRow {
    pub state: String,
    pub reason: Option<String>,
    pub call_id: Option<Uuid>,
    pub queue: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// The agent states the log and the status columns hold.
pub const AGENT_STATES: &[&str] = &[
    "logged_out",
    "ready",
    "not_ready",
    "reserved",
    "on_call",
    "wrap_up",
];

/// Default misses in a row before an agent is set not ready.
pub const DEFAULT_MAX_MISSED: u32 = 2;

fn invalid(field: &str, reason: impl Into<String>) -> StoreError {
    let mut e = FieldErrors::new();
    e.push(field, reason);
    StoreError::Invalid(e)
}

fn sat_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn sat_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// A skill or queue key as skills name them: 1-32 characters, no spaces.
fn check_skills(skills: &BTreeMap<String, u8>, errors: &mut FieldErrors) {
    if skills.len() > 50 {
        errors.push("skills", "at most 50 skills");
    }
    for (k, level) in skills {
        let n = k.chars().count();
        if n == 0 || n > 32 || k.trim() != k || k.chars().any(char::is_whitespace) {
            errors.push(
                "skills",
                format!("skill {k:?}: a key of 1-32 characters, no spaces"),
            );
        } else if !(1..=10).contains(level) {
            errors.push(format!("skills.{k}"), "a level of 1-10");
        }
    }
}

fn check_agent_numbers(
    wrap_up_secs: Option<u32>,
    max_missed: Option<u32>,
    errors: &mut FieldErrors,
) {
    if wrap_up_secs.is_some_and(|w| w > 3600) {
        errors.push("wrap_up_secs", "at most 3600 seconds");
    }
    if max_missed.is_some_and(|m| m > 20) {
        errors.push("max_missed", "0-20 (0: never set not ready)");
    }
}

fn status_from(m: &agent::Model) -> AgentStatus {
    AgentStatus {
        state: m.state.clone(),
        reason: m.reason.clone(),
        call_id: m.call_id,
        queue: m.queue.clone(),
        since: m.since,
        until: m.until,
        pending: m.pending.clone(),
        phone: m.phone.clone(),
        queues: serde_json::from_value(m.login_queues.clone()).unwrap_or_default(),
        missed_in_row: sat_u32(m.missed_in_row),
        idle_since: m.idle_since,
        calls_handled: sat_u32(m.calls_handled),
        talk_secs: u64::try_from(m.talk_secs).unwrap_or(0),
    }
}

fn profile_from(m: agent::Model, u: Option<&user::Model>) -> AgentProfile {
    AgentProfile {
        id: m.id,
        user_id: UserId(m.user_id),
        username: u.map(|u| u.username.clone()).unwrap_or_default(),
        display_name: u.map(|u| u.display_name.clone()).unwrap_or_default(),
        extension: m.extension.clone(),
        skills: serde_json::from_value(m.skills.clone()).unwrap_or_default(),
        wrap_up_secs: m.wrap_up_secs.map(sat_u32),
        max_missed: sat_u32(m.max_missed),
        auto_answer: m.auto_answer,
        enabled: m.enabled,
        status: status_from(&m),
    }
}

fn log_from(m: state_log::Model) -> AgentStateLogRow {
    AgentStateLogRow {
        state: m.state,
        reason: m.reason,
        call_id: m.call_id,
        queue: m.queue,
        started_at: m.started_at,
        ended_at: m.ended_at,
    }
}

// ---- queue settings ----

/// The queue routing strategies (`docs/acd.md`).
pub const QUEUE_STRATEGIES: &[&str] = &[
    "longest_idle",
    "round_robin",
    "fewest_calls",
    "least_talk_time",
    "skills_based",
    "ring_all",
    "sequential",
];

/// What a queue's overflow may do.
pub const OVERFLOW_ACTIONS: &[&str] = &["queue", "voicemail", "callback", "hangup"];

/// A new queue's ACD settings; `None` takes the default (longest idle, the queue's key as skill,
/// level 1, unlimited length, voicemail overflow, announcements every 30 s, 15 s ring, 10 s
/// wrap-up, 20 s service level, always open).
#[derive(Debug, Clone, Default)]
pub struct QueueSettings {
    pub strategy: Option<String>,
    pub skill: Option<String>,
    pub min_level: Option<u8>,
    pub max_len: Option<u32>,
    /// `{"action":"queue","queue":"<key>"}`, `{"action":"voicemail"}`, `{"action":"callback"}`,
    /// `{"action":"hangup"}`.
    pub overflow: Option<Value>,
    pub announce_secs: Option<u32>,
    pub ring_secs: Option<u32>,
    pub wrap_up_secs: Option<u32>,
    pub service_level_secs: Option<u32>,
    /// A calendar code (business hours).
    pub calendar: Option<String>,
}

/// Queue settings with every value resolved (defaults filled in).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueSettingValues {
    pub strategy: String,
    pub skill: Option<String>,
    pub min_level: u8,
    pub max_len: u32,
    pub overflow: Value,
    pub announce_secs: u32,
    pub ring_secs: u32,
    pub wrap_up_secs: u32,
    pub service_level_secs: u32,
    pub calendar: Option<String>,
}

impl QueueSettings {
    pub(crate) fn resolve(self) -> QueueSettingValues {
        QueueSettingValues {
            strategy: self.strategy.unwrap_or_else(|| "longest_idle".into()),
            skill: self.skill.filter(|s| !s.is_empty()),
            min_level: self.min_level.unwrap_or(1),
            max_len: self.max_len.unwrap_or(0),
            overflow: self
                .overflow
                .unwrap_or_else(|| json!({"action": "voicemail"})),
            announce_secs: self.announce_secs.unwrap_or(30),
            ring_secs: self.ring_secs.unwrap_or(15),
            wrap_up_secs: self.wrap_up_secs.unwrap_or(10),
            service_level_secs: self.service_level_secs.unwrap_or(20),
            calendar: self.calendar.filter(|c| !c.is_empty()),
        }
    }
}

/// Which settings to check: each `Some` is checked (a queue's change checks only what it changes).
#[derive(Debug, Clone, Default)]
pub(crate) struct QueueSettingsCheck<'a> {
    pub strategy: Option<&'a str>,
    pub skill: Option<&'a str>,
    pub min_level: Option<u8>,
    pub max_len: Option<u32>,
    pub overflow: Option<&'a Value>,
    pub announce_secs: Option<u32>,
    pub ring_secs: Option<u32>,
    pub wrap_up_secs: Option<u32>,
    pub service_level_secs: Option<u32>,
    pub calendar: Option<&'a str>,
}

impl Store {
    /// Checks queue settings of queue `own_key`, naming each bad field (`overflow.queue`); returns the
    /// overflow in its canonical form.
    pub(crate) async fn check_queue_settings(
        &self,
        own_key: &str,
        s: &QueueSettingsCheck<'_>,
        errors: &mut FieldErrors,
    ) -> Result<Option<Value>> {
        if let Some(st) = s.strategy
            && !QUEUE_STRATEGIES.contains(&st)
        {
            errors.push(
                "strategy",
                format!("one of {}", QUEUE_STRATEGIES.join(", ")),
            );
        }
        if let Some(sk) = s.skill {
            let n = sk.chars().count();
            if n > 32 || sk.chars().any(char::is_whitespace) {
                errors.push("skill", "a skill key of 1-32 characters, no spaces");
            }
        }
        if let Some(l) = s.min_level
            && !(1..=10).contains(&l)
        {
            errors.push("min_level", "must be 1-10");
        }
        if s.max_len.is_some_and(|m| m > 10_000) {
            errors.push("max_len", "0-10000 (0: unlimited)");
        }
        if s.announce_secs.is_some_and(|a| a > 3600) {
            errors.push("announce_secs", "0-3600 seconds (0: never)");
        }
        if let Some(r) = s.ring_secs
            && !(5..=120).contains(&r)
        {
            errors.push("ring_secs", "must be 5-120 seconds");
        }
        if s.wrap_up_secs.is_some_and(|w| w > 3600) {
            errors.push("wrap_up_secs", "0-3600 seconds");
        }
        if s.service_level_secs.is_some_and(|w| w > 3600) {
            errors.push("service_level_secs", "0-3600 seconds");
        }
        if let Some(c) = s.calendar
            && self.calendar_by_code(c).await?.is_none()
        {
            errors.push("calendar", format!("no calendar {c}"));
        }
        let mut overflow = None;
        if let Some(o) = s.overflow {
            let action = o.get("action").and_then(Value::as_str);
            match action {
                Some("queue") => match o.get("queue").and_then(Value::as_str) {
                    None | Some("") => errors.push("overflow.queue", "which queue to overflow to"),
                    Some(q) if q == own_key => {
                        errors.push("overflow.queue", "a queue cannot overflow into itself")
                    }
                    Some(q) => {
                        if self.get_queue_by_key(q).await?.is_none() {
                            errors.push("overflow.queue", format!("no queue {q}"));
                        } else {
                            overflow = Some(json!({"action": "queue", "queue": q}));
                        }
                    }
                },
                Some(a) if OVERFLOW_ACTIONS.contains(&a) => overflow = Some(json!({"action": a})),
                _ => errors.push(
                    "overflow.action",
                    format!("one of {}", OVERFLOW_ACTIONS.join(", ")),
                ),
            }
        }
        Ok(overflow)
    }
}

// ---- queue calls ----

/// The outcomes of a queue call.
pub const QUEUE_CALL_OUTCOMES: &[&str] = &[
    "waiting",
    "answered",
    "abandoned",
    "overflowed",
    "callback",
    "closed",
    "dropped",
];

#[derive(Debug, Clone)]
pub struct NewQueueCall {
    pub call_id: Uuid,
    pub queue: String,
    pub priority: u8,
    pub caller: String,
    pub customer_id: Option<CustomerId>,
    pub ivr_path: Vec<String>,
    pub entered_at: DateTime<Utc>,
}

/// A caller's time in a queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueCallRow {
    pub id: Uuid,
    pub call_id: Uuid,
    pub queue: String,
    pub priority: u8,
    pub caller: String,
    pub customer_id: Option<CustomerId>,
    pub ivr_path: Vec<String>,
    pub entered_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub agent_id: Option<Uuid>,
    pub outcome: String,
    pub overflow_to: Option<String>,
    pub talk_ms: i64,
    pub wrap_ms: i64,
}

fn queue_call_from(m: queue_call::Model) -> QueueCallRow {
    QueueCallRow {
        id: m.id,
        call_id: m.call_id,
        queue: m.queue,
        priority: u8::try_from(m.priority).unwrap_or(0),
        caller: m.caller,
        customer_id: m.customer_id.map(CustomerId),
        ivr_path: serde_json::from_value(m.ivr_path).unwrap_or_default(),
        entered_at: m.entered_at,
        answered_at: m.answered_at,
        ended_at: m.ended_at,
        agent_id: m.agent_id,
        outcome: m.outcome,
        overflow_to: m.overflow_to,
        talk_ms: m.talk_ms,
        wrap_ms: m.wrap_ms,
    }
}

/// At most `max` characters of `s`.
fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

// ---- recordings ----

#[derive(Debug, Clone)]
pub struct NewRecording {
    pub call_id: Uuid,
    pub queue_call_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub customer_id: Option<CustomerId>,
    pub caller: String,
    /// Relative to the recordings directory.
    pub path: String,
    pub started_at: DateTime<Utc>,
}

/// A recording of an agent's call (a WAV file under the recordings directory).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recording {
    pub id: Uuid,
    pub call_id: Uuid,
    pub queue_call_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub customer_id: Option<CustomerId>,
    pub caller: String,
    /// Relative to the recordings directory.
    pub path: String,
    pub started_at: DateTime<Utc>,
    /// `None` while the call lasts.
    pub ended_at: Option<DateTime<Utc>>,
    pub bytes: i64,
}

/// Recordings, newest first; every given filter must match.
#[derive(Debug, Clone, Copy)]
pub struct RecordingQuery {
    pub customer_id: Option<CustomerId>,
    pub call_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub page: PageRequest,
}

fn recording_from(m: recording::Model) -> Recording {
    Recording {
        id: m.id,
        call_id: m.call_id,
        queue_call_id: m.queue_call_id,
        agent_id: m.agent_id,
        customer_id: m.customer_id.map(CustomerId),
        caller: m.caller,
        path: m.path,
        started_at: m.started_at,
        ended_at: m.ended_at,
        bytes: m.bytes,
    }
}

// ---- tasks ----

/// The kinds of an agent's task.
pub const TASK_KINDS: &[&str] = &["callback", "follow_up"];

/// A callback or follow-up on an agent's schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentTask {
    pub id: Uuid,
    pub user_id: UserId,
    /// `callback` or `follow_up`.
    pub kind: String,
    pub customer_id: Option<CustomerId>,
    pub phone: Option<String>,
    pub work_order_id: Option<WorkOrderId>,
    pub note: String,
    pub due_at: DateTime<Utc>,
    pub remind_at: Option<DateTime<Utc>>,
    /// When the reminder went out ([`Store::due_task_reminders`]).
    pub reminded_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub kind: String,
    pub customer_id: Option<CustomerId>,
    /// Already in canonical form (the API parses it with the deployment's area code).
    pub phone: Option<String>,
    pub work_order_id: Option<WorkOrderId>,
    pub note: String,
    pub due_at: DateTime<Utc>,
    pub remind_at: Option<DateTime<Utc>>,
}

/// What to change; `None` leaves a field as it is, `Some(None)` clears it. `done: Some(true)` marks
/// the task done now, `Some(false)` reopens it. A new `remind_at` reminds again.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    pub kind: Option<String>,
    pub customer_id: Option<Option<CustomerId>>,
    pub phone: Option<Option<String>>,
    pub work_order_id: Option<Option<WorkOrderId>>,
    pub note: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub remind_at: Option<Option<DateTime<Utc>>>,
    pub done: Option<bool>,
}

fn task_from(m: task::Model) -> AgentTask {
    AgentTask {
        id: m.id,
        user_id: UserId(m.user_id),
        kind: m.kind,
        customer_id: m.customer_id.map(CustomerId),
        phone: m.phone,
        work_order_id: m.work_order_id.map(WorkOrderId),
        note: m.note,
        due_at: m.due_at,
        remind_at: m.remind_at,
        reminded_at: m.reminded_at,
        done_at: m.done_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn check_task_values(
    kind: Option<&str>,
    phone: Option<&str>,
    note: Option<&str>,
    errors: &mut FieldErrors,
) {
    if let Some(k) = kind
        && !TASK_KINDS.contains(&k)
    {
        errors.push("kind", format!("one of {}", TASK_KINDS.join(", ")));
    }
    if let Some(p) = phone
        && (p.is_empty() || p.len() > 32 || !p.chars().all(|c| c.is_ascii_digit() || c == '+'))
    {
        errors.push("phone", "a phone number");
    }
    if note.is_some_and(|n| n.chars().count() > 2000) {
        errors.push("note", "at most 2000 characters");
    }
}

// ---- webhooks ----

/// An integration's endpoint. The secret is never shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    /// Event types delivered; empty: all.
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    /// The HMAC-SHA256 key (8-200 characters).
    pub secret: String,
    pub active: bool,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
    pub active: Option<bool>,
}

/// A queued event for one webhook, with where and how to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub url: String,
    pub secret: String,
    pub event_type: String,
    pub body: Value,
    /// Attempts made so far.
    pub attempts: i32,
    /// When it is (or was) due; `None` once delivered or given up.
    pub next_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn webhook_from(m: &webhook::Model) -> Webhook {
    Webhook {
        id: m.id,
        url: m.url.clone(),
        events: serde_json::from_value(m.events.clone()).unwrap_or_default(),
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// An `http://` or `https://` URL with a host (and at most a numeric port).
pub fn check_webhook_url(url: &str) -> std::result::Result<(), &'static str> {
    if url.len() > 500 {
        return Err("at most 500 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("no spaces or control characters");
    }
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &url[7..]
    } else if lower.starts_with("https://") {
        &url[8..]
    } else {
        return Err("an http:// or https:// URL");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("no user name or password in the URL");
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => return Err("an http:// or https:// URL with a host"),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return Err("an http:// or https:// URL with a host");
    }
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err("a port of 1-65535");
    }
    Ok(())
}

fn check_webhook_values(
    url: Option<&str>,
    events: Option<&[String]>,
    secret: Option<&str>,
    errors: &mut FieldErrors,
) {
    if let Some(u) = url
        && let Err(reason) = check_webhook_url(u)
    {
        errors.push("url", reason);
    }
    if let Some(ev) = events {
        if ev.len() > 50 {
            errors.push("events", "at most 50 event types");
        }
        for e in ev {
            let ok = (1..=64).contains(&e.len())
                && e.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
                });
            if !ok {
                errors.push(
                    "events",
                    format!("{e:?}: an event type of a-z, 0-9, '_', '.', '-'"),
                );
            }
        }
    }
    if let Some(s) = secret
        && !(8..=200).contains(&s.chars().count())
    {
        errors.push("secret", "8-200 characters");
    }
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    v.into_iter().filter(|e| seen.insert(e.clone())).collect()
}

impl Store {
    // ---- agents ----

    async fn users_by_id(
        &self,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> Result<HashMap<Uuid, user::Model>> {
        let ids: Vec<Uuid> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect())
    }

    async fn profile(&self, m: agent::Model) -> Result<AgentProfile> {
        let u = user::Entity::find_by_id(m.user_id).one(&self.db).await?;
        Ok(profile_from(m, u.as_ref()))
    }

    /// Every agent, by username.
    pub async fn agents(&self) -> Result<Vec<AgentProfile>> {
        let rows = agent::Entity::find().all(&self.db).await?;
        let users = self.users_by_id(rows.iter().map(|a| a.user_id)).await?;
        let mut out: Vec<AgentProfile> = rows
            .into_iter()
            .map(|a| {
                let u = users.get(&a.user_id);
                profile_from(a, u)
            })
            .collect();
        out.sort_by(|a, b| a.username.cmp(&b.username).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    pub async fn agent(&self, id: Uuid) -> Result<AgentProfile> {
        let m = agent::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("agent"))?;
        self.profile(m).await
    }

    pub async fn agent_by_user(&self, user: UserId) -> Result<Option<AgentProfile>> {
        match agent::Entity::find()
            .filter(agent::Column::UserId.eq(user.0))
            .one(&self.db)
            .await?
        {
            Some(m) => Ok(Some(self.profile(m).await?)),
            None => Ok(None),
        }
    }

    async fn check_extension(&self, number: &str, errors: &mut FieldErrors) -> Result<()> {
        let found = extension::Entity::find()
            .filter(extension::Column::Number.eq(number))
            .count(&self.db)
            .await?;
        if found == 0 {
            errors.push("extension", format!("no extension {number}"));
        }
        Ok(())
    }

    /// Makes user `username` an agent (logged out). Refused, naming the field: an unknown user or
    /// one who already is an agent, an unknown extension, bad skill keys or levels (1-10).
    pub async fn create_agent(&self, actor: &Actor, new: NewAgent) -> Result<AgentProfile> {
        let mut errors = FieldErrors::new();
        let username = new.username.trim();
        let u = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?;
        match &u {
            None => errors.push("username", format!("no user {username}")),
            Some(u) => {
                let existing = agent::Entity::find()
                    .filter(agent::Column::UserId.eq(u.id))
                    .count(&self.db)
                    .await?;
                if existing > 0 {
                    errors.push("username", format!("{username} already is an agent"));
                }
            }
        }
        let extension = new
            .extension
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        if let Some(e) = extension {
            self.check_extension(e, &mut errors).await?;
        }
        check_skills(&new.skills, &mut errors);
        check_agent_numbers(new.wrap_up_secs, new.max_missed, &mut errors);
        errors.into_result().map_err(StoreError::Invalid)?;
        let u = u.expect("checked above");
        let now = Utc::now();
        let status = AgentStatus::logged_out(now);
        let tx = self.db.begin().await?;
        let row = agent::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(u.id),
            extension: Set(extension.map(str::to_string)),
            skills: Set(json!(new.skills)),
            wrap_up_secs: Set(new.wrap_up_secs.map(sat_i32)),
            max_missed: Set(sat_i32(new.max_missed.unwrap_or(DEFAULT_MAX_MISSED))),
            auto_answer: Set(new.auto_answer),
            enabled: Set(true),
            state: Set(status.state.clone()),
            reason: Set(None),
            call_id: Set(None),
            queue: Set(None),
            since: Set(now),
            until: Set(None),
            pending: Set(None),
            phone: Set(None),
            login_queues: Set(json!([])),
            missed_in_row: Set(0),
            idle_since: Set(None),
            calls_handled: Set(0),
            talk_secs: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "an agent profile for this user"))?;
        let p = profile_from(row, Some(&u));
        audit::record(
            &tx,
            actor,
            "agent.create",
            "agent",
            Some(p.id.to_string()),
            None::<&()>,
            Some(&p),
        )
        .await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Changes an agent's profile; its state stays.
    pub async fn update_agent(
        &self,
        actor: &Actor,
        id: Uuid,
        ch: AgentChanges,
    ) -> Result<AgentProfile> {
        let before = self.agent(id).await?;
        let mut errors = FieldErrors::new();
        let extension = ch
            .extension
            .map(|e| e.map(|e| e.trim().to_string()).filter(|e| !e.is_empty()));
        if let Some(Some(e)) = &extension {
            self.check_extension(e, &mut errors).await?;
        }
        if let Some(s) = &ch.skills {
            check_skills(s, &mut errors);
        }
        check_agent_numbers(ch.wrap_up_secs.flatten(), ch.max_missed, &mut errors);
        errors.into_result().map_err(StoreError::Invalid)?;
        let tx = self.db.begin().await?;
        let mut am = agent::ActiveModel {
            id: Set(id),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        if let Some(e) = extension {
            am.extension = Set(e);
        }
        if let Some(s) = ch.skills {
            am.skills = Set(json!(s));
        }
        if let Some(w) = ch.wrap_up_secs {
            am.wrap_up_secs = Set(w.map(sat_i32));
        }
        if let Some(m) = ch.max_missed {
            am.max_missed = Set(sat_i32(m));
        }
        if let Some(a) = ch.auto_answer {
            am.auto_answer = Set(a);
        }
        if let Some(e) = ch.enabled {
            am.enabled = Set(e);
        }
        let row = am.update(&tx).await?;
        let u = user::Entity::find_by_id(row.user_id).one(&tx).await?;
        let after = profile_from(row, u.as_ref());
        audit::record(
            &tx,
            actor,
            "agent.update",
            "agent",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Only the not-ready an agent asked for while busy (no state change, no log row).
    pub async fn record_agent_pending(&self, agent: Uuid, pending: Option<&str>) -> Result<()> {
        let r = agent::Entity::update_many()
            .col_expr(
                agent::Column::Pending,
                Expr::value(pending.map(|p| cut(p, 64))),
            )
            .filter(agent::Column::Id.eq(agent))
            .exec(&self.db)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::NotFound("agent"));
        }
        Ok(())
    }

    /// One transaction: writes the status columns, closes the agent's open log row (`ended_at =
    /// status.since`) and opens a new one from `status.since`. `actor`: `Some` for a supervisor's
    /// forced change (audited as `agent.state`), `None` for the ACD's own.
    pub async fn record_agent_state(
        &self,
        agent: Uuid,
        status: &AgentStatus,
        actor: Option<&Actor>,
    ) -> Result<()> {
        let at = status.since;
        let tx = self.db.begin().await?;
        // A write first: on SQLite a transaction that reads first and writes later cannot wait for
        // the write lock (SQLITE_BUSY_SNAPSHOT, "database is locked" at once); one that writes first
        // waits its turn under the busy timeout.
        state_log::Entity::update_many()
            .col_expr(state_log::Column::EndedAt, Expr::value(at))
            .filter(state_log::Column::AgentId.eq(agent))
            .filter(state_log::Column::EndedAt.is_null())
            .exec(&tx)
            .await?;
        let before = agent::Entity::find_by_id(agent)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("agent"))?;
        agent::ActiveModel {
            id: Set(agent),
            state: Set(cut(&status.state, 32)),
            reason: Set(status.reason.as_deref().map(|r| cut(r, 64))),
            call_id: Set(status.call_id),
            queue: Set(status.queue.clone()),
            since: Set(at),
            until: Set(status.until),
            pending: Set(status.pending.as_deref().map(|p| cut(p, 64))),
            phone: Set(status.phone.as_deref().map(|p| cut(p, 200))),
            login_queues: Set(json!(status.queues)),
            missed_in_row: Set(sat_i32(status.missed_in_row)),
            idle_since: Set(status.idle_since),
            calls_handled: Set(sat_i32(status.calls_handled)),
            talk_secs: Set(i64::try_from(status.talk_secs).unwrap_or(i64::MAX)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        state_log::Entity::insert(state_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            agent_id: Set(agent),
            state: Set(cut(&status.state, 32)),
            reason: Set(status.reason.as_deref().map(|r| cut(r, 64))),
            call_id: Set(status.call_id),
            queue: Set(status.queue.clone()),
            started_at: Set(at),
            ended_at: Set(None),
        })
        .exec_without_returning(&tx)
        .await?;
        if let Some(actor) = actor {
            audit::record(
                &tx,
                actor,
                "agent.state",
                "agent",
                Some(agent.to_string()),
                Some(&status_from(&before)),
                Some(status),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The states agent `agent` was in during `[from, to)` (rows overlapping it), oldest first.
    pub async fn agent_state_log(
        &self,
        agent: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AgentStateLogRow>> {
        Ok(state_log::Entity::find()
            .filter(state_log::Column::AgentId.eq(agent))
            .filter(state_log::Column::StartedAt.lt(to))
            .filter(
                Condition::any()
                    .add(state_log::Column::EndedAt.is_null())
                    .add(state_log::Column::EndedAt.gt(from)),
            )
            .order_by_asc(state_log::Column::StartedAt)
            .order_by_asc(state_log::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(log_from)
            .collect())
    }

    // ---- queue calls ----

    /// A caller entered a queue (outcome `waiting`).
    pub async fn queue_call_entered(&self, new: NewQueueCall) -> Result<Uuid> {
        let id = Uuid::now_v7();
        queue_call::Entity::insert(queue_call::ActiveModel {
            id: Set(id),
            call_id: Set(new.call_id),
            queue: Set(cut(&new.queue, 64)),
            priority: Set(i32::from(new.priority)),
            caller: Set(cut(&new.caller, 128)),
            customer_id: Set(new.customer_id.map(|c| c.0)),
            ivr_path: Set(json!(new.ivr_path)),
            entered_at: Set(new.entered_at),
            answered_at: Set(None),
            ended_at: Set(None),
            agent_id: Set(None),
            outcome: Set("waiting".into()),
            overflow_to: Set(None),
            talk_ms: Set(0),
            wrap_ms: Set(0),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(id)
    }

    async fn update_queue_call(
        &self,
        id: Uuid,
        cols: Vec<(queue_call::Column, sea_orm::sea_query::SimpleExpr)>,
    ) -> Result<()> {
        let mut u = queue_call::Entity::update_many();
        for (c, v) in cols {
            u = u.col_expr(c, v);
        }
        let r = u
            .filter(queue_call::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::NotFound("queue call"));
        }
        Ok(())
    }

    /// Agent `agent` answered the queue call (outcome `answered`).
    pub async fn queue_call_answered(
        &self,
        id: Uuid,
        agent: Uuid,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.update_queue_call(
            id,
            vec![
                (queue_call::Column::AnsweredAt, Expr::value(at)),
                (queue_call::Column::AgentId, Expr::value(agent)),
                (queue_call::Column::Outcome, Expr::value("answered")),
            ],
        )
        .await
    }

    /// The queue call ended (`outcome`: one of [`QUEUE_CALL_OUTCOMES`]).
    pub async fn queue_call_finished(
        &self,
        id: Uuid,
        outcome: &str,
        at: DateTime<Utc>,
        talk_ms: i64,
        overflow_to: Option<&str>,
    ) -> Result<()> {
        if !QUEUE_CALL_OUTCOMES.contains(&outcome) {
            return Err(invalid(
                "outcome",
                format!("one of {}", QUEUE_CALL_OUTCOMES.join(", ")),
            ));
        }
        self.update_queue_call(
            id,
            vec![
                (queue_call::Column::EndedAt, Expr::value(at)),
                (queue_call::Column::Outcome, Expr::value(outcome)),
                (
                    queue_call::Column::TalkMs,
                    Expr::value(Ord::max(talk_ms, 0)),
                ),
                (
                    queue_call::Column::OverflowTo,
                    Expr::value(overflow_to.map(|o| cut(o, 64))),
                ),
            ],
        )
        .await
    }

    /// The agent's wrap-up after the queue call took `wrap_ms`.
    pub async fn queue_call_wrapped(&self, id: Uuid, wrap_ms: i64) -> Result<()> {
        self.update_queue_call(
            id,
            vec![(
                queue_call::Column::WrapMs,
                Expr::value(Ord::max(wrap_ms, 0)),
            )],
        )
        .await
    }

    /// The caller hung up to be called back: the call keeps waiting, marked as a callback (its
    /// number is the caller's), so it survives a restart.
    pub async fn queue_call_to_callback(&self, id: Uuid) -> Result<()> {
        self.update_queue_call(
            id,
            vec![(queue_call::Column::OverflowTo, Expr::value("callback"))],
        )
        .await
    }

    /// Every queue call still waiting, oldest first (at start: callbacks to restore, callers to
    /// close as `dropped`).
    pub async fn queue_calls_waiting(&self) -> Result<Vec<QueueCallRow>> {
        Ok(queue_call::Entity::find()
            .filter(queue_call::Column::Outcome.eq("waiting"))
            .order_by_asc(queue_call::Column::EnteredAt)
            .order_by_asc(queue_call::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(queue_call_from)
            .collect())
    }

    /// Calls that entered in `[from, to)`, plus calls still waiting that entered before `to`; oldest
    /// first. `queue`: only that queue's.
    pub async fn queue_calls_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        queue: Option<&str>,
    ) -> Result<Vec<QueueCallRow>> {
        let mut sel = queue_call::Entity::find()
            .filter(queue_call::Column::EnteredAt.lt(to))
            .filter(
                Condition::any()
                    .add(queue_call::Column::EnteredAt.gte(from))
                    .add(queue_call::Column::Outcome.eq("waiting")),
            );
        if let Some(q) = queue {
            sel = sel.filter(queue_call::Column::Queue.eq(q));
        }
        Ok(sel
            .order_by_asc(queue_call::Column::EnteredAt)
            .order_by_asc(queue_call::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(queue_call_from)
            .collect())
    }

    /// A customer's queue calls, newest first.
    pub async fn queue_calls_of_customer(
        &self,
        customer: CustomerId,
        limit: u64,
    ) -> Result<Vec<QueueCallRow>> {
        Ok(queue_call::Entity::find()
            .filter(queue_call::Column::CustomerId.eq(customer.0))
            .order_by_desc(queue_call::Column::EnteredAt)
            .order_by_desc(queue_call::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(queue_call_from)
            .collect())
    }

    // ---- recordings ----

    /// A recording started (system data: not audited).
    pub async fn add_recording(&self, new: NewRecording) -> Result<Uuid> {
        let id = Uuid::now_v7();
        recording::Entity::insert(recording::ActiveModel {
            id: Set(id),
            call_id: Set(new.call_id),
            queue_call_id: Set(new.queue_call_id),
            agent_id: Set(new.agent_id),
            customer_id: Set(new.customer_id.map(|c| c.0)),
            caller: Set(cut(&new.caller, 128)),
            path: Set(new.path),
            started_at: Set(new.started_at),
            ended_at: Set(None),
            bytes: Set(0),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(id)
    }

    pub async fn finish_recording(
        &self,
        id: Uuid,
        ended_at: DateTime<Utc>,
        bytes: i64,
    ) -> Result<()> {
        let r = recording::Entity::update_many()
            .col_expr(recording::Column::EndedAt, Expr::value(ended_at))
            .col_expr(recording::Column::Bytes, Expr::value(Ord::max(bytes, 0)))
            .filter(recording::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::NotFound("recording"));
        }
        Ok(())
    }

    /// Recordings, newest first.
    pub async fn recordings(&self, q: RecordingQuery) -> Result<Page<Recording>> {
        let mut cond = Condition::all();
        if let Some(c) = q.customer_id {
            cond = cond.add(recording::Column::CustomerId.eq(c.0));
        }
        if let Some(c) = q.call_id {
            cond = cond.add(recording::Column::CallId.eq(c));
        }
        if let Some(a) = q.agent_id {
            cond = cond.add(recording::Column::AgentId.eq(a));
        }
        let sel = recording::Entity::find().filter(cond);
        let total = sel.clone().count(&self.db).await?;
        let items = sel
            .order_by_desc(recording::Column::StartedAt)
            .order_by_desc(recording::Column::Id)
            .offset(q.page.offset())
            .limit(q.page.per_page)
            .all(&self.db)
            .await?
            .into_iter()
            .map(recording_from)
            .collect();
        Ok(Page {
            items,
            total,
            page: Ord::max(q.page.page, 1),
            per_page: q.page.per_page,
        })
    }

    pub async fn recording(&self, id: Uuid) -> Result<Recording> {
        recording::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(recording_from)
            .ok_or(StoreError::NotFound("recording"))
    }

    /// Someone listened to recording `id` (audit action `recording.play`).
    pub async fn audit_recording_played(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let r = self.recording(id).await?;
        let tx = self.db.begin().await?;
        audit::record(
            &tx,
            actor,
            "recording.play",
            "call_recording",
            Some(id.to_string()),
            None::<&()>,
            Some(&json!({"call_id": r.call_id, "agent_id": r.agent_id,
                "customer_id": r.customer_id, "caller": r.caller})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- tasks ----

    /// User `user`'s tasks by due time (open ones only unless `include_done`).
    pub async fn tasks_of(&self, user: UserId, include_done: bool) -> Result<Vec<AgentTask>> {
        let mut sel = task::Entity::find().filter(task::Column::UserId.eq(user.0));
        if !include_done {
            sel = sel.filter(task::Column::DoneAt.is_null());
        }
        Ok(sel
            .order_by_asc(task::Column::DueAt)
            .order_by_asc(task::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(task_from)
            .collect())
    }

    async fn check_task_refs(
        &self,
        customer: Option<CustomerId>,
        order: Option<WorkOrderId>,
        errors: &mut FieldErrors,
    ) -> Result<()> {
        if let Some(c) = customer
            && customer::Entity::find_by_id(c.0)
                .one(&self.db)
                .await?
                .is_none()
        {
            errors.push("customer_id", "no such customer");
        }
        if let Some(o) = order
            && work_order::Entity::find_by_id(o.0)
                .one(&self.db)
                .await?
                .is_none()
        {
            errors.push("work_order_id", "no such work order");
        }
        Ok(())
    }

    /// A task on the actor's own schedule (the actor must be a user).
    pub async fn create_task(&self, actor: &Actor, new: NewTask) -> Result<AgentTask> {
        let user = actor
            .user_id
            .ok_or_else(|| StoreError::Forbidden("tasks belong to a user".into()))?;
        let mut errors = FieldErrors::new();
        let phone = new
            .phone
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        let note = new.note.trim().to_string();
        check_task_values(Some(&new.kind), phone.as_deref(), Some(&note), &mut errors);
        if new.kind == "callback" && phone.is_none() && new.customer_id.is_none() {
            errors.push("phone", "a callback needs a phone number or a customer");
        }
        self.check_task_refs(new.customer_id, new.work_order_id, &mut errors)
            .await?;
        errors.into_result().map_err(StoreError::Invalid)?;
        let now = Utc::now();
        let tx = self.db.begin().await?;
        let row = task::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.0),
            kind: Set(new.kind),
            customer_id: Set(new.customer_id.map(|c| c.0)),
            phone: Set(phone),
            work_order_id: Set(new.work_order_id.map(|w| w.0)),
            note: Set(note),
            due_at: Set(new.due_at),
            remind_at: Set(new.remind_at),
            reminded_at: Set(None),
            done_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await?;
        let t = task_from(row);
        audit::record(
            &tx,
            actor,
            "agent_task.create",
            "agent_task",
            Some(t.id.to_string()),
            None::<&()>,
            Some(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Changes one of the actor's own tasks; another user's task is `NotFound`.
    pub async fn update_task(&self, actor: &Actor, id: Uuid, ch: TaskChanges) -> Result<AgentTask> {
        let user = actor.user_id.ok_or(StoreError::NotFound("task"))?;
        let before = task::Entity::find_by_id(id)
            .filter(task::Column::UserId.eq(user.0))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("task"))?;
        let mut errors = FieldErrors::new();
        let phone = ch
            .phone
            .map(|p| p.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()));
        let note = ch.note.map(|n| n.trim().to_string());
        check_task_values(
            ch.kind.as_deref(),
            phone.clone().flatten().as_deref(),
            note.as_deref(),
            &mut errors,
        );
        self.check_task_refs(
            ch.customer_id.flatten(),
            ch.work_order_id.flatten(),
            &mut errors,
        )
        .await?;
        let kind = ch.kind.clone().unwrap_or_else(|| before.kind.clone());
        let has_phone = match &phone {
            Some(p) => p.is_some(),
            None => before.phone.is_some(),
        };
        let has_customer = match ch.customer_id {
            Some(c) => c.is_some(),
            None => before.customer_id.is_some(),
        };
        if kind == "callback" && !has_phone && !has_customer {
            errors.push("phone", "a callback needs a phone number or a customer");
        }
        errors.into_result().map_err(StoreError::Invalid)?;
        let now = Utc::now();
        let tx = self.db.begin().await?;
        let mut am = task::ActiveModel {
            id: Set(id),
            updated_at: Set(now),
            ..Default::default()
        };
        if let Some(k) = ch.kind {
            am.kind = Set(k);
        }
        if let Some(c) = ch.customer_id {
            am.customer_id = Set(c.map(|c| c.0));
        }
        if let Some(p) = phone {
            am.phone = Set(p);
        }
        if let Some(w) = ch.work_order_id {
            am.work_order_id = Set(w.map(|w| w.0));
        }
        if let Some(n) = note {
            am.note = Set(n);
        }
        if let Some(d) = ch.due_at {
            am.due_at = Set(d);
        }
        if let Some(r) = ch.remind_at
            && r != before.remind_at
        {
            am.remind_at = Set(r);
            am.reminded_at = Set(None);
        }
        match ch.done {
            Some(true) if before.done_at.is_none() => am.done_at = Set(Some(now)),
            Some(false) => am.done_at = Set(None),
            _ => {}
        }
        let after = task_from(am.update(&tx).await?);
        audit::record(
            &tx,
            actor,
            "agent_task.update",
            "agent_task",
            Some(id.to_string()),
            Some(&task_from(before)),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Open tasks whose reminder is due (`remind_at <= now`) and was not sent yet; each is marked
    /// reminded (`reminded_at = now`) in the same transaction, so a reminder goes out once.
    pub async fn due_task_reminders(&self, now: DateTime<Utc>) -> Result<Vec<AgentTask>> {
        // It reads, then writes: on SQLite the write lock is taken at the start (IMMEDIATE), else a
        // write committed in between fails the transaction at once (SQLITE_BUSY_SNAPSHOT).
        let tx = self
            .db
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        let due: Vec<task::Model> = task::Entity::find()
            .filter(task::Column::RemindedAt.is_null())
            .filter(task::Column::RemindAt.lte(now))
            .filter(task::Column::DoneAt.is_null())
            .order_by_asc(task::Column::RemindAt)
            .limit(500)
            .all(&tx)
            .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        task::Entity::update_many()
            .col_expr(task::Column::RemindedAt, Expr::value(now))
            .filter(task::Column::Id.is_in(due.iter().map(|t| t.id)))
            .filter(task::Column::RemindedAt.is_null())
            .exec(&tx)
            .await?;
        tx.commit().await?;
        Ok(due
            .into_iter()
            .map(|mut t| {
                t.reminded_at = Some(now);
                task_from(t)
            })
            .collect())
    }

    // ---- webhooks ----

    /// Every webhook, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>> {
        Ok(webhook::Entity::find()
            .order_by_asc(webhook::Column::CreatedAt)
            .order_by_asc(webhook::Column::Id)
            .all(&self.db)
            .await?
            .iter()
            .map(webhook_from)
            .collect())
    }

    pub async fn webhook(&self, id: Uuid) -> Result<Webhook> {
        webhook::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .as_ref()
            .map(webhook_from)
            .ok_or(StoreError::NotFound("webhook"))
    }

    pub async fn create_webhook(&self, actor: &Actor, new: NewWebhook) -> Result<Webhook> {
        let url = new.url.trim().to_string();
        let events = dedup(
            new.events
                .into_iter()
                .map(|e| e.trim().to_string())
                .collect(),
        );
        let mut errors = FieldErrors::new();
        check_webhook_values(Some(&url), Some(&events), Some(&new.secret), &mut errors);
        errors.into_result().map_err(StoreError::Invalid)?;
        let now = Utc::now();
        let tx = self.db.begin().await?;
        let row = webhook::ActiveModel {
            id: Set(Uuid::now_v7()),
            url: Set(url),
            events: Set(json!(events)),
            secret: Set(new.secret),
            active: Set(new.active),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await?;
        let w = webhook_from(&row);
        audit::record(
            &tx,
            actor,
            "webhook.create",
            "webhook",
            Some(w.id.to_string()),
            None::<&()>,
            Some(&w),
        )
        .await?;
        tx.commit().await?;
        Ok(w)
    }

    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: Uuid,
        ch: WebhookChanges,
    ) -> Result<Webhook> {
        let before = self.webhook(id).await?;
        let url = ch.url.map(|u| u.trim().to_string());
        let events = ch
            .events
            .map(|e| dedup(e.into_iter().map(|e| e.trim().to_string()).collect()));
        let mut errors = FieldErrors::new();
        check_webhook_values(
            url.as_deref(),
            events.as_deref(),
            ch.secret.as_deref(),
            &mut errors,
        );
        errors.into_result().map_err(StoreError::Invalid)?;
        let tx = self.db.begin().await?;
        let mut am = webhook::ActiveModel {
            id: Set(id),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        if let Some(u) = url {
            am.url = Set(u);
        }
        if let Some(e) = events {
            am.events = Set(json!(e));
        }
        let secret_changed = ch.secret.is_some();
        if let Some(s) = ch.secret {
            am.secret = Set(s);
        }
        if let Some(a) = ch.active {
            am.active = Set(a);
        }
        let after = webhook_from(&am.update(&tx).await?);
        audit::record(
            &tx,
            actor,
            "webhook.update",
            "webhook",
            Some(id.to_string()),
            Some(&before),
            Some(&json!({"webhook": &after, "secret_changed": secret_changed})),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a webhook and its deliveries (pending ones are dropped).
    pub async fn delete_webhook(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let before = self.webhook(id).await?;
        let tx = self.db.begin().await?;
        delivery::Entity::delete_many()
            .filter(delivery::Column::WebhookId.eq(id))
            .exec(&tx)
            .await?;
        webhook::Entity::delete_by_id(id).exec(&tx).await?;
        audit::record(
            &tx,
            actor,
            "webhook.delete",
            "webhook",
            Some(id.to_string()),
            Some(&before),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues one delivery per active webhook whose `events` include `event_type` (or is empty),
    /// due at once. Returns how many were queued.
    pub async fn enqueue_webhook_event(&self, event_type: &str, body: &Value) -> Result<usize> {
        let hooks = webhook::Entity::find()
            .filter(webhook::Column::Active.eq(true))
            .all(&self.db)
            .await?;
        let now = Utc::now();
        let rows: Vec<delivery::ActiveModel> = hooks
            .iter()
            .filter(|h| {
                let events: Vec<String> =
                    serde_json::from_value(h.events.clone()).unwrap_or_default();
                events.is_empty() || events.iter().any(|e| e == event_type)
            })
            .map(|h| delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                webhook_id: Set(h.id),
                event_type: Set(cut(event_type, 64)),
                body: Set(body.clone()),
                attempts: Set(0),
                next_at: Set(Some(now)),
                delivered_at: Set(None),
                last_error: Set(None),
                created_at: Set(now),
            })
            .collect();
        let n = rows.len();
        if n > 0 {
            delivery::Entity::insert_many(rows)
                .exec_without_returning(&self.db)
                .await?;
        }
        Ok(n)
    }

    /// Deliveries due at `now` (not delivered, not given up, of active webhooks), oldest due first.
    pub async fn due_webhook_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<WebhookDelivery>> {
        let hooks: HashMap<Uuid, webhook::Model> = webhook::Entity::find()
            .filter(webhook::Column::Active.eq(true))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        if hooks.is_empty() {
            return Ok(Vec::new());
        }
        let rows = delivery::Entity::find()
            .filter(delivery::Column::DeliveredAt.is_null())
            .filter(delivery::Column::NextAt.lte(now))
            .filter(delivery::Column::WebhookId.is_in(hooks.keys().copied()))
            .order_by_asc(delivery::Column::NextAt)
            .order_by_asc(delivery::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|d| {
                let h = hooks.get(&d.webhook_id)?;
                Some(WebhookDelivery {
                    id: d.id,
                    webhook_id: d.webhook_id,
                    url: h.url.clone(),
                    secret: h.secret.clone(),
                    event_type: d.event_type,
                    body: d.body,
                    attempts: d.attempts,
                    next_at: d.next_at,
                    delivered_at: d.delivered_at,
                    last_error: d.last_error,
                    created_at: d.created_at,
                })
            })
            .collect())
    }

    pub async fn webhook_delivered(&self, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        let r = delivery::Entity::update_many()
            .col_expr(delivery::Column::DeliveredAt, Expr::value(at))
            .col_expr(
                delivery::Column::Attempts,
                Expr::col(delivery::Column::Attempts).add(1),
            )
            .col_expr(delivery::Column::NextAt, Expr::value(None::<DateTime<Utc>>))
            .filter(delivery::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::NotFound("webhook delivery"));
        }
        Ok(())
    }

    /// An attempt failed: counts it, keeps the error and retries at `retry_at` (`None`: gives up).
    pub async fn webhook_failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let r = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Attempts,
                Expr::col(delivery::Column::Attempts).add(1),
            )
            .col_expr(delivery::Column::LastError, Expr::value(cut(error, 1000)))
            .col_expr(delivery::Column::NextAt, Expr::value(retry_at))
            .filter(delivery::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::NotFound("webhook delivery"));
        }
        Ok(())
    }

    /// Every delivery of webhook `id`, oldest first (for tests and the admin's view).
    pub async fn webhook_deliveries_of(&self, id: Uuid) -> Result<Vec<WebhookDelivery>> {
        let h = webhook::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("webhook"))?;
        Ok(delivery::Entity::find()
            .filter(delivery::Column::WebhookId.eq(id))
            .order_by_asc(delivery::Column::CreatedAt)
            .order_by_asc(delivery::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| WebhookDelivery {
                id: d.id,
                webhook_id: d.webhook_id,
                url: h.url.clone(),
                secret: h.secret.clone(),
                event_type: d.event_type,
                body: d.body,
                attempts: d.attempts,
                next_at: d.next_at,
                delivered_at: d.delivered_at,
                last_error: d.last_error,
                created_at: d.created_at,
            })
            .collect())
    }
}
