//! A person's saved work-order list filters ("my overdue leaks"), by name. Each person sees and
//! deletes only their own; another person's filter is "not found".

use chrono::{DateTime, Utc};
use kefu_domain::UserId;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::Serialize;

use crate::entities::saved_filter;
use crate::{Actor, Result, Store, StoreError, audit};

/// How many filters one person may keep.
pub const MAX_SAVED_FILTERS: u64 = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedFilter {
    pub id: uuid::Uuid,
    pub user_id: UserId,
    pub name: String,
    /// The list's query parameters as the web app keeps them (a JSON object).
    pub query: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<saved_filter::Model> for SavedFilter {
    fn from(m: saved_filter::Model) -> SavedFilter {
        SavedFilter {
            id: m.id,
            user_id: UserId(m.user_id),
            name: m.name,
            query: m.query,
            created_at: m.created_at,
        }
    }
}

impl Store {
    /// The owner's filters, by name.
    pub async fn saved_filters(&self, owner: UserId) -> Result<Vec<SavedFilter>> {
        Ok(saved_filter::Entity::find()
            .filter(saved_filter::Column::UserId.eq(owner.0))
            .order_by_asc(saved_filter::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Saves a filter for `owner`. A second filter of the same name for the same person is a
    /// conflict; so is one beyond [`MAX_SAVED_FILTERS`].
    pub async fn create_saved_filter(
        &self,
        actor: &Actor,
        owner: UserId,
        name: String,
        query: serde_json::Value,
    ) -> Result<SavedFilter> {
        let tx = self.db.begin().await?;
        let count = saved_filter::Entity::find()
            .filter(saved_filter::Column::UserId.eq(owner.0))
            .count(&tx)
            .await?;
        if count >= MAX_SAVED_FILTERS {
            return Err(StoreError::Conflict(format!(
                "at most {MAX_SAVED_FILTERS} saved filters per person: delete one first"
            )));
        }
        let saved = SavedFilter::from(
            saved_filter::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                user_id: Set(owner.0),
                name: Set(name),
                query: Set(query),
                created_at: Set(Utc::now()),
            }
            .insert(&tx)
            .await
            .map_err(|e| StoreError::from_write(e, "a saved filter with this name"))?,
        );
        audit::record(
            &tx,
            actor,
            "saved_filter.create",
            "saved_filter",
            Some(saved.id.to_string()),
            None::<&()>,
            Some(&saved),
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Deletes one of the owner's filters; another person's, or one that does not exist, is
    /// `NotFound`.
    pub async fn delete_saved_filter(
        &self,
        actor: &Actor,
        owner: UserId,
        id: uuid::Uuid,
    ) -> Result<()> {
        let tx = self.db.begin().await?;
        let before = saved_filter::Entity::find_by_id(id)
            .filter(saved_filter::Column::UserId.eq(owner.0))
            .one(&tx)
            .await?
            .map(SavedFilter::from)
            .ok_or(StoreError::NotFound("saved filter"))?;
        saved_filter::Entity::delete_by_id(id).exec(&tx).await?;
        audit::record(
            &tx,
            actor,
            "saved_filter.delete",
            "saved_filter",
            Some(id.to_string()),
            Some(&before),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
