//! The IVR's configuration data over HTTP: queues callers are transferred to, documents callers can
//! ask for (fax-on-demand, SMS and email texts), the outbox of messages to customers, and survey
//! answers.
//!
//! Reading takes `ivr.read` (which every role with `telephony.read` has), changing `ivr.manage`. The
//! store checks the values and names the field of each problem; a refused change writes nothing.

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use chrono::{DateTime, Utc};
use kefu_store::{
    DocumentChanges, DocumentFile, MESSAGE_CHANNELS, MESSAGE_STATUSES, NewDocument, NewQueue,
    OutboundQuery, QueueChanges, QueueSettings, SurveyQuery,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Json, Path, Query};
use crate::{AppState, PageOf, PageParams, double_option, present};

fn yes() -> bool {
    true
}

fn two_minutes() -> i32 {
    120
}

// ---- queues ----

/// A queue (skill group): who serves it and how the ACD routes its callers (`docs/acd.md`).
#[derive(Serialize, ToSchema)]
pub struct QueueView {
    pub id: uuid::Uuid,
    /// What flows name (`general`, `billing`): 1-32 of a-z, 0-9, '_' and '-'.
    pub key: String,
    pub name: String,
    /// Extension numbers that serve the queue whatever their skills (and `sequential`'s order).
    pub members: Vec<String>,
    /// How long a caller waits before the overflow (10-3600 s).
    pub max_wait_secs: i32,
    pub active: bool,
    /// `longest_idle`, `round_robin`, `fewest_calls`, `least_talk_time`, `skills_based`,
    /// `ring_all` or `sequential`.
    pub strategy: String,
    /// The skill agents need; `null`: the queue's key.
    pub skill: Option<String>,
    /// The skill's minimum level (1-10).
    pub min_level: u8,
    /// Most callers waiting at once; 0: unlimited.
    pub max_len: u32,
    /// `{"action":"queue","queue":"<key>"}`, `{"action":"voicemail"}`, `{"action":"callback"}` or
    /// `{"action":"hangup"}`.
    #[schema(value_type = Object)]
    pub overflow: serde_json::Value,
    /// Position and estimated wait every N seconds; 0: never.
    pub announce_secs: u32,
    /// How long one offer rings an agent (5-120 s).
    pub ring_secs: u32,
    /// After-call work (0-3600 s).
    pub wrap_up_secs: u32,
    /// The service-level threshold (answered within N seconds).
    pub service_level_secs: u32,
    /// Business hours: a calendar code; closed → the overflow.
    pub calendar: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<kefu_store::Queue> for QueueView {
    fn from(q: kefu_store::Queue) -> QueueView {
        QueueView {
            id: q.id,
            key: q.key,
            name: q.name,
            members: q.members,
            max_wait_secs: q.max_wait_secs,
            active: q.active,
            strategy: q.strategy,
            skill: q.skill,
            min_level: q.min_level,
            max_len: q.max_len,
            overflow: q.overflow,
            announce_secs: q.announce_secs,
            ring_secs: q.ring_secs,
            wrap_up_secs: q.wrap_up_secs,
            service_level_secs: q.service_level_secs,
            calendar: q.calendar,
            created_at: q.created_at,
            updated_at: q.updated_at,
        }
    }
}

/// Absent ACD settings take their defaults.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueInput {
    pub key: String,
    /// 1-40 characters.
    pub name: String,
    /// Existing extension numbers, each once.
    #[serde(default)]
    pub members: Vec<String>,
    /// 10-3600; default 120.
    #[serde(default = "two_minutes")]
    pub max_wait_secs: i32,
    #[serde(default = "yes")]
    pub active: bool,
    /// Default `longest_idle`.
    pub strategy: Option<String>,
    /// Default: the queue's key.
    pub skill: Option<String>,
    /// 1-10; default 1.
    pub min_level: Option<u8>,
    /// 0-10000; default 0 (unlimited).
    pub max_len: Option<u32>,
    /// Default `{"action":"voicemail"}`.
    #[schema(value_type = Option<Object>)]
    pub overflow: Option<serde_json::Value>,
    /// 0-3600; default 30.
    pub announce_secs: Option<u32>,
    /// 5-120; default 15.
    pub ring_secs: Option<u32>,
    /// 0-3600; default 10.
    pub wrap_up_secs: Option<u32>,
    /// 0-3600; default 20.
    pub service_level_secs: Option<u32>,
    /// An existing calendar's code; default none (always open).
    pub calendar: Option<String>,
}

/// Absent fields stay as they are; `skill` and `calendar` are cleared with `null`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueuePatch {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub members: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub max_wait_secs: Option<i32>,
    #[serde(default, deserialize_with = "present")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub strategy: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub skill: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub min_level: Option<u8>,
    #[serde(default, deserialize_with = "present")]
    pub max_len: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub overflow: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    pub announce_secs: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    pub ring_secs: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    pub wrap_up_secs: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    pub service_level_secs: Option<u32>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub calendar: Option<Option<String>>,
}

fn trimmed(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string())
}

