//! Telephony configuration and history: the registrar's extensions, SIP trunks, called-number (DID)
//! routes, and call records.
//!
//! Configuration writes are audited like every other write, with secrets left out: the row types that
//! go into the audit log ([`Extension`], [`Trunk`]) have no field holding a password or a digest hash.
//! The SIP runtime reads secrets only through [`Store::extension_auth`] and [`Store::trunks_for_runtime`].
//!
//! Call records are system data written at call rate: one plain INSERT each, no audit entry.

use chrono::{DateTime, Utc};
use kefu_domain::{
    CallDirection, CallDisposition, CallRecordId, CallerIdNumber, CarrierPassword, DidNumber,
    DidRouteId, ExtensionId, ExtensionNumber, HangupSide, IpNet, RouteTarget, SipProxy,
    SipTransport, SipUsername, TrunkId, TrunkKind, UnitId, UserId,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;

use crate::entities::{call_record, did_route, extension, trunk, unit, user};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit};

/// Whose phone an extension is: an agent's (a user) or a remote site's (a unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ExtensionOwner {
    User(UserId),
    Unit(UnitId),
}

impl ExtensionOwner {
    pub fn user_id(self) -> Option<UserId> {
        match self {
            ExtensionOwner::User(u) => Some(u),
            ExtensionOwner::Unit(_) => None,
        }
    }

    pub fn unit_id(self) -> Option<UnitId> {
        match self {
            ExtensionOwner::Unit(u) => Some(u),
            ExtensionOwner::User(_) => None,
        }
    }
}

/// The digest hashes of a SIP password (HA1 = H(`username:realm:password`)) in hex: MD5 for RFC 2617
/// phones, SHA-256 for RFC 8760 ones. They stand in for the password within the realm, so they are
/// secrets: never in the audit log, never returned by the API.
#[derive(Clone, PartialEq, Eq)]
pub struct DigestSecrets {
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

impl std::fmt::Debug for DigestSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DigestSecrets(***)")
    }
}

/// An extension as the API shows it and the audit log records it: no secrets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    pub id: ExtensionId,
    pub number: String,
    pub display_name: String,
    pub owner: ExtensionOwner,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewExtension {
    pub number: ExtensionNumber,
    pub display_name: String,
    pub owner: ExtensionOwner,
    pub enabled: bool,
    pub secrets: DigestSecrets,
}

/// What to change; `None` leaves a field as it is. The digest hashes include the number, so a new
/// `number` needs new `secrets` (refused as a conflict otherwise).
#[derive(Debug, Clone, Default)]
pub struct ExtensionChanges {
    pub number: Option<ExtensionNumber>,
    pub display_name: Option<String>,
    pub owner: Option<ExtensionOwner>,
    pub enabled: Option<bool>,
    pub secrets: Option<DigestSecrets>,
}

/// What the registrar needs to challenge and verify a phone: one indexed lookup by number.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtensionAuth {
    pub id: ExtensionId,
    pub number: String,
    pub display_name: String,
    /// Hex MD5 of `number:realm:password`.
    pub ha1_md5: String,
    /// Hex SHA-256 of `number:realm:password`.
    pub ha1_sha256: String,
    /// The extension is enabled and, for an agent's phone, the agent's account is active.
    pub enabled: bool,
}

impl std::fmt::Debug for ExtensionAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtensionAuth")
            .field("id", &self.id)
            .field("number", &self.number)
            .field("display_name", &self.display_name)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

