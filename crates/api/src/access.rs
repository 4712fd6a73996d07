//! Who is calling, and may they? Every API route has one rule in [`RULES`]; a route without a rule is
//! refused (and the permission-matrix test fails), so a new route cannot ship unguarded by accident.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use chrono::Utc;
use kefu_domain::Permission;
use kefu_store::{Actor, Credential, CredentialKind, User};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::problem::ApiError;

pub const SESSION_COOKIE: &str = "kefu_session";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential needed: sign-in itself.
    Public,
    /// A signed-in caller whose role has this permission.
    Signed(Permission),
}

use Access::*;
use Permission::*;

/// (method, route template, rule). Templates are axum's, as in the OpenAPI document.
pub const RULES: &[(&str, &str, Access)] = &[
    ("POST", "/api/v1/auth/login", Public),
    ("POST", "/api/v1/auth/logout", Signed(OwnAccount)),
    ("GET", "/api/v1/auth/me", Signed(OwnAccount)),
    ("POST", "/api/v1/auth/password", Signed(OwnAccount)),
    ("GET", "/api/v1/tokens", Signed(TokensManage)),
    ("POST", "/api/v1/tokens", Signed(TokensManage)),
    ("DELETE", "/api/v1/tokens/{id}", Signed(TokensManage)),
    ("GET", "/api/v1/units", Signed(UnitsRead)),
    ("POST", "/api/v1/units", Signed(UnitsWrite)),
    ("PATCH", "/api/v1/units/{id}", Signed(UnitsWrite)),
    ("GET", "/api/v1/roles", Signed(UsersRead)),
    ("GET", "/api/v1/users", Signed(UsersRead)),
    ("POST", "/api/v1/users", Signed(UsersWrite)),
    ("GET", "/api/v1/users/{id}", Signed(UsersRead)),
    ("PATCH", "/api/v1/users/{id}", Signed(UsersWrite)),
    ("POST", "/api/v1/users/{id}/password", Signed(UsersWrite)),
    ("GET", "/api/v1/customers", Signed(CustomersRead)),
    ("POST", "/api/v1/customers", Signed(CustomersWrite)),
    (
        "GET",
        "/api/v1/customers/by-phone/{phone}",
        Signed(CustomersRead),
    ),
    ("GET", "/api/v1/customers/{id}", Signed(CustomersRead)),
    ("PATCH", "/api/v1/customers/{id}", Signed(CustomersWrite)),
    (
        "POST",
        "/api/v1/customers/{id}/payments",
        Signed(PaymentsWrite),
    ),
    ("GET", "/api/v1/imports", Signed(ImportsRead)),
    ("POST", "/api/v1/imports", Signed(ImportsRun)),
    ("GET", "/api/v1/imports/{id}", Signed(ImportsRead)),
    ("GET", "/api/v1/audit", Signed(AuditRead)),
    ("GET", "/api/v1/extensions", Signed(TelephonyRead)),
    ("POST", "/api/v1/extensions", Signed(TelephonyManage)),
    ("GET", "/api/v1/extensions/{id}", Signed(TelephonyRead)),
    ("PATCH", "/api/v1/extensions/{id}", Signed(TelephonyManage)),
    ("DELETE", "/api/v1/extensions/{id}", Signed(TelephonyManage)),
    (
        "POST",
        "/api/v1/extensions/{id}/password",
        Signed(TelephonyManage),
    ),
    ("GET", "/api/v1/trunks", Signed(TelephonyRead)),
    ("POST", "/api/v1/trunks", Signed(TelephonyManage)),
    ("GET", "/api/v1/trunks/{id}", Signed(TelephonyRead)),
    ("PATCH", "/api/v1/trunks/{id}", Signed(TelephonyManage)),
    ("DELETE", "/api/v1/trunks/{id}", Signed(TelephonyManage)),
    ("GET", "/api/v1/routes", Signed(TelephonyRead)),
    ("POST", "/api/v1/routes", Signed(TelephonyManage)),
    ("GET", "/api/v1/routes/{id}", Signed(TelephonyRead)),
    ("PATCH", "/api/v1/routes/{id}", Signed(TelephonyManage)),
    ("DELETE", "/api/v1/routes/{id}", Signed(TelephonyManage)),
    ("GET", "/api/v1/registrations", Signed(TelephonyRead)),
    ("GET", "/api/v1/calls", Signed(CallsRead)),
    ("GET", "/api/v1/calls/active", Signed(TelephonyRead)),
    ("GET", "/api/v1/calls/{id}", Signed(CallsRead)),
    ("GET", "/api/v1/calendars", Signed(WorkOrdersRead)),
    ("POST", "/api/v1/calendars", Signed(CalendarsManage)),
    ("GET", "/api/v1/calendars/{id}", Signed(WorkOrdersRead)),
    ("PATCH", "/api/v1/calendars/{id}", Signed(CalendarsManage)),
    ("GET", "/api/v1/work-order-types", Signed(WorkOrdersRead)),
    (
        "POST",
        "/api/v1/work-order-types",
        Signed(WorkOrderTypesManage),
    ),
    (
        "GET",
        "/api/v1/work-order-types/{id}",
        Signed(WorkOrdersRead),
    ),
    (
        "PATCH",
        "/api/v1/work-order-types/{id}",
        Signed(WorkOrderTypesManage),
    ),
    ("GET", "/api/v1/work-orders", Signed(WorkOrdersRead)),
    ("POST", "/api/v1/work-orders", Signed(WorkOrdersCreate)),
    (
        "GET",
        "/api/v1/work-orders/export",
        Signed(WorkOrdersExport),
    ),
    (
        "GET",
        "/api/v1/work-orders/by-no/{no}",
        Signed(WorkOrdersRead),
    ),
    ("GET", "/api/v1/work-orders/{id}", Signed(WorkOrdersRead)),
    ("PATCH", "/api/v1/work-orders/{id}", Signed(WorkOrdersAct)),
    (
        "POST",
        "/api/v1/work-orders/{id}/actions",
        Signed(WorkOrdersAct),
    ),
    (
        "GET",
        "/api/v1/work-orders/{id}/pdf",
        Signed(WorkOrdersRead),
    ),
    ("POST", "/api/v1/status-query", Signed(StatusQuery)),
    ("POST", "/api/v1/status-query/urge", Signed(StatusQuery)),
    ("POST", "/api/v1/attachments", Signed(AttachmentsUpload)),
    ("GET", "/api/v1/attachments/{id}", Signed(WorkOrdersRead)),
    ("GET", "/api/v1/notifications", Signed(NotificationsOwn)),
    (
        "POST",
        "/api/v1/notifications/{id}/read",
        Signed(NotificationsOwn),
    ),
    (
        "POST",
        "/api/v1/notifications/read-all",
        Signed(NotificationsOwn),
    ),
    ("GET", "/api/v1/notifications/ws", Signed(NotificationsOwn)),
    ("GET", "/api/v1/saved-filters", Signed(WorkOrdersRead)),
    ("POST", "/api/v1/saved-filters", Signed(WorkOrdersRead)),
    (
        "DELETE",
        "/api/v1/saved-filters/{id}",
        Signed(WorkOrdersRead),
    ),
    // Queues are read by everyone with telephony.read too: ivr.read includes them.
    ("GET", "/api/v1/queues", Signed(IvrRead)),
    ("POST", "/api/v1/queues", Signed(IvrManage)),
    ("PATCH", "/api/v1/queues/{id}", Signed(IvrManage)),
    ("GET", "/api/v1/ivr/documents", Signed(IvrRead)),
    ("POST", "/api/v1/ivr/documents", Signed(IvrManage)),
    ("PATCH", "/api/v1/ivr/documents/{id}", Signed(IvrManage)),
    ("GET", "/api/v1/outbound-messages", Signed(IvrRead)),
    ("GET", "/api/v1/surveys", Signed(IvrRead)),
    ("GET", "/api/v1/ivr/prompts", Signed(IvrRead)),
    ("POST", "/api/v1/ivr/prompts", Signed(IvrManage)),
    (
        "GET",
        "/api/v1/ivr/prompts/{key}/{language}/audio",
        Signed(IvrRead),
    ),
    (
        "PUT",
        "/api/v1/ivr/prompts/{key}/{language}/audio",
        Signed(IvrManage),
    ),
    (
        "DELETE",
        "/api/v1/ivr/prompts/{key}/{language}/audio",
        Signed(IvrManage),
    ),
    // ACD: agents, their calls, supervisors, wallboard, CTI
    ("GET", "/api/v1/agents", Signed(AgentsRead)),
    ("POST", "/api/v1/agents", Signed(AgentsManage)),
    ("PATCH", "/api/v1/agents/{id}", Signed(AgentsManage)),
    ("GET", "/api/v1/agents/me", Signed(AgentDesk)),
    ("POST", "/api/v1/agents/me/login", Signed(AgentDesk)),
    ("POST", "/api/v1/agents/me/logout", Signed(AgentDesk)),
    ("POST", "/api/v1/agents/me/state", Signed(AgentDesk)),
    ("POST", "/api/v1/agents/{id}/state", Signed(AcdSupervise)),
    ("GET", "/api/v1/agents/{id}/state-log", Signed(AcdReports)),
    ("GET", "/api/v1/acd/reasons", Signed(AgentsRead)),
    ("GET", "/api/v1/agents/me/calls", Signed(AgentDesk)),
    (
        "POST",
        "/api/v1/agent-calls/{id}/{action}",
        Signed(AgentDesk),
    ),
    (
        "POST",
        "/api/v1/agent-calls/{id}/listen",
        Signed(AcdSupervise),
    ),
    (
        "POST",
        "/api/v1/agent-calls/{id}/whisper",
        Signed(AcdSupervise),
    ),
    (
        "POST",
        "/api/v1/agent-calls/{id}/barge",
        Signed(AcdSupervise),
    ),
    ("GET", "/api/v1/wallboard", Signed(AcdReports)),
    ("GET", "/api/v1/reports/queues", Signed(AcdReports)),
    ("GET", "/api/v1/cti", Signed(AgentDesk)),
    // ACD records (store helper): recordings, agents' tasks, webhooks
    ("GET", "/api/v1/recordings", Signed(RecordingsPlay)),
    (
        "GET",
        "/api/v1/recordings/{id}/audio",
        Signed(RecordingsPlay),
    ),
    ("GET", "/api/v1/agents/me/tasks", Signed(AgentDesk)),
    ("POST", "/api/v1/agents/me/tasks", Signed(AgentDesk)),
    ("PATCH", "/api/v1/agents/me/tasks/{id}", Signed(AgentDesk)),
    ("GET", "/api/v1/webhooks", Signed(WebhooksManage)),
    ("POST", "/api/v1/webhooks", Signed(WebhooksManage)),
    ("PATCH", "/api/v1/webhooks/{id}", Signed(WebhooksManage)),
    ("DELETE", "/api/v1/webhooks/{id}", Signed(WebhooksManage)),
    ("GET", "/api/v1/ivr/flows", Signed(IvrRead)),
    ("POST", "/api/v1/ivr/flows", Signed(IvrManage)),
    ("POST", "/api/v1/ivr/flows/import", Signed(IvrManage)),
    ("GET", "/api/v1/ivr/flows/{id}", Signed(IvrRead)),
    ("GET", "/api/v1/ivr/flows/{id}/versions", Signed(IvrRead)),
    ("POST", "/api/v1/ivr/flows/{id}/versions", Signed(IvrManage)),
    (
        "GET",
        "/api/v1/ivr/flows/{id}/versions/{version}",
        Signed(IvrRead),
    ),
    (
        "POST",
        "/api/v1/ivr/flows/{id}/versions/{version}/publish",
        Signed(IvrManage),
    ),
    ("GET", "/api/v1/ivr/flows/{id}/funnel", Signed(IvrRead)),
    ("POST", "/api/v1/ivr/validate", Signed(IvrRead)),
    ("GET", "/api/v1/ivr/known", Signed(IvrRead)),
    ("GET", "/api/v1/ivr/traces", Signed(IvrRead)),
    ("POST", "/api/v1/ivr/simulations", Signed(IvrManage)),
    (
        "POST",
        "/api/v1/ivr/simulations/{id}/input",
        Signed(IvrManage),
    ),
    // The knowledge base (issue 7).
    ("GET", "/api/v1/kb/categories", Signed(KbRead)),
    ("POST", "/api/v1/kb/categories", Signed(KbManage)),
    ("PATCH", "/api/v1/kb/categories/{id}", Signed(KbManage)),
    ("DELETE", "/api/v1/kb/categories/{id}", Signed(KbManage)),
    ("GET", "/api/v1/kb/articles", Signed(KbRead)),
    ("POST", "/api/v1/kb/articles", Signed(KbEdit)),
    ("GET", "/api/v1/kb/articles/{id}", Signed(KbRead)),
    ("PATCH", "/api/v1/kb/articles/{id}", Signed(KbEdit)),
    ("POST", "/api/v1/kb/articles/{id}/submit", Signed(KbEdit)),
    (
        "POST",
        "/api/v1/kb/articles/{id}/approve",
        Signed(KbApprove),
    ),
    ("POST", "/api/v1/kb/articles/{id}/reject", Signed(KbApprove)),
    (
        "POST",
        "/api/v1/kb/articles/{id}/archive",
        Signed(KbApprove),
    ),
    (
        "POST",
        "/api/v1/kb/articles/{id}/publish",
        Signed(KbApprove),
    ),
    ("GET", "/api/v1/kb/articles/{id}/versions", Signed(KbRead)),
    (
        "GET",
        "/api/v1/kb/articles/{id}/versions/{version}",
        Signed(KbRead),
    ),
    ("GET", "/api/v1/kb/articles/{id}/diff", Signed(KbRead)),
    ("POST", "/api/v1/kb/articles/{id}/restore", Signed(KbEdit)),
    (
        "POST",
        "/api/v1/kb/articles/{id}/attachments",
        Signed(KbEdit),
    ),
    ("GET", "/api/v1/kb/attachments/{id}", Signed(KbRead)),
    ("DELETE", "/api/v1/kb/attachments/{id}", Signed(KbEdit)),
    ("GET", "/api/v1/kb/search", Signed(KbRead)),
    ("GET", "/api/v1/kb/suggest", Signed(KbRead)),
    ("POST", "/api/v1/kb/articles/{id}/click", Signed(KbRead)),
    ("POST", "/api/v1/kb/articles/{id}/vote", Signed(KbRead)),
    ("PUT", "/api/v1/kb/articles/{id}/favorite", Signed(KbRead)),
    (
        "DELETE",
        "/api/v1/kb/articles/{id}/favorite",
        Signed(KbRead),
    ),
    ("GET", "/api/v1/kb/favorites", Signed(KbRead)),
    ("GET", "/api/v1/kb/hot", Signed(KbRead)),
    ("GET", "/api/v1/kb/no-results", Signed(KbEdit)),
    ("GET", "/api/v1/kb/synonyms", Signed(KbRead)),
    ("PUT", "/api/v1/kb/synonyms", Signed(KbManage)),
    ("GET", "/api/v1/kb/export", Signed(KbManage)),
    ("POST", "/api/v1/kb/import", Signed(KbManage)),
    // The customer portal and the IVR: public, published, valid articles only.
    ("GET", "/api/v1/public/kb/search", Public),
    ("GET", "/api/v1/public/kb/suggest", Public),
    ("GET", "/api/v1/public/kb/articles/{id}", Public),
];

