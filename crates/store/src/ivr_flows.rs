//! IVR flows (语音导航): flows, their immutable numbered versions, publishing (rolling back is
//! publishing an older version), what a flow may name ([`kefu_ivr::Known`]), and the per-call trace
//! the telephony runtime writes (sessions and node visits) with the funnel computed from it.
//!
//! What is stored is valid: a version's graph is a [`Flow`] without validation issues against what
//! existed when it was saved, and publishing checks it again against what exists now (a queue may
//! have gone since). Sessions and visits are system data like call records: not audited.

use std::collections::BTreeSet;

use chrono::{DateTime, SubsecRound, Utc};
use kefu_domain::FieldErrors;
use kefu_ivr::validate::{Issue, validate};
use kefu_ivr::{Flow, Known};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::{Actor, Result, Store, StoreError, audit};

mod flow_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ivr_flows")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub key: String,
        pub name: String,
        pub description: String,
        pub published_version: Option<i32>,
        pub published_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod version_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ivr_flow_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub flow_id: Uuid,
        pub version: i32,
        pub graph: Json,
        pub note: String,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod session_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ivr_sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub call_uuid: Option<Uuid>,
        pub flow_id: Uuid,
        pub version: i32,
        pub caller: String,
        pub customer_id: Option<Uuid>,
        pub started_at: DateTimeUtc,
        pub ended_at: Option<DateTimeUtc>,
        pub end_reason: Option<String>,
        pub last_node: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod visit_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ivr_visits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub session_id: Uuid,
        pub seq: i32,
        pub node_id: String,
        pub kind: String,
        pub branch: Option<String>,
        pub outcome: String,
        pub detail: Option<String>,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A flow with where its versions stand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IvrFlow {
    pub id: Uuid,
    /// What DID routes name (`flow:main`): `[a-z0-9_-]{1,40}`.
    pub key: String,
    pub name: String,
    pub description: String,
    /// The version new calls start on (`None`: never published).
    pub published_version: Option<i32>,
    pub published_at: Option<DateTime<Utc>>,
    /// The newest saved version (`None`: none saved yet).
    pub latest_version: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewIvrFlow {
    pub key: String,
    pub name: String,
    pub description: String,
    /// Saved as version 1 when given (validated like any version).
    pub graph: Option<Flow>,
    pub note: String,
}

/// A saved version of a flow: never changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IvrFlowVersion {
    pub flow_id: Uuid,
    pub version: i32,
    pub graph: Flow,
    pub note: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A version in a list (without its graph).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IvrVersionSummary {
    pub version: i32,
    pub note: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Nodes in the graph.
    pub nodes: usize,
}

/// One node visit of a call, as the runtime writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IvrVisitRow {
    /// 1, 2, 3 … within the session.
    pub seq: i32,
    pub node_id: String,
    pub kind: String,
    /// How the call left the node (`None`: it did not).
    pub branch: Option<String>,
    /// `passed`, `failed` (an error branch) or `left` (the caller hung up here).
    pub outcome: String,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvrSessionEnd {
    /// `hangup`, `transfer`, `completed`, `runaway`, `error`.
    pub reason: String,
    pub last_node: Option<String>,
    pub ended_at: DateTime<Utc>,
    pub customer_id: Option<Uuid>,
}

/// A call's run through a flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IvrSession {
    pub id: Uuid,
    pub call_uuid: Option<Uuid>,
    pub flow_id: Uuid,
    pub flow_key: Option<String>,
    pub version: i32,
    pub caller: String,
    pub customer_id: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub last_node: Option<String>,
}

/// A visit in a trace, with its session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IvrVisit {
    pub session_id: Uuid,
    #[serde(flatten)]
    pub row: IvrVisitRow,
}

/// What a call (or one session) did in the IVR: its sessions by start, their visits in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IvrTrace {
    pub sessions: Vec<IvrSession>,
    pub visits: Vec<IvrVisit>,
}

/// Which trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceOf {
    Call(Uuid),
    Session(Uuid),
}

