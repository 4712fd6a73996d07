//! IVR flows (语音导航) over HTTP: flows and their immutable versions, live validation for the
//! designer, publishing and rolling back, export and import, what flows may name, the funnel and the
//! per-call trace, and the simulator (a flow run in memory with a dial pad: reads are real, writes are
//! dry runs).
//!
//! Supervisors and administrators edit flows (`ivr.manage`); the auditor may also read them
//! (`ivr.read`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kefu_ivr::Flow;
use kefu_ivr::interp::{Command, Input, Lookup, Session, TransferEnd, Utterance, Vars, describe};
use kefu_store::{
    IvrCatalog, IvrFlow, IvrFunnel, IvrTrace, IvrVersionSummary, NewIvrFlow, TraceOf,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Json, Path, Query};

const MAX_NOTE: usize = 500;

/// A flow with where its versions stand.
#[derive(Serialize, ToSchema)]
pub struct FlowView {
    pub id: Uuid,
    /// What DID routes name (`flow:main`): 1-40 of a-z, 0-9, `_`, `-`.
    pub key: String,
    pub name: String,
    pub description: String,
    /// The version new calls start on (`null`: never published).
    pub published_version: Option<i32>,
    pub published_at: Option<DateTime<Utc>>,
    /// The newest saved version (`null`: none yet).
    pub latest_version: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<IvrFlow> for FlowView {
    fn from(f: IvrFlow) -> FlowView {
        FlowView {
            id: f.id,
            key: f.key,
            name: f.name,
            description: f.description,
            published_version: f.published_version,
            published_at: f.published_at,
            latest_version: f.latest_version,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowInput {
    /// 1-40 of a-z, 0-9, `_` and `-`; unique.
    pub key: String,
    /// 1-100 characters.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Saved as version 1 when given (validated like any version).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub graph: Option<Flow>,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionInput {
    /// The flow graph (see docs/api.md, "IVR flows").
    #[schema(value_type = Object)]
    pub graph: Flow,
    /// What changed, at most 500 characters.
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct VersionSummaryView {
    pub version: i32,
    pub note: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub nodes: usize,
    /// This is the version new calls start on.
    pub published: bool,
}

/// A version of a flow as exported (and imported): the flow's key, name and description with the
/// graph.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowDocument {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The version exported (ignored on import: the import becomes the next version).
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub graph: Flow,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DownloadParams {
    /// `1`: send as a file (`Content-Disposition: attachment`).
    pub download: Option<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub flow: FlowView,
    /// The version the import was saved as.
    pub version: i32,
    /// A new flow was created (else a new version of the flow with this key).
    pub created: bool,
}

#[derive(Serialize, ToSchema)]
pub struct IssueView {
    /// The node (`null`: the flow as a whole).
    pub node: Option<String>,
    /// The field on the node: `prompts[0]`, `target.queue`, an option's key, …
    pub field: String,
    /// Stable keyword: `unknown_node`, `unreachable`, `unknown_queue`, `missing_prompt`, …
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ValidationView {
    pub issues: Vec<IssueView>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FunnelParams {
    /// One version (default: all versions).
    pub version: Option<i32>,
    /// Sessions started at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Sessions started before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TraceParams {
    pub call_uuid: Option<Uuid>,
    pub session_id: Option<Uuid>,
}

fn flow_id(s: &str) -> ApiResult<Uuid> {
    s.parse().map_err(|_| ApiError::not_found("IVR flow"))
}

fn note(s: &str) -> ApiResult<String> {
    if s.chars().count() > MAX_NOTE {
        return Err(ApiError::field(
            "note",
            format!("at most {MAX_NOTE} characters"),
        ));
    }
    Ok(s.trim().to_string())
}

/// Every flow, by key.
#[utoipa::path(get, path = "/api/v1/ivr/flows", tag = "ivr", responses((status = 200, body = [FlowView])))]
pub async fn list_flows(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<FlowView>>> {
    Ok(axum::Json(
        app.store
            .ivr_flows()
            .await?
            .into_iter()
            .map(FlowView::from)
            .collect(),
    ))
}

/// Creates a flow, with its graph as version 1 when one is given.
#[utoipa::path(post, path = "/api/v1/ivr/flows", tag = "ivr", request_body = FlowInput, responses((status = 201, body = FlowView), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_flow(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<FlowInput>,
) -> ApiResult<(StatusCode, axum::Json<FlowView>)> {
    let note = note(&req.note)?;
    let flow = app
        .store
        .create_ivr_flow(
            &caller.actor,
            NewIvrFlow {
                key: req.key.trim().to_string(),
                name: req.name,
                description: req.description,
                graph: req.graph,
                note,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(flow.into())))
}

#[utoipa::path(get, path = "/api/v1/ivr/flows/{id}", tag = "ivr", params(("id" = Uuid, Path)), responses((status = 200, body = FlowView), (status = 404, body = crate::problem::Problem)))]
pub async fn get_flow(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<FlowView>> {
    Ok(axum::Json(app.store.ivr_flow(flow_id(&id)?).await?.into()))
}

/// The versions of a flow, newest first.
#[utoipa::path(get, path = "/api/v1/ivr/flows/{id}/versions", tag = "ivr", params(("id" = Uuid, Path)), responses((status = 200, body = [VersionSummaryView]), (status = 404, body = crate::problem::Problem)))]
pub async fn list_versions(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<VersionSummaryView>>> {
    let id = flow_id(&id)?;
    let flow = app.store.ivr_flow(id).await?;
    let versions: Vec<IvrVersionSummary> = app.store.ivr_versions(id).await?;
    Ok(axum::Json(
        versions
            .into_iter()
            .map(|v| VersionSummaryView {
                published: flow.published_version == Some(v.version),
                version: v.version,
                note: v.note,
                created_by: v.created_by,
                created_at: v.created_at,
                nodes: v.nodes,
            })
            .collect(),
    ))
}

/// Saves a graph as the flow's next version. Any validation issue is 422 naming the node and field
/// (`graph.nodes[menu].prompts[0]`), and nothing is saved.
#[utoipa::path(post, path = "/api/v1/ivr/flows/{id}/versions", tag = "ivr", params(("id" = Uuid, Path)), request_body = VersionInput, responses((status = 201, body = VersionSummaryView), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn save_version(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<VersionInput>,
) -> ApiResult<(StatusCode, axum::Json<VersionSummaryView>)> {
    let id = flow_id(&id)?;
    let note = note(&req.note)?;
    let v = app
        .store
        .save_ivr_version(&caller.actor, id, &req.graph, &note)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(VersionSummaryView {
            version: v.version,
            note: v.note,
            created_by: v.created_by,
            created_at: v.created_at,
            nodes: v.graph.nodes.len(),
            published: false,
        }),
    ))
}

/// A version with its graph, as the export document (`?download=1`: as a file to keep or import
/// elsewhere).
#[utoipa::path(get, path = "/api/v1/ivr/flows/{id}/versions/{version}", tag = "ivr", params(("id" = Uuid, Path), ("version" = i32, Path), DownloadParams), responses((status = 200, body = FlowDocument), (status = 404, body = crate::problem::Problem)))]
pub async fn get_version(
    State(app): State<AppState>,
    Path((id, version)): Path<(String, i32)>,
    Query(q): Query<DownloadParams>,
) -> ApiResult<Response> {
    let id = flow_id(&id)?;
    let flow = app.store.ivr_flow(id).await?;
    let v = app.store.ivr_version(id, version).await?;
    let doc = FlowDocument {
        key: flow.key.clone(),
        name: flow.name,
        description: flow.description,
        version: Some(v.version),
        note: v.note,
        created_at: Some(v.created_at),
        graph: v.graph,
    };
    let mut resp = axum::Json(doc).into_response();
    if q.download == Some(1) {
        let name = format!("attachment; filename=\"ivr-{}-v{version}.json\"", flow.key);
        resp.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&name).map_err(|_| ApiError::internal())?,
        );
    }
    Ok(resp)
}

/// Makes a version the one new calls start on (rolling back is publishing an older one). It is
/// checked again against what exists now; calls in progress keep their version.
#[utoipa::path(post, path = "/api/v1/ivr/flows/{id}/versions/{version}/publish", tag = "ivr", params(("id" = Uuid, Path), ("version" = i32, Path)), responses((status = 200, body = FlowView), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn publish(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, version)): Path<(String, i32)>,
) -> ApiResult<axum::Json<FlowView>> {
    let id = flow_id(&id)?;
    let flow = app
        .store
        .publish_ivr_version(&caller.actor, id, version)
        .await?;
    Ok(axum::Json(flow.into()))
}

/// Parses a graph from a request body: JSON that does not parse or does not fit the flow format is
/// 422 naming the place (serde's message names line and column).
fn parse_graph(bytes: &[u8]) -> ApiResult<Flow> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let flow: Flow = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." || inner.is_syntax() || inner.is_eof() {
            "graph".to_string()
        } else {
            format!("graph.{path}")
        };
        ApiError::field(&field, inner.to_string())
    })?;
    de.end()
        .map_err(|e| ApiError::field("graph", e.to_string()))?;
    Ok(flow)
}

