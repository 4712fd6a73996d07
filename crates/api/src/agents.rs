//! Agents and the ACD over HTTP: profiles, the agent's own state and calls (the desktop's softphone
//! bar), supervisors' forced states and listening, the wallboard and queue reports, and the CTI
//! WebSocket. The ACD itself runs in the binary and is plugged in as an [`AcdControl`].
//!
//! Refusals: a state change not allowed now is 409 naming `state`; a call that is not the agent's is
//! 403, an unknown one 404; an unknown transfer target 422 naming `to.target`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use kefu_store::{Actor, AgentChanges, NewAgent};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Json, Path, Query};
use crate::{AppState, double_option};

/// One CTI event: for one agent (`agent`), or for every supervisor (`None`: the wallboard).
#[derive(Debug, Clone)]
pub struct CtiEvent {
    pub seq: u64,
    pub agent: Option<Uuid>,
    pub kind: String,
    pub body: Value,
}

/// Where a call is transferred or who joins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTo {
    Agent(Uuid),
    Queue(String),
    /// A remote site by its unit code: its phones.
    Site(String),
    Extension(String),
    External(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallCommand {
    Answer,
    Hold,
    Resume,
    Mute,
    Unmute,
    Hangup,
    Dtmf(String),
    Recording { paused: bool },
    Transfer { to: TransferTo, consult: bool },
    TransferComplete,
    TransferCancel,
    Conference(TransferTo),
}

/// Why the ACD refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdError {
    NotFound(String),
    Forbidden(String),
    Conflict { field: String, reason: String },
    Invalid { field: String, reason: String },
    Unavailable(String),
}

impl From<AcdError> for ApiError {
    fn from(e: AcdError) -> ApiError {
        match e {
            AcdError::NotFound(what) => ApiError::not_found(&what),
            AcdError::Forbidden(why) => ApiError::forbidden(why),
            AcdError::Conflict { field, reason } => {
                ApiError::conflict(format!("{field}: {reason}")).with_field(&field, reason)
            }
            AcdError::Invalid { field, reason } => ApiError::field(&field, reason),
            AcdError::Unavailable(why) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", why)
            }
        }
    }
}

/// The running ACD, as the API sees it. Views are JSON objects (documented on each route).
#[async_trait::async_trait]
pub trait AcdControl: Send + Sync {
    /// Agents or queues changed in the store.
    async fn reload(&self);
    /// An agent's live state.
    fn agent_state(&self, agent: Uuid) -> Option<Value>;
    /// Queues and agents now.
    fn wallboard(&self) -> Value;
    /// The agent's calls now (ringing, talking, held …).
    fn calls_of(&self, agent: Uuid) -> Vec<Value>;
    async fn login(
        &self,
        agent: Uuid,
        phone: Option<String>,
        queues: Option<Vec<String>>,
        ready: bool,
    ) -> Result<Value, AcdError>;
    async fn logout(&self, agent: Uuid) -> Result<Value, AcdError>;
    /// Ready, or not ready with a reason.
    async fn set_state(
        &self,
        agent: Uuid,
        ready: bool,
        reason: Option<String>,
    ) -> Result<Value, AcdError>;
    /// A supervisor's forced state: `ready`, `not_ready` or `logged_out`.
    async fn force_state(&self, agent: Uuid, state: &str, actor: &Actor)
    -> Result<Value, AcdError>;
    /// A command on one of the agent's calls.
    async fn command(&self, agent: Uuid, call: Uuid, cmd: CallCommand) -> Result<Value, AcdError>;
    /// A supervisor joins a call from `phone`: `listen`, `whisper` or `barge`.
    async fn supervise(&self, phone: &str, call: Uuid, mode: &str) -> Result<Value, AcdError>;
    /// The agent's own events, from the next one published (each agent has its own channel).
    fn subscribe_agent(&self, agent: Uuid) -> broadcast::Receiver<Arc<CtiEvent>>;
    /// The wallboard feed (events with no agent).
    fn subscribe_wallboard(&self) -> broadcast::Receiver<Arc<CtiEvent>>;
    /// The number of the last event published for `agent` (the socket's starting point).
    fn last_seq(&self, agent: Uuid) -> u64;
}

