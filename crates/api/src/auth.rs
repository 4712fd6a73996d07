//! Sign-in, sign-out, the caller's own account, and API tokens.

use std::time::Instant;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{FromRequestParts, State};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use kefu_domain::{CredentialId, ThrottleVerdict, Username};
use kefu_store::{Actor, Credential, CredentialKind};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Caller, SESSION_COOKIE, request_id, source_ip, token_hash};
use crate::problem::{ApiError, ApiResult, Json, Path};
use crate::{AppState, bounded};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// A session token: the same value as the `kefu_session` cookie set with this response. Usable as
    /// `Authorization: Bearer`.
    pub token: String,
    pub user: Me,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: uuid::Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub role_label: String,
    pub unit_id: uuid::Uuid,
    pub unit_name: String,
    /// What this user may do; the web app shows only what is allowed.
    pub permissions: Vec<String>,
}

pub(crate) async fn me_of(app: &AppState, user: &kefu_store::User) -> ApiResult<Me> {
    let unit = app.store.unit(user.unit_id).await?;
    Ok(Me {
        id: user.id.0,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role.as_str().to_string(),
        role_label: user.role.label_zh().to_string(),
        unit_id: user.unit_id.0,
        unit_name: unit.name,
        permissions: user
            .role
            .permissions()
            .into_iter()
            .map(|p| p.as_str().to_string())
            .collect(),
    })
}

/// A new random bearer secret: 32 bytes from the OS generator, URL-safe base64.
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "kefu_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string()
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A password must be 8-128 characters and not only digits or only letters.
pub(crate) fn check_new_password(field: &str, p: &str) -> ApiResult<()> {
    let n = p.chars().count();
    let reason = if !(8..=128).contains(&n) {
        Some("a password has 8 to 128 characters")
    } else if p.chars().all(|c| c.is_ascii_digit()) || p.chars().all(char::is_alphabetic) {
        Some("a password must mix letters with digits or symbols")
    } else {
        None
    };
    match reason {
        Some(r) => Err(ApiError::field(field, r)),
        None => Ok(()),
    }
}

/// Where a request came from, for throttling and auditing requests that have no principal yet.
pub struct Origin {
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Origin {
            ip: source_ip(parts),
            request_id: request_id(parts),
        })
    }
}

fn throttled(v: ThrottleVerdict) -> Option<ApiError> {
    let (secs, locked) = match v {
        ThrottleVerdict::Allowed => return None,
        ThrottleVerdict::Wait(d) => (d.as_secs_f64().ceil() as u64, false),
        ThrottleVerdict::Locked(d) => (d.as_secs_f64().ceil() as u64, true),
    };
    let detail = if locked {
        format!("too many failed sign-ins: locked for {secs} s")
    } else {
        format!("too many failed sign-ins: wait {secs} s before trying again")
    };
    let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "login-throttled", detail);
    e.retry_after = Some(secs.max(1));
    Some(e)
}

/// Sign in with username and password. Sets the `kefu_session` cookie (HttpOnly, SameSite=Lax) and
/// returns the same token for bearer use. Repeated failures per user and per source address are
/// answered with a growing delay (429 with Retry-After) and then a temporary lockout.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::problem::Problem), (status = 429, body = crate::problem::Problem)))]
pub async fn login(
    State(app): State<AppState>,
    origin: Origin,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let username = req.username.trim().to_ascii_lowercase();
    if username.is_empty() || username.chars().count() > 64 {
        return Err(ApiError::field("username", "must be 1 to 64 characters"));
    }
    if req.password.is_empty() || req.password.chars().count() > 128 {
        return Err(ApiError::field("password", "must be 1 to 128 characters"));
    }
    let user_key = format!("user:{username}");
    let ip_key = format!("ip:{}", origin.ip.as_deref().unwrap_or("unknown"));
    let now = Instant::now();
    {
        let t = app.throttle.lock().expect("throttle lock");
        if let Some(e) = throttled(t.check(&user_key, now).and(t.check(&ip_key, now))) {
            return Err(e);
        }
    }
    let found = app.store.login_lookup(&username).await?;
    let password = req.password;
    let (user, ok) = {
        // Unknown users are checked against a fixed hash so both cases take the same time.
        let hash = found
            .as_ref()
            .map(|(_, h)| h.clone())
            .unwrap_or_else(|| app.dummy_hash.clone());
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false);
        (found.map(|(u, _)| u), ok)
    };
    let actor = Actor {
        user_id: user.as_ref().map(|u| u.id),
        name: username.clone(),
        source_ip: origin.ip.clone(),
        request_id: origin.request_id,
    };
    let user = match user {
        Some(u) if ok && u.active => u,
        other => {
            let reason = match (&other, ok) {
                (None, _) => "unknown user",
                (Some(_), false) => "wrong password",
                (Some(_), true) => "user deactivated",
            };
            {
                let mut t = app.throttle.lock().expect("throttle lock");
                t.record_failure(&user_key, now);
                t.record_failure(&ip_key, now);
            }
            metrics::counter!("kefu_login_failures_total").increment(1);
            tracing::warn!(
                username,
                ip = origin.ip.as_deref().unwrap_or("-"),
                reason,
                "login failed"
            );
            app.store
                .audit_login_failure(&actor, &username, reason)
                .await?;
            // The same answer whatever the reason: no account enumeration.
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "wrong username or password",
            ));
        }
    };
    app.throttle
        .lock()
        .expect("throttle lock")
        .record_success(&user_key);
    let token = new_secret();
    let expires = Utc::now() + app.settings.session_ttl;
    app.store
        .create_credential(
            &actor,
            CredentialKind::Session,
            user.id,
            None,
            token_hash(&token),
            Some(expires),
        )
        .await?;
    let body = LoginResponse {
        user: me_of(&app, &user).await?,
        token: token.clone(),
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{}",
        app.settings.session_ttl.num_seconds(),
        if app.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(body)).into_response())
}

