//! Reading the audit log.

use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_store::AuditQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::{ApiError, ApiResult, Query};
use crate::{AppState, PageOf, PageParams};

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<uuid::Uuid>,
    pub actor_name: String,
    /// e.g. customer.update, auth.login, auth.login_failed.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// A user id or username.
    pub actor: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// From this date or time (inclusive): `2026-11-01` or RFC 3339.
    pub from: Option<String>,
    /// Up to this date (inclusive) or time (exclusive).
    pub to: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

pub(crate) fn instant(field: &str, s: &str, end_of_day: bool) -> ApiResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ApiError::field(field, "a date YYYY-MM-DD or an RFC 3339 time"))?;
    let d = if end_of_day {
        d.succ_opt().unwrap_or(d)
    } else {
        d
    };
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams), responses((status = 200, body = PageOf<AuditEntry>)))]
pub async fn list(
    State(app): State<AppState>,
    Query(p): Query<AuditParams>,
) -> ApiResult<axum::Json<PageOf<AuditEntry>>> {
    let page = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .request()?;
    let q = AuditQuery {
        from: p
            .from
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| instant("from", s, false))
            .transpose()?,
        to: p
            .to
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| instant("to", s, true))
            .transpose()?,
        actor: nonempty(p.actor),
        entity_type: nonempty(p.entity_type),
        entity_id: nonempty(p.entity_id),
        action: nonempty(p.action),
    };
    let found = app.store.audit_entries(&q, page).await?;
    let items = found
        .items
        .into_iter()
        .map(|e| AuditEntry {
            id: e.id,
            at: e.at,
            actor_id: e.actor_id,
            actor_name: e.actor_name,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            before: e.before,
            after: e.after,
            source_ip: e.source_ip,
            request_id: e.request_id,
        })
        .collect();
    Ok(axum::Json(PageOf {
        items,
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}