/// Every queue, by key.
#[utoipa::path(get, path = "/api/v1/queues", tag = "ivr", responses((status = 200, body = Vec<QueueView>)))]
pub async fn list_queues(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<QueueView>>> {
    Ok(axum::Json(
        app.store
            .list_queues()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/queues", tag = "ivr", request_body = QueueInput, responses((status = 201, body = QueueView), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_queue(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<QueueInput>,
) -> ApiResult<(StatusCode, axum::Json<QueueView>)> {
    let q = app
        .store
        .create_queue_with(
            &caller.actor,
            NewQueue {
                key: req.key.trim().to_string(),
                name: req.name,
                members: req.members.iter().map(|m| m.trim().to_string()).collect(),
                max_wait_secs: req.max_wait_secs,
                active: req.active,
            },
            QueueSettings {
                strategy: trimmed(req.strategy),
                skill: trimmed(req.skill),
                min_level: req.min_level,
                max_len: req.max_len,
                overflow: req.overflow,
                announce_secs: req.announce_secs,
                ring_secs: req.ring_secs,
                wrap_up_secs: req.wrap_up_secs,
                service_level_secs: req.service_level_secs,
                calendar: trimmed(req.calendar),
            },
        )
        .await?;
    reload_acd(&app).await;
    Ok((StatusCode::CREATED, axum::Json(q.into())))
}

/// The running ACD routes with the queues' new settings.
async fn reload_acd(app: &AppState) {
    if let Some(a) = app.acd() {
        a.reload().await;
    }
}

#[utoipa::path(patch, path = "/api/v1/queues/{id}", tag = "ivr", params(("id" = uuid::Uuid, Path)), request_body = QueuePatch, responses((status = 200, body = QueueView), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_queue(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<QueuePatch>,
) -> ApiResult<axum::Json<QueueView>> {
    let q = app
        .store
        .update_queue(
            &caller.actor,
            id,
            QueueChanges {
                name: p.name,
                members: p
                    .members
                    .map(|m| m.iter().map(|m| m.trim().to_string()).collect()),
                max_wait_secs: p.max_wait_secs,
                active: p.active,
                strategy: trimmed(p.strategy),
                skill: p.skill.map(trimmed),
                min_level: p.min_level,
                max_len: p.max_len,
                overflow: p.overflow,
                announce_secs: p.announce_secs,
                ring_secs: p.ring_secs,
                wrap_up_secs: p.wrap_up_secs,
                service_level_secs: p.service_level_secs,
                calendar: p.calendar.map(trimmed),
            },
        )
        .await?;
    reload_acd(&app).await;
    Ok(axum::Json(q.into()))
}

// ---- documents ----

/// A document callers can ask for by key (`price_list`): its text for SMS and email, and an optional
/// PDF for fax and email attachments.
#[derive(Serialize, ToSchema)]
pub struct DocumentView {
    pub id: uuid::Uuid,
    pub key: String,
    pub title: String,
    pub body: String,
    pub file_name: Option<String>,
    /// Size of the PDF in bytes, when there is one.
    pub file_size: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<kefu_store::Document> for DocumentView {
    fn from(d: kefu_store::Document) -> DocumentView {
        DocumentView {
            id: d.id,
            key: d.key,
            title: d.title,
            body: d.body,
            file_name: d.file_name,
            file_size: d.file_size,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    /// 1-32 of a-z, 0-9, '_' and '-'.
    pub key: String,
    /// 1-80 characters.
    pub title: String,
    /// 1-4000 characters.
    pub body: String,
    /// A PDF, base64 (standard alphabet).
    pub file_base64: Option<String>,
    /// Required with `file_base64`.
    pub file_name: Option<String>,
}

/// Absent fields stay as they are; `file_base64: null` removes the PDF.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatch {
    #[serde(default, deserialize_with = "present")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub body: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub file_base64: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub file_name: Option<String>,
}

fn pdf(b64: &str, name: Option<&str>) -> ApiResult<DocumentFile> {
    let content = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| ApiError::field("file_base64", "not base64"))?;
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::field("file_name", "required with file_base64"))?;
    Ok(DocumentFile {
        name: name.to_string(),
        content,
    })
}

/// Every document, by key (without the PDFs' bytes).
#[utoipa::path(get, path = "/api/v1/ivr/documents", tag = "ivr", responses((status = 200, body = Vec<DocumentView>)))]
pub async fn list_documents(
    State(app): State<AppState>,
) -> ApiResult<axum::Json<Vec<DocumentView>>> {
    Ok(axum::Json(
        app.store
            .list_documents()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/ivr/documents", tag = "ivr", request_body = DocumentInput, responses((status = 201, body = DocumentView), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_document(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<DocumentInput>,
) -> ApiResult<(StatusCode, axum::Json<DocumentView>)> {
    let file = match &req.file_base64 {
        Some(b) => Some(pdf(b, req.file_name.as_deref())?),
        None => None,
    };
    let d = app
        .store
        .create_document(
            &caller.actor,
            NewDocument {
                key: req.key.trim().to_string(),
                title: req.title,
                body: req.body,
                file,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(d.into())))
}

#[utoipa::path(patch, path = "/api/v1/ivr/documents/{id}", tag = "ivr", params(("id" = uuid::Uuid, Path)), request_body = DocumentPatch, responses((status = 200, body = DocumentView), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_document(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<DocumentPatch>,
) -> ApiResult<axum::Json<DocumentView>> {
    let file = match &p.file_base64 {
        None => None,
        Some(None) => Some(None),
        Some(Some(b)) => Some(Some(pdf(b, p.file_name.as_deref())?)),
    };
    let d = app
        .store
        .update_document(
            &caller.actor,
            id,
            DocumentChanges {
                title: p.title,
                body: p.body,
                file,
            },
        )
        .await?;
    Ok(axum::Json(d.into()))
}

// ---- outbox and surveys ----

/// A message to a customer waiting for (or delivered by) its channel.
#[derive(Serialize, ToSchema)]
pub struct OutboundMessageView {
    pub id: uuid::Uuid,
    /// sms, email or fax.
    pub channel: String,
    pub recipient: String,
    pub customer_id: Option<uuid::Uuid>,
    pub document_key: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub call_uuid: Option<uuid::Uuid>,
    pub work_order_id: Option<uuid::Uuid>,
    /// queued, sent or failed.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<kefu_store::OutboundMessage> for OutboundMessageView {
    fn from(m: kefu_store::OutboundMessage) -> OutboundMessageView {
        OutboundMessageView {
            id: m.id,
            channel: m.channel,
            recipient: m.recipient,
            customer_id: m.customer_id,
            document_key: m.document_key,
            subject: m.subject,
            body: m.body,
            call_uuid: m.call_uuid,
            work_order_id: m.work_order_id,
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboundParams {
    /// sms, email or fax.
    pub channel: Option<String>,
    /// queued, sent or failed.
    pub status: Option<String>,
    pub call_uuid: Option<uuid::Uuid>,
    pub work_order_id: Option<uuid::Uuid>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Messages, newest first; every filter given must match.
#[utoipa::path(get, path = "/api/v1/outbound-messages", tag = "ivr", params(OutboundParams), responses((status = 200, body = PageOf<OutboundMessageView>), (status = 422, body = crate::problem::Problem)))]
pub async fn list_outbound(
    State(app): State<AppState>,
    Query(p): Query<OutboundParams>,
) -> ApiResult<axum::Json<PageOf<OutboundMessageView>>> {
    let page = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .request()?;
    let one_of = |field: &str, v: Option<&str>, allowed: &[&str]| match v {
        Some(s) if !allowed.contains(&s) => Err(ApiError::field(
            field,
            format!("must be one of {}", allowed.join(", ")),
        )),
        v => Ok(v.map(str::to_string)),
    };
    let q = OutboundQuery {
        channel: one_of("channel", given(&p.channel), MESSAGE_CHANNELS)?,
        status: one_of("status", given(&p.status), MESSAGE_STATUSES)?,
        call_uuid: p.call_uuid,
        work_order_id: p.work_order_id,
    };
    let found = app.store.list_outbound_messages(&q, page).await?;
    Ok(axum::Json(PageOf {
        items: found.items.into_iter().map(Into::into).collect(),
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

/// A caller's satisfaction score.
#[derive(Serialize, ToSchema)]
pub struct SurveyView {
    pub id: uuid::Uuid,
    pub call_uuid: Option<uuid::Uuid>,
    pub work_order_id: Option<uuid::Uuid>,
    pub customer_id: Option<uuid::Uuid>,
    pub flow_id: Option<uuid::Uuid>,
    /// The agent the caller spoke to, if the call was transferred.
    pub agent_extension: Option<String>,
    pub score: i16,
    pub max_score: i16,
    pub created_at: DateTime<Utc>,
}

impl From<kefu_store::SurveyResponse> for SurveyView {
    fn from(s: kefu_store::SurveyResponse) -> SurveyView {
        SurveyView {
            id: s.id,
            call_uuid: s.call_uuid,
            work_order_id: s.work_order_id,
            customer_id: s.customer_id,
            flow_id: s.flow_id,
            agent_extension: s.agent_extension,
            score: s.score,
            max_score: s.max_score,
            created_at: s.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SurveyParams {
    pub call_uuid: Option<uuid::Uuid>,
    pub work_order_id: Option<uuid::Uuid>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// Survey answers, newest first.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "ivr", params(SurveyParams), responses((status = 200, body = PageOf<SurveyView>), (status = 422, body = crate::problem::Problem)))]
pub async fn list_surveys(
    State(app): State<AppState>,
    Query(p): Query<SurveyParams>,
) -> ApiResult<axum::Json<PageOf<SurveyView>>> {
    let page = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .request()?;
    let found = app
        .store
        .list_survey_responses(
            &SurveyQuery {
                call_uuid: p.call_uuid,
                work_order_id: p.work_order_id,
            },
            page,
        )
        .await?;
    Ok(axum::Json(PageOf {
        items: found.items.into_iter().map(Into::into).collect(),
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}
