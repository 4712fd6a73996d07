//! What the engine needs to know from the rest of kefu (extensions, trunks, DID routes) and where call
//! records go. The binary implements [`Directory`] over the store; tests implement it in memory.

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An extension's digest secrets (HA1 per algorithm; the password itself is never kept).
#[derive(Clone, Debug)]
pub struct ExtensionAuth {
    pub number: String,
    pub display_name: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
    pub enabled: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrunkTransport {
    Udp,
    Tcp,
}

/// A carrier or PBX connection.
#[derive(Clone, Debug)]
pub struct Trunk {
    pub id: Uuid,
    pub name: String,
    pub enabled: bool,
    /// Inbound calls from these sources are the trunk's (no digest needed).
    pub allowed_sources: Vec<ipnet::IpNet>,
    /// Inbound digest, for carriers that authenticate to us instead of (or besides) the allow-list.
    pub inbound_username: Option<String>,
    pub inbound_ha1_md5: Option<String>,
    pub inbound_ha1_sha256: Option<String>,
    /// Where outbound calls (and outbound REGISTER) go: `host:port`.
    pub proxy: Option<String>,
    pub transport: TrunkTransport,
    pub username: Option<String>,
    pub password: Option<String>,
    pub register: bool,
    pub register_expires: u32,
    /// The number presented on outbound calls, when the carrier wants a fixed one.
    pub caller_id: Option<String>,
    pub max_channels: Option<u32>,
}

impl Trunk {
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.enabled && self.allowed_sources.iter().any(|n| n.contains(&ip))
    }
}

/// Where a called number (DID) leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// An IVR flow by name (the IVR engine is a later issue; until then the entry greeting plays).
    Flow(String),
    /// An ACD queue by name (a later issue; until then the entry greeting plays).
    Queue(String),
    /// Ring a registered extension and bridge.
    Extension(String),
    /// Play a prompt and hang up.
    Prompt(String),
}

#[derive(Clone, Debug)]
pub struct Route {
    pub number: String,
    pub target: Target,
    /// Only calls arriving on this trunk use the route.
    pub trunk_id: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Answered,
    NoAnswer,
    Busy,
    Cancelled,
    Rejected,
    Failed,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::NoAnswer => "no_answer",
            Disposition::Busy => "busy",
            Disposition::Cancelled => "cancelled",
            Disposition::Rejected => "rejected",
            Disposition::Failed => "failed",
        }
    }
}

/// Who ended a leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The party that placed the leg's INVITE (the remote party on an inbound leg).
    Caller,
    /// The party the INVITE went to (the remote party on an outbound leg).
    Callee,
    /// kefu itself (limits, shutdown, media timeout).
    System,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Caller => "caller",
            Side::Callee => "callee",
            Side::System => "system",
        }
    }
}

/// One leg's call detail record.
#[derive(Clone, Debug)]
pub struct CallRecord {
    pub leg_id: Uuid,
    /// Shared by the legs of one call (an inbound leg and the legs kefu bridges it to).
    pub call_uuid: Uuid,
    pub sip_call_id: String,
    pub direction: Direction,
    pub caller: String,
    pub callee: String,
    pub trunk_id: Option<Uuid>,
    pub extension: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub disposition: Disposition,
    pub hangup_cause: String,
    pub sip_status: Option<u16>,
    pub hangup_side: Side,
    pub recording_path: Option<String>,
}

#[async_trait]
pub trait Directory: Send + Sync + 'static {
    async fn extension(&self, number: &str) -> anyhow::Result<Option<ExtensionAuth>>;
    async fn trunks(&self) -> anyhow::Result<Vec<Trunk>>;
    async fn route(&self, number: &str) -> anyhow::Result<Option<Route>>;
    /// Stores a finished leg's record. Called once per leg.
    async fn record(&self, record: CallRecord) -> anyhow::Result<()>;
}
