//! Recordings of agents' calls: the list (by customer, call or agent) and playback of the WAV files
//! the ACD writes under the recordings directory ([`crate::Settings::recordings_dir`]).
//!
//! Supervisors, administrators and the auditor (`acd.reports`) see every recording; an agent only
//! the recordings of its own calls. Every playback is audited (`recording.play`).

use std::collections::HashMap;
use std::path::{Component, PathBuf};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kefu_domain::{CustomerId, Permission};
use kefu_store::{Recording, RecordingQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Path, Query};
use crate::{AppState, PageOf, PageParams};

/// A recording of an agent's call.
#[derive(Serialize, ToSchema)]
pub struct RecordingView {
    pub id: Uuid,
    /// The caller's call (the telephony engine's call id).
    pub call_id: Uuid,
    pub queue_call_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub agent_name: Option<String>,
    pub customer_id: Option<Uuid>,
    pub caller: String,
    pub started_at: DateTime<Utc>,
    /// `null` while the call lasts.
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub bytes: i64,
}

fn view(r: Recording, names: &HashMap<Uuid, String>) -> RecordingView {
    RecordingView {
        id: r.id,
        call_id: r.call_id,
        queue_call_id: r.queue_call_id,
        agent_name: r.agent_id.and_then(|a| names.get(&a).cloned()),
        agent_id: r.agent_id,
        customer_id: r.customer_id.map(|c| c.0),
        caller: r.caller,
        started_at: r.started_at,
        ended_at: r.ended_at,
        duration_ms: r
            .ended_at
            .map(|e| (e - r.started_at).num_milliseconds().max(0)),
        bytes: r.bytes,
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordingParams {
    pub customer_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub page: Option<u64>,
    /// 1-200; default 20.
    pub per_page: Option<u64>,
}

/// The caller's own agent profile when it may see only its own recordings (no `acd.reports`):
/// `Some(None)` for such a caller who is no agent.
async fn restricted_to(app: &AppState, caller: &Caller) -> ApiResult<Option<Option<Uuid>>> {
    if caller.principal.user.role.can(Permission::AcdReports) {
        return Ok(None);
    }
    let own = app
        .store
        .agent_by_user(caller.principal.user.id)
        .await?
        .map(|a| a.id);
    Ok(Some(own))
}

/// Recordings, newest first. An agent sees only its own calls' recordings (asking for another
/// agent's is 403).
#[utoipa::path(get, path = "/api/v1/recordings", tag = "acd", params(RecordingParams),
    responses((status = 200, body = PageOf<RecordingView>), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<RecordingParams>,
) -> ApiResult<axum::Json<PageOf<RecordingView>>> {
    let page = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .request()?;
    let mut agent_id = p.agent_id;
    match restricted_to(&app, &caller).await? {
        None => {}
        Some(None) => {
            return Ok(axum::Json(PageOf {
                items: vec![],
                total: 0,
                page: page.page,
                per_page: page.per_page,
            }));
        }
        Some(Some(own)) => {
            if agent_id.is_some_and(|a| a != own) {
                return Err(ApiError::forbidden(
                    "an agent sees only the recordings of its own calls",
                ));
            }
            agent_id = Some(own);
        }
    }
    let found = app
        .store
        .recordings(RecordingQuery {
            customer_id: p.customer_id.map(CustomerId),
            call_id: p.call_id,
            agent_id,
            page,
        })
        .await?;
    let names: HashMap<Uuid, String> = if found.items.iter().any(|r| r.agent_id.is_some()) {
        app.store
            .agents()
            .await?
            .into_iter()
            .map(|a| (a.id, a.display_name))
            .collect()
    } else {
        HashMap::new()
    };
    Ok(axum::Json(PageOf {
        items: found.items.into_iter().map(|r| view(r, &names)).collect(),
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

/// Where recording `path` (relative, as stored) is: `None` for a path that would leave the
/// recordings directory.
fn file_of(dir: &std::path::Path, path: &str) -> Option<PathBuf> {
    let rel = std::path::Path::new(path);
    let plain = !path.is_empty()
        && rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    plain.then(|| dir.join(rel))
}

/// The recording's WAV (8 kHz). Audited (`recording.play`) on every playback; 404 when the file is
/// gone; 403 for an agent and another agent's call.
#[utoipa::path(get, path = "/api/v1/recordings/{id}/audio", tag = "acd", params(("id" = Uuid, Path)),
    responses((status = 200, description = "WAV", content_type = "audio/wav"), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn audio(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let r = app.store.recording(id).await?;
    if let Some(own) = restricted_to(&app, &caller).await?
        && (own.is_none() || r.agent_id != own)
    {
        return Err(ApiError::forbidden(
            "an agent may play only the recordings of its own calls",
        ));
    }
    let gone = || ApiError::not_found("recording file");
    let file = file_of(&app.settings.recordings_dir, &r.path).ok_or_else(gone)?;
    let bytes = tokio::fs::read(&file).await.map_err(|_| gone())?;
    app.store.audit_recording_played(&caller.actor, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav"),
            (header::CACHE_CONTROL, "private, no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::file_of;
    use std::path::Path;

    #[test]
    fn recording_paths_stay_inside_the_directory() {
        let dir = Path::new("/data/recordings");
        assert_eq!(
            file_of(dir, "2026/11/28/a.wav"),
            Some(dir.join("2026/11/28/a.wav"))
        );
        for bad in ["", "../kefu.db", "/etc/passwd", "a/../../b.wav"] {
            assert_eq!(file_of(dir, bad), None, "{bad}");
        }
    }
}