pub fn rule(method: &Method, path: &str) -> Option<Access> {
    RULES
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, a)| *a)
}

/// The signed-in caller of this request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub credential: Credential,
}

/// SHA-256 of a bearer secret, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

/// A cookie-authenticated write must come from kefu's own pages: a browser sends `Origin` on every
/// cross-origin write, and one that names another host is refused (defence in depth over SameSite).
fn cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return true;
    };
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    origin_host != host
}

/// Route layer: authenticates and authorizes per [`RULES`].
pub async fn guard(
    State(app): State<AppState>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let path = matched.as_ref().map(MatchedPath::as_str).unwrap_or("");
    let Some(access) = rule(req.method(), path) else {
        tracing::error!(method = %req.method(), path, "route has no access rule; refusing");
        return Err(ApiError::forbidden("this route has no access rule"));
    };
    let Signed(permission) = access else {
        return Ok(next.run(req).await);
    };
    let (token, via_cookie) = match bearer(req.headers()) {
        Some(t) => (t, false),
        None => match session_cookie(req.headers()) {
            Some(t) => (t, true),
            None => return Err(ApiError::unauthorized()),
        },
    };
    let Some((credential, user)) = app
        .store
        .authenticate(&token_hash(token), Utc::now())
        .await?
    else {
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the session or token is unknown, expired or revoked: sign in again",
        ));
    };
    if via_cookie && credential.kind != CredentialKind::Session {
        return Err(ApiError::unauthorized());
    }
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if via_cookie && unsafe_method && cross_site(req.headers()) {
        return Err(ApiError::forbidden("cross-site request refused"));
    }
    if !user.role.can(permission) {
        return Err(ApiError::forbidden(format!(
            "role {} lacks permission {}",
            user.role, permission
        )));
    }
    req.extensions_mut().insert(Principal { user, credential });
    Ok(next.run(req).await)
}

/// What a handler needs to know about the caller: who (for permissions and the audit log), from where
/// and in which request.
pub struct Caller {
    pub principal: Principal,
    pub actor: Actor,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)?;
        let actor = Actor {
            user_id: Some(principal.user.id),
            name: principal.user.username.clone(),
            source_ip: source_ip(parts),
            request_id: request_id(parts),
        };
        Ok(Caller { principal, actor })
    }
}

pub fn source_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

pub fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
