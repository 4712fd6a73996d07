//! Units (departments and sites), roles and users.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_domain::{Permission, Role, UnitId, UserId, Username};
use kefu_store::{NewUnit, NewUser, UnitChanges, UserChanges};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::Caller;
use crate::auth::{check_new_password, hash_password};
use crate::problem::{ApiError, ApiResult, Json, Path, Query};
use crate::{AppState, PageOf, PageParams, bounded, double_option, present};

pub const UNIT_KINDS: &[&str] = &[
    "call_center",
    "headquarters",
    "branch_office",
    "pipe_network_office",
    "repair_crew",
    "department",
];

#[derive(Serialize, ToSchema)]
pub struct Unit {
    pub id: uuid::Uuid,
    pub code: String,
    pub name: String,
    /// call_center, headquarters, branch_office, pipe_network_office, repair_crew or department.
    pub kind: String,
    pub parent_id: Option<uuid::Uuid>,
    pub takes_queue_calls: bool,
    pub active: bool,
}

impl From<kefu_store::Unit> for Unit {
    fn from(u: kefu_store::Unit) -> Unit {
        Unit {
            id: u.id.0,
            code: u.code,
            name: u.name,
            kind: u.kind,
            parent_id: u.parent_id.map(|p| p.0),
            takes_queue_calls: u.takes_queue_calls,
            active: u.active,
        }
    }
}

fn kind(field: &str, k: &str) -> ApiResult<String> {
    if UNIT_KINDS.contains(&k) {
        Ok(k.to_string())
    } else {
        Err(ApiError::field(
            field,
            format!("must be one of: {}", UNIT_KINDS.join(", ")),
        ))
    }
}

