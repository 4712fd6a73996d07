//! Call records (one per call leg, written by the SIP engine) and their search.

use axum::extract::State;
use chrono::{DateTime, Utc};
use kefu_domain::{CallDirection, CallDisposition, CallRecordId, TrunkId};
use kefu_store::CallQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::instant;
use crate::problem::{ApiError, ApiResult, Path, Query};
use crate::{AppState, PageOf, PageParams};

#[derive(Serialize, ToSchema)]
pub struct CallRecord {
    pub id: uuid::Uuid,
    /// The leg's SIP Call-ID.
    pub call_id: String,
    /// Shared by the legs of one call.
    pub call_uuid: uuid::Uuid,
    /// inbound or outbound.
    pub direction: String,
    pub caller: String,
    pub callee: String,
    pub trunk_id: Option<uuid::Uuid>,
    /// The extension on kefu's side of the leg.
    pub extension: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    /// From start to end, in milliseconds.
    pub duration_ms: i64,
    /// From answer to end, in milliseconds; 0 when not answered.
    pub billable_ms: i64,
    /// answered, no_answer, busy, cancelled, rejected or failed.
    pub disposition: String,
    /// e.g. normal_clearing, user_busy, no_answer.
    pub hangup_cause: String,
    /// The final SIP status, if the leg ended with one.
    pub sip_status: Option<u16>,
    /// caller, callee or system.
    pub hangup_side: String,
    pub recording_path: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<kefu_store::CallRecord> for CallRecord {
    fn from(r: kefu_store::CallRecord) -> CallRecord {
        CallRecord {
            id: r.id.0,
            call_id: r.call_id,
            call_uuid: r.call_uuid,
            direction: r.direction.as_str().into(),
            caller: r.caller,
            callee: r.callee,
            trunk_id: r.trunk_id.map(|t| t.0),
            extension: r.extension,
            started_at: r.started_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            duration_ms: r.duration_ms,
            billable_ms: r.billable_ms,
            disposition: r.disposition.as_str().into(),
            hangup_cause: r.hangup_cause,
            sip_status: r.sip_status,
            hangup_side: r.hangup_side.as_str().into(),
            recording_path: r.recording_path,
            created_at: r.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CallParams {
    /// Started on or after this date or time: `2026-11-01` or RFC 3339.
    pub from: Option<String>,
    /// Started up to this date (inclusive) or before this time.
    pub to: Option<String>,
    /// The calling number, exactly.
    pub caller: Option<String>,
    /// The called number, exactly.
    pub callee: Option<String>,
    /// Either side's number, exactly.
    pub number: Option<String>,
    /// inbound or outbound.
    pub direction: Option<String>,
    /// answered, no_answer, busy, cancelled, rejected or failed.
    pub disposition: Option<String>,
    pub trunk_id: Option<String>,
    /// All legs of one call.
    pub call_uuid: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A number as a switch writes it: 1-64 visible characters (digits, `+`, `*`, `#`, or a word such as
/// `anonymous`).
fn number(field: &str, v: &Option<String>) -> ApiResult<Option<String>> {
    match given(v) {
        None => Ok(None),
        Some(s) if s.chars().count() <= 64 && s.chars().all(|c| c.is_ascii_graphic()) => {
            Ok(Some(s.to_string()))
        }
        Some(_) => Err(ApiError::field(
            field,
            "a number has 1 to 64 visible ASCII characters",
        )),
    }
}

fn id(field: &str, v: &Option<String>) -> ApiResult<Option<uuid::Uuid>> {
    given(v)
        .map(|s| {
            s.parse::<uuid::Uuid>()
                .map_err(|_| ApiError::field(field, "not a UUID"))
        })
        .transpose()
}

/// Call legs, newest first; every filter given must match.
#[utoipa::path(get, path = "/api/v1/calls", tag = "calls", params(CallParams), responses((status = 200, body = PageOf<CallRecord>), (status = 422, body = crate::problem::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    Query(p): Query<CallParams>,
) -> ApiResult<axum::Json<PageOf<CallRecord>>> {
    let page = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .request()?;
    let q = CallQuery {
        from: given(&p.from)
            .map(|s| instant("from", s, false))
            .transpose()?,
        to: given(&p.to).map(|s| instant("to", s, true)).transpose()?,
        caller: number("caller", &p.caller)?,
        callee: number("callee", &p.callee)?,
        number: number("number", &p.number)?,
        direction: given(&p.direction)
            .map(|s| CallDirection::parse(s).map_err(|e| ApiError::field("direction", e.reason)))
            .transpose()?,
        disposition: given(&p.disposition)
            .map(|s| {
                CallDisposition::parse(s).map_err(|e| ApiError::field("disposition", e.reason))
            })
            .transpose()?,
        trunk_id: id("trunk_id", &p.trunk_id)?.map(TrunkId),
        call_uuid: id("call_uuid", &p.call_uuid)?,
    };
    if let (Some(from), Some(to)) = (q.from, q.to)
        && to <= from
    {
        return Err(ApiError::field("to", "must be later than from"));
    }
    let found = app.store.call_records(&q, page).await?;
    Ok(axum::Json(PageOf {
        items: found.items.into_iter().map(Into::into).collect(),
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

#[utoipa::path(get, path = "/api/v1/calls/{id}", tag = "calls", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = CallRecord), (status = 404, body = crate::problem::Problem)))]
pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<CallRecord>> {
    Ok(axum::Json(
        app.store.call_record(CallRecordId(id)).await?.into(),
    ))
}
