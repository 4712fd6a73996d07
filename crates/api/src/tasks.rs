//! An agent's own schedule (日程): callbacks and follow-ups with a due time and an optional
//! reminder. Every signed-in desk user (`agents.desk`) has one; nobody sees another's tasks (another
//! user's task is 404).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_domain::{CustomerId, Phone, WorkOrderId};
use kefu_store::{AgentTask, NewTask, TaskChanges};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Json, Path, Query};
use crate::{AppState, double_option, present};

/// A callback or follow-up.
#[derive(Serialize, ToSchema)]
pub struct TaskView {
    pub id: Uuid,
    /// `callback` or `follow_up`.
    pub kind: String,
    pub customer_id: Option<Uuid>,
    pub phone: Option<String>,
    pub work_order_id: Option<Uuid>,
    pub note: String,
    pub due_at: DateTime<Utc>,
    pub remind_at: Option<DateTime<Utc>>,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<AgentTask> for TaskView {
    fn from(t: AgentTask) -> TaskView {
        TaskView {
            id: t.id,
            kind: t.kind,
            customer_id: t.customer_id.map(|c| c.0),
            phone: t.phone,
            work_order_id: t.work_order_id.map(|w| w.0),
            note: t.note,
            due_at: t.due_at,
            remind_at: t.remind_at,
            done: t.done_at.is_some(),
            done_at: t.done_at,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskParams {
    /// `false`: open tasks only; `true`: done ones only; absent: all.
    pub done: Option<bool>,
}

/// The signed-in user's tasks by due time.
#[utoipa::path(get, path = "/api/v1/agents/me/tasks", tag = "acd", params(TaskParams),
    responses((status = 200, body = Vec<TaskView>)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<TaskParams>,
) -> ApiResult<axum::Json<Vec<TaskView>>> {
    let tasks = app
        .store
        .tasks_of(caller.principal.user.id, p.done != Some(false))
        .await?;
    Ok(axum::Json(
        tasks
            .into_iter()
            .filter(|t| p.done.is_none_or(|d| d == t.done_at.is_some()))
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// `callback` or `follow_up`; default: `callback` when a phone is given, else `follow_up`.
    pub kind: Option<String>,
    pub customer_id: Option<Uuid>,
    /// The number to call back (a callback needs it or a customer).
    pub phone: Option<String>,
    pub work_order_id: Option<Uuid>,
    /// At most 2000 characters.
    #[serde(default)]
    pub note: String,
    pub due_at: DateTime<Utc>,
    pub remind_at: Option<DateTime<Utc>>,
}

/// Absent fields stay as they are; `null` clears `customer_id`, `phone`, `work_order_id` and
/// `remind_at`. `done: true` marks it done now, `false` reopens it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    #[serde(default, deserialize_with = "present")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub customer_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub work_order_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub remind_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    pub done: Option<bool>,
}

/// A phone number in its canonical form, or a 422 naming `phone`; empty is none.
fn phone(app: &AppState, p: Option<String>) -> ApiResult<Option<String>> {
    match p.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => Phone::parse(p, &app.settings.area)
            .map(|p| Some(p.as_str().to_string()))
            .map_err(|e| ApiError::field("phone", e.reason)),
    }
}

/// A task on the signed-in user's schedule.
#[utoipa::path(post, path = "/api/v1/agents/me/tasks", tag = "acd", request_body = TaskInput,
    responses((status = 201, body = TaskView), (status = 422, body = crate::problem::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Json(b): Json<TaskInput>,
) -> ApiResult<(StatusCode, axum::Json<TaskView>)> {
    let phone = phone(&app, b.phone)?;
    let kind = b.kind.map(|k| k.trim().to_string()).unwrap_or_else(|| {
        if phone.is_some() {
            "callback".into()
        } else {
            "follow_up".into()
        }
    });
    let t = app
        .store
        .create_task(
            &caller.actor,
            NewTask {
                kind,
                customer_id: b.customer_id.map(CustomerId),
                phone,
                work_order_id: b.work_order_id.map(WorkOrderId),
                note: b.note,
                due_at: b.due_at,
                remind_at: b.remind_at,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(t.into())))
}

/// Changes one of the signed-in user's tasks (another user's is 404).
#[utoipa::path(patch, path = "/api/v1/agents/me/tasks/{id}", tag = "acd", params(("id" = Uuid, Path)),
    request_body = TaskPatch,
    responses((status = 200, body = TaskView), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(p): Json<TaskPatch>,
) -> ApiResult<axum::Json<TaskView>> {
    let phone = match p.phone {
        Some(v) => Some(phone(&app, v)?),
        None => None,
    };
    let t = app
        .store
        .update_task(
            &caller.actor,
            id,
            TaskChanges {
                kind: p.kind.map(|k| k.trim().to_string()),
                customer_id: p.customer_id.map(|c| c.map(CustomerId)),
                phone,
                work_order_id: p.work_order_id.map(|w| w.map(WorkOrderId)),
                note: p.note,
                due_at: p.due_at,
                remind_at: p.remind_at,
                done: p.done,
            },
        )
        .await?;
    Ok(axum::Json(t.into()))
}