fn extension_from(m: extension::Model) -> Extension {
    let owner = match (m.user_id, m.unit_id) {
        (Some(u), _) => ExtensionOwner::User(UserId(u)),
        (None, Some(u)) => ExtensionOwner::Unit(UnitId(u)),
        // The CHECK constraint rules this out.
        (None, None) => ExtensionOwner::Unit(UnitId(uuid::Uuid::nil())),
    };
    Extension {
        id: ExtensionId(m.id),
        number: m.number,
        display_name: m.display_name,
        owner,
        enabled: m.enabled,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// A trunk as the API shows it and the audit log records it: passwords and hashes only as flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trunk {
    pub id: TrunkId,
    pub name: String,
    pub kind: TrunkKind,
    pub enabled: bool,
    /// CIDR networks inbound calls are accepted from (`127.0.0.1/32`).
    pub allowed_sources: Vec<String>,
    pub inbound_username: Option<String>,
    pub has_inbound_password: bool,
    pub proxy: Option<String>,
    pub transport: SipTransport,
    pub username: Option<String>,
    pub has_password: bool,
    pub register: bool,
    pub register_expires: u32,
    pub caller_id: Option<String>,
    pub max_channels: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Inbound digest authentication of a trunk: the username the peer uses and the hashes of its password.
#[derive(Debug, Clone)]
pub struct InboundDigest {
    pub username: SipUsername,
    pub secrets: DigestSecrets,
}

#[derive(Debug, Clone)]
pub struct NewTrunk {
    pub name: String,
    pub kind: TrunkKind,
    pub enabled: bool,
    pub allowed_sources: Vec<IpNet>,
    pub inbound: Option<InboundDigest>,
    pub proxy: Option<SipProxy>,
    pub transport: SipTransport,
    pub username: Option<SipUsername>,
    pub password: Option<CarrierPassword>,
    pub register: bool,
    pub register_expires: u32,
    pub caller_id: Option<CallerIdNumber>,
    pub max_channels: Option<u32>,
}

/// What to change: `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct TrunkChanges {
    pub name: Option<String>,
    pub kind: Option<TrunkKind>,
    pub enabled: Option<bool>,
    pub allowed_sources: Option<Vec<IpNet>>,
    pub inbound: Option<Option<InboundDigest>>,
    pub proxy: Option<Option<SipProxy>>,
    pub transport: Option<SipTransport>,
    pub username: Option<Option<SipUsername>>,
    pub password: Option<Option<CarrierPassword>>,
    pub register: Option<bool>,
    pub register_expires: Option<u32>,
    pub caller_id: Option<Option<CallerIdNumber>>,
    pub max_channels: Option<Option<u32>>,
}

/// A trunk with everything the SIP runtime needs, secrets included. Its `Debug` hides them.
#[derive(Clone, PartialEq)]
pub struct TrunkConfig {
    pub id: TrunkId,
    pub name: String,
    pub kind: TrunkKind,
    pub enabled: bool,
    /// Inbound calls are accepted from these networks (and/or with digest, below).
    pub allowed_sources: Vec<IpNet>,
    /// Inbound digest: the username the peer authenticates with and the HA1 hashes of its password.
    pub inbound_username: Option<String>,
    pub inbound_ha1_md5: Option<String>,
    pub inbound_ha1_sha256: Option<String>,
    /// Where outbound calls (and REGISTER) go: `host:port`.
    pub proxy: Option<String>,
    pub transport: SipTransport,
    /// The carrier's credentials for outbound digest (and REGISTER).
    pub username: Option<String>,
    pub password: Option<String>,
    /// Keep a registration with the carrier, refreshed every `register_expires` seconds.
    pub register: bool,
    pub register_expires: u32,
    /// The number presented outbound.
    pub caller_id: Option<String>,
    pub max_channels: Option<u32>,
}

impl std::fmt::Debug for TrunkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrunkConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("enabled", &self.enabled)
            .field("allowed_sources", &self.allowed_sources)
            .field("inbound_username", &self.inbound_username)
            .field("proxy", &self.proxy)
            .field("transport", &self.transport)
            .field("username", &self.username)
            .field("register", &self.register)
            .field("register_expires", &self.register_expires)
            .field("caller_id", &self.caller_id)
            .field("max_channels", &self.max_channels)
            .finish_non_exhaustive()
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Db(DbErr::Custom(format!(
        "stored {what} {value:?} does not parse"
    )))
}

fn sources_from(json: &str) -> Result<Vec<IpNet>> {
    let texts: Vec<String> =
        serde_json::from_str(json).map_err(|_| corrupt("allowed_sources", json))?;
    texts
        .iter()
        .map(|t| t.parse::<IpNet>().map_err(|_| corrupt("allowed source", t)))
        .collect()
}

fn sources_json(sources: &[IpNet]) -> String {
    let texts: Vec<String> = sources.iter().map(IpNet::to_string).collect();
    serde_json::to_string(&texts).expect("strings serialize")
}