/// Checks a graph without saving it (the designer calls this as the flow is drawn): 200 with every
/// issue (none: valid) whenever the body is a flow graph.
#[utoipa::path(post, path = "/api/v1/ivr/validate", tag = "ivr", request_body(content = Object, description = "a flow graph"), responses((status = 200, body = ValidationView), (status = 422, body = crate::problem::Problem)))]
pub async fn validate(
    State(app): State<AppState>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<ValidationView>> {
    let flow = parse_graph(&body)?;
    let known = app.store.ivr_known().await?;
    let issues = kefu_ivr::validate::validate(&flow, &known);
    Ok(axum::Json(ValidationView {
        issues: issues
            .into_iter()
            .map(|i| IssueView {
                node: i.node,
                field: i.field,
                code: i.code.to_string(),
                message: i.message,
            })
            .collect(),
    }))
}

/// Imports an exported flow: a new flow when its key is new, else the next version of the flow with
/// that key (not published: publish it when it is right).
#[utoipa::path(post, path = "/api/v1/ivr/flows/import", tag = "ivr", request_body = FlowDocument, responses((status = 201, body = ImportResult), (status = 422, body = crate::problem::Problem)))]
pub async fn import(
    State(app): State<AppState>,
    caller: Caller,
    Json(doc): Json<FlowDocument>,
) -> ApiResult<(StatusCode, axum::Json<ImportResult>)> {
    let note = note(&doc.note)?;
    let key = doc.key.trim().to_string();
    let result = match app.store.ivr_flow_by_key(&key).await? {
        Some(flow) => {
            let v = app
                .store
                .save_ivr_version(&caller.actor, flow.id, &doc.graph, &note)
                .await?;
            ImportResult {
                flow: app.store.ivr_flow(flow.id).await?.into(),
                version: v.version,
                created: false,
            }
        }
        None => {
            let flow = app
                .store
                .create_ivr_flow(
                    &caller.actor,
                    NewIvrFlow {
                        key,
                        name: doc.name,
                        description: doc.description,
                        graph: Some(doc.graph),
                        note,
                    },
                )
                .await?;
            ImportResult {
                flow: flow.into(),
                version: 1,
                created: true,
            }
        }
    };
    Ok((StatusCode::CREATED, axum::Json(result)))
}

/// What flows may name, with names, for the designer's pickers: queues, extensions, sites, work-order
/// types, calendars, prompts and documents.
#[utoipa::path(get, path = "/api/v1/ivr/known", tag = "ivr", responses((status = 200, body = Object)))]
pub async fn known(State(app): State<AppState>) -> ApiResult<axum::Json<IvrCatalog>> {
    Ok(axum::Json(app.store.ivr_catalog().await?))
}

/// Per node: sessions that reached it, passed it, failed at it (an error branch) and hung up there;
/// and sessions per end.
#[utoipa::path(get, path = "/api/v1/ivr/flows/{id}/funnel", tag = "ivr", params(("id" = Uuid, Path), FunnelParams), responses((status = 200, body = Object), (status = 404, body = crate::problem::Problem)))]
pub async fn funnel(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<FunnelParams>,
) -> ApiResult<axum::Json<IvrFunnel>> {
    let id = flow_id(&id)?;
    if let (Some(f), Some(t)) = (q.from, q.to)
        && f > t
    {
        return Err(ApiError::field("to", "must not be before from"));
    }
    Ok(axum::Json(
        app.store.ivr_funnel(id, q.version, q.from, q.to).await?,
    ))
}

/// The IVR path of a call (`call_uuid`) or of one session (`session_id`): its sessions and their
/// node visits in order.
#[utoipa::path(get, path = "/api/v1/ivr/traces", tag = "ivr", params(TraceParams), responses((status = 200, body = Object), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn traces(
    State(app): State<AppState>,
    Query(q): Query<TraceParams>,
) -> ApiResult<axum::Json<IvrTrace>> {
    let of = match (q.call_uuid, q.session_id) {
        (Some(c), None) => TraceOf::Call(c),
        (None, Some(s)) => TraceOf::Session(s),
        _ => {
            return Err(ApiError::field(
                "call_uuid",
                "give either call_uuid or session_id",
            ));
        }
    };
    Ok(axum::Json(app.store.ivr_trace(of).await?))
}