fn acd(app: &AppState) -> ApiResult<Arc<dyn AcdControl>> {
    app.acd().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the ACD is not running: this kefu serves no SIP",
        )
    })
}

// ---- profiles ----

/// An agent: profile and live state.
#[derive(Serialize, ToSchema)]
pub struct AgentView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub extension: Option<String>,
    pub skills: BTreeMap<String, u8>,
    pub wrap_up_secs: Option<u32>,
    pub max_missed: u32,
    pub auto_answer: bool,
    pub enabled: bool,
    /// `{state, reason, call_id, queue, since, until, pending, phone, queues, calls_handled,
    /// talk_secs}`; the persisted state when the ACD is not running.
    #[schema(value_type = Object)]
    pub state: Value,
}

fn view(app: &AppState, p: kefu_store::AgentProfile) -> AgentView {
    let live = app.acd().and_then(|a| a.agent_state(p.id));
    let state = live.unwrap_or_else(|| serde_json::to_value(&p.status).unwrap_or(Value::Null));
    AgentView {
        id: p.id,
        user_id: p.user_id.0,
        username: p.username,
        display_name: p.display_name,
        extension: p.extension,
        skills: p.skills,
        wrap_up_secs: p.wrap_up_secs,
        max_missed: p.max_missed,
        auto_answer: p.auto_answer,
        enabled: p.enabled,
        state,
    }
}