/// End the session (or revoke the bearer token) this request was made with.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(app): State<AppState>, caller: Caller) -> ApiResult<Response> {
    app.store
        .revoke_credential(&caller.actor, caller.principal.credential.id)
        .await?;
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me)))]
pub async fn me(State(app): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Me>> {
    Ok(axum::Json(me_of(&app, &caller.principal.user).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change one's own password. Other sessions of the user end; this one stays.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange, responses((status = 204), (status = 422, body = crate::problem::Problem)))]
pub async fn change_password(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    check_new_password("new_password", &req.new_password)?;
    let (_, hash) = app
        .store
        .login_lookup(&caller.principal.user.username)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let current = req.current_password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&current, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(ApiError::field(
            "current_password",
            "is not the current password",
        ));
    }
    let new = req.new_password;
    let new_hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|_| ApiError::internal())?;
    let keep = (caller.principal.credential.kind == CredentialKind::Session)
        .then_some(caller.principal.credential.id);
    app.store
        .set_password(&caller.actor, caller.principal.user.id, new_hash, keep)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ApiToken {
    pub id: uuid::Uuid,
    pub name: Option<String>,
    pub user_id: uuid::Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The secret: present only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

fn token_dto(c: Credential, token: Option<String>) -> ApiToken {
    ApiToken {
        id: c.id.0,
        name: c.name,
        user_id: c.user_id.0,
        created_at: c.created_at,
        expires_at: c.expires_at,
        last_used_at: c.last_used_at,
        revoked_at: c.revoked_at,
        token,
    }
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", responses((status = 200, body = [ApiToken])))]
pub async fn list_tokens(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<ApiToken>>> {
    Ok(axum::Json(
        app.store
            .api_tokens()
            .await?
            .into_iter()
            .map(|c| token_dto(c, None))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "billing sync".
    pub name: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// The user the token acts as; default: the caller.
    pub username: Option<String>,
}

/// Create an API token for an integration. The secret is returned once; only its hash is stored.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = NewToken, responses((status = 201, body = ApiToken)))]
pub async fn create_token(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<NewToken>,
) -> ApiResult<(StatusCode, axum::Json<ApiToken>)> {
    let name = bounded("name", &req.name, 1, 100)?;
    if req.expires_at.is_some_and(|e| e <= Utc::now()) {
        return Err(ApiError::field("expires_at", "must be in the future"));
    }
    let user = match &req.username {
        None => caller.principal.user.clone(),
        Some(u) => {
            let u = Username::parse(u).map_err(|e| ApiError::field("username", e.reason))?;
            app.store
                .login_lookup(u.as_str())
                .await?
                .map(|(u, _)| u)
                .ok_or_else(|| ApiError::field("username", "no such user"))?
        }
    };
    let secret = new_secret();
    let cred = app
        .store
        .create_credential(
            &caller.actor,
            CredentialKind::ApiToken,
            user.id,
            Some(name),
            token_hash(&secret),
            req.expires_at,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(token_dto(cred, Some(secret))),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn revoke_token(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    let cred = app.store.credential(CredentialId(id)).await?;
    if cred.kind != CredentialKind::ApiToken {
        return Err(ApiError::not_found("token"));
    }
    app.store.revoke_credential(&caller.actor, cred.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A random password for a first administrator: 16 characters from an unambiguous alphabet.
pub fn new_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let mut p: String = (0..14)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    p.push_str("-7");
    p
}