/// One node of the funnel. Counts are sessions, not visits (a menu heard twice counts once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IvrFunnelNode {
    pub node_id: String,
    pub kind: String,
    /// Sessions that visited the node.
    pub reached: u64,
    /// Sessions that left it by a normal branch at least once.
    pub passed: u64,
    /// Sessions that left it by an error branch at least once.
    pub failed: u64,
    /// Sessions whose caller hung up there (the session ended there with `hangup`).
    pub left: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IvrEndCount {
    /// `hangup`, `transfer`, `completed`, `runaway`, `error`, or `active` (not ended yet).
    pub reason: String,
    pub sessions: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IvrFunnel {
    pub flow_id: Uuid,
    pub version: Option<i32>,
    pub sessions: u64,
    /// Most reached first.
    pub nodes: Vec<IvrFunnelNode>,
    pub ends: Vec<IvrEndCount>,
}

/// Something a flow may name, with its name for pickers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IvrKnownItem {
    pub key: String,
    pub name: String,
}

/// Everything a flow may name, with names (the designer's pickers); [`IvrCatalog::known`] is what
/// validation checks against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IvrCatalog {
    pub queues: Vec<IvrKnownItem>,
    pub extensions: Vec<IvrKnownItem>,
    pub sites: Vec<IvrKnownItem>,
    pub order_types: Vec<IvrKnownItem>,
    pub calendars: Vec<IvrKnownItem>,
    pub prompts: Vec<IvrKnownItem>,
    pub documents: Vec<IvrKnownItem>,
}

impl IvrCatalog {
    pub fn known(&self) -> Known {
        let keys = |v: &[IvrKnownItem]| v.iter().map(|i| i.key.clone()).collect();
        Known {
            queues: keys(&self.queues),
            extensions: keys(&self.extensions),
            sites: keys(&self.sites),
            order_types: keys(&self.order_types),
            calendars: keys(&self.calendars),
            prompts: keys(&self.prompts),
            documents: keys(&self.documents),
        }
    }
}

/// The field a validation issue is about, as the API names it: `graph.nodes[menu].options.1`, or
/// `graph.start` for the flow as a whole.
pub fn issue_field(issue: &Issue) -> String {
    match &issue.node {
        Some(node) => format!("graph.nodes[{node}].{}", issue.field),
        None => format!("graph.{}", issue.field),
    }
}

/// Validation issues as field errors (`code: message`).
pub fn issue_errors(issues: &[Issue]) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for i in issues {
        errors.push(issue_field(i), format!("{}: {}", i.code, i.message));
    }
    errors
}