#[utoipa::path(get, path = "/api/v1/units", tag = "organization", responses((status = 200, body = [Unit])))]
pub async fn list_units(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<Unit>>> {
    Ok(axum::Json(
        app.store
            .units()
            .await?
            .into_iter()
            .map(Unit::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    /// Short code, e.g. `BL`: 1-16 letters, digits, `-` or `_`.
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<uuid::Uuid>,
    #[serde(default)]
    pub takes_queue_calls: bool,
}

#[utoipa::path(post, path = "/api/v1/units", tag = "organization", request_body = UnitInput, responses((status = 201, body = Unit), (status = 409, body = crate::problem::Problem)))]
pub async fn create_unit(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<UnitInput>,
) -> ApiResult<(StatusCode, axum::Json<Unit>)> {
    let code = req.code.trim().to_ascii_uppercase();
    if code.is_empty()
        || code.len() > 16
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::field(
            "code",
            "1 to 16 letters, digits, '-' or '_'",
        ));
    }
    let new = NewUnit {
        code,
        name: bounded("name", &req.name, 1, 60)?,
        kind: kind("kind", &req.kind)?,
        parent_id: req.parent_id.map(UnitId),
        takes_queue_calls: req.takes_queue_calls,
    };
    let unit = app
        .store
        .create_unit(&caller.actor, new)
        .await
        .map_err(parent_field)?;
    Ok((StatusCode::CREATED, axum::Json(unit.into())))
}

fn parent_field(e: kefu_store::StoreError) -> ApiError {
    match e {
        kefu_store::StoreError::NotFound("parent unit") => {
            ApiError::field("parent_id", "no such unit")
        }
        kefu_store::StoreError::NotFound("unit") => ApiError::field("unit_id", "no such unit"),
        e => e.into(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_id: Option<Option<uuid::Uuid>>,
    #[serde(default, deserialize_with = "present")]
    pub takes_queue_calls: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub active: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/units/{id}", tag = "organization", params(("id" = uuid::Uuid, Path)), request_body = UnitPatch, responses((status = 200, body = Unit)))]
pub async fn update_unit(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<UnitPatch>,
) -> ApiResult<axum::Json<Unit>> {
    let ch = UnitChanges {
        name: req
            .name
            .as_deref()
            .map(|n| bounded("name", n, 1, 60))
            .transpose()?,
        kind: req.kind.as_deref().map(|k| kind("kind", k)).transpose()?,
        parent_id: req.parent_id.map(|p| p.map(UnitId)),
        takes_queue_calls: req.takes_queue_calls,
        active: req.active,
    };
    Ok(axum::Json(
        app.store
            .update_unit(&caller.actor, UnitId(id), ch)
            .await
            .map_err(parent_field)?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct RoleInfo {
    pub role: String,
    pub label_zh: String,
    pub permissions: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/roles", tag = "organization", responses((status = 200, body = [RoleInfo])))]
pub async fn list_roles() -> axum::Json<Vec<RoleInfo>> {
    axum::Json(
        Role::ALL
            .iter()
            .map(|r| RoleInfo {
                role: r.as_str().into(),
                label_zh: r.label_zh().into(),
                permissions: r
                    .permissions()
                    .iter()
                    .map(|p: &Permission| p.as_str().to_string())
                    .collect(),
            })
            .collect(),
    )
}

#[derive(Serialize, ToSchema)]
pub struct User {
    pub id: uuid::Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub unit_id: uuid::Uuid,
    pub unit_name: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

async fn user_dto(
    app: &AppState,
    u: kefu_store::User,
    units: Option<&[kefu_store::Unit]>,
) -> ApiResult<User> {
    let unit_name = match units {
        Some(units) => units
            .iter()
            .find(|x| x.id == u.unit_id)
            .map(|x| x.name.clone())
            .unwrap_or_default(),
        None => app.store.unit(u.unit_id).await?.name,
    };
    Ok(User {
        id: u.id.0,
        username: u.username,
        display_name: u.display_name,
        role: u.role.as_str().into(),
        unit_id: u.unit_id.0,
        unit_name,
        active: u.active,
        created_at: u.created_at,
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserSearch {
    /// Username or display-name fragment.
    pub q: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "organization", params(UserSearch), responses((status = 200, body = PageOf<User>)))]
pub async fn list_users(
    State(app): State<AppState>,
    Query(q): Query<UserSearch>,
) -> ApiResult<axum::Json<PageOf<User>>> {
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .request()?;
    let q_text = q.q.as_deref().map(|s| bounded("q", s, 0, 64)).transpose()?;
    let found = app.store.users(q_text.as_deref(), page).await?;
    let units = app.store.units().await?;
    let mut items = Vec::with_capacity(found.items.len());
    for u in found.items {
        items.push(user_dto(&app, u, Some(&units)).await?);
    }
    Ok(axum::Json(PageOf {
        items,
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// admin, supervisor, agent, site_staff or auditor.
    pub role: String,
    pub unit_id: uuid::Uuid,
}

fn role(field: &str, r: &str) -> ApiResult<Role> {
    Role::parse(r).map_err(|e| ApiError::field(field, e.reason))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "organization", request_body = UserInput, responses((status = 201, body = User), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_user(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<UserInput>,
) -> ApiResult<(StatusCode, axum::Json<User>)> {
    let mut errors = Vec::new();
    let username = Username::parse(&req.username)
        .map_err(|e| errors.push(e.under("username")))
        .ok();
    let display_name = bounded("display_name", &req.display_name, 1, 40)
        .map_err(|e| errors.extend(e.errors))
        .ok();
    let r = role("role", &req.role)
        .map_err(|e| errors.extend(e.errors))
        .ok();
    if let Err(e) = check_new_password("password", &req.password) {
        errors.extend(e.errors);
    }
    let (Some(username), Some(display_name), Some(role), true) =
        (username, display_name, r, errors.is_empty())
    else {
        return Err(ApiError::invalid(errors));
    };
    let password = req.password;
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())?;
    let user = app
        .store
        .create_user(
            &caller.actor,
            NewUser {
                username,
                display_name,
                password_hash,
                role,
                unit_id: UnitId(req.unit_id),
            },
        )
        .await
        .map_err(parent_field)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(user_dto(&app, user, None).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "organization", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = User), (status = 404, body = crate::problem::Problem)))]
pub async fn get_user(
    State(app): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<User>> {
    let u = app.store.user(UserId(id)).await?;
    Ok(axum::Json(user_dto(&app, u, None).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub unit_id: Option<uuid::Uuid>,
    /// false deactivates the user and ends their sessions.
    #[serde(default, deserialize_with = "present")]
    pub active: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "organization", params(("id" = uuid::Uuid, Path)), request_body = UserPatch, responses((status = 200, body = User)))]
pub async fn update_user(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<UserPatch>,
) -> ApiResult<axum::Json<User>> {
    if id == caller.principal.user.id.0
        && (req.active == Some(false)
            || req
                .role
                .as_deref()
                .is_some_and(|r| r != caller.principal.user.role.as_str()))
    {
        return Err(ApiError::conflict(
            "you cannot deactivate yourself or change your own role",
        ));
    }
    let ch = UserChanges {
        display_name: req
            .display_name
            .as_deref()
            .map(|n| bounded("display_name", n, 1, 40))
            .transpose()?,
        role: req.role.as_deref().map(|r| role("role", r)).transpose()?,
        unit_id: req.unit_id.map(UnitId),
        active: req.active,
    };
    let u = app
        .store
        .update_user(&caller.actor, UserId(id), ch)
        .await
        .map_err(parent_field)?;
    Ok(axum::Json(user_dto(&app, u, None).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    pub new_password: String,
}

/// An admin sets a user's password; the user's sessions end.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "organization", params(("id" = uuid::Uuid, Path)), request_body = PasswordReset, responses((status = 204)))]
pub async fn reset_password(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<PasswordReset>,
) -> ApiResult<StatusCode> {
    check_new_password("new_password", &req.new_password)?;
    app.store.user(UserId(id)).await?;
    let p = req.new_password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&p))
        .await
        .map_err(|_| ApiError::internal())?;
    app.store
        .set_password(&caller.actor, UserId(id), hash, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