// ---- the simulator ----

/// Simulations kept at most at once (all users), and how long an idle one lives.
pub const MAX_SIMULATIONS: usize = 200;
pub const SIMULATION_IDLE: Duration = Duration::from_secs(15 * 60);
/// Commands run for one request before the simulator gives up (a runaway flow is cut off by the
/// interpreter long before).
const MAX_COMMANDS: usize = 2000;

struct Simulation {
    session: Session,
    owner: Uuid,
    language: String,
    /// Visits already announced as `enter` events.
    entered: usize,
    last_used: Instant,
}

fn simulations() -> &'static Mutex<HashMap<Uuid, Simulation>> {
    static SIMS: OnceLock<Mutex<HashMap<Uuid, Simulation>>> = OnceLock::new();
    SIMS.get_or_init(Default::default)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationInput {
    pub flow_id: Uuid,
    /// A saved version (default: the published one, else the newest).
    #[serde(default)]
    pub version: Option<i32>,
    /// An unsaved graph to run instead (validated first).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub graph: Option<Flow>,
    /// The caller's number (caller-ID lookups are real).
    pub caller: String,
}

/// One key string, a timeout, or the caller hanging up.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationStep {
    /// Keys pressed (`0`-`9`, `*`, `#`); a trailing terminator may be included.
    #[serde(default)]
    pub digits: Option<String>,
    /// No key within the time.
    #[serde(default)]
    pub timeout: Option<bool>,
    #[serde(default)]
    pub hangup: Option<bool>,
}