/// Is `key` a flow key: 1-40 of a-z, 0-9, `_` and `-`?
pub fn valid_flow_key(key: &str) -> bool {
    (1..=40).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn graph_json(flow: &Flow) -> serde_json::Value {
    serde_json::to_value(flow).expect("a flow serializes")
}

fn graph_of(m: &version_row::Model) -> Result<Flow> {
    serde_json::from_value(m.graph.clone()).map_err(|e| {
        StoreError::Db(DbErr::Custom(format!(
            "IVR flow version {} of {}: stored graph is unreadable: {e}",
            m.version, m.flow_id
        )))
    })
}

fn version_from(m: version_row::Model) -> Result<IvrFlowVersion> {
    Ok(IvrFlowVersion {
        graph: graph_of(&m)?,
        flow_id: m.flow_id,
        version: m.version,
        note: m.note,
        created_by: m.created_by,
        created_at: m.created_at,
    })
}

fn flow_from(m: flow_row::Model, latest_version: Option<i32>) -> IvrFlow {
    IvrFlow {
        id: m.id,
        key: m.key,
        name: m.name,
        description: m.description,
        published_version: m.published_version,
        published_at: m.published_at,
        latest_version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn session_from(m: session_row::Model, flow_key: Option<String>) -> IvrSession {
    IvrSession {
        id: m.id,
        call_uuid: m.call_uuid,
        flow_id: m.flow_id,
        flow_key,
        version: m.version,
        caller: m.caller,
        customer_id: m.customer_id,
        started_at: m.started_at,
        ended_at: m.ended_at,
        end_reason: m.end_reason,
        last_node: m.last_node,
    }
}

/// What the audit log keeps of a saved version.
#[derive(Serialize)]
struct VersionAudit<'a> {
    key: &'a str,
    version: i32,
    note: &'a str,
    graph: &'a Flow,
}

#[derive(Serialize)]
struct PublishAudit<'a> {
    key: &'a str,
    published_version: Option<i32>,
}

impl Store {
    async fn ivr_begin_write(&self) -> Result<DatabaseTransaction> {
        Ok(self
            .db
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?)
    }

    /// `(key, name)` of `table`, by key.
    async fn ivr_pairs(
        &self,
        table: &str,
        key: &str,
        name: &str,
        only_active: Option<&str>,
    ) -> Result<Vec<IvrKnownItem>> {
        let mut q = Query::select();
        q.expr_as(Expr::col(Alias::new(key)), Alias::new("k"))
            .expr_as(Expr::col(Alias::new(name)), Alias::new("n"))
            .from(Alias::new(table))
            .order_by(Alias::new(key), sea_orm::Order::Asc);
        if let Some(col) = only_active {
            q.and_where(Expr::col(Alias::new(col)).eq(true));
        }
        let rows = self.db.query_all(&q).await?;
        rows.into_iter()
            .map(|r| {
                Ok(IvrKnownItem {
                    key: r.try_get("", "k")?,
                    name: r.try_get("", "n")?,
                })
            })
            .collect()
    }

    /// Everything a flow may name, with names: queues, extensions, sites (units by code), work-order
    /// types, calendars, prompts (the system catalog and admins' recordings) and documents.
    pub async fn ivr_catalog(&self) -> Result<IvrCatalog> {
        let mut prompts: Vec<IvrKnownItem> = kefu_ivr::prompts::catalog()
            .iter()
            .map(|p| IvrKnownItem {
                key: p.key.to_string(),
                name: p
                    .text("zh-CN")
                    .or(p.text("en"))
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect();
        let custom = self.ivr_pairs("ivr_prompts", "key", "text", None).await?;
        let mut seen: BTreeSet<String> = prompts.iter().map(|p| p.key.clone()).collect();
        for p in custom {
            // One row per language: the first text (by key order) names it.
            if seen.insert(p.key.clone()) {
                prompts.push(p);
            }
        }
        prompts.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(IvrCatalog {
            queues: self
                .ivr_pairs("queues", "key", "name", Some("active"))
                .await?,
            extensions: self
                .ivr_pairs("extensions", "number", "display_name", Some("enabled"))
                .await?,
            sites: self
                .ivr_pairs("units", "code", "name", Some("active"))
                .await?,
            order_types: self
                .ivr_pairs("work_order_types", "code", "name", Some("active"))
                .await?,
            calendars: self.ivr_pairs("calendars", "code", "name", None).await?,
            prompts,
            documents: self
                .ivr_pairs("ivr_documents", "key", "title", None)
                .await?,
        })
    }

    /// What flows may name, for validation.
    pub async fn ivr_known(&self) -> Result<Known> {
        Ok(self.ivr_catalog().await?.known())
    }

    /// Checks `flow` against what exists now: its issues as [`StoreError::Invalid`].
    async fn ivr_check(&self, flow: &Flow) -> Result<()> {
        let issues = validate(flow, &self.ivr_known().await?);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Invalid(issue_errors(&issues)))
        }
    }

    async fn ivr_latest_version(
        &self,
        db: &impl ConnectionTrait,
        flow_id: Uuid,
    ) -> Result<Option<i32>> {
        Ok(version_row::Entity::find()
            .select_only()
            .column_as(version_row::Column::Version.max(), "v")
            .filter(version_row::Column::FlowId.eq(flow_id))
            .into_tuple::<Option<i32>>()
            .one(db)
            .await?
            .flatten())
    }

    /// Every flow by key, with its published and newest versions.
    pub async fn ivr_flows(&self) -> Result<Vec<IvrFlow>> {
        let flows = flow_row::Entity::find()
            .order_by_asc(flow_row::Column::Key)
            .all(&self.db)
            .await?;
        let latest: Vec<(Uuid, Option<i32>)> = version_row::Entity::find()
            .select_only()
            .column(version_row::Column::FlowId)
            .column_as(version_row::Column::Version.max(), "v")
            .group_by(version_row::Column::FlowId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(flows
            .into_iter()
            .map(|f| {
                let l = latest
                    .iter()
                    .find(|(id, _)| *id == f.id)
                    .and_then(|(_, v)| *v);
                flow_from(f, l)
            })
            .collect())
    }

    pub async fn ivr_flow(&self, id: Uuid) -> Result<IvrFlow> {
        let f = flow_row::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("IVR flow"))?;
        let latest = self.ivr_latest_version(&self.db, id).await?;
        Ok(flow_from(f, latest))
    }

    pub async fn ivr_flow_by_key(&self, key: &str) -> Result<Option<IvrFlow>> {
        let Some(f) = flow_row::Entity::find()
            .filter(flow_row::Column::Key.eq(key))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let latest = self.ivr_latest_version(&self.db, f.id).await?;
        Ok(Some(flow_from(f, latest)))
    }

    /// Creates a flow, with `graph` as version 1 when given. A key that is not `[a-z0-9_-]{1,40}`, an
    /// empty name or an invalid graph is [`StoreError::Invalid`] naming the field
    /// (`graph.nodes[menu].options.1`); a key in use is a [`StoreError::Conflict`]. Nothing is written
    /// unless everything is.
    pub async fn create_ivr_flow(&self, actor: &Actor, new: NewIvrFlow) -> Result<IvrFlow> {
        let mut errors = FieldErrors::new();
        if !valid_flow_key(&new.key) {
            errors.push("key", "a flow key is 1-40 of a-z, 0-9, '_' and '-'");
        }
        if new.name.trim().is_empty() || new.name.chars().count() > 100 {
            errors.push("name", "1-100 characters");
        }
        if new.description.chars().count() > 1000 {
            errors.push("description", "at most 1000 characters");
        }
        if let Some(g) = &new.graph {
            let issues = validate(g, &self.ivr_known().await?);
            errors.0.extend(issue_errors(&issues).0);
        }
        errors.into_result().map_err(StoreError::Invalid)?;
        let at = now();
        let tx = self.ivr_begin_write().await?;
        let id = Uuid::now_v7();
        let model = flow_row::ActiveModel {
            id: Set(id),
            key: Set(new.key.clone()),
            name: Set(new.name.trim().to_string()),
            description: Set(new.description.trim().to_string()),
            published_version: Set(None),
            published_at: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "an IVR flow with this key"))?;
        let latest = if let Some(g) = &new.graph {
            insert_version(&tx, actor, id, 1, g, &new.note, at).await?;
            Some(1)
        } else {
            None
        };
        let created = flow_from(model, latest);
        audit::record(
            &tx,
            actor,
            "ivr_flow.create",
            "ivr_flow",
            Some(id.to_string()),
            None::<&()>,
            Some(&created),
        )
        .await?;
        if let Some(g) = &new.graph {
            audit::record(
                &tx,
                actor,
                "ivr_flow.version",
                "ivr_flow",
                Some(id.to_string()),
                None::<&()>,
                Some(&VersionAudit {
                    key: &created.key,
                    version: 1,
                    note: &new.note,
                    graph: g,
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Saves `graph` as the flow's next version (1, 2, 3 …). An invalid graph is
    /// [`StoreError::Invalid`] naming each node and field, and nothing is written.
    pub async fn save_ivr_version(
        &self,
        actor: &Actor,
        flow_id: Uuid,
        graph: &Flow,
        note: &str,
    ) -> Result<IvrFlowVersion> {
        let flow = self.ivr_flow(flow_id).await?;
        if note.chars().count() > 500 {
            return Err(StoreError::Invalid(FieldErrors(vec![
                kefu_domain::FieldError::new("note", "at most 500 characters"),
            ])));
        }
        self.ivr_check(graph).await?;
        let at = now();
        let tx = self.ivr_begin_write().await?;
        // Touching the flow first takes its row lock (PostgreSQL; SQLite's write lock is already
        // held): concurrent saves of one flow number their versions one after the other.
        flow_row::Entity::update_many()
            .col_expr(flow_row::Column::UpdatedAt, Expr::value(at))
            .filter(flow_row::Column::Id.eq(flow_id))
            .exec(&tx)
            .await?;
        let version = self.ivr_latest_version(&tx, flow_id).await?.unwrap_or(0) + 1;
        let saved = insert_version(&tx, actor, flow_id, version, graph, note, at).await?;
        audit::record(
            &tx,
            actor,
            "ivr_flow.version",
            "ivr_flow",
            Some(flow_id.to_string()),
            None::<&()>,
            Some(&VersionAudit {
                key: &flow.key,
                version,
                note,
                graph,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn ivr_version(&self, flow_id: Uuid, version: i32) -> Result<IvrFlowVersion> {
        let m = version_row::Entity::find()
            .filter(version_row::Column::FlowId.eq(flow_id))
            .filter(version_row::Column::Version.eq(version))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("IVR flow version"))?;
        version_from(m)
    }

    /// The versions of a flow, newest first. 404 for a flow that does not exist.
    pub async fn ivr_versions(&self, flow_id: Uuid) -> Result<Vec<IvrVersionSummary>> {
        self.ivr_flow(flow_id).await?;
        version_row::Entity::find()
            .filter(version_row::Column::FlowId.eq(flow_id))
            .order_by_desc(version_row::Column::Version)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| {
                let nodes = graph_of(&m)?.nodes.len();
                Ok(IvrVersionSummary {
                    version: m.version,
                    note: m.note,
                    created_by: m.created_by,
                    created_at: m.created_at,
                    nodes,
                })
            })
            .collect()
    }

    /// Makes `version` the one new calls start on (rolling back is publishing an older version). The
    /// graph is checked again against what exists now: issues are [`StoreError::Invalid`] and the
    /// published version stays as it was.
    pub async fn publish_ivr_version(
        &self,
        actor: &Actor,
        flow_id: Uuid,
        version: i32,
    ) -> Result<IvrFlow> {
        let before = self.ivr_flow(flow_id).await?;
        let v = self.ivr_version(flow_id, version).await?;
        self.ivr_check(&v.graph).await?;
        let at = now();
        let tx = self.ivr_begin_write().await?;
        flow_row::Entity::update_many()
            .col_expr(flow_row::Column::PublishedVersion, Expr::value(version))
            .col_expr(flow_row::Column::PublishedAt, Expr::value(at))
            .col_expr(flow_row::Column::UpdatedAt, Expr::value(at))
            .filter(flow_row::Column::Id.eq(flow_id))
            .exec(&tx)
            .await?;
        audit::record(
            &tx,
            actor,
            "ivr_flow.publish",
            "ivr_flow",
            Some(flow_id.to_string()),
            Some(&PublishAudit {
                key: &before.key,
                published_version: before.published_version,
            }),
            Some(&PublishAudit {
                key: &before.key,
                published_version: Some(version),
            }),
        )
        .await?;
        tx.commit().await?;
        self.ivr_flow(flow_id).await
    }

    /// The published graph of flow `key` for the telephony runtime: (flow id, version, graph).
    /// `None`: no such flow, or never published.
    pub async fn published_flow(&self, key: &str) -> Result<Option<(Uuid, i32, Flow)>> {
        let Some(f) = flow_row::Entity::find()
            .filter(flow_row::Column::Key.eq(key))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(version) = f.published_version else {
            return Ok(None);
        };
        let v = self.ivr_version(f.id, version).await?;
        Ok(Some((f.id, version, v.graph)))
    }

    // ---- the trace ----

    /// Starts the trace of a call entering a flow; returns the session id.
    pub async fn ivr_session_start(
        &self,
        flow_id: Uuid,
        version: i32,
        call_uuid: Option<Uuid>,
        caller: &str,
        started_at: DateTime<Utc>,
    ) -> Result<Uuid> {
        let id = Uuid::now_v7();
        session_row::ActiveModel {
            id: Set(id),
            call_uuid: Set(call_uuid),
            flow_id: Set(flow_id),
            version: Set(version),
            caller: Set(caller.to_string()),
            customer_id: Set(None),
            started_at: Set(started_at.trunc_subsecs(6)),
            ended_at: Set(None),
            end_reason: Set(None),
            last_node: Set(None),
        }
        .insert(&self.db)
        .await?;
        Ok(id)
    }

    /// Appends visits to a session (one transaction; a visit written again by its `seq` replaces the
    /// earlier row, so a pending visit can be written and completed later) and, with `end`, ends it.
    pub async fn ivr_session_record(
        &self,
        session_id: Uuid,
        visits: &[IvrVisitRow],
        end: Option<IvrSessionEnd>,
    ) -> Result<()> {
        let tx = self.ivr_begin_write().await?;
        if session_row::Entity::find_by_id(session_id)
            .one(&tx)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound("IVR session"));
        }
        // Several rows per statement, well under either backend's parameter limit (9 per row).
        for chunk in visits.chunks(500) {
            let rows = chunk.iter().map(|v| visit_row::ActiveModel {
                id: Set(Uuid::now_v7()),
                session_id: Set(session_id),
                seq: Set(v.seq),
                node_id: Set(v.node_id.clone()),
                kind: Set(v.kind.clone()),
                branch: Set(v.branch.clone()),
                outcome: Set(v.outcome.clone()),
                detail: Set(v.detail.clone()),
                at: Set(v.at.trunc_subsecs(6)),
            });
            visit_row::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([visit_row::Column::SessionId, visit_row::Column::Seq])
                        .update_columns([
                            visit_row::Column::NodeId,
                            visit_row::Column::Kind,
                            visit_row::Column::Branch,
                            visit_row::Column::Outcome,
                            visit_row::Column::Detail,
                            visit_row::Column::At,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&tx)
                .await?;
        }
        if let Some(end) = end {
            session_row::Entity::update_many()
                .col_expr(session_row::Column::EndReason, Expr::value(end.reason))
                .col_expr(session_row::Column::LastNode, Expr::value(end.last_node))
                .col_expr(
                    session_row::Column::EndedAt,
                    Expr::value(end.ended_at.trunc_subsecs(6)),
                )
                .col_expr(
                    session_row::Column::CustomerId,
                    Expr::value(end.customer_id),
                )
                .filter(session_row::Column::Id.eq(session_id))
                .exec(&tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The trace of a call (every session it had, by start) or of one session. A call or session
    /// without any is [`StoreError::NotFound`].
    pub async fn ivr_trace(&self, of: TraceOf) -> Result<IvrTrace> {
        let sel = session_row::Entity::find();
        let sel = match of {
            TraceOf::Call(c) => sel.filter(session_row::Column::CallUuid.eq(c)),
            TraceOf::Session(s) => sel.filter(session_row::Column::Id.eq(s)),
        };
        let sessions = sel
            .order_by_asc(session_row::Column::StartedAt)
            .order_by_asc(session_row::Column::Id)
            .all(&self.db)
            .await?;
        if sessions.is_empty() {
            return Err(StoreError::NotFound("IVR trace"));
        }
        let ids: Vec<Uuid> = sessions.iter().map(|s| s.id).collect();
        let flow_ids: Vec<Uuid> = sessions.iter().map(|s| s.flow_id).collect();
        let keys: Vec<(Uuid, String)> = flow_row::Entity::find()
            .select_only()
            .column(flow_row::Column::Id)
            .column(flow_row::Column::Key)
            .filter(flow_row::Column::Id.is_in(flow_ids))
            .into_tuple()
            .all(&self.db)
            .await?;
        let visits = visit_row::Entity::find()
            .filter(visit_row::Column::SessionId.is_in(ids.clone()))
            .all(&self.db)
            .await?;
        let mut visits: Vec<IvrVisit> = visits
            .into_iter()
            .map(|m| IvrVisit {
                session_id: m.session_id,
                row: IvrVisitRow {
                    seq: m.seq,
                    node_id: m.node_id,
                    kind: m.kind,
                    branch: m.branch,
                    outcome: m.outcome,
                    detail: m.detail,
                    at: m.at,
                },
            })
            .collect();
        let order = |s: Uuid| ids.iter().position(|i| *i == s);
        visits.sort_by_key(|v| (order(v.session_id), v.row.seq));
        Ok(IvrTrace {
            sessions: sessions
                .into_iter()
                .map(|s| {
                    let key = keys
                        .iter()
                        .find(|(id, _)| *id == s.flow_id)
                        .map(|k| k.1.clone());
                    session_from(s, key)
                })
                .collect(),
            visits,
        })
    }

    /// The funnel of a flow (one version, or all) over sessions started in `[from, to)`: per node the
    /// sessions that reached it, passed it, failed at it and hung up there, and the sessions per end.
    /// Computed by the database (two grouped queries).
    pub async fn ivr_funnel(
        &self,
        flow_id: Uuid,
        version: Option<i32>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<IvrFunnel> {
        self.ivr_flow(flow_id).await?;
        let s = Alias::new("s");
        let v = Alias::new("v");
        let scol = |c: &str| Expr::col((s.clone(), Alias::new(c)));
        let vcol = |c: &str| Expr::col((v.clone(), Alias::new(c)));
        let sessions_where = |q: &mut sea_orm::sea_query::SelectStatement| {
            q.and_where(scol("flow_id").eq(flow_id));
            if let Some(ver) = version {
                q.and_where(scol("version").eq(ver));
            }
            if let Some(f) = from {
                q.and_where(scol("started_at").gte(f));
            }
            if let Some(t) = to {
                q.and_where(scol("started_at").lt(t));
            }
        };
        let distinct_when = |cond: &str| {
            Expr::cust(format!(
                "COUNT(DISTINCT CASE WHEN {cond} THEN \"v\".\"session_id\" END)"
            ))
        };
        let mut q = Query::select();
        q.expr_as(vcol("node_id"), Alias::new("node_id"))
            .expr_as(vcol("kind"), Alias::new("kind"))
            .expr_as(
                Expr::cust("COUNT(DISTINCT \"v\".\"session_id\")"),
                Alias::new("reached"),
            )
            .expr_as(
                distinct_when("\"v\".\"outcome\" = 'passed'"),
                Alias::new("passed"),
            )
            .expr_as(
                distinct_when("\"v\".\"outcome\" = 'failed'"),
                Alias::new("failed"),
            )
            .expr_as(
                distinct_when(
                    "\"s\".\"end_reason\" = 'hangup' AND \"s\".\"last_node\" = \"v\".\"node_id\"",
                ),
                Alias::new("left_here"),
            )
            .from_as(Alias::new("ivr_visits"), v.clone())
            .join_as(
                sea_orm::sea_query::JoinType::InnerJoin,
                Alias::new("ivr_sessions"),
                s.clone(),
                scol("id").equals((v.clone(), Alias::new("session_id"))),
            )
            .group_by_col((v.clone(), Alias::new("node_id")))
            .group_by_col((v.clone(), Alias::new("kind")));
        sessions_where(&mut q);
        let rows = self.db.query_all(&q).await?;
        let count = |r: &sea_orm::QueryResult, c: &str| -> Result<u64> {
            Ok(u64::try_from(r.try_get::<i64>("", c)?).unwrap_or(0))
        };
        let mut nodes = rows
            .iter()
            .map(|r| {
                Ok(IvrFunnelNode {
                    node_id: r.try_get("", "node_id")?,
                    kind: r.try_get("", "kind")?,
                    reached: count(r, "reached")?,
                    passed: count(r, "passed")?,
                    failed: count(r, "failed")?,
                    left: count(r, "left_here")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        nodes.sort_by(|a, b| b.reached.cmp(&a.reached).then(a.node_id.cmp(&b.node_id)));

        let mut e = Query::select();
        e.expr_as(
            Func::coalesce([scol("end_reason"), Expr::val("active")]),
            Alias::new("reason"),
        )
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_as(Alias::new("ivr_sessions"), s.clone())
        .group_by_col((s.clone(), Alias::new("end_reason")));
        sessions_where(&mut e);
        let rows = self.db.query_all(&e).await?;
        let mut ends = rows
            .iter()
            .map(|r| {
                Ok(IvrEndCount {
                    reason: r.try_get("", "reason")?,
                    sessions: count(r, "n")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        ends.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.reason.cmp(&b.reason)));
        Ok(IvrFunnel {
            flow_id,
            version,
            sessions: ends.iter().map(|e| e.sessions).sum(),
            nodes,
            ends,
        })
    }
}

async fn insert_version(
    tx: &DatabaseTransaction,
    actor: &Actor,
    flow_id: Uuid,
    version: i32,
    graph: &Flow,
    note: &str,
    at: DateTime<Utc>,
) -> Result<IvrFlowVersion> {
    let m = version_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        flow_id: Set(flow_id),
        version: Set(version),
        graph: Set(graph_json(graph)),
        note: Set(note.to_string()),
        created_by: Set(actor.user_id.map(|u| u.0)),
        created_at: Set(at),
    }
    .insert(tx)
    .await
    .map_err(|e| {
        StoreError::from_write(e, "this version (saved at the same time by someone else)")
    })?;
    version_from(m)
}
