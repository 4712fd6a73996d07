//! Webhooks (administrators, `webhooks.manage`): integrations' URLs that receive the ACD's events
//! as signed JSON POSTs (HMAC-SHA256 of the body under the webhook's secret, `X-Kefu-Signature`).
//! The secret is write-only: no answer ever contains it.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_store::{NewWebhook, Webhook, WebhookChanges};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Caller;
use crate::problem::{ApiResult, Json, Path};
use crate::{AppState, present};

/// A webhook, without its secret.
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    /// Event types delivered (`state`, `offering`, `answered`, `ended`, …); empty: all.
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> WebhookView {
        WebhookView {
            id: w.id,
            url: w.url,
            events: w.events,
            active: w.active,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// `http://` or `https://` with a host.
    pub url: String,
    /// Empty or absent: every event.
    #[serde(default)]
    pub events: Vec<String>,
    /// The signing key, 8-200 characters; never shown again.
    pub secret: String,
    #[serde(default = "yes")]
    pub active: bool,
}

/// Absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[serde(default, deserialize_with = "present")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub events: Option<Vec<String>>,
    /// A new signing key.
    #[serde(default, deserialize_with = "present")]
    pub secret: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub active: Option<bool>,
}

/// The running ACD queues events only while some webhook is active: it re-reads them.
async fn reload_acd(app: &AppState) {
    if let Some(a) = app.acd() {
        a.reload().await;
    }
}

/// Every webhook, oldest first.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "acd", responses((status = 200, body = Vec<WebhookView>)))]
pub async fn list(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<WebhookView>>> {
    Ok(axum::Json(
        app.store
            .webhooks()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "acd", request_body = WebhookInput,
    responses((status = 201, body = WebhookView), (status = 422, body = crate::problem::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Json(b): Json<WebhookInput>,
) -> ApiResult<(StatusCode, axum::Json<WebhookView>)> {
    let w = app
        .store
        .create_webhook(
            &caller.actor,
            NewWebhook {
                url: b.url,
                events: b.events,
                secret: b.secret,
                active: b.active,
            },
        )
        .await?;
    reload_acd(&app).await;
    Ok((StatusCode::CREATED, axum::Json(w.into())))
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "acd", params(("id" = Uuid, Path)),
    request_body = WebhookPatch,
    responses((status = 200, body = WebhookView), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(p): Json<WebhookPatch>,
) -> ApiResult<axum::Json<WebhookView>> {
    let w = app
        .store
        .update_webhook(
            &caller.actor,
            id,
            WebhookChanges {
                url: p.url,
                events: p.events,
                secret: p.secret,
                active: p.active,
            },
        )
        .await?;
    reload_acd(&app).await;
    Ok(axum::Json(w.into()))
}

/// Deletes a webhook; its undelivered events are dropped.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "acd", params(("id" = Uuid, Path)),
    responses((status = 204, description = "deleted"), (status = 404, body = crate::problem::Problem)))]
pub async fn delete(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    app.store.delete_webhook(&caller.actor, id).await?;
    reload_acd(&app).await;
    Ok(StatusCode::NO_CONTENT)
}