/// What the caller would hear or kefu would do.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct SimEvent {
    pub node: String,
    /// `enter`, `play`, `collect`, `record`, `action`, `transfer`, `end`.
    pub kind: &'static str,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct SimState {
    pub node: String,
    /// `digits` (the dial pad is live), `none`, `ended`.
    pub waiting: &'static str,
    #[schema(value_type = Object)]
    pub vars: Vars,
}

#[derive(Serialize, ToSchema)]
pub struct SimulationView {
    pub id: Uuid,
    pub output: Vec<SimEvent>,
    pub state: SimState,
}

/// Prompt key → text: the flow's language first, any language else.
type PromptTexts = HashMap<String, String>;

async fn prompt_texts(app: &AppState) -> ApiResult<PromptTexts> {
    // The catalog names system prompts by their Mandarin text: `words` asks the system catalog in
    // the flow's language first.
    Ok(app
        .store
        .ivr_catalog()
        .await?
        .prompts
        .into_iter()
        .map(|p| (p.key, p.name))
        .collect())
}

fn words(language: &str, prompts: &[Utterance], texts: &PromptTexts) -> String {
    let sep = if language == "en" { " " } else { "" };
    let mut out: Vec<String> = Vec::new();
    let mut said: Vec<String> = Vec::new();
    let flush = |said: &mut Vec<String>, out: &mut Vec<String>| {
        if !said.is_empty() {
            out.push(said.join(sep));
            said.clear();
        }
    };
    for u in prompts {
        match u {
            Utterance::Word(w) => said.push(w.text.clone()),
            Utterance::Text(t) => {
                flush(&mut said, &mut out);
                out.push(t.clone());
            }
            Utterance::Prompt(k) => {
                flush(&mut said, &mut out);
                let text = kefu_ivr::prompts::text(k, language)
                    .map(str::to_string)
                    .or_else(|| texts.get(k).cloned())
                    .unwrap_or_else(|| format!("[{k}]"));
                out.push(text);
            }
        }
    }
    flush(&mut said, &mut out);
    out.join(" ")
}

