//! Telephony configuration over HTTP: the registrar's extensions, SIP trunks and called-number (DID)
//! routes; and the live view of the running SIP engine (registrations, calls in progress) through the
//! [`LiveTelephony`] trait the binary plugs in.
//!
//! Secrets go one way: SIP passwords come in and are stored as digest hashes (HA1), a carrier's password
//! is stored for outbound digest; none of them is ever returned (only `has_password` flags).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_domain::{
    CallDirection, CallerIdNumber, CarrierPassword, DidNumber, DidRouteId, ExtensionId,
    ExtensionNumber, FieldError, FieldErrors, IpNet, RouteTarget, SipProxy, SipTransport,
    SipUsername, TrunkId, TrunkKind, UnitId, UserId, check_sip_password, parse_source,
};
use kefu_store::{
    DidRouteChanges, DigestSecrets, ExtensionChanges, ExtensionOwner, InboundDigest, NewDidRoute,
    NewExtension, NewTrunk, StoreError, TrunkChanges,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Json, Path};
use crate::{AppState, double_option, present};

// ---- the running engine ----

/// What the running SIP engine shows of itself. The binary implements it and hands it to
/// [`AppState::with_telephony`](crate::AppState::with_telephony); without one, the live routes answer
/// 503.
pub trait LiveTelephony: Send + Sync {
    /// Current registrations of kefu's extensions.
    fn registrations(&self) -> Vec<RegistrationView>;
    /// Calls in progress.
    fn active_calls(&self) -> Vec<ActiveCallView>;
    /// Called after every successful change of extensions, trunks or routes through the API, so the
    /// engine can reload what it caches (trunk registrations, for one). Cheap and non-blocking, please.
    fn config_changed(&self) {}
}

/// One registered contact of an extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RegistrationView {
    /// The extension number (the digest username).
    pub extension: String,
    /// The Contact URI the phone registered, e.g. `sip:8001@192.168.1.23:5062`.
    pub contact: String,
    /// Where the REGISTER came from: `ip:port`.
    pub source: String,
    /// udp or tcp.
    pub transport: String,
    pub user_agent: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A call in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ActiveCallView {
    /// Shared by the legs of the call; its call records will carry it.
    pub call_uuid: uuid::Uuid,
    /// inbound or outbound.
    #[schema(value_type = String)]
    pub direction: CallDirection,
    pub caller: String,
    pub callee: String,
    /// The engine's word for the call's state, e.g. ringing, answered, on_hold.
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

fn engine(app: &AppState) -> ApiResult<Arc<dyn LiveTelephony>> {
    app.telephony().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "telephony not running: this kefu serves no SIP",
        )
    })
}

fn config_changed(app: &AppState) {
    if let Some(t) = app.telephony() {
        t.config_changed();
    }
}

/// The extensions' current registrations, by extension number. 503 when the SIP engine is not running.
#[utoipa::path(get, path = "/api/v1/registrations", tag = "telephony", responses((status = 200, body = [RegistrationView]), (status = 503, body = crate::problem::Problem)))]
pub async fn registrations(
    State(app): State<AppState>,
) -> ApiResult<axum::Json<Vec<RegistrationView>>> {
    let mut regs = engine(&app)?.registrations();
    regs.sort_by(|a, b| (&a.extension, &a.contact).cmp(&(&b.extension, &b.contact)));
    Ok(axum::Json(regs))
}

/// Calls in progress, oldest first. 503 when the SIP engine is not running.
#[utoipa::path(get, path = "/api/v1/calls/active", tag = "calls", responses((status = 200, body = [ActiveCallView]), (status = 503, body = crate::problem::Problem)))]
pub async fn active_calls(
    State(app): State<AppState>,
) -> ApiResult<axum::Json<Vec<ActiveCallView>>> {
    let mut calls = engine(&app)?.active_calls();
    calls.sort_by_key(|c| (c.started_at, c.call_uuid));
    Ok(axum::Json(calls))
}

// ---- digest secrets ----

/// The digest hashes (HA1) of `username:realm:password`, MD5 and SHA-256, lower-case hex: what the
/// registrar keeps instead of a phone's password.
pub fn digest_secrets(username: &str, realm: &str, password: &str) -> DigestSecrets {
    use md5::Digest as _;
    use sha2::Digest as _;
    let a1 = format!("{username}:{realm}:{password}");
    DigestSecrets {
        ha1_md5: hex::encode(md5::Md5::digest(a1.as_bytes())),
        ha1_sha256: hex::encode(sha2::Sha256::digest(a1.as_bytes())),
    }
}

