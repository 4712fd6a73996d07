//! The append-only audit log: who changed what, when, from where, with the values before and after.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

use crate::entities::audit;
use crate::{Actor, Page, PageRequest, Result, Store};

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<uuid::Uuid>,
    pub actor_name: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Actor's user id or name.
    pub actor: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Appends one entry. Called inside the transaction of the change it records.
pub(crate) async fn record<B: Serialize, A: Serialize>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: Option<String>,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<()> {
    let to_json = |v: Option<serde_json::Value>| v.filter(|v| !v.is_null());
    let row = audit::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        at: Set(Utc::now()),
        actor_id: Set(actor.user_id.map(|u| u.0)),
        actor_name: Set(actor.name.clone()),
        action: Set(action.to_string()),
        entity_type: Set(entity_type.to_string()),
        entity_id: Set(entity_id),
        before: Set(to_json(
            before.map(|b| serde_json::to_value(b).unwrap_or_default()),
        )),
        after: Set(to_json(
            after.map(|a| serde_json::to_value(a).unwrap_or_default()),
        )),
        source_ip: Set(actor.source_ip.clone()),
        request_id: Set(actor.request_id.clone()),
    };
    audit::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

impl Store {
    /// Newest first.
    pub async fn audit_entries(
        &self,
        q: &AuditQuery,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let mut sel = audit::Entity::find();
        if let Some(actor) = q.actor.as_deref().filter(|s| !s.is_empty()) {
            sel = match actor.parse::<uuid::Uuid>() {
                Ok(id) => sel.filter(audit::Column::ActorId.eq(id)),
                Err(_) => sel.filter(audit::Column::ActorName.eq(actor)),
            };
        }
        if let Some(t) = &q.entity_type {
            sel = sel.filter(audit::Column::EntityType.eq(t.as_str()));
        }
        if let Some(id) = &q.entity_id {
            sel = sel.filter(audit::Column::EntityId.eq(id.as_str()));
        }
        if let Some(a) = &q.action {
            sel = sel.filter(audit::Column::Action.eq(a.as_str()));
        }
        if let Some(from) = q.from {
            sel = sel.filter(audit::Column::At.gte(from));
        }
        if let Some(to) = q.to {
            sel = sel.filter(audit::Column::At.lt(to));
        }
        let total = sel.clone().count(&self.db).await?;
        let rows = sel
            .order_by_desc(audit::Column::At)
            .order_by_desc(audit::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        let items = rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                action: r.action,
                entity_type: r.entity_type,
                entity_id: r.entity_id,
                before: r.before,
                after: r.after,
                source_ip: r.source_ip,
                request_id: r.request_id,
            })
            .collect();
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }
}