fn customer_id(s: &Option<String>) -> Option<Uuid> {
    s.as_deref().and_then(|c| c.parse().ok())
}

/// Runs `cmd` and what follows until the session waits for the caller or ends, collecting events.
async fn drive(
    app: &AppState,
    sim: &mut Simulation,
    mut cmd: Command,
    texts: &PromptTexts,
) -> ApiResult<Vec<SimEvent>> {
    let mut out = Vec::new();
    for _ in 0..MAX_COMMANDS {
        for v in &sim.session.visits()[sim.entered.min(sim.session.visits().len())..] {
            out.push(SimEvent {
                node: v.node.clone(),
                kind: "enter",
                text: v.kind.to_string(),
            });
        }
        sim.entered = sim.session.visits().len();
        let node = sim.session.node().to_string();
        let ev = |kind: &'static str, text: String| SimEvent {
            node: node.clone(),
            kind,
            text,
        };
        let input = match &cmd {
            Command::Play { prompts, .. } => {
                if !prompts.is_empty() {
                    out.push(ev("play", words(&sim.language, prompts, texts)));
                }
                Input::Played
            }
            Command::Collect {
                prompts, max_len, ..
            } => {
                out.push(ev(
                    "collect",
                    format!(
                        "{} (up to {max_len} keys)",
                        words(&sim.language, prompts, texts)
                    )
                    .trim_start()
                    .to_string(),
                ));
                return Ok(out);
            }
            Command::Record {
                prompts, max_secs, ..
            } => {
                out.push(ev(
                    "record",
                    format!(
                        "{} (recording up to {max_secs} s; the simulator records 5 s)",
                        words(&sim.language, prompts, texts)
                    )
                    .trim_start()
                    .to_string(),
                ));
                Input::Recorded {
                    path: Some("simulation.wav".into()),
                    secs: 5,
                }
            }
            Command::Lookup(l) => {
                let (what, input) = match l {
                    Lookup::CustomerByPhone(p) => (
                        format!("look up the customer by phone {p}"),
                        Input::Found(app.store.ivr_customer_by_phone(p).await?),
                    ),
                    Lookup::CustomerByNo(n) => (
                        format!("look up customer no. {n}"),
                        Input::Found(app.store.ivr_customer_by_no(n).await?),
                    ),
                    Lookup::OrderByNo { no, customer_id: c } => (
                        format!("look up work order {no}"),
                        Input::Found(app.store.ivr_order_by_no(no, customer_id(c)).await?),
                    ),
                    Lookup::NewestOrder { customer_id: c } => (
                        "look up the customer's newest work order".to_string(),
                        match c.parse() {
                            Ok(c) => Input::Found(app.store.ivr_newest_order_of_customer(c).await?),
                            Err(_) => Input::Found(None),
                        },
                    ),
                    Lookup::IsOpen { calendar } => {
                        let open = app.store.ivr_is_open(calendar, Utc::now()).await?;
                        (
                            format!(
                                "calendar {calendar}: {}",
                                if open { "open now" } else { "closed now" }
                            ),
                            Input::Open(open),
                        )
                    }
                };
                let text = match &input {
                    Input::Found(Some(_)) => format!("{what}: found"),
                    Input::Found(None) => format!("{what}: not found"),
                    _ => what,
                };
                out.push(ev("action", text));
                input
            }
            Command::CreateWorkOrder(req) => {
                let no = format!("GD{}9999", app.today().format("%y%m%d"));
                out.push(ev(
                    "action",
                    format!(
                        "would create a work order of type {} \"{}\"{} (simulated: {no})",
                        req.order_type,
                        req.title,
                        if req.sms {
                            ", and text its number to the caller"
                        } else {
                            ""
                        }
                    ),
                ));
                let vars: Vars = [
                    ("order.id".to_string(), Uuid::nil().to_string()),
                    ("order.digits".to_string(), no[2..].to_string()),
                    ("order.no".to_string(), no),
                    ("order.status".to_string(), "new".to_string()),
                    ("order.type".to_string(), req.order_type.clone()),
                ]
                .into();
                Input::Done(Ok(vars))
            }
            Command::SendDocument {
                channel,
                document,
                to,
                ..
            } => {
                out.push(ev(
                    "action",
                    format!(
                        "would send document {document} by {} to {to}",
                        serde_json::to_value(channel)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    ),
                ));
                Input::Done(Ok(Vars::new()))
            }
            Command::SaveSurvey { score, max, .. } => {
                out.push(ev(
                    "action",
                    format!("would save the survey answer {score}/{max}"),
                ));
                Input::Done(Ok(Vars::new()))
            }
            Command::Transfer { target, .. } => {
                out.push(ev("transfer", describe(target)));
                Input::Transfer(TransferEnd::Handed)
            }
            Command::Hangup { prompts } => {
                if !prompts.is_empty() {
                    out.push(ev("play", words(&sim.language, prompts, texts)));
                }
                sim.session.hangup();
                out.push(ev("end", end_text(&sim.session)));
                return Ok(out);
            }
            Command::Done => {
                out.push(ev("end", end_text(&sim.session)));
                return Ok(out);
            }
        };
        cmd = sim.session.resume(input);
    }
    sim.session.hangup();
    out.push(SimEvent {
        node: sim.session.node().to_string(),
        kind: "end",
        text: format!("stopped after {MAX_COMMANDS} steps"),
    });
    Ok(out)
}