fn trunk_from(m: trunk::Model) -> Result<Trunk> {
    Ok(Trunk {
        id: TrunkId(m.id),
        name: m.name,
        kind: TrunkKind::parse(&m.kind).map_err(|_| corrupt("trunk kind", &m.kind))?,
        enabled: m.enabled,
        allowed_sources: sources_from(&m.allowed_sources)?
            .iter()
            .map(IpNet::to_string)
            .collect(),
        inbound_username: m.inbound_username,
        has_inbound_password: m.inbound_ha1_md5.is_some(),
        proxy: m.proxy,
        transport: SipTransport::parse(&m.transport)
            .map_err(|_| corrupt("transport", &m.transport))?,
        username: m.username,
        has_password: m.password.is_some(),
        register: m.register,
        register_expires: u32::try_from(m.register_expires).unwrap_or(0),
        caller_id: m.caller_id,
        max_channels: m.max_channels.and_then(|c| u32::try_from(c).ok()),
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn trunk_config_from(m: trunk::Model) -> Result<TrunkConfig> {
    Ok(TrunkConfig {
        id: TrunkId(m.id),
        kind: TrunkKind::parse(&m.kind).map_err(|_| corrupt("trunk kind", &m.kind))?,
        enabled: m.enabled,
        allowed_sources: sources_from(&m.allowed_sources)?,
        inbound_username: m.inbound_username,
        inbound_ha1_md5: m.inbound_ha1_md5,
        inbound_ha1_sha256: m.inbound_ha1_sha256,
        proxy: m.proxy,
        transport: SipTransport::parse(&m.transport)
            .map_err(|_| corrupt("transport", &m.transport))?,
        username: m.username,
        password: m.password,
        register: m.register,
        register_expires: u32::try_from(m.register_expires).unwrap_or(0),
        caller_id: m.caller_id,
        max_channels: m.max_channels.and_then(|c| u32::try_from(c).ok()),
        name: m.name,
    })
}

/// A called number and where it goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DidRoute {
    pub id: DidRouteId,
    pub number: String,
    pub target: RouteTarget,
    /// Only calls arriving over this trunk take the route (the runtime checks); `None`: any trunk.
    pub trunk_id: Option<TrunkId>,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewDidRoute {
    pub number: DidNumber,
    pub target: RouteTarget,
    pub trunk_id: Option<TrunkId>,
    pub description: Option<String>,
}

/// What to change: `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct DidRouteChanges {
    pub number: Option<DidNumber>,
    pub target: Option<RouteTarget>,
    pub trunk_id: Option<Option<TrunkId>>,
    pub description: Option<Option<String>>,
}

fn route_from(m: did_route::Model) -> Result<DidRoute> {
    let target = RouteTarget::parse(&m.target_kind, &m.target_value)
        .map_err(|_| corrupt("route target", &m.target_value))?;
    Ok(DidRoute {
        id: DidRouteId(m.id),
        number: m.number,
        target,
        trunk_id: m.trunk_id.map(TrunkId),
        description: m.description,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// One call leg as the SIP runtime reports it when the leg has ended. Durations are derived from the
/// times; overlong texts (they come from SIP headers) are cut to the lengths in [`NewCallRecord::LIMITS`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewCallRecord {
    /// The leg's SIP Call-ID.
    pub call_id: String,
    /// Shared by the legs of one call.
    pub call_uuid: uuid::Uuid,
    pub direction: CallDirection,
    pub caller: String,
    pub callee: String,
    pub trunk_id: Option<TrunkId>,
    /// The extension number on kefu's side of the leg, if any.
    pub extension: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub disposition: CallDisposition,
    /// e.g. `normal_clearing`, `user_busy`, `no_answer`, `originator_cancel`.
    pub hangup_cause: String,
    /// The final SIP status of the leg, if it ended with one.
    pub sip_status: Option<u16>,
    pub hangup_side: HangupSide,
    pub recording_path: Option<String>,
}

impl NewCallRecord {
    /// Characters kept of call_id, caller/callee/extension, hangup_cause and recording_path.
    pub const LIMITS: (usize, usize, usize, usize) = (256, 128, 64, 1024);
}

/// A stored call leg.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    pub id: CallRecordId,
    pub call_id: String,
    pub call_uuid: uuid::Uuid,
    pub direction: CallDirection,
    pub caller: String,
    pub callee: String,
    pub trunk_id: Option<TrunkId>,
    pub extension: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    /// From start to end.
    pub duration_ms: i64,
    /// From answer to end; 0 when not answered.
    pub billable_ms: i64,
    pub disposition: CallDisposition,
    pub hangup_cause: String,
    pub sip_status: Option<u16>,
    pub hangup_side: HangupSide,
    pub recording_path: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn call_from(m: call_record::Model) -> CallRecord {
    CallRecord {
        id: CallRecordId(m.id),
        call_id: m.call_id,
        call_uuid: m.call_uuid,
        // Written only from the enums' own words; an unknown one (a newer version's) reads as the
        // most general value.
        direction: CallDirection::parse(&m.direction).unwrap_or(CallDirection::Inbound),
        caller: m.caller,
        callee: m.callee,
        trunk_id: m.trunk_id.map(TrunkId),
        extension: m.extension,
        started_at: m.started_at,
        answered_at: m.answered_at,
        ended_at: m.ended_at,
        duration_ms: m.duration_ms,
        billable_ms: m.billable_ms,
        disposition: CallDisposition::parse(&m.disposition).unwrap_or(CallDisposition::Failed),
        hangup_cause: m.hangup_cause,
        sip_status: m.sip_status.and_then(|s| u16::try_from(s).ok()),
        hangup_side: HangupSide::parse(&m.hangup_side).unwrap_or(HangupSide::System),
        recording_path: m.recording_path,
        created_at: m.created_at,
    }
}

/// Call-record filters; all given ones must match. Numbers match exactly.
#[derive(Debug, Clone, Default)]
pub struct CallQuery {
    /// Started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Started before.
    pub to: Option<DateTime<Utc>>,
    pub caller: Option<String>,
    pub callee: Option<String>,
    /// Caller or callee.
    pub number: Option<String>,
    pub direction: Option<CallDirection>,
    pub disposition: Option<CallDisposition>,
    pub trunk_id: Option<TrunkId>,
    pub call_uuid: Option<uuid::Uuid>,
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// A count as an INTEGER column holds it (the API bounds these far below `i32::MAX`).
fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn millis(d: chrono::TimeDelta) -> i64 {
    d.num_milliseconds().max(0)
}

async fn owner_exists(db: &impl ConnectionTrait, owner: ExtensionOwner) -> Result<()> {
    match owner {
        ExtensionOwner::User(u) => user::Entity::find_by_id(u.0)
            .one(db)
            .await?
            .map(|_| ())
            .ok_or(StoreError::NotFound("user")),
        ExtensionOwner::Unit(u) => unit::Entity::find_by_id(u.0)
            .one(db)
            .await?
            .map(|_| ())
            .ok_or(StoreError::NotFound("unit")),
    }
}

async fn trunk_exists(db: &impl ConnectionTrait, id: TrunkId) -> Result<()> {
    trunk::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound("trunk"))
}

/// A route to an extension must name one that exists (flows, queues and prompts are not data yet).
async fn target_exists(db: &impl ConnectionTrait, target: &RouteTarget) -> Result<()> {
    if let RouteTarget::Extension { number } = target {
        extension::Entity::find()
            .filter(extension::Column::Number.eq(number.as_str()))
            .one(db)
            .await?
            .ok_or(StoreError::NotFound("extension"))?;
    }
    Ok(())
}

#[derive(sea_orm::FromQueryResult)]
struct AuthRow {
    id: uuid::Uuid,
    number: String,
    display_name: String,
    ha1_md5: String,
    ha1_sha256: String,
    enabled: bool,
    /// The owning user's `active`; NULL for a site's phone.
    owner_active: Option<bool>,
}

const EXTENSION_TAKEN: &str = "an extension with this number";
const TRUNK_TAKEN: &str = "a trunk with this name";
const ROUTE_TAKEN: &str = "a route for this number";

impl Store {
    // ---- extensions ----

    /// Every extension, by number.
    pub async fn extensions(&self) -> Result<Vec<Extension>> {
        let rows = extension::Entity::find()
            .order_by_asc(extension::Column::Number)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(extension_from).collect())
    }

    pub async fn extension(&self, id: ExtensionId) -> Result<Extension> {
        extension::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .map(extension_from)
            .ok_or(StoreError::NotFound("extension"))
    }

    /// Creates an extension. An unknown owner is `NotFound("user")` or `NotFound("unit")`; a number in
    /// use is a conflict.
    pub async fn create_extension(&self, actor: &Actor, new: NewExtension) -> Result<Extension> {
        let tx = self.db.begin().await?;
        owner_exists(&tx, new.owner).await?;
        let now = Utc::now();
        let model = extension::ActiveModel {
            id: Set(ExtensionId::new().0),
            number: Set(new.number.into_string()),
            display_name: Set(new.display_name),
            user_id: Set(new.owner.user_id().map(|u| u.0)),
            unit_id: Set(new.owner.unit_id().map(|u| u.0)),
            enabled: Set(new.enabled),
            ha1_md5: Set(new.secrets.ha1_md5),
            ha1_sha256: Set(new.secrets.ha1_sha256),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, EXTENSION_TAKEN))?;
        let ext = extension_from(model);
        audit::record(
            &tx,
            actor,
            "extension.create",
            "extension",
            Some(ext.id.to_string()),
            None::<&()>,
            Some(&ext),
        )
        .await?;
        tx.commit().await?;
        Ok(ext)
    }

    pub async fn update_extension(
        &self,
        actor: &Actor,
        id: ExtensionId,
        ch: ExtensionChanges,
    ) -> Result<Extension> {
        let tx = self.db.begin().await?;
        let before = extension::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("extension"))?;
        if let Some(owner) = ch.owner {
            owner_exists(&tx, owner).await?;
        }
        let mut am: extension::ActiveModel = before.clone().into();
        if let Some(n) = ch.number {
            if n.as_str() != before.number && ch.secrets.is_none() {
                return Err(StoreError::Conflict(
                    "a new number needs a new password: the digest secret includes the number"
                        .into(),
                ));
            }
            am.number = Set(n.into_string());
        }
        if let Some(v) = ch.display_name {
            am.display_name = Set(v);
        }
        if let Some(owner) = ch.owner {
            am.user_id = Set(owner.user_id().map(|u| u.0));
            am.unit_id = Set(owner.unit_id().map(|u| u.0));
        }
        if let Some(v) = ch.enabled {
            am.enabled = Set(v);
        }
        if let Some(s) = ch.secrets {
            am.ha1_md5 = Set(s.ha1_md5);
            am.ha1_sha256 = Set(s.ha1_sha256);
        }
        am.updated_at = Set(Utc::now());
        let after = extension_from(
            am.update(&tx)
                .await
                .map_err(|e| StoreError::from_write(e, EXTENSION_TAKEN))?,
        );
        let before = extension_from(before);
        audit::record(
            &tx,
            actor,
            "extension.update",
            "extension",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sets a new SIP password (as its digest hashes). The audit entry records that it changed, not
    /// what to.
    pub async fn set_extension_secrets(
        &self,
        actor: &Actor,
        id: ExtensionId,
        secrets: DigestSecrets,
    ) -> Result<()> {
        let tx = self.db.begin().await?;
        let before = extension::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("extension"))?;
        let mut am: extension::ActiveModel = before.into();
        am.ha1_md5 = Set(secrets.ha1_md5);
        am.ha1_sha256 = Set(secrets.ha1_sha256);
        am.updated_at = Set(Utc::now());
        am.update(&tx).await?;
        audit::record(
            &tx,
            actor,
            "extension.password",
            "extension",
            Some(id.to_string()),
            None::<&()>,
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_extension(&self, actor: &Actor, id: ExtensionId) -> Result<()> {
        let tx = self.db.begin().await?;
        let before = extension::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("extension"))?;
        extension::Entity::delete_by_id(id.0).exec(&tx).await?;
        let before = extension_from(before);
        audit::record(
            &tx,
            actor,
            "extension.delete",
            "extension",
            Some(id.to_string()),
            Some(&before),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// For the registrar: the extension with this number and its digest hashes, in one statement (the
    /// unique index on the number, and the owner's primary key to see whether an agent is still
    /// active). `enabled` is false for a disabled extension and for the phone of a deactivated user.
    pub async fn extension_auth(&self, number: &str) -> Result<Option<ExtensionAuth>> {
        let owner = extension::Entity::belongs_to(user::Entity)
            .from(extension::Column::UserId)
            .to(user::Column::Id)
            .into();
        let row = extension::Entity::find()
            .select_only()
            .columns([
                extension::Column::Id,
                extension::Column::Number,
                extension::Column::DisplayName,
                extension::Column::Ha1Md5,
                extension::Column::Ha1Sha256,
                extension::Column::Enabled,
            ])
            .expr_as(
                Expr::col((user::Entity, user::Column::Active)),
                "owner_active",
            )
            .join(sea_orm::JoinType::LeftJoin, owner)
            .filter(extension::Column::Number.eq(number))
            .into_model::<AuthRow>()
            .one(&self.db)
            .await?;
        Ok(row.map(|r| ExtensionAuth {
            id: ExtensionId(r.id),
            number: r.number,
            display_name: r.display_name,
            ha1_md5: r.ha1_md5,
            ha1_sha256: r.ha1_sha256,
            enabled: r.enabled && r.owner_active.unwrap_or(true),
        }))
    }

    // ---- trunks ----

    /// Every trunk, by name, without secrets.
    pub async fn trunks(&self) -> Result<Vec<Trunk>> {
        let rows = trunk::Entity::find()
            .order_by_asc(trunk::Column::Name)
            .all(&self.db)
            .await?;
        rows.into_iter().map(trunk_from).collect()
    }

    pub async fn trunk(&self, id: TrunkId) -> Result<Trunk> {
        trunk::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .map(trunk_from)
            .ok_or(StoreError::NotFound("trunk"))?
    }

    /// Every trunk, enabled or not, with its secrets: for the SIP runtime only.
    pub async fn trunks_for_runtime(&self) -> Result<Vec<TrunkConfig>> {
        let rows = trunk::Entity::find()
            .order_by_asc(trunk::Column::Name)
            .all(&self.db)
            .await?;
        rows.into_iter().map(trunk_config_from).collect()
    }

    pub async fn create_trunk(&self, actor: &Actor, new: NewTrunk) -> Result<Trunk> {
        let tx = self.db.begin().await?;
        let now = Utc::now();
        let (inbound_username, inbound_md5, inbound_sha256) = match new.inbound {
            Some(i) => (
                Some(i.username.into_string()),
                Some(i.secrets.ha1_md5),
                Some(i.secrets.ha1_sha256),
            ),
            None => (None, None, None),
        };
        let model = trunk::ActiveModel {
            id: Set(TrunkId::new().0),
            name: Set(new.name),
            kind: Set(new.kind.as_str().to_string()),
            enabled: Set(new.enabled),
            allowed_sources: Set(sources_json(&new.allowed_sources)),
            inbound_username: Set(inbound_username),
            inbound_ha1_md5: Set(inbound_md5),
            inbound_ha1_sha256: Set(inbound_sha256),
            proxy: Set(new.proxy.map(SipProxy::into_string)),
            transport: Set(new.transport.as_str().to_string()),
            username: Set(new.username.map(SipUsername::into_string)),
            password: Set(new.password.map(|p| p.expose().to_string())),
            register: Set(new.register),
            register_expires: Set(int(new.register_expires)),
            caller_id: Set(new.caller_id.map(CallerIdNumber::into_string)),
            max_channels: Set(new.max_channels.map(int)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, TRUNK_TAKEN))?;
        let t = trunk_from(model)?;
        audit::record(
            &tx,
            actor,
            "trunk.create",
            "trunk",
            Some(t.id.to_string()),
            None::<&()>,
            Some(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    pub async fn update_trunk(
        &self,
        actor: &Actor,
        id: TrunkId,
        ch: TrunkChanges,
    ) -> Result<Trunk> {
        let tx = self.db.begin().await?;
        let before = trunk::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("trunk"))?;
        let mut am: trunk::ActiveModel = before.clone().into();
        if let Some(v) = ch.name {
            am.name = Set(v);
        }
        if let Some(v) = ch.kind {
            am.kind = Set(v.as_str().to_string());
        }
        if let Some(v) = ch.enabled {
            am.enabled = Set(v);
        }
        if let Some(v) = ch.allowed_sources {
            am.allowed_sources = Set(sources_json(&v));
        }
        if let Some(v) = ch.inbound {
            let (u, md5, sha) = match v {
                Some(i) => (
                    Some(i.username.into_string()),
                    Some(i.secrets.ha1_md5),
                    Some(i.secrets.ha1_sha256),
                ),
                None => (None, None, None),
            };
            am.inbound_username = Set(u);
            am.inbound_ha1_md5 = Set(md5);
            am.inbound_ha1_sha256 = Set(sha);
        }
        if let Some(v) = ch.proxy {
            am.proxy = Set(v.map(SipProxy::into_string));
        }
        if let Some(v) = ch.transport {
            am.transport = Set(v.as_str().to_string());
        }
        if let Some(v) = ch.username {
            am.username = Set(v.map(SipUsername::into_string));
        }
        if let Some(v) = ch.password {
            am.password = Set(v.map(|p| p.expose().to_string()));
        }
        if let Some(v) = ch.register {
            am.register = Set(v);
        }
        if let Some(v) = ch.register_expires {
            am.register_expires = Set(int(v));
        }
        if let Some(v) = ch.caller_id {
            am.caller_id = Set(v.map(CallerIdNumber::into_string));
        }
        if let Some(v) = ch.max_channels {
            am.max_channels = Set(v.map(int));
        }
        am.updated_at = Set(Utc::now());
        let after = trunk_from(
            am.update(&tx)
                .await
                .map_err(|e| StoreError::from_write(e, TRUNK_TAKEN))?,
        )?;
        let before = trunk_from(before)?;
        audit::record(
            &tx,
            actor,
            "trunk.update",
            "trunk",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a trunk no route names (a conflict otherwise). Its call records keep its id.
    pub async fn delete_trunk(&self, actor: &Actor, id: TrunkId) -> Result<()> {
        let tx = self.db.begin().await?;
        let before = trunk::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("trunk"))?;
        let routes = did_route::Entity::find()
            .filter(did_route::Column::TrunkId.eq(id.0))
            .count(&tx)
            .await?;
        if routes > 0 {
            return Err(StoreError::Conflict(format!(
                "the trunk is named by {routes} route(s): change or delete them first"
            )));
        }
        trunk::Entity::delete_by_id(id.0).exec(&tx).await?;
        let before = trunk_from(before)?;
        audit::record(
            &tx,
            actor,
            "trunk.delete",
            "trunk",
            Some(id.to_string()),
            Some(&before),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- DID routes ----

    /// Every route, by number.
    pub async fn did_routes(&self) -> Result<Vec<DidRoute>> {
        let rows = did_route::Entity::find()
            .order_by_asc(did_route::Column::Number)
            .all(&self.db)
            .await?;
        rows.into_iter().map(route_from).collect()
    }

    pub async fn did_route(&self, id: DidRouteId) -> Result<DidRoute> {
        did_route::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .map(route_from)
            .ok_or(StoreError::NotFound("route"))?
    }

    /// For the SIP runtime: the route of a called number (exact match, through the unique index).
    pub async fn route_for_number(&self, number: &str) -> Result<Option<DidRoute>> {
        did_route::Entity::find()
            .filter(did_route::Column::Number.eq(number))
            .one(&self.db)
            .await?
            .map(route_from)
            .transpose()
    }

    /// Creates a route. An unknown trunk is `NotFound("trunk")`, an unknown target extension
    /// `NotFound("extension")`; a number already routed is a conflict.
    pub async fn create_did_route(&self, actor: &Actor, new: NewDidRoute) -> Result<DidRoute> {
        let tx = self.db.begin().await?;
        if let Some(t) = new.trunk_id {
            trunk_exists(&tx, t).await?;
        }
        target_exists(&tx, &new.target).await?;
        let now = Utc::now();
        let model = did_route::ActiveModel {
            id: Set(DidRouteId::new().0),
            number: Set(new.number.into_string()),
            target_kind: Set(new.target.kind().to_string()),
            target_value: Set(new.target.value().to_string()),
            trunk_id: Set(new.trunk_id.map(|t| t.0)),
            description: Set(new.description),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, ROUTE_TAKEN))?;
        let r = route_from(model)?;
        audit::record(
            &tx,
            actor,
            "route.create",
            "did_route",
            Some(r.id.to_string()),
            None::<&()>,
            Some(&r),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    pub async fn update_did_route(
        &self,
        actor: &Actor,
        id: DidRouteId,
        ch: DidRouteChanges,
    ) -> Result<DidRoute> {
        let tx = self.db.begin().await?;
        let before = did_route::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("route"))?;
        if let Some(Some(t)) = ch.trunk_id {
            trunk_exists(&tx, t).await?;
        }
        if let Some(target) = &ch.target {
            target_exists(&tx, target).await?;
        }
        let mut am: did_route::ActiveModel = before.clone().into();
        if let Some(n) = ch.number {
            am.number = Set(n.into_string());
        }
        if let Some(t) = ch.target {
            am.target_kind = Set(t.kind().to_string());
            am.target_value = Set(t.value().to_string());
        }
        if let Some(t) = ch.trunk_id {
            am.trunk_id = Set(t.map(|t| t.0));
        }
        if let Some(d) = ch.description {
            am.description = Set(d);
        }
        am.updated_at = Set(Utc::now());
        let after = route_from(
            am.update(&tx)
                .await
                .map_err(|e| StoreError::from_write(e, ROUTE_TAKEN))?,
        )?;
        let before = route_from(before)?;
        audit::record(
            &tx,
            actor,
            "route.update",
            "did_route",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_did_route(&self, actor: &Actor, id: DidRouteId) -> Result<()> {
        let tx = self.db.begin().await?;
        let before = did_route::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("route"))?;
        did_route::Entity::delete_by_id(id.0).exec(&tx).await?;
        let before = route_from(before)?;
        audit::record(
            &tx,
            actor,
            "route.delete",
            "did_route",
            Some(id.to_string()),
            Some(&before),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- call records ----

    /// Stores one ended call leg: a single INSERT, no transaction, no audit entry (call records are
    /// system data, written at call rate). Durations come from the times (never negative); texts
    /// longer than [`NewCallRecord::LIMITS`] are cut.
    pub async fn insert_call_record(&self, r: &NewCallRecord) -> Result<CallRecordId> {
        let (id_max, number_max, cause_max, path_max) = NewCallRecord::LIMITS;
        let id = CallRecordId::new();
        let billable = r
            .answered_at
            .map(|a| millis(r.ended_at - std::cmp::max(a, r.started_at)))
            .unwrap_or(0);
        let row = call_record::ActiveModel {
            id: Set(id.0),
            call_id: Set(cut(&r.call_id, id_max)),
            call_uuid: Set(r.call_uuid),
            direction: Set(r.direction.as_str().to_string()),
            caller: Set(cut(&r.caller, number_max)),
            callee: Set(cut(&r.callee, number_max)),
            trunk_id: Set(r.trunk_id.map(|t| t.0)),
            extension: Set(r.extension.as_deref().map(|e| cut(e, number_max))),
            started_at: Set(r.started_at),
            answered_at: Set(r.answered_at),
            ended_at: Set(r.ended_at),
            duration_ms: Set(millis(r.ended_at - r.started_at)),
            billable_ms: Set(billable),
            disposition: Set(r.disposition.as_str().to_string()),
            hangup_cause: Set(cut(&r.hangup_cause, cause_max)),
            sip_status: Set(r.sip_status.map(i32::from)),
            hangup_side: Set(r.hangup_side.as_str().to_string()),
            recording_path: Set(r.recording_path.as_deref().map(|p| cut(p, path_max))),
            created_at: Set(Utc::now()),
        };
        call_record::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await?;
        Ok(id)
    }

    pub async fn call_record(&self, id: CallRecordId) -> Result<CallRecord> {
        call_record::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .map(call_from)
            .ok_or(StoreError::NotFound("call record"))
    }

    /// Call records matching `q`, newest first (by start, then by id).
    pub async fn call_records(&self, q: &CallQuery, page: PageRequest) -> Result<Page<CallRecord>> {
        use call_record::Column as C;
        let mut cond = Condition::all();
        if let Some(from) = q.from {
            cond = cond.add(C::StartedAt.gte(from));
        }
        if let Some(to) = q.to {
            cond = cond.add(C::StartedAt.lt(to));
        }
        if let Some(n) = &q.caller {
            cond = cond.add(C::Caller.eq(n.as_str()));
        }
        if let Some(n) = &q.callee {
            cond = cond.add(C::Callee.eq(n.as_str()));
        }
        if let Some(n) = &q.number {
            cond = cond.add(
                Condition::any()
                    .add(C::Caller.eq(n.as_str()))
                    .add(C::Callee.eq(n.as_str())),
            );
        }
        if let Some(d) = q.direction {
            cond = cond.add(C::Direction.eq(d.as_str()));
        }
        if let Some(d) = q.disposition {
            cond = cond.add(C::Disposition.eq(d.as_str()));
        }
        if let Some(t) = q.trunk_id {
            cond = cond.add(C::TrunkId.eq(t.0));
        }
        if let Some(u) = q.call_uuid {
            cond = cond.add(C::CallUuid.eq(u));
        }
        let sel = call_record::Entity::find().filter(cond);
        let total = sel.clone().count(&self.db).await?;
        let rows = sel
            .order_by_desc(C::StartedAt)
            .order_by_desc(C::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        Ok(Page {
            items: rows.into_iter().map(call_from).collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// How many call records there are (for tests and metrics).
    pub async fn call_record_count(&self) -> Result<u64> {
        Ok(call_record::Entity::find().count(&self.db).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_counts_characters() {
        assert_eq!(cut("张三丰", 2), "张三");
        assert_eq!(cut("abc", 5), "abc");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let s = DigestSecrets {
            ha1_md5: "deadbeef".into(),
            ha1_sha256: "cafe".into(),
        };
        assert!(!format!("{s:?}").contains("dead"));
    }
}