fn yes() -> bool {
    true
}

/// An optional text: absent, `null` and blank are all "none".
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

// ---- extensions ----

/// A phone of the registrar. The password is never returned.
#[derive(Serialize, ToSchema)]
pub struct Extension {
    pub id: uuid::Uuid,
    /// 2-8 digits; also the SIP username.
    pub number: String,
    pub display_name: String,
    /// The agent whose phone it is (or `unit_id`).
    pub user_id: Option<uuid::Uuid>,
    /// The site whose phone it is (or `user_id`).
    pub unit_id: Option<uuid::Uuid>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<kefu_store::Extension> for Extension {
    fn from(e: kefu_store::Extension) -> Extension {
        Extension {
            id: e.id.0,
            number: e.number,
            display_name: e.display_name,
            user_id: e.owner.user_id().map(|u| u.0),
            unit_id: e.owner.unit_id().map(|u| u.0),
            enabled: e.enabled,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    /// 2-8 digits, unique.
    pub number: String,
    pub display_name: String,
    /// An agent's phone: the user. Give this or `unit_id`.
    pub user_id: Option<uuid::Uuid>,
    /// A site's phone: the unit. Give this or `user_id`.
    pub unit_id: Option<uuid::Uuid>,
    /// The SIP password: 8-64 characters, not the number. Stored only as digest hashes.
    pub password: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn owner_of(
    errs: &mut FieldErrors,
    user_id: Option<uuid::Uuid>,
    unit_id: Option<uuid::Uuid>,
) -> Option<ExtensionOwner> {
    match (user_id, unit_id) {
        (Some(u), None) => Some(ExtensionOwner::User(UserId(u))),
        (None, Some(u)) => Some(ExtensionOwner::Unit(UnitId(u))),
        (Some(_), Some(_)) => {
            errs.push(
                "unit_id",
                "an extension has one owner: give user_id or unit_id, not both",
            );
            None
        }
        (None, None) => {
            errs.push(
                "user_id",
                "an extension belongs to a user (user_id) or a site (unit_id)",
            );
            None
        }
    }
}

/// Store errors about an extension's references, as the fields that named them.
fn extension_refs(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound("user") => ApiError::field("user_id", "no such user"),
        StoreError::NotFound("unit") => ApiError::field("unit_id", "no such unit"),
        e => e.into(),
    }
}

fn display_name(errs: &mut FieldErrors, s: &str) -> Option<String> {
    errs.check("display_name", kefu_domain::bounded_text(s, 1, 40))
}

/// Every extension, by number.
#[utoipa::path(get, path = "/api/v1/extensions", tag = "telephony", responses((status = 200, body = [Extension])))]
pub async fn list_extensions(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<Extension>>> {
    let all = app.store.extensions().await?;
    Ok(axum::Json(all.into_iter().map(Extension::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/extensions", tag = "telephony", request_body = ExtensionInput, responses((status = 201, body = Extension), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_extension(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<ExtensionInput>,
) -> ApiResult<(StatusCode, axum::Json<Extension>)> {
    let mut errs = FieldErrors::new();
    let number = errs.check("number", ExtensionNumber::parse(&req.number));
    let name = display_name(&mut errs, &req.display_name);
    let owner = owner_of(&mut errs, req.user_id, req.unit_id);
    errs.check(
        "password",
        check_sip_password(&req.password, req.number.trim()),
    );
    errs.clone().into_result()?;
    let (Some(number), Some(display_name), Some(owner)) = (number, name, owner) else {
        return Err(errs.into());
    };
    let secrets = digest_secrets(number.as_str(), &app.settings.sip_realm, &req.password);
    let ext = app
        .store
        .create_extension(
            &caller.actor,
            NewExtension {
                number,
                display_name,
                owner,
                enabled: req.enabled,
                secrets,
            },
        )
        .await
        .map_err(extension_refs)?;
    config_changed(&app);
    Ok((StatusCode::CREATED, axum::Json(ext.into())))
}

#[utoipa::path(get, path = "/api/v1/extensions/{id}", tag = "telephony", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Extension), (status = 404, body = crate::problem::Problem)))]
pub async fn get_extension(
    State(app): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<Extension>> {
    Ok(axum::Json(
        app.store.extension(ExtensionId(id)).await?.into(),
    ))
}

/// Any subset of the fields. A new `number` needs a new `password` (the digest hashes include the
/// number). Setting `user_id` or `unit_id` moves the phone to that owner.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionPatch {
    #[serde(default, deserialize_with = "present")]
    pub number: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub user_id: Option<uuid::Uuid>,
    #[serde(default, deserialize_with = "present")]
    pub unit_id: Option<uuid::Uuid>,
    #[serde(default, deserialize_with = "present")]
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub password: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/extensions/{id}", tag = "telephony", params(("id" = uuid::Uuid, Path)), request_body = ExtensionPatch, responses((status = 200, body = Extension), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_extension(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<ExtensionPatch>,
) -> ApiResult<axum::Json<Extension>> {
    let current = app.store.extension(ExtensionId(id)).await?;
    let mut errs = FieldErrors::new();
    let number = match &p.number {
        Some(n) => errs.check("number", ExtensionNumber::parse(n)).map(Some),
        None => Some(None),
    };
    let name = match &p.display_name {
        Some(n) => display_name(&mut errs, n).map(Some),
        None => Some(None),
    };
    let owner = match (p.user_id, p.unit_id) {
        (None, None) => Some(None),
        (u, n) => owner_of(&mut errs, u, n).map(Some),
    };
    // The number the phone will have, for the password rules and its hashes.
    let new_number = number
        .clone()
        .flatten()
        .map(|n| n.into_string())
        .unwrap_or_else(|| current.number.clone());
    let secrets = match &p.password {
        Some(pw) => errs
            .check("password", check_sip_password(pw, &new_number))
            .map(|()| Some(digest_secrets(&new_number, &app.settings.sip_realm, pw))),
        None if new_number != current.number => {
            errs.push(
                "password",
                "required when the number changes: the digest secret includes the number",
            );
            None
        }
        None => Some(None),
    };
    errs.clone().into_result()?;
    let (Some(number), Some(display_name), Some(owner), Some(secrets)) =
        (number, name, owner, secrets)
    else {
        return Err(errs.into());
    };
    let ext = app
        .store
        .update_extension(
            &caller.actor,
            ExtensionId(id),
            ExtensionChanges {
                number,
                display_name,
                owner,
                enabled: p.enabled,
                secrets,
            },
        )
        .await
        .map_err(extension_refs)?;
    config_changed(&app);
    Ok(axum::Json(ext.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionPassword {
    /// 8-64 characters, not the number.
    pub password: String,
}

/// Sets the phone's SIP password (stored as digest hashes only).
#[utoipa::path(post, path = "/api/v1/extensions/{id}/password", tag = "telephony", params(("id" = uuid::Uuid, Path)), request_body = ExtensionPassword, responses((status = 204), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn set_extension_password(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<ExtensionPassword>,
) -> ApiResult<StatusCode> {
    let ext = app.store.extension(ExtensionId(id)).await?;
    check_sip_password(&req.password, &ext.number)
        .map_err(|e| ApiError::field("password", e.reason))?;
    let secrets = digest_secrets(&ext.number, &app.settings.sip_realm, &req.password);
    app.store
        .set_extension_secrets(&caller.actor, ExtensionId(id), secrets)
        .await?;
    config_changed(&app);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/extensions/{id}", tag = "telephony", params(("id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_extension(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    app.store
        .delete_extension(&caller.actor, ExtensionId(id))
        .await?;
    config_changed(&app);
    Ok(StatusCode::NO_CONTENT)
}

// ---- trunks ----

/// A SIP trunk. Passwords are never returned: `has_password` and `has_inbound_password` tell whether
/// one is set.
#[derive(Serialize, ToSchema)]
pub struct Trunk {
    pub id: uuid::Uuid,
    pub name: String,
    /// carrier or pbx.
    pub kind: String,
    pub enabled: bool,
    /// Networks inbound calls are accepted from, in CIDR notation.
    pub allowed_sources: Vec<String>,
    /// The username the peer authenticates inbound calls with (digest), if it must.
    pub inbound_username: Option<String>,
    pub has_inbound_password: bool,
    /// The carrier's or PBX's SIP server for outbound calls: `host:port`.
    pub proxy: Option<String>,
    /// udp or tcp.
    pub transport: String,
    /// kefu's username at the carrier (outbound digest and REGISTER).
    pub username: Option<String>,
    pub has_password: bool,
    /// Whether kefu registers with the carrier.
    pub register: bool,
    /// Seconds between registrations.
    pub register_expires: u32,
    /// The number presented on outbound calls.
    pub caller_id: Option<String>,
    pub max_channels: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<kefu_store::Trunk> for Trunk {
    fn from(t: kefu_store::Trunk) -> Trunk {
        Trunk {
            id: t.id.0,
            name: t.name,
            kind: t.kind.as_str().into(),
            enabled: t.enabled,
            allowed_sources: t.allowed_sources,
            inbound_username: t.inbound_username,
            has_inbound_password: t.has_inbound_password,
            proxy: t.proxy,
            transport: t.transport.as_str().into(),
            username: t.username,
            has_password: t.has_password,
            register: t.register,
            register_expires: t.register_expires,
            caller_id: t.caller_id,
            max_channels: t.max_channels,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

fn default_transport() -> String {
    "udp".into()
}

fn default_expires() -> i64 {
    3600
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrunkInput {
    /// 1-64 characters, unique.
    pub name: String,
    /// carrier (运营商) or pbx (用户交换机).
    pub kind: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// IP addresses or CIDR networks inbound calls are accepted from, e.g. `["203.0.113.7", "10.20.0.0/16"]`.
    #[serde(default)]
    pub allowed_sources: Vec<String>,
    /// Inbound digest: the username the peer authenticates with. Needs `inbound_password`.
    pub inbound_username: Option<String>,
    /// 8-64 characters; stored only as digest hashes.
    pub inbound_password: Option<String>,
    /// Outbound: `host:port` (port 5060 if left out).
    pub proxy: Option<String>,
    /// udp (default) or tcp.
    #[serde(default = "default_transport")]
    pub transport: String,
    /// kefu's username at the carrier.
    pub username: Option<String>,
    /// kefu's password at the carrier: stored for outbound digest, never returned.
    pub password: Option<String>,
    /// Register with the carrier (needs proxy, username and password).
    #[serde(default)]
    pub register: bool,
    /// 60-3600 seconds; default 3600.
    #[serde(default = "default_expires")]
    pub register_expires: i64,
    /// 3-20 digits, optionally after `+`.
    pub caller_id: Option<String>,
    /// 1-10000 simultaneous calls.
    pub max_channels: Option<i64>,
}

const MAX_SOURCES: usize = 100;

fn trunk_name(errs: &mut FieldErrors, s: &str) -> Option<String> {
    errs.check("name", kefu_domain::bounded_text(s, 1, 64))
}

fn sources(errs: &mut FieldErrors, list: &[String]) -> Option<Vec<IpNet>> {
    if list.len() > MAX_SOURCES {
        errs.push(
            "allowed_sources",
            format!("at most {MAX_SOURCES} entries: use CIDR networks"),
        );
        return None;
    }
    let mut out: Vec<IpNet> = Vec::with_capacity(list.len());
    let mut ok = true;
    for (i, s) in list.iter().enumerate() {
        match errs.check(&format!("allowed_sources[{i}]"), parse_source(s)) {
            Some(net) if !out.contains(&net) => out.push(net),
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn expires(errs: &mut FieldErrors, v: i64) -> Option<u32> {
    match u32::try_from(v) {
        Ok(n) if (60..=3600).contains(&n) => Some(n),
        _ => {
            errs.push("register_expires", "must be 60 to 3600 seconds");
            None
        }
    }
}

fn channels(errs: &mut FieldErrors, v: i64) -> Option<u32> {
    match u32::try_from(v) {
        Ok(n) if (1..=10_000).contains(&n) => Some(n),
        _ => {
            errs.push("max_channels", "must be 1 to 10000");
            None
        }
    }
}

/// `check` on an optional value: `Some(None)` when absent, `None` when invalid (error recorded).
fn opt<T>(
    errs: &mut FieldErrors,
    field: &str,
    v: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Option<Option<T>> {
    match v {
        Some(s) => errs.check(field, parse(s)).map(Some),
        None => Some(None),
    }
}

/// The inbound digest from its two halves, which come together or not at all.
fn inbound(
    errs: &mut FieldErrors,
    realm: &str,
    username: Option<&str>,
    password: Option<&str>,
) -> Option<Option<InboundDigest>> {
    match (username, password) {
        (None, None) => Some(None),
        (Some(_), None) => {
            errs.push("inbound_password", "required with inbound_username");
            None
        }
        (None, Some(_)) => {
            errs.push("inbound_username", "required with inbound_password");
            None
        }
        (Some(u), Some(p)) => {
            let user = errs.check("inbound_username", SipUsername::parse(u))?;
            errs.check("inbound_password", check_sip_password(p, user.as_str()))?;
            let secrets = digest_secrets(user.as_str(), realm, p);
            Some(Some(InboundDigest {
                username: user,
                secrets,
            }))
        }
    }
}

/// What outbound calls and registration need, checked on the trunk as it will be.
fn outbound_rules(
    errs: &mut FieldErrors,
    proxy: bool,
    username: bool,
    password: bool,
    register: bool,
) {
    if register && !proxy {
        errs.push("proxy", "required when register is true");
    }
    if !username && password {
        errs.push("username", "required with a password");
    } else if !username && register {
        errs.push("username", "required when register is true");
    }
    if register && !password {
        errs.push("password", "required when register is true");
    }
}

fn carrier_password(s: &str) -> Result<CarrierPassword, FieldError> {
    CarrierPassword::parse(s)
}

/// Every trunk, by name.
#[utoipa::path(get, path = "/api/v1/trunks", tag = "telephony", responses((status = 200, body = [Trunk])))]
pub async fn list_trunks(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<Trunk>>> {
    let all = app.store.trunks().await?;
    Ok(axum::Json(all.into_iter().map(Trunk::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/trunks", tag = "telephony", request_body = TrunkInput, responses((status = 201, body = Trunk), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_trunk(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<TrunkInput>,
) -> ApiResult<(StatusCode, axum::Json<Trunk>)> {
    let mut errs = FieldErrors::new();
    let name = trunk_name(&mut errs, &req.name);
    let kind = errs.check("kind", TrunkKind::parse(&req.kind));
    let allowed = sources(&mut errs, &req.allowed_sources);
    let inbound = inbound(
        &mut errs,
        &app.settings.sip_realm,
        given(&req.inbound_username),
        req.inbound_password.as_deref(),
    );
    let proxy = opt(&mut errs, "proxy", given(&req.proxy), SipProxy::parse);
    let transport = errs.check("transport", SipTransport::parse(&req.transport));
    let username = opt(
        &mut errs,
        "username",
        given(&req.username),
        SipUsername::parse,
    );
    let password = opt(
        &mut errs,
        "password",
        req.password.as_deref(),
        carrier_password,
    );
    let register_expires = expires(&mut errs, req.register_expires);
    let caller_id = opt(
        &mut errs,
        "caller_id",
        given(&req.caller_id),
        CallerIdNumber::parse,
    );
    let max_channels = match req.max_channels {
        Some(v) => channels(&mut errs, v).map(Some),
        None => Some(None),
    };
    outbound_rules(
        &mut errs,
        given(&req.proxy).is_some(),
        given(&req.username).is_some(),
        req.password.is_some(),
        req.register,
    );
    errs.clone().into_result()?;
    let (
        Some(name),
        Some(kind),
        Some(allowed_sources),
        Some(inbound),
        Some(proxy),
        Some(transport),
        Some(username),
        Some(password),
        Some(register_expires),
        Some(caller_id),
        Some(max_channels),
    ) = (
        name,
        kind,
        allowed,
        inbound,
        proxy,
        transport,
        username,
        password,
        register_expires,
        caller_id,
        max_channels,
    )
    else {
        return Err(errs.into());
    };
    let t = app
        .store
        .create_trunk(
            &caller.actor,
            NewTrunk {
                name,
                kind,
                enabled: req.enabled,
                allowed_sources,
                inbound,
                proxy,
                transport,
                username,
                password,
                register: req.register,
                register_expires,
                caller_id,
                max_channels,
            },
        )
        .await?;
    config_changed(&app);
    Ok((StatusCode::CREATED, axum::Json(t.into())))
}

#[utoipa::path(get, path = "/api/v1/trunks/{id}", tag = "telephony", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Trunk), (status = 404, body = crate::problem::Problem)))]
pub async fn get_trunk(
    State(app): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<Trunk>> {
    Ok(axum::Json(app.store.trunk(TrunkId(id)).await?.into()))
}

/// Any subset of the fields; `null` clears an optional one. A new `inbound_username` needs
/// `inbound_password` too (the digest hashes include the username); `null` for either turns inbound
/// digest off.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrunkPatch {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub allowed_sources: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub inbound_username: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub inbound_password: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub proxy: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub transport: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub password: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub register: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub register_expires: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub caller_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub max_channels: Option<Option<i64>>,
}

/// A PATCH value for a clearable text field: absent → keep, `null` or blank → clear.
fn patch_text(v: &Option<Option<String>>) -> Option<Option<&str>> {
    v.as_ref()
        .map(|inner| inner.as_deref().filter(|s| !s.trim().is_empty()))
}

/// `opt` for a PATCH value: `Some(None)` keep, `Some(Some(None))` clear, `None` invalid.
fn patch_opt<T>(
    errs: &mut FieldErrors,
    field: &str,
    v: Option<Option<&str>>,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Option<Option<Option<T>>> {
    match v {
        None => Some(None),
        Some(inner) => opt(errs, field, inner, parse).map(Some),
    }
}

#[utoipa::path(patch, path = "/api/v1/trunks/{id}", tag = "telephony", params(("id" = uuid::Uuid, Path)), request_body = TrunkPatch, responses((status = 200, body = Trunk), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_trunk(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<TrunkPatch>,
) -> ApiResult<axum::Json<Trunk>> {
    let current = app.store.trunk(TrunkId(id)).await?;
    let mut errs = FieldErrors::new();
    let name = match &p.name {
        Some(n) => trunk_name(&mut errs, n).map(Some),
        None => Some(None),
    };
    let kind = opt(&mut errs, "kind", p.kind.as_deref(), TrunkKind::parse);
    let allowed = match &p.allowed_sources {
        Some(list) => sources(&mut errs, list).map(Some),
        None => Some(None),
    };
    // Inbound digest: set both, clear with null on either, or keep.
    let in_user = patch_text(&p.inbound_username);
    let in_pass = p.inbound_password.as_ref().map(|v| v.as_deref());
    let inbound = match (in_user, in_pass) {
        (None, None) => Some(None),
        (Some(None), Some(Some(_))) => {
            errs.push("inbound_password", "no use without inbound_username");
            None
        }
        (Some(Some(_)), Some(None)) => {
            errs.push("inbound_password", "required with inbound_username");
            None
        }
        (Some(None), _) | (_, Some(None)) => Some(Some(None)),
        (Some(Some(u)), None) if Some(u.trim()) == current.inbound_username.as_deref() => {
            Some(None)
        }
        (Some(Some(_)), None) => {
            errs.push(
                "inbound_password",
                "required when inbound_username changes: the digest secret includes the username",
            );
            None
        }
        (u, Some(Some(pw))) => {
            let user = match u {
                Some(Some(u)) => Some(u),
                _ => current.inbound_username.as_deref(),
            };
            match user {
                Some(user) => {
                    inbound(&mut errs, &app.settings.sip_realm, Some(user), Some(pw)).map(Some)
                }
                None => {
                    errs.push("inbound_username", "required with inbound_password");
                    None
                }
            }
        }
    };
    let proxy = patch_opt(&mut errs, "proxy", patch_text(&p.proxy), SipProxy::parse);
    let transport = opt(
        &mut errs,
        "transport",
        p.transport.as_deref(),
        SipTransport::parse,
    );
    let username = patch_opt(
        &mut errs,
        "username",
        patch_text(&p.username),
        SipUsername::parse,
    );
    let password = patch_opt(
        &mut errs,
        "password",
        p.password.as_ref().map(|v| v.as_deref()),
        carrier_password,
    );
    let register_expires = match p.register_expires {
        Some(v) => expires(&mut errs, v).map(Some),
        None => Some(None),
    };
    let caller_id = patch_opt(
        &mut errs,
        "caller_id",
        patch_text(&p.caller_id),
        CallerIdNumber::parse,
    );
    let max_channels = match p.max_channels {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(v)) => channels(&mut errs, v).map(|n| Some(Some(n))),
    };
    // The outbound rules on the trunk as it will be.
    let will_have = |change: Option<Option<&str>>, now: bool| match change {
        Some(v) => v.is_some(),
        None => now,
    };
    outbound_rules(
        &mut errs,
        will_have(patch_text(&p.proxy), current.proxy.is_some()),
        will_have(patch_text(&p.username), current.username.is_some()),
        will_have(
            p.password.as_ref().map(|v| v.as_deref()),
            current.has_password,
        ),
        p.register.unwrap_or(current.register),
    );
    errs.clone().into_result()?;
    let (
        Some(name),
        Some(kind),
        Some(allowed_sources),
        Some(inbound),
        Some(proxy),
        Some(transport),
        Some(username),
        Some(password),
        Some(register_expires),
        Some(caller_id),
        Some(max_channels),
    ) = (
        name,
        kind,
        allowed,
        inbound,
        proxy,
        transport,
        username,
        password,
        register_expires,
        caller_id,
        max_channels,
    )
    else {
        return Err(errs.into());
    };
    let t = app
        .store
        .update_trunk(
            &caller.actor,
            TrunkId(id),
            TrunkChanges {
                name,
                kind,
                enabled: p.enabled,
                allowed_sources,
                inbound,
                proxy,
                transport,
                username,
                password,
                register: p.register,
                register_expires,
                caller_id,
                max_channels,
            },
        )
        .await?;
    config_changed(&app);
    Ok(axum::Json(t.into()))
}

/// Deletes a trunk that no route names (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/trunks/{id}", tag = "telephony", params(("id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn delete_trunk(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    app.store.delete_trunk(&caller.actor, TrunkId(id)).await?;
    config_changed(&app);
    Ok(StatusCode::NO_CONTENT)
}

// ---- DID routes ----

/// Where a called number goes.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// An IVR flow.
    Flow { name: String },
    /// An agent queue.
    Queue { name: String },
    /// One extension.
    Extension { number: String },
    /// A recorded prompt (then hang up).
    Prompt { name: String },
}

impl From<RouteTarget> for Target {
    fn from(t: RouteTarget) -> Target {
        match t {
            RouteTarget::Flow { name } => Target::Flow {
                name: name.into_string(),
            },
            RouteTarget::Queue { name } => Target::Queue {
                name: name.into_string(),
            },
            RouteTarget::Extension { number } => Target::Extension {
                number: number.into_string(),
            },
            RouteTarget::Prompt { name } => Target::Prompt {
                name: name.into_string(),
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DidRoute {
    pub id: uuid::Uuid,
    /// The called number (DID): 3-20 digits.
    pub number: String,
    pub target: Target,
    /// Only calls over this trunk take the route; `null`: any trunk.
    pub trunk_id: Option<uuid::Uuid>,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<kefu_store::DidRoute> for DidRoute {
    fn from(r: kefu_store::DidRoute) -> DidRoute {
        DidRoute {
            id: r.id.0,
            number: r.number,
            target: r.target.into(),
            trunk_id: r.trunk_id.map(|t| t.0),
            description: r.description,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// `{"kind": "flow" | "queue" | "prompt", "name": "…"}` or `{"kind": "extension", "number": "…"}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    /// flow, queue, extension or prompt.
    pub kind: String,
    /// For a flow, queue or prompt: 1-64 of a-z, 0-9, `_`, `-`.
    pub name: Option<String>,
    /// For an extension: its number.
    pub number: Option<String>,
}

fn target(errs: &mut FieldErrors, t: &TargetInput) -> Option<RouteTarget> {
    let kind = t.kind.trim();
    let (wanted, unwanted, value) = match kind {
        "extension" => ("number", "name", &t.number),
        "flow" | "queue" | "prompt" => ("name", "number", &t.name),
        _ => {
            errs.push(
                "target.kind",
                format!("must be one of: {}", RouteTarget::KINDS.join(", ")),
            );
            return None;
        }
    };
    if (if unwanted == "name" {
        &t.name
    } else {
        &t.number
    })
    .is_some()
    {
        errs.push(
            format!("target.{unwanted}"),
            format!("not used with kind {kind}"),
        );
        return None;
    }
    let Some(value) = value else {
        errs.push(
            format!("target.{wanted}"),
            format!("required with kind {kind}"),
        );
        return None;
    };
    match RouteTarget::parse(kind, value) {
        Ok(t) => Some(t),
        Err(e) => {
            errs.push(format!("target.{}", e.field), e.reason);
            None
        }
    }
}

fn description(errs: &mut FieldErrors, v: Option<&str>) -> Option<Option<String>> {
    opt(errs, "description", v, |s| {
        kefu_domain::bounded_text(s, 1, 200)
    })
}

fn route_refs(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound("trunk") => ApiError::field("trunk_id", "no such trunk"),
        StoreError::NotFound("extension") => ApiError::field("target.number", "no such extension"),
        e => e.into(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    /// The called number (DID): 3-20 digits, unique.
    pub number: String,
    pub target: TargetInput,
    /// Take the route only for calls over this trunk.
    pub trunk_id: Option<uuid::Uuid>,
    pub description: Option<String>,
}

/// Every route, by number.
#[utoipa::path(get, path = "/api/v1/routes", tag = "telephony", responses((status = 200, body = [DidRoute])))]
pub async fn list_routes(State(app): State<AppState>) -> ApiResult<axum::Json<Vec<DidRoute>>> {
    let all = app.store.did_routes().await?;
    Ok(axum::Json(all.into_iter().map(DidRoute::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/routes", tag = "telephony", request_body = RouteInput, responses((status = 201, body = DidRoute), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_route(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<RouteInput>,
) -> ApiResult<(StatusCode, axum::Json<DidRoute>)> {
    let mut errs = FieldErrors::new();
    let number = errs.check("number", DidNumber::parse(&req.number));
    let target = target(&mut errs, &req.target);
    let desc = description(&mut errs, given(&req.description));
    errs.clone().into_result()?;
    let (Some(number), Some(target), Some(description)) = (number, target, desc) else {
        return Err(errs.into());
    };
    let r = app
        .store
        .create_did_route(
            &caller.actor,
            NewDidRoute {
                number,
                target,
                trunk_id: req.trunk_id.map(TrunkId),
                description,
            },
        )
        .await
        .map_err(route_refs)?;
    config_changed(&app);
    Ok((StatusCode::CREATED, axum::Json(r.into())))
}

#[utoipa::path(get, path = "/api/v1/routes/{id}", tag = "telephony", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = DidRoute), (status = 404, body = crate::problem::Problem)))]
pub async fn get_route(
    State(app): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<axum::Json<DidRoute>> {
    Ok(axum::Json(
        app.store.did_route(DidRouteId(id)).await?.into(),
    ))
}

/// Any subset of the fields; `null` clears `trunk_id` or `description`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutePatch {
    #[serde(default, deserialize_with = "present")]
    pub number: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub target: Option<TargetInput>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub trunk_id: Option<Option<uuid::Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/routes/{id}", tag = "telephony", params(("id" = uuid::Uuid, Path)), request_body = RoutePatch, responses((status = 200, body = DidRoute), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_route(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    Json(p): Json<RoutePatch>,
) -> ApiResult<axum::Json<DidRoute>> {
    app.store.did_route(DidRouteId(id)).await?;
    let mut errs = FieldErrors::new();
    let number = opt(&mut errs, "number", p.number.as_deref(), DidNumber::parse);
    let target = match &p.target {
        Some(t) => target(&mut errs, t).map(Some),
        None => Some(None),
    };
    let desc = match patch_text(&p.description) {
        None => Some(None),
        Some(v) => description(&mut errs, v).map(Some),
    };
    errs.clone().into_result()?;
    let (Some(number), Some(target), Some(description)) = (number, target, desc) else {
        return Err(errs.into());
    };
    let r = app
        .store
        .update_did_route(
            &caller.actor,
            DidRouteId(id),
            DidRouteChanges {
                number,
                target,
                trunk_id: p.trunk_id.map(|t| t.map(TrunkId)),
                description,
            },
        )
        .await
        .map_err(route_refs)?;
    config_changed(&app);
    Ok(axum::Json(r.into()))
}

#[utoipa::path(delete, path = "/api/v1/routes/{id}", tag = "telephony", params(("id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_route(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    app.store
        .delete_did_route(&caller.actor, DidRouteId(id))
        .await?;
    config_changed(&app);
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ha1_is_the_rfc_2617_and_8760_digest_of_user_realm_password() {
        // RFC 2617 §3.5's example: Mufasa / testrealm@host.com / Circle Of Life.
        let s = digest_secrets("Mufasa", "testrealm@host.com", "Circle Of Life");
        assert_eq!(s.ha1_md5, "939e7578ed9e3c518a452acee763bce9");
        assert_eq!(s.ha1_sha256.len(), 64);
        assert_eq!(
            digest_secrets("8001", "kefu", "Kefu@2026").ha1_md5,
            hex::encode(<md5::Md5 as md5::Digest>::digest(b"8001:kefu:Kefu@2026"))
        );
    }

    #[test]
    fn register_needs_proxy_username_and_password() {
        let mut errs = FieldErrors::new();
        outbound_rules(&mut errs, false, false, false, true);
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["proxy", "username", "password"]);
        let mut errs = FieldErrors::new();
        outbound_rules(&mut errs, true, false, true, false);
        assert_eq!(errs.0[0].field, "username");
        assert_eq!(errs.0.len(), 1);
    }
}