fn end_text(s: &Session) -> String {
    s.ended()
        .map(|e| e.as_str())
        .unwrap_or("hangup")
        .to_string()
}

fn state_of(s: &Session) -> SimState {
    SimState {
        node: s.node().to_string(),
        waiting: if s.ended().is_some() {
            "ended"
        } else if s.waiting_for_digits() {
            "digits"
        } else {
            "none"
        },
        vars: s.vars().clone(),
    }
}

/// Drops idle simulations; true when there is room for one more.
fn sweep(sims: &mut HashMap<Uuid, Simulation>) -> bool {
    sims.retain(|_, s| s.last_used.elapsed() < SIMULATION_IDLE);
    sims.len() < MAX_SIMULATIONS
}

fn too_many() -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-simulations",
        format!("{MAX_SIMULATIONS} simulations are running; try again when some have ended"),
    );
    e.retry_after = Some(60);
    e
}

/// Starts a simulated call on a flow version (or an unsaved graph): what the caller would hear until
/// the flow waits for keys. Data is read for real; nothing is written (work orders, documents and
/// survey answers are described instead).
#[utoipa::path(post, path = "/api/v1/ivr/simulations", tag = "ivr", request_body = SimulationInput, responses((status = 201, body = SimulationView), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem), (status = 429, body = crate::problem::Problem)))]
pub async fn start_simulation(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<SimulationInput>,
) -> ApiResult<(StatusCode, axum::Json<SimulationView>)> {
    if req.caller.trim().is_empty() || req.caller.len() > 32 {
        return Err(ApiError::field("caller", "a phone number, 1-32 characters"));
    }
    let flow = app.store.ivr_flow(req.flow_id).await?;
    let graph = match (req.graph, req.version) {
        (Some(g), _) => {
            let issues = kefu_ivr::validate::validate(&g, &app.store.ivr_known().await?);
            if !issues.is_empty() {
                return Err(kefu_store::issue_errors(&issues).into());
            }
            g
        }
        (None, Some(v)) => app.store.ivr_version(flow.id, v).await?.graph,
        (None, None) => match flow.published_version.or(flow.latest_version) {
            Some(v) => app.store.ivr_version(flow.id, v).await?.graph,
            None => {
                return Err(ApiError::field(
                    "version",
                    "the flow has no saved version: give a graph",
                ));
            }
        },
    };
    if !sweep(&mut simulations().lock().expect("simulations lock")) {
        return Err(too_many());
    }
    let id = Uuid::now_v7();
    let vars: Vars = [
        ("call.caller".to_string(), req.caller.trim().to_string()),
        ("call.callee".to_string(), flow.key.clone()),
        ("call.uuid".to_string(), id.to_string()),
        ("flow.id".to_string(), flow.id.to_string()),
    ]
    .into();
    let language = graph.settings.language.clone();
    let (session, cmd) = Session::start(Arc::new(graph), vars);
    let mut sim = Simulation {
        session,
        owner: caller.principal.user.id.0,
        language,
        entered: 0,
        last_used: Instant::now(),
    };
    let texts = prompt_texts(&app).await?;
    let output = drive(&app, &mut sim, cmd, &texts).await?;
    let view = SimulationView {
        id,
        output,
        state: state_of(&sim.session),
    };
    let mut sims = simulations().lock().expect("simulations lock");
    if !sweep(&mut sims) {
        return Err(too_many());
    }
    sims.insert(id, sim);
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Feeds the simulated call keys, a timeout or a hang-up; returns what follows.
#[utoipa::path(post, path = "/api/v1/ivr/simulations/{id}/input", tag = "ivr", params(("id" = Uuid, Path)), request_body = SimulationStep, responses((status = 200, body = SimulationView), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn simulation_input(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(step): Json<SimulationStep>,
) -> ApiResult<axum::Json<SimulationView>> {
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found("simulation"))?;
    let given = [
        step.digits.is_some(),
        step.timeout == Some(true),
        step.hangup == Some(true),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given != 1 {
        return Err(ApiError::field(
            "digits",
            "give exactly one of digits, timeout: true or hangup: true",
        ));
    }
    if let Some(d) = &step.digits
        && (d.is_empty()
            || d.len() > 32
            || !d
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#'))
    {
        return Err(ApiError::field("digits", "1-32 of the keys 0-9, * and #"));
    }
    // Taken out while it runs (reads may wait on the database); put back after.
    let mut sim = {
        let mut sims = simulations().lock().expect("simulations lock");
        sweep(&mut sims);
        match sims.remove(&id) {
            Some(s) if s.owner == caller.principal.user.id.0 => s,
            Some(s) => {
                sims.insert(id, s);
                return Err(ApiError::not_found("simulation"));
            }
            None => return Err(ApiError::not_found("simulation")),
        }
    };
    sim.last_used = Instant::now();
    let result = async {
        if sim.session.ended().is_some() {
            return Err(ApiError::conflict("the simulated call has ended"));
        }
        let texts = prompt_texts(&app).await?;
        if step.hangup == Some(true) {
            sim.session.hangup();
            return Ok(vec![SimEvent {
                node: sim.session.node().to_string(),
                kind: "end",
                text: end_text(&sim.session),
            }]);
        }
        if !sim.session.waiting_for_digits() {
            return Err(ApiError::conflict(
                "the simulated call is not waiting for keys",
            ));
        }
        let input = match step.digits {
            Some(mut d) => {
                if d.len() > 1 && d.ends_with('#') {
                    d.pop();
                }
                Input::Digits {
                    digits: d,
                    timed_out: false,
                }
            }
            None => Input::Digits {
                digits: String::new(),
                timed_out: true,
            },
        };
        let cmd = sim.session.resume(input);
        drive(&app, &mut sim, cmd, &texts).await
    }
    .await;
    let view = result.map(|output| SimulationView {
        id,
        output,
        state: state_of(&sim.session),
    });
    simulations()
        .lock()
        .expect("simulations lock")
        .insert(id, sim);
    Ok(axum::Json(view?))
}