/// Every agent with its live state (for the roster, transfers and the wallboard).
#[utoipa::path(get, path = "/api/v1/agents", tag = "acd", responses((status = 200, body = [AgentView])))]
pub async fn list(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<AgentView>>> {
    let agents = app.store.agents().await?;
    Ok(axum::Json(
        agents.into_iter().map(|p| view(&app, p)).collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgentBody {
    /// The user who works as this agent.
    pub username: String,
    pub extension: Option<String>,
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    pub wrap_up_secs: Option<u32>,
    pub max_missed: Option<u32>,
    #[serde(default)]
    pub auto_answer: bool,
}

/// Makes a user an agent (admin).
#[utoipa::path(post, path = "/api/v1/agents", tag = "acd", request_body = NewAgentBody, responses((status = 201, body = AgentView), (status = 422, body = crate::problem::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Json(body): Json<NewAgentBody>,
) -> ApiResult<(StatusCode, axum::Json<AgentView>)> {
    let p = app
        .store
        .create_agent(
            &caller.actor,
            NewAgent {
                username: body.username,
                extension: body.extension,
                skills: body.skills,
                wrap_up_secs: body.wrap_up_secs,
                max_missed: body.max_missed,
                auto_answer: body.auto_answer,
            },
        )
        .await?;
    if let Some(a) = app.acd() {
        a.reload().await;
    }
    Ok((StatusCode::CREATED, axum::Json(view(&app, p))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentChangesBody {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub extension: Option<Option<String>>,
    pub skills: Option<BTreeMap<String, u8>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>)]
    pub wrap_up_secs: Option<Option<u32>>,
    pub max_missed: Option<u32>,
    pub auto_answer: Option<bool>,
    pub enabled: Option<bool>,
}

/// Changes an agent's profile (admin). Its state stays.
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "acd", request_body = AgentChangesBody, responses((status = 200, body = AgentView), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<AgentChangesBody>,
) -> ApiResult<axum::Json<AgentView>> {
    let p = app
        .store
        .update_agent(
            &caller.actor,
            id,
            AgentChanges {
                extension: body.extension,
                skills: body.skills,
                wrap_up_secs: body.wrap_up_secs,
                max_missed: body.max_missed,
                auto_answer: body.auto_answer,
                enabled: body.enabled,
            },
        )
        .await?;
    if let Some(a) = app.acd() {
        a.reload().await;
    }
    Ok(axum::Json(view(&app, p)))
}

async fn me(app: &AppState, caller: &Caller) -> ApiResult<kefu_store::AgentProfile> {
    app.store
        .agent_by_user(caller.principal.user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent profile of the signed-in user"))
}

/// The signed-in user's agent profile and live state; 404 for a user who is no agent.
#[utoipa::path(get, path = "/api/v1/agents/me", tag = "acd", responses((status = 200, body = AgentView), (status = 404, body = crate::problem::Problem)))]
pub async fn get_me(
    State(app): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<AgentView>> {
    let p = me(&app, &caller).await?;
    Ok(axum::Json(view(&app, p)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// Where calls ring: the agent's extension by default, another extension, `site:<extension>`
    /// (a remote site's phone) or `external:<number>`.
    pub phone: Option<String>,
    /// Queue keys; all the agent may serve when absent.
    pub queues: Option<Vec<String>>,
    /// Ready at once (else not ready, reason `login`).
    #[serde(default)]
    pub ready: bool,
}

/// Logs the signed-in agent in to queues.
#[utoipa::path(post, path = "/api/v1/agents/me/login", tag = "acd", request_body = LoginBody, responses((status = 200, description = "the new state"), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn login(
    State(app): State<AppState>,
    caller: Caller,
    Json(body): Json<LoginBody>,
) -> ApiResult<axum::Json<Value>> {
    let p = me(&app, &caller).await?;
    let phone = body.phone.filter(|s| !s.trim().is_empty());
    Ok(axum::Json(
        acd(&app)?
            .login(p.id, phone, body.queues, body.ready)
            .await?,
    ))
}

/// Logs the signed-in agent out (not while a call rings or is in progress: 409).
#[utoipa::path(post, path = "/api/v1/agents/me/logout", tag = "acd", responses((status = 200, description = "the new state"), (status = 409, body = crate::problem::Problem)))]
pub async fn logout(State(app): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    let p = me(&app, &caller).await?;
    Ok(axum::Json(acd(&app)?.logout(p.id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    /// `ready` or `not_ready` (agents); supervisors may also force `logged_out`.
    pub state: String,
    /// For `not_ready`: a code of `GET /acd/reasons`.
    pub reason: Option<String>,
}

/// The signed-in agent goes ready or not ready. Not ready while a call rings, is talked or wrapped
/// up is kept and applied after the wrap-up (the answer's `pending`).
#[utoipa::path(post, path = "/api/v1/agents/me/state", tag = "acd", request_body = StateBody, responses((status = 200, description = "the new state"), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn set_state(
    State(app): State<AppState>,
    caller: Caller,
    Json(body): Json<StateBody>,
) -> ApiResult<axum::Json<Value>> {
    let p = me(&app, &caller).await?;
    let ready = match body.state.as_str() {
        "ready" => true,
        "not_ready" => false,
        _ => {
            return Err(ApiError::field("state", "must be ready or not_ready"));
        }
    };
    let reason = if ready {
        None
    } else {
        Some(body.reason.unwrap_or_else(|| "other".into()))
    };
    Ok(axum::Json(acd(&app)?.set_state(p.id, ready, reason).await?))
}

/// A supervisor forces an agent's state (`ready`, `not_ready`, `logged_out`); refused (409) while
/// the agent's phone rings or it talks.
#[utoipa::path(post, path = "/api/v1/agents/{id}/state", tag = "acd", request_body = StateBody, responses((status = 200, description = "the new state"), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn force_state(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<StateBody>,
) -> ApiResult<axum::Json<Value>> {
    if !matches!(body.state.as_str(), "ready" | "not_ready" | "logged_out") {
        return Err(ApiError::field(
            "state",
            "must be ready, not_ready or logged_out",
        ));
    }
    app.store.agent(id).await?;
    Ok(axum::Json(
        acd(&app)?
            .force_state(id, &body.state, &caller.actor)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct IntervalParams {
    /// From (inclusive); default: 24 hours before `to`.
    pub from: Option<DateTime<Utc>>,
    /// To (exclusive); default: now.
    pub to: Option<DateTime<Utc>>,
    /// Service-level threshold in seconds (default 20).
    pub threshold: Option<u32>,
}

fn interval(p: &IntervalParams) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let to = p.to.unwrap_or_else(Utc::now);
    let from = p.from.unwrap_or(to - chrono::TimeDelta::hours(24));
    if from >= to {
        return Err(ApiError::field("from", "must be before to"));
    }
    if to - from > chrono::TimeDelta::days(366) {
        return Err(ApiError::field("from", "the interval is at most 366 days"));
    }
    Ok((from, to))
}

/// An agent's state changes over an interval, and the time in each state.
#[utoipa::path(get, path = "/api/v1/agents/{id}/state-log", tag = "acd", params(IntervalParams), responses((status = 200, description = "{log:[…], seconds:{state:secs}}"), (status = 404, body = crate::problem::Problem)))]
pub async fn state_log(
    State(app): State<AppState>,
    Path(id): Path<Uuid>,
    Query(p): Query<IntervalParams>,
) -> ApiResult<axum::Json<Value>> {
    let (from, to) = interval(&p)?;
    app.store.agent(id).await?;
    let log = app.store.agent_state_log(id, from, to).await?;
    let spans: Vec<kefu_acd::metrics::StateSpan> = log
        .iter()
        .map(|r| (r.state.clone(), r.started_at, r.ended_at))
        .collect();
    let seconds = kefu_acd::metrics::time_in_states(&spans, from, to);
    let rows: Vec<Value> = log
        .into_iter()
        .map(|r| {
            json!({"state": r.state, "reason": r.reason, "call_id": r.call_id, "queue": r.queue,
                   "started_at": r.started_at, "ended_at": r.ended_at})
        })
        .collect();
    Ok(axum::Json(json!({"log": rows, "seconds": seconds})))
}

/// Not-ready reason codes with their labels; `choosable` marks those an agent may pick.
#[utoipa::path(get, path = "/api/v1/acd/reasons", tag = "acd", responses((status = 200, description = "[{code, zh, en, choosable}]")))]
pub async fn reasons() -> axum::Json<Value> {
    axum::Json(Value::Array(
        kefu_acd::REASONS
            .iter()
            .map(|(c, zh, en)| {
                json!({"code": c, "zh": zh, "en": en, "choosable": kefu_acd::agent::choosable_reason(c)})
            })
            .collect(),
    ))
}

// ---- calls ----

/// The signed-in agent's calls now: `[{id, caller, customer, queue, ivr_path, state, muted,
/// recording, started_at, answered_at, legs}]`.
#[utoipa::path(get, path = "/api/v1/agents/me/calls", tag = "acd", responses((status = 200, description = "the agent's calls")))]
pub async fn my_calls(State(app): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    let p = me(&app, &caller).await?;
    Ok(axum::Json(Value::Array(acd(&app)?.calls_of(p.id))))
}

#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    /// `agent` (an agent id), `queue` (a key), `site` (a unit code), `extension`, `external` (a
    /// number dialled through the trunk).
    pub kind: String,
    pub target: String,
}

fn target(t: &TargetBody) -> ApiResult<TransferTo> {
    let s = t.target.trim();
    if s.is_empty() || s.len() > 64 {
        return Err(ApiError::field("to.target", "1-64 characters"));
    }
    Ok(match t.kind.as_str() {
        "agent" => TransferTo::Agent(
            s.parse()
                .map_err(|_| ApiError::field("to.target", "an agent id (UUID)"))?,
        ),
        "queue" => TransferTo::Queue(s.to_string()),
        "site" => TransferTo::Site(s.to_string()),
        "extension" => TransferTo::Extension(s.to_string()),
        "external" => {
            if !s.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
                return Err(ApiError::field("to.target", "digits only"));
            }
            TransferTo::External(s.to_string())
        }
        _ => {
            return Err(ApiError::field(
                "to.kind",
                "must be agent, queue, site, extension or external",
            ));
        }
    })
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CommandBody {
    /// transfer, conference: where.
    pub to: Option<TargetBody>,
    /// transfer: `blind` (default) or `consult`.
    pub mode: Option<String>,
    /// dtmf: the keys (0-9 * # A-D).
    pub digits: Option<String>,
    /// recording: pause (true) or resume (false).
    pub paused: Option<bool>,
}

/// A command on one of the signed-in agent's calls: `answer`, `hold`, `resume`, `mute`, `unmute`,
/// `hangup`, `dtmf` (`digits`), `recording` (`paused`), `transfer` (`to`, `mode`),
/// `transfer-complete`, `transfer-cancel`, `conference` (`to`).
#[utoipa::path(post, path = "/api/v1/agent-calls/{id}/{action}", tag = "acd", request_body = CommandBody, responses((status = 200, description = "the call now"), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn command(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(Uuid, String)>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<Value>> {
    // The body is optional (`{}` or nothing for most actions).
    let body: CommandBody = if body.iter().all(u8::is_ascii_whitespace) {
        CommandBody::default()
    } else {
        crate::problem::parse_json(&body)?
    };
    let to = || -> ApiResult<TransferTo> {
        target(
            body.to
                .as_ref()
                .ok_or_else(|| ApiError::field("to", "required"))?,
        )
    };
    let cmd = match action.as_str() {
        "answer" => CallCommand::Answer,
        "hold" => CallCommand::Hold,
        "resume" => CallCommand::Resume,
        "mute" => CallCommand::Mute,
        "unmute" => CallCommand::Unmute,
        "hangup" => CallCommand::Hangup,
        "dtmf" => {
            let d = body.digits.clone().unwrap_or_default();
            if d.is_empty()
                || d.len() > 32
                || !d
                    .chars()
                    .all(|c| c.is_ascii_digit() || "*#ABCD".contains(c))
            {
                return Err(ApiError::field("digits", "1-32 of 0-9 * # A-D"));
            }
            CallCommand::Dtmf(d)
        }
        "recording" => CallCommand::Recording {
            paused: body
                .paused
                .ok_or_else(|| ApiError::field("paused", "required"))?,
        },
        "transfer" => CallCommand::Transfer {
            to: to()?,
            consult: match body.mode.as_deref() {
                None | Some("blind") => false,
                Some("consult") => true,
                Some(_) => return Err(ApiError::field("mode", "must be blind or consult")),
            },
        },
        "transfer-complete" => CallCommand::TransferComplete,
        "transfer-cancel" => CallCommand::TransferCancel,
        "conference" => CallCommand::Conference(to()?),
        _ => return Err(ApiError::not_found("call action")),
    };
    let p = me(&app, &caller).await?;
    Ok(axum::Json(acd(&app)?.command(p.id, id, cmd).await?))
}

async fn supervise(app: AppState, caller: Caller, call: Uuid, mode: &str) -> ApiResult<Value> {
    // The supervisor's phone: its agent profile's extension, else an extension it owns.
    let phone = match app.store.agent_by_user(caller.principal.user.id).await? {
        Some(p) => p.extension,
        None => None,
    };
    let phone = match phone {
        Some(p) => p,
        None => app
            .store
            .extensions()
            .await?
            .into_iter()
            .find(|e| e.owner == kefu_store::ExtensionOwner::User(caller.principal.user.id))
            .map(|e| e.number)
            .ok_or_else(|| {
                ApiError::conflict("the supervisor has no phone (extension) to listen with")
            })?,
    };
    Ok(acd(&app)?.supervise(&phone, call, mode).await?)
}

/// A supervisor listens to an agent's call from its own phone (nobody hears the supervisor).
#[utoipa::path(post, path = "/api/v1/agent-calls/{id}/listen", tag = "acd", responses((status = 200, description = "joined"), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn listen(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(supervise(app, caller, id, "listen").await?))
}

/// A supervisor whispers to the agent (the caller does not hear it).
#[utoipa::path(post, path = "/api/v1/agent-calls/{id}/whisper", tag = "acd", responses((status = 200, description = "joined"), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn whisper(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(supervise(app, caller, id, "whisper").await?))
}

/// A supervisor barges in (everybody hears everybody).
#[utoipa::path(post, path = "/api/v1/agent-calls/{id}/barge", tag = "acd", responses((status = 200, description = "joined"), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn barge(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(supervise(app, caller, id, "barge").await?))
}

// ---- wallboard and reports ----

/// Each queue's figures over `[from, to)` from the store's queue calls (threshold: each queue's own
/// service-level seconds unless given).
pub async fn queue_metrics(
    store: &kefu_store::Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    threshold: Option<u32>,
) -> kefu_store::Result<BTreeMap<String, kefu_acd::metrics::QueueMetrics>> {
    let rows = store.queue_calls_between(from, to, None).await?;
    let queues = store.list_queues().await?;
    let mut by_queue: BTreeMap<String, Vec<kefu_acd::metrics::QueueCall>> = BTreeMap::new();
    for q in &queues {
        by_queue.entry(q.key.clone()).or_default();
    }
    for r in rows {
        by_queue
            .entry(r.queue.clone())
            .or_default()
            .push(kefu_acd::metrics::QueueCall {
                entered_at: r.entered_at,
                answered_at: r.answered_at,
                ended_at: r.ended_at,
                outcome: kefu_acd::metrics::Outcome::parse(&r.outcome)
                    .unwrap_or(kefu_acd::metrics::Outcome::Waiting),
                talk_ms: r.talk_ms,
                wrap_ms: r.wrap_ms,
            });
    }
    Ok(by_queue
        .into_iter()
        .map(|(k, calls)| {
            let t = threshold.unwrap_or_else(|| {
                queues
                    .iter()
                    .find(|q| q.key == k)
                    .map(|q| q.service_level_secs)
                    .unwrap_or(20)
            });
            (k, kefu_acd::metrics::queue_metrics(&calls, from, to, t))
        })
        .collect())
}

/// The wallboard now: per queue the live figures (waiting, longest wait, agents ready and busy)
/// and today's (service level, abandon rate, ASA, AHT since midnight); every agent's state.
#[utoipa::path(get, path = "/api/v1/wallboard", tag = "acd", params(IntervalParams), responses((status = 200, description = "{queues:[…], agents:[…], at}")))]
pub async fn wallboard(
    State(app): State<AppState>,
    Query(p): Query<IntervalParams>,
) -> ApiResult<axum::Json<Value>> {
    let now = Utc::now();
    let metrics = queue_metrics(
        &app.store,
        midnight(app.settings.utc_offset, now),
        now,
        p.threshold,
    )
    .await?;
    let live = app
        .acd()
        .map(|a| a.wallboard())
        .unwrap_or(json!({"queues": [], "agents": []}));
    Ok(axum::Json(merge_wallboard(live, &metrics, now)))
}

/// The start of `now`'s day in the deployment's time zone.
pub fn midnight(offset: chrono::FixedOffset, now: DateTime<Utc>) -> DateTime<Utc> {
    now.with_timezone(&offset)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now - chrono::TimeDelta::hours(24))
}

/// The live snapshot with each queue's figures of the day merged in.
pub fn merge_wallboard(
    mut live: Value,
    metrics: &BTreeMap<String, kefu_acd::metrics::QueueMetrics>,
    now: DateTime<Utc>,
) -> Value {
    let mut queues: BTreeMap<String, Value> = BTreeMap::new();
    for (k, m) in metrics {
        queues.insert(
            k.clone(),
            json!({"key": k, "name": k, "waiting": m.waiting, "longest_wait_secs": m.longest_wait_secs,
                   "agents_ready": 0, "agents_busy": 0, "agents_logged_in": 0}),
        );
    }
    if let Some(list) = live.get("queues").and_then(Value::as_array) {
        for q in list {
            if let Some(k) = q.get("key").and_then(Value::as_str) {
                queues.insert(k.to_string(), q.clone());
            }
        }
    }
    let list: Vec<Value> = queues
        .into_iter()
        .map(|(k, mut q)| {
            if let (Some(m), Value::Object(o)) = (metrics.get(&k), &mut q) {
                o.insert("offered".into(), json!(m.offered));
                o.insert("answered".into(), json!(m.answered));
                o.insert("abandoned".into(), json!(m.abandoned));
                o.insert("service_level".into(), json!(m.service_level));
                o.insert("abandon_rate".into(), json!(m.abandon_rate));
                o.insert("asa_secs".into(), json!(m.asa_secs));
                o.insert("aht_secs".into(), json!(m.aht_secs));
            }
            q
        })
        .collect();
    if let Value::Object(o) = &mut live {
        o.insert("queues".into(), Value::Array(list));
        o.insert("at".into(), json!(now));
    }
    live
}

/// Queue figures over any interval (the same definitions as the wallboard).
#[utoipa::path(get, path = "/api/v1/reports/queues", tag = "acd", params(IntervalParams), responses((status = 200, description = "{from, to, queues:{key: metrics}}"), (status = 422, body = crate::problem::Problem)))]
pub async fn report_queues(
    State(app): State<AppState>,
    Query(p): Query<IntervalParams>,
) -> ApiResult<axum::Json<Value>> {
    let (from, to) = interval(&p)?;
    let metrics = queue_metrics(&app.store, from, to, p.threshold).await?;
    Ok(axum::Json(
        json!({"from": from, "to": to, "queues": metrics}),
    ))
}

// ---- CTI ----

/// The next event of a subscription; never ready when there is none.
async fn next_event(
    rx: &mut Option<broadcast::Receiver<Arc<CtiEvent>>>,
) -> Result<Arc<CtiEvent>, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Client messages allowed per second before the socket is closed (policy violation).
const MAX_CLIENT_MESSAGES_PER_SEC: u32 = 20;

/// CTI events over a WebSocket (cookie or bearer; cross-site cookies refused). An agent receives
/// only its own events (`state`, `offering` with the screen pop, `answered`, `held`, `resumed`,
/// `transferred`, `ended` …); `{"subscribe":"wallboard"}` adds the wallboard feed for supervisors.
/// Each agent's events are numbered consecutively in `seq` (`hello` carries the last one; a gap means
/// events were lost: reread the state). The client may send `{"type":"ping"}` (answered `pong`);
/// other messages get `{"type":"error"}`; more than 20 a second close the socket (1008).
#[utoipa::path(get, path = "/api/v1/cti", tag = "acd",
    responses((status = 101, description = "switching to the WebSocket protocol"), (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem), (status = 426, body = crate::problem::Problem)))]
pub async fn cti(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = match crate::notifications::websocket(&headers, upgrade) {
        Ok(u) => u,
        Err(refused) => return Ok(*refused),
    };
    let acd = acd(&app)?;
    let agent = app
        .store
        .agent_by_user(caller.principal.user.id)
        .await?
        .map(|p| p.id);
    let supervisor = caller
        .principal
        .user
        .role
        .can(kefu_domain::Permission::AcdSupervise);
    Ok(upgrade
        .max_message_size(4096)
        .on_upgrade(move |socket| async move {
            if let Err(e) = serve_cti(acd, agent, supervisor, socket).await {
                tracing::debug!(error = %e, "CTI socket ended");
            }
        }))
}

async fn serve_cti(
    acd: Arc<dyn AcdControl>,
    agent: Option<Uuid>,
    supervisor: bool,
    mut socket: WebSocket,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Subscribed before `hello` reads the last number, so no event falls between the two.
    let mut own = agent.map(|a| acd.subscribe_agent(a));
    let mut board: Option<broadcast::Receiver<Arc<CtiEvent>>> = None;
    let hello = json!({
        "type": "hello",
        "seq": agent.map(|a| acd.last_seq(a)).unwrap_or(0),
        "agent_id": agent,
        "state": agent.and_then(|a| acd.agent_state(a)),
        "calls": agent.map(|a| acd.calls_of(a)).unwrap_or_default(),
    });
    socket.send(Message::Text(hello.to_string().into())).await?;
    let mut window = (std::time::Instant::now(), 0u32);
    let every = std::time::Duration::from_secs(20);
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = keepalive.tick() => {
                socket.send(Message::Ping(Default::default())).await?;
            }
            got = next_event(&mut own) => match got {
                Ok(ev) => socket.send(Message::Text(ev.body.to_string().into())).await?,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    socket.send(Message::Text(json!({"type": "resync"}).to_string().into())).await?;
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            got = next_event(&mut board) => match got {
                Ok(ev) if ev.kind == "wallboard" => socket.send(Message::Text(ev.body.to_string().into())).await?,
                Ok(_) => {}
                // The feed is a snapshot every few seconds: a missed one is replaced by the next.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => board = None,
            },
            incoming = socket.recv() => {
                let msg = match incoming {
                    Some(Ok(Message::Close(_))) | None => return Ok(()),
                    Some(Err(e)) => return Err(e.into()),
                    Some(Ok(m)) => m,
                };
                if window.0.elapsed() >= std::time::Duration::from_secs(1) {
                    window = (std::time::Instant::now(), 0);
                }
                window.1 += 1;
                if window.1 > MAX_CLIENT_MESSAGES_PER_SEC {
                    let bye = CloseFrame { code: 1008, reason: "too many messages".into() };
                    socket.send(Message::Close(Some(bye))).await?;
                    // The closing handshake: read (and drop) what the client still sends until its
                    // Close, so the connection ends cleanly rather than with a reset.
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
                        while let Some(Ok(m)) = socket.recv().await {
                            if matches!(m, Message::Close(_)) {
                                break;
                            }
                        }
                    })
                    .await;
                    return Ok(());
                }
                let Message::Text(text) = msg else { continue };
                let parsed: Option<Value> = serde_json::from_str(text.as_str()).ok();
                let reply = match parsed.as_ref().and_then(|v| v.get("subscribe")).and_then(Value::as_str) {
                    Some("wallboard") if supervisor => {
                        if board.is_none() {
                            board = Some(acd.subscribe_wallboard());
                        }
                        json!({"type": "subscribed", "feed": "wallboard"})
                    }
                    Some("wallboard") => json!({"type": "error", "reason": "the wallboard feed is for supervisors"}),
                    _ if parsed.as_ref().and_then(|v| v.get("type")).and_then(Value::as_str) == Some("ping") => {
                        json!({"type": "pong"})
                    }
                    // An answer to a ping: nothing to say.
                    _ if parsed.as_ref().and_then(|v| v.get("type")).and_then(Value::as_str) == Some("pong") => {
                        continue;
                    }
                    _ => json!({"type": "error", "reason": "send {\"subscribe\":\"wallboard\"} or {\"type\":\"ping\"}"}),
                };
                socket.send(Message::Text(reply.to_string().into())).await?;
            }
        }
    }
}
