//! The knowledge base's persistence (issue 7, `docs/kb.md`): the category tree, articles with every
//! version and their review workflow, attachments, favorites, counted events and votes, the log of
//! searches without results, synonyms, and what the search index is rebuilt from.
//!
//! The rules of the content (slugs, titles, tags, Markdown, which workflow step is allowed to whom)
//! are `kefu-kb`'s and checked by the API; this module keeps what needs the database: references
//! exist, slugs and sibling names are unique, a move makes no cycle, a write sees the state it was
//! decided on (a stale version or status is a conflict). Content changes are audited in the same
//! transaction; counted events, votes, favorites and the no-result log are statistics, not audited.
//!
//! An article is *visible* to readers when it has a `published_version`; archiving clears it. Editing
//! a published article makes a new draft version (`status` draft) while readers keep seeing the
//! published one.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::FieldErrors;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, LikeExpr, Order, Query, SelectStatement,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::entities::user;
use crate::{Actor, NewAttachment, Page, PageRequest, Result, Store, StoreError, audit};

mod ent {
    pub mod category {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "kb_categories")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub parent_id: Option<Uuid>,
            pub name: String,
            pub position: i32,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod article {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "kb_articles")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub slug: String,
            pub status: String,
            pub current_version: i32,
            pub published_version: Option<i32>,
            pub author_id: Option<Uuid>,
            pub submitted_by: Option<Uuid>,
            pub reviewer_id: Option<Uuid>,
            pub reviewer_name: Option<String>,
            pub reviewed_at: Option<DateTimeUtc>,
            pub reject_comment: Option<String>,
            pub published_at: Option<DateTimeUtc>,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod version {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "kb_article_versions")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub article_id: Uuid,
            pub version: i32,
            pub title: String,
            pub category_id: Uuid,
            pub tags: Json,
            pub visibility: String,
            pub valid_from: Option<Date>,
            pub valid_to: Option<Date>,
            pub body: String,
            pub note: Option<String>,
            pub created_by: Option<Uuid>,
            pub created_by_name: String,
            pub created_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod attachment {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "kb_attachments")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub article_id: Uuid,
            pub filename: String,
            pub content_type: String,
            pub size: i64,
            pub sha256: String,
            pub content: Vec<u8>,
            pub uploaded_by: Option<Uuid>,
            pub created_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod favorite {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "kb_favorites")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub user_id: Uuid,
            pub article_id: Uuid,
            pub created_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod event {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "kb_events")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub article_id: Uuid,
            pub kind: String,
            pub user_id: Option<Uuid>,
            pub query: Option<String>,
            pub at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod vote {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "kb_votes")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub article_id: Uuid,
            pub user_id: Uuid,
            pub helpful: bool,
            pub at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod no_result {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "kb_no_results")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub query: String,
            pub audience: String,
            pub user_id: Option<Uuid>,
            pub at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod synonyms {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "kb_synonyms")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: i32,
            pub groups: Json,
            pub version: i64,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use ent::{article, attachment, category, event, favorite, no_result, synonyms, version, vote};

/// The workflow states an article's latest version is in.
pub const KB_STATUSES: &[&str] = &["draft", "in_review", "published", "archived"];

/// A category of the tree, with how many articles (latest versions) are directly in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbCategory {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub position: i32,
    pub article_count: u64,
    pub updated_at: DateTime<Utc>,
}

/// What to change in a category; `parent_id: Some(None)` moves it to the roots. A `position` is the
/// index among its (new) siblings; the siblings are renumbered 0, 1, … around it.
#[derive(Debug, Clone, Default)]
pub struct KbCategoryChanges {
    pub name: Option<String>,
    pub parent_id: Option<Option<Uuid>>,
    pub position: Option<u32>,
}

/// The content of one version of an article (checked by `kefu-kb` before it comes here).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbContent {
    pub title: String,
    pub category_id: Uuid,
    pub tags: Vec<String>,
    /// `internal` or `public`.
    pub visibility: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// Markdown.
    pub body: String,
}

/// Which version of an article to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KbView {
    /// The latest version, whatever its status (editors).
    Latest,
    /// The published version of a visible article (readers); nothing when none is published.
    Published,
}

/// An article as one version of it reads, with its workflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbArticle {
    pub id: Uuid,
    pub slug: String,
    pub status: String,
    pub current_version: i32,
    pub published_version: Option<i32>,
    /// Which version `content` is.
    pub version: i32,
    pub content: KbContent,
    /// Who saved `version`, and when.
    pub version_by: Option<Uuid>,
    pub version_by_name: String,
    pub version_at: DateTime<Utc>,
    pub author_id: Option<Uuid>,
    /// Who submitted the version in review (or last submitted one).
    pub submitted_by: Option<Uuid>,
    pub reviewer_id: Option<Uuid>,
    pub reviewer_name: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reject_comment: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One saved version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbVersion {
    pub article_id: Uuid,
    pub version: i32,
    pub content: KbContent,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
}

/// A new article: a draft at version 1.
#[derive(Debug, Clone)]
pub struct NewKbArticle {
    /// `None`: made from the id.
    pub slug: Option<String>,
    pub content: KbContent,
    pub note: Option<String>,
}

/// Filters of the article list; the category filter includes its subtree.
#[derive(Debug, Clone)]
pub struct KbArticleQuery {
    pub view: KbView,
    pub category_id: Option<Uuid>,
    pub tag: Option<String>,
    pub status: Option<String>,
    pub visibility: Option<String>,
    /// Only articles whose validity dates include this day.
    pub valid_on: Option<NaiveDate>,
    /// Only these articles (e.g. a user's favorites).
    pub ids: Option<Vec<Uuid>>,
}

impl KbArticleQuery {
    pub fn new(view: KbView) -> KbArticleQuery {
        KbArticleQuery {
            view,
            category_id: None,
            tag: None,
            status: None,
            visibility: None,
            valid_on: None,
            ids: None,
        }
    }
}

/// A workflow step as the API decided it (with `kefu_kb::workflow`): the store applies it only when
/// the article is still in `from` (and, when given, still at `expected_version`).
#[derive(Debug, Clone)]
pub struct KbTransition {
    /// `submit`, `approve`, `reject`, `archive`, `publish`: the audit action is `kb.article.<action>`.
    pub action: String,
    pub from: String,
    pub to: String,
    pub expected_version: Option<i32>,
    /// Readers see the current version from now on (approve, publish).
    pub publish: bool,
    /// Readers see nothing any more (archive).
    pub unpublish: bool,
    /// The reviewer's comment (reject).
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbAttachmentMeta {
    pub id: Uuid,
    pub article_id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The ranking inputs of one article, all time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KbCounts {
    pub views: u64,
    pub clicks: u64,
    pub helpful: u64,
    pub unhelpful: u64,
}

/// A hot article: views + 2 × clicks + 3 × helpful votes in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KbHot {
    pub article_id: Uuid,
    pub score: u64,
}

/// A query that found nothing, aggregated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbNoResult {
    pub query: String,
    pub count: u64,
    pub last_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbSynonyms {
    pub groups: Vec<Vec<String>>,
    /// 0 before the first change; counted up on every change.
    pub version: i64,
}

/// One article of an import (or the demo seed), matched by slug; its category is a path of names,
/// created when missing.
#[derive(Debug, Clone)]
pub struct KbImportArticle {
    pub slug: String,
    pub category_path: Vec<String>,
    pub title: String,
    pub tags: Vec<String>,
    pub visibility: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub body: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KbImportReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub categories_created: u64,
}

fn invalid(field: &str, reason: impl Into<String>) -> StoreError {
    let mut e = FieldErrors::new();
    e.push(field, reason);
    StoreError::Invalid(e)
}

fn tags_json(tags: &[String]) -> serde_json::Value {
    serde_json::Value::from(tags.to_vec())
}

fn tags_of(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn content_of(v: &version::Model) -> KbContent {
    KbContent {
        title: v.title.clone(),
        category_id: v.category_id,
        tags: tags_of(&v.tags),
        visibility: v.visibility.clone(),
        valid_from: v.valid_from,
        valid_to: v.valid_to,
        body: v.body.clone(),
    }
}

fn article_of(a: article::Model, v: &version::Model) -> KbArticle {
    KbArticle {
        id: a.id,
        slug: a.slug,
        status: a.status,
        current_version: a.current_version,
        published_version: a.published_version,
        version: v.version,
        content: content_of(v),
        version_by: v.created_by,
        version_by_name: v.created_by_name.clone(),
        version_at: v.created_at,
        author_id: a.author_id,
        submitted_by: a.submitted_by,
        reviewer_id: a.reviewer_id,
        reviewer_name: a.reviewer_name,
        reviewed_at: a.reviewed_at,
        reject_comment: a.reject_comment,
        published_at: a.published_at,
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

fn version_of(v: version::Model) -> KbVersion {
    KbVersion {
        article_id: v.article_id,
        version: v.version,
        content: content_of(&v),
        note: v.note,
        created_by: v.created_by,
        created_by_name: v.created_by_name,
        created_at: v.created_at,
    }
}

fn meta_of(m: attachment::Model) -> KbAttachmentMeta {
    KbAttachmentMeta {
        id: m.id,
        article_id: m.article_id,
        filename: m.filename,
        content_type: m.content_type,
        size: m.size,
        sha256: m.sha256,
        uploaded_by: m.uploaded_by,
        created_at: m.created_at,
    }
}

/// The name people know the actor by (a user's display name), for "who saved this version".
async fn name_of(db: &impl ConnectionTrait, actor: &Actor) -> Result<String> {
    if let Some(u) = actor.user_id
        && let Some(user) = user::Entity::find_by_id(u.0).one(db).await?
    {
        return Ok(user.display_name);
    }
    Ok(actor.name.clone())
}

/// The ids of `root` and every category under it.
fn subtree(all: &[category::Model], root: Uuid) -> Vec<Uuid> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            all.iter()
                .filter(|c| c.parent_id == Some(parent))
                .map(|c| c.id),
        );
        i += 1;
    }
    out
}

/// SQL `LIKE` pattern of a tag inside the JSON text of a tag list.
fn tag_pattern(tag: &str) -> String {
    let quoted = serde_json::to_string(tag).unwrap_or_default();
    let mut p = String::from("%");
    for c in quoted.chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[derive(Debug, FromQueryResult)]
struct IdRow {
    id: Uuid,
}

impl Store {
    /// See `workorders::begin_write`: on SQLite the write lock is taken at `BEGIN IMMEDIATE`, so a
    /// transaction that reads before it writes cannot fail with SQLITE_BUSY under other writers.
    async fn kb_begin_write(&self) -> Result<DatabaseTransaction> {
        Ok(self
            .db
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?)
    }

    // ---- categories ----

    /// Every category, siblings in `position` order, with the number of articles directly in each.
    pub async fn kb_categories(&self) -> Result<Vec<KbCategory>> {
        let rows = category::Entity::find()
            .order_by_asc(category::Column::Position)
            .order_by_asc(category::Column::Name)
            .all(&self.db)
            .await?;
        let counts: HashMap<Uuid, u64> = {
            let a = Alias::new("a");
            let v = Alias::new("v");
            let stmt = Query::select()
                .expr_as(
                    Expr::col((v.clone(), Alias::new("category_id"))),
                    Alias::new("id"),
                )
                .from_as(Alias::new("kb_articles"), a.clone())
                .join_as(
                    JoinType::InnerJoin,
                    Alias::new("kb_article_versions"),
                    v.clone(),
                    Expr::col((v.clone(), Alias::new("article_id")))
                        .equals((a.clone(), Alias::new("id")))
                        .and(
                            Expr::col((v.clone(), Alias::new("version")))
                                .equals((a.clone(), Alias::new("current_version"))),
                        ),
                )
                .to_owned();
            let b = self.db.get_database_backend();
            let rows = IdRow::find_by_statement(b.build(&stmt))
                .all(&self.db)
                .await?;
            let mut m = HashMap::new();
            for r in rows {
                *m.entry(r.id).or_insert(0) += 1;
            }
            m
        };
        Ok(rows
            .into_iter()
            .map(|c| KbCategory {
                article_count: counts.get(&c.id).copied().unwrap_or(0),
                id: c.id,
                parent_id: c.parent_id,
                name: c.name,
                position: c.position,
                updated_at: c.updated_at,
            })
            .collect())
    }

    /// A new category, last among its siblings. Its name must not be taken among them.
    pub async fn kb_create_category(
        &self,
        actor: &Actor,
        name: &str,
        parent_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<KbCategory> {
        let tx = self.kb_begin_write().await?;
        let all = category::Entity::find().all(&tx).await?;
        if let Some(p) = parent_id
            && !all.iter().any(|c| c.id == p)
        {
            return Err(invalid("parent_id", "上级分类不存在"));
        }
        if all
            .iter()
            .any(|c| c.parent_id == parent_id && c.name == name)
        {
            return Err(invalid("name", "同一级下已有同名分类"));
        }
        let position = all.iter().filter(|c| c.parent_id == parent_id).count() as i32;
        let row = category::ActiveModel {
            id: Set(Uuid::now_v7()),
            parent_id: Set(parent_id),
            name: Set(name.to_string()),
            position: Set(position),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await?;
        let out = KbCategory {
            id: row.id,
            parent_id: row.parent_id,
            name: row.name,
            position: row.position,
            article_count: 0,
            updated_at: row.updated_at,
        };
        audit::record(
            &tx,
            actor,
            "kb.category.create",
            "kb_category",
            Some(out.id.to_string()),
            None::<&()>,
            Some(&out),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Renames, moves and reorders a category. Moving under itself or one of its descendants is
    /// refused (`parent_id`).
    pub async fn kb_update_category(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: KbCategoryChanges,
        now: DateTime<Utc>,
    ) -> Result<KbCategory> {
        let tx = self.kb_begin_write().await?;
        let all = category::Entity::find()
            .order_by_asc(category::Column::Position)
            .order_by_asc(category::Column::Name)
            .all(&tx)
            .await?;
        let before = all
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .ok_or(StoreError::NotFound("category"))?;
        let parent = changes.parent_id.unwrap_or(before.parent_id);
        if let Some(p) = parent {
            if !all.iter().any(|c| c.id == p) {
                return Err(invalid("parent_id", "上级分类不存在"));
            }
            if subtree(&all, id).contains(&p) {
                return Err(invalid("parent_id", "不能移动到自身或其下级分类之下"));
            }
        }
        let name = changes.name.clone().unwrap_or(before.name.clone());
        if all
            .iter()
            .any(|c| c.id != id && c.parent_id == parent && c.name == name)
        {
            return Err(invalid("name", "同一级下已有同名分类"));
        }
        // The new order of the siblings: the others in their order, this one at `position` (or
        // where it was when it stays, or last when it moves without a position).
        let mut siblings: Vec<&category::Model> = all
            .iter()
            .filter(|c| c.parent_id == parent && c.id != id)
            .collect();
        let at = match changes.position {
            Some(p) => (p as usize).min(siblings.len()),
            None if parent == before.parent_id => siblings
                .iter()
                .position(|c| c.position > before.position)
                .unwrap_or(siblings.len()),
            None => siblings.len(),
        };
        siblings.insert(at, &before);
        for (i, c) in siblings.iter().enumerate() {
            let i = i as i32;
            if c.id == id {
                category::ActiveModel {
                    id: Set(id),
                    parent_id: Set(parent),
                    name: Set(name.clone()),
                    position: Set(i),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(&tx)
                .await?;
            } else if c.position != i {
                category::ActiveModel {
                    id: Set(c.id),
                    position: Set(i),
                    ..Default::default()
                }
                .update(&tx)
                .await?;
            }
        }
        // Renumber the old siblings when it left them.
        if parent != before.parent_id {
            let old: Vec<&category::Model> = all
                .iter()
                .filter(|c| c.parent_id == before.parent_id && c.id != id)
                .collect();
            for (i, c) in old.iter().enumerate() {
                if c.position != i as i32 {
                    category::ActiveModel {
                        id: Set(c.id),
                        position: Set(i as i32),
                        ..Default::default()
                    }
                    .update(&tx)
                    .await?;
                }
            }
        }
        let new_position = siblings.iter().position(|c| c.id == id).unwrap_or(0) as i32;
        let after = KbCategory {
            id,
            parent_id: parent,
            name,
            position: new_position,
            article_count: self.kb_articles_in(&tx, id).await?,
            updated_at: now,
        };
        audit::record(
            &tx,
            actor,
            "kb.category.update",
            "kb_category",
            Some(id.to_string()),
            Some(&serde_json::json!({
                "name": before.name, "parent_id": before.parent_id, "position": before.position
            })),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes an empty category: one with sub-categories, or articles whose latest or published
    /// version is in it, is a conflict.
    pub async fn kb_delete_category(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let tx = self.kb_begin_write().await?;
        let row = category::Entity::find_by_id(id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("category"))?;
        let children = category::Entity::find()
            .filter(category::Column::ParentId.eq(id))
            .count(&tx)
            .await?;
        if children > 0 {
            return Err(StoreError::Conflict("该分类下还有子分类，不能删除".into()));
        }
        if self.kb_articles_in(&tx, id).await? > 0 {
            return Err(StoreError::Conflict("该分类下还有文章，不能删除".into()));
        }
        category::Entity::delete_by_id(id).exec(&tx).await?;
        audit::record(
            &tx,
            actor,
            "kb.category.delete",
            "kb_category",
            Some(id.to_string()),
            Some(&serde_json::json!({ "name": row.name, "parent_id": row.parent_id })),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Articles whose latest or published version is in `category`.
    async fn kb_articles_in(&self, db: &impl ConnectionTrait, category_id: Uuid) -> Result<u64> {
        let a = Alias::new("a");
        let v = Alias::new("v");
        let stmt = Query::select()
            .expr_as(Expr::col((a.clone(), Alias::new("id"))), Alias::new("id"))
            .from_as(Alias::new("kb_articles"), a.clone())
            .join_as(
                JoinType::InnerJoin,
                Alias::new("kb_article_versions"),
                v.clone(),
                Expr::col((v.clone(), Alias::new("article_id")))
                    .equals((a.clone(), Alias::new("id"))),
            )
            .and_where(Expr::col((v.clone(), Alias::new("category_id"))).eq(category_id))
            .and_where(
                Expr::col((v.clone(), Alias::new("version")))
                    .equals((a.clone(), Alias::new("current_version")))
                    .or(Expr::col((v.clone(), Alias::new("version")))
                        .equals((a.clone(), Alias::new("published_version")))),
            )
            .to_owned();
        let rows = IdRow::find_by_statement(db.get_database_backend().build(&stmt))
            .all(db)
            .await?;
        Ok(rows.len() as u64)
    }

    // ---- articles ----

    async fn kb_check_category(&self, db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
        if category::Entity::find_by_id(id).one(db).await?.is_none() {
            return Err(invalid("category_id", "分类不存在"));
        }
        Ok(())
    }

    async fn kb_slug_taken(
        &self,
        db: &impl ConnectionTrait,
        slug: &str,
        except: Option<Uuid>,
    ) -> Result<bool> {
        let mut q = article::Entity::find().filter(article::Column::Slug.eq(slug));
        if let Some(id) = except {
            q = q.filter(article::Column::Id.ne(id));
        }
        Ok(q.one(db).await?.is_some())
    }

    #[allow(clippy::too_many_arguments)]
    async fn kb_insert_version(
        &self,
        db: &impl ConnectionTrait,
        article_id: Uuid,
        n: i32,
        c: &KbContent,
        note: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let by_name = name_of(db, actor).await?;
        version::ActiveModel {
            id: Set(Uuid::now_v7()),
            article_id: Set(article_id),
            version: Set(n),
            title: Set(c.title.clone()),
            category_id: Set(c.category_id),
            tags: Set(tags_json(&c.tags)),
            visibility: Set(c.visibility.clone()),
            valid_from: Set(c.valid_from),
            valid_to: Set(c.valid_to),
            body: Set(c.body.clone()),
            note: Set(note),
            created_by: Set(actor.user_id.map(|u| u.0)),
            created_by_name: Set(by_name),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
        Ok(())
    }

    /// A new article: a draft at version 1, by the actor.
    pub async fn kb_create_article(
        &self,
        actor: &Actor,
        new: NewKbArticle,
        now: DateTime<Utc>,
    ) -> Result<KbArticle> {
        let tx = self.kb_begin_write().await?;
        let id = Uuid::now_v7();
        let slug = new.slug.unwrap_or_else(|| id.simple().to_string());
        self.kb_check_category(&tx, new.content.category_id).await?;
        if self.kb_slug_taken(&tx, &slug, None).await? {
            return Err(invalid("slug", "该标识（slug）已被其他文章使用"));
        }
        article::ActiveModel {
            id: Set(id),
            slug: Set(slug),
            status: Set("draft".into()),
            current_version: Set(1),
            published_version: Set(None),
            author_id: Set(actor.user_id.map(|u| u.0)),
            submitted_by: Set(None),
            reviewer_id: Set(None),
            reviewer_name: Set(None),
            reviewed_at: Set(None),
            reject_comment: Set(None),
            published_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "slug"))?;
        self.kb_insert_version(&tx, id, 1, &new.content, new.note, actor, now)
            .await?;
        let out = self.kb_article_in(&tx, id, KbView::Latest).await?;
        audit::record(
            &tx,
            actor,
            "kb.article.create",
            "kb_article",
            Some(id.to_string()),
            None::<&()>,
            Some(&audit_view(&out)),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Saves a new version (latest + 1) when `expected_version` is still the latest (else a
    /// conflict). The article becomes a draft; a published one stays visible at its published
    /// version until the new one is approved. `slug: Some` changes the slug.
    #[allow(clippy::too_many_arguments)]
    pub async fn kb_update_article(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: i32,
        slug: Option<String>,
        content: KbContent,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<KbArticle> {
        let tx = self.kb_begin_write().await?;
        let a = article::Entity::find_by_id(id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("article"))?;
        if a.current_version != expected_version {
            return Err(StoreError::Conflict(format!(
                "文章已被他人修改（当前版本 {}，你编辑的是版本 {}），请刷新后再改",
                a.current_version, expected_version
            )));
        }
        self.kb_check_category(&tx, content.category_id).await?;
        if let Some(s) = &slug
            && self.kb_slug_taken(&tx, s, Some(id)).await?
        {
            return Err(invalid("slug", "该标识（slug）已被其他文章使用"));
        }
        let before = self.kb_article_in(&tx, id, KbView::Latest).await?;
        let n = a.current_version + 1;
        self.kb_insert_version(&tx, id, n, &content, note, actor, now)
            .await?;
        let mut m: article::ActiveModel = a.into();
        if let Some(s) = slug {
            m.slug = Set(s);
        }
        m.current_version = Set(n);
        m.status = Set("draft".into());
        m.updated_at = Set(now);
        m.update(&tx)
            .await
            .map_err(|e| StoreError::from_write(e, "slug"))?;
        let out = self.kb_article_in(&tx, id, KbView::Latest).await?;
        audit::record(
            &tx,
            actor,
            "kb.article.update",
            "kb_article",
            Some(id.to_string()),
            Some(&audit_view(&before)),
            Some(&audit_view(&out)),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// A workflow step (see [`KbTransition`]).
    pub async fn kb_transition(
        &self,
        actor: &Actor,
        id: Uuid,
        t: KbTransition,
        now: DateTime<Utc>,
    ) -> Result<KbArticle> {
        let tx = self.kb_begin_write().await?;
        let a = article::Entity::find_by_id(id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("article"))?;
        if a.status != t.from {
            return Err(StoreError::Conflict(format!(
                "文章状态已变为 {}，请刷新后再操作",
                a.status
            )));
        }
        if let Some(v) = t.expected_version
            && v != a.current_version
        {
            return Err(StoreError::Conflict(format!(
                "文章已有新版本 {}，请刷新后再操作",
                a.current_version
            )));
        }
        let before = (a.status.clone(), a.published_version);
        let current = a.current_version;
        let mut m: article::ActiveModel = a.into();
        m.status = Set(t.to.clone());
        m.updated_at = Set(now);
        match t.action.as_str() {
            "submit" => {
                m.submitted_by = Set(actor.user_id.map(|u| u.0));
                m.reject_comment = Set(None);
            }
            "reject" => {
                m.reviewer_id = Set(actor.user_id.map(|u| u.0));
                m.reviewer_name = Set(Some(name_of(&tx, actor).await?));
                m.reviewed_at = Set(Some(now));
                m.reject_comment = Set(t.comment.clone());
            }
            "approve" | "publish" => {
                m.reviewer_id = Set(actor.user_id.map(|u| u.0));
                m.reviewer_name = Set(Some(name_of(&tx, actor).await?));
                m.reviewed_at = Set(Some(now));
                m.reject_comment = Set(None);
            }
            _ => {}
        }
        if t.publish {
            m.published_version = Set(Some(current));
            m.published_at = Set(Some(now));
        }
        if t.unpublish {
            m.published_version = Set(None);
        }
        m.update(&tx).await?;
        let out = self.kb_article_in(&tx, id, KbView::Latest).await?;
        audit::record(
            &tx,
            actor,
            &format!("kb.article.{}", t.action),
            "kb_article",
            Some(id.to_string()),
            Some(&serde_json::json!({ "status": before.0, "published_version": before.1 })),
            Some(&serde_json::json!({
                "status": out.status,
                "published_version": out.published_version,
                "version": out.current_version,
                "comment": t.comment,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn kb_article_in(
        &self,
        db: &impl ConnectionTrait,
        id: Uuid,
        view: KbView,
    ) -> Result<KbArticle> {
        let a = article::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(StoreError::NotFound("article"))?;
        let n = match view {
            KbView::Latest => a.current_version,
            KbView::Published => a.published_version.ok_or(StoreError::NotFound("article"))?,
        };
        let v = version::Entity::find()
            .filter(version::Column::ArticleId.eq(id))
            .filter(version::Column::Version.eq(n))
            .one(db)
            .await?
            .ok_or(StoreError::NotFound("article version"))?;
        Ok(article_of(a, &v))
    }

    /// One article as `view` reads it: `Published` is not found unless it is visible.
    pub async fn kb_article(&self, id: Uuid, view: KbView) -> Result<KbArticle> {
        self.kb_article_in(&self.db, id, view).await
    }

    pub async fn kb_article_by_slug(&self, slug: &str, view: KbView) -> Result<KbArticle> {
        let a = article::Entity::find()
            .filter(article::Column::Slug.eq(slug))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("article"))?;
        self.kb_article(a.id, view).await
    }

    fn kb_list_statement(
        &self,
        q: &KbArticleQuery,
        all_categories: &[category::Model],
    ) -> SelectStatement {
        let a = Alias::new("a");
        let v = Alias::new("v");
        let col = |t: &Alias, c: &str| Expr::col((t.clone(), Alias::new(c)));
        let shown = match q.view {
            KbView::Latest => "current_version",
            KbView::Published => "published_version",
        };
        let mut s = Query::select();
        s.expr_as(col(&a, "id"), Alias::new("id"))
            .from_as(Alias::new("kb_articles"), a.clone())
            .join_as(
                JoinType::InnerJoin,
                Alias::new("kb_article_versions"),
                v.clone(),
                col(&v, "article_id")
                    .equals((a.clone(), Alias::new("id")))
                    .and(col(&v, "version").equals((a.clone(), Alias::new(shown)))),
            );
        if let Some(c) = q.category_id {
            s.and_where(col(&v, "category_id").is_in(subtree(all_categories, c)));
        }
        if let Some(t) = &q.tag {
            s.and_where(
                Expr::expr(Func::cast_as(
                    Expr::col((v.clone(), Alias::new("tags"))),
                    Alias::new("TEXT"),
                ))
                .like(LikeExpr::new(tag_pattern(t)).escape('!')),
            );
        }
        if let Some(st) = &q.status {
            s.and_where(col(&a, "status").eq(st.as_str()));
        }
        if let Some(vis) = &q.visibility {
            s.and_where(col(&v, "visibility").eq(vis.as_str()));
        }
        if let Some(day) = q.valid_on {
            s.and_where(
                col(&v, "valid_from")
                    .is_null()
                    .or(col(&v, "valid_from").lte(day)),
            );
            s.and_where(
                col(&v, "valid_to")
                    .is_null()
                    .or(col(&v, "valid_to").gte(day)),
            );
        }
        if let Some(ids) = &q.ids {
            s.and_where(col(&a, "id").is_in(ids.clone()));
        }
        s.order_by((a.clone(), Alias::new("updated_at")), Order::Desc)
            .order_by((a, Alias::new("id")), Order::Desc);
        s.to_owned()
    }

    /// A page of articles (newest change first) as `q.view` reads them.
    pub async fn kb_articles(
        &self,
        q: &KbArticleQuery,
        page: PageRequest,
    ) -> Result<Page<KbArticle>> {
        let cats = category::Entity::find().all(&self.db).await?;
        let stmt = self.kb_list_statement(q, &cats);
        let b = self.db.get_database_backend();
        let ids = IdRow::find_by_statement(b.build(&stmt))
            .all(&self.db)
            .await?;
        let total = ids.len() as u64;
        let per_page = page.per_page.clamp(1, PageRequest::MAX_PER_PAGE);
        let wanted: Vec<Uuid> = ids
            .into_iter()
            .skip(((Ord::max(page.page, 1) - 1) * per_page) as usize)
            .take(per_page as usize)
            .map(|r| r.id)
            .collect();
        let items = self.kb_articles_by_ids(&wanted, q.view).await?;
        Ok(Page {
            items,
            total,
            page: Ord::max(page.page, 1),
            per_page,
        })
    }

    /// These articles as `view` reads them, in the order given; missing ones are left out.
    pub async fn kb_articles_by_ids(&self, ids: &[Uuid], view: KbView) -> Result<Vec<KbArticle>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = article::Entity::find()
            .filter(article::Column::Id.is_in(ids.to_vec()))
            .all(&self.db)
            .await?;
        let mut wanted = Vec::new();
        for a in &rows {
            let n = match view {
                KbView::Latest => Some(a.current_version),
                KbView::Published => a.published_version,
            };
            if let Some(n) = n {
                wanted.push((a.id, n));
            }
        }
        let mut versions: HashMap<Uuid, version::Model> = HashMap::new();
        for chunk in wanted.chunks(200) {
            let mut cond = sea_orm::Condition::any();
            for (id, n) in chunk {
                cond = cond.add(
                    sea_orm::Condition::all()
                        .add(version::Column::ArticleId.eq(*id))
                        .add(version::Column::Version.eq(*n)),
                );
            }
            for v in version::Entity::find().filter(cond).all(&self.db).await? {
                versions.insert(v.article_id, v);
            }
        }
        let mut by_id: HashMap<Uuid, article::Model> =
            rows.into_iter().map(|a| (a.id, a)).collect();
        Ok(ids
            .iter()
            .filter_map(|id| {
                let v = versions.get(id)?;
                let a = by_id.remove(id)?;
                Some(article_of(a, v))
            })
            .collect())
    }

    /// Every visible article at its published version (what the search index holds).
    pub async fn kb_published_articles(&self) -> Result<Vec<KbArticle>> {
        let ids: Vec<Uuid> = article::Entity::find()
            .filter(article::Column::PublishedVersion.is_not_null())
            .order_by_asc(article::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            out.extend(self.kb_articles_by_ids(chunk, KbView::Published).await?);
        }
        Ok(out)
    }

    /// Whether the knowledge base has no article at all (the demo seeds only then).
    pub async fn kb_is_empty(&self) -> Result<bool> {
        Ok(article::Entity::find().one(&self.db).await?.is_none())
    }

    /// What the index was built from: the number of visible articles, the latest change of any
    /// article or category, and the synonyms' version. Equal stamps mean the index is current.
    pub async fn kb_index_stamp(&self) -> Result<String> {
        let visible = article::Entity::find()
            .filter(article::Column::PublishedVersion.is_not_null())
            .count(&self.db)
            .await?;
        let latest_article = article::Entity::find()
            .select_only()
            .expr(Func::max(Expr::col(article::Column::UpdatedAt)))
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(&self.db)
            .await?
            .flatten();
        let latest_category = category::Entity::find()
            .select_only()
            .expr(Func::max(Expr::col(category::Column::UpdatedAt)))
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(&self.db)
            .await?
            .flatten();
        let syn = self.kb_synonyms().await?.version;
        let ts = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros()).unwrap_or(0);
        Ok(format!(
            "articles={visible};changed={};categories={};synonyms={syn}",
            ts(latest_article),
            ts(latest_category)
        ))
    }

    // ---- versions ----

    /// Every version of an article, oldest first.
    pub async fn kb_versions(&self, id: Uuid) -> Result<Vec<KbVersion>> {
        if article::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound("article"));
        }
        Ok(version::Entity::find()
            .filter(version::Column::ArticleId.eq(id))
            .order_by_asc(version::Column::Version)
            .all(&self.db)
            .await?
            .into_iter()
            .map(version_of)
            .collect())
    }

    pub async fn kb_version(&self, id: Uuid, n: i32) -> Result<KbVersion> {
        version::Entity::find()
            .filter(version::Column::ArticleId.eq(id))
            .filter(version::Column::Version.eq(n))
            .one(&self.db)
            .await?
            .map(version_of)
            .ok_or(StoreError::NotFound("article version"))
    }

    /// A new version copying version `n` (its category must still exist).
    pub async fn kb_restore_version(
        &self,
        actor: &Actor,
        id: Uuid,
        n: i32,
        now: DateTime<Utc>,
    ) -> Result<KbArticle> {
        let old = self.kb_version(id, n).await.map_err(|e| match e {
            StoreError::NotFound(_) => invalid("version", "没有这个版本"),
            e => e,
        })?;
        let current = article::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("article"))?
            .current_version;
        self.kb_update_article(
            actor,
            id,
            current,
            None,
            old.content,
            Some(format!("恢复自版本 {n}")),
            now,
        )
        .await
    }

    // ---- attachments ----

    pub async fn kb_add_attachment(
        &self,
        actor: &Actor,
        article_id: Uuid,
        new: NewAttachment,
        now: DateTime<Utc>,
    ) -> Result<KbAttachmentMeta> {
        let tx = self.kb_begin_write().await?;
        if article::Entity::find_by_id(article_id)
            .one(&tx)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound("article"));
        }
        let row = attachment::ActiveModel {
            id: Set(Uuid::now_v7()),
            article_id: Set(article_id),
            filename: Set(new.filename),
            content_type: Set(new.content_type),
            size: Set(new.content.len() as i64),
            sha256: Set(new.sha256),
            content: Set(new.content),
            uploaded_by: Set(actor.user_id.map(|u| u.0)),
            created_at: Set(now),
        }
        .insert(&tx)
        .await?;
        let meta = meta_of(row);
        audit::record(
            &tx,
            actor,
            "kb.attachment.upload",
            "kb_article",
            Some(article_id.to_string()),
            None::<&()>,
            Some(&meta),
        )
        .await?;
        tx.commit().await?;
        Ok(meta)
    }

    pub async fn kb_attachments(&self, article_id: Uuid) -> Result<Vec<KbAttachmentMeta>> {
        Ok(attachment::Entity::find()
            .select_only()
            .columns([
                attachment::Column::Id,
                attachment::Column::ArticleId,
                attachment::Column::Filename,
                attachment::Column::ContentType,
                attachment::Column::Size,
                attachment::Column::Sha256,
                attachment::Column::UploadedBy,
                attachment::Column::CreatedAt,
            ])
            .filter(attachment::Column::ArticleId.eq(article_id))
            .order_by_asc(attachment::Column::CreatedAt)
            .into_tuple::<(
                Uuid,
                Uuid,
                String,
                String,
                i64,
                String,
                Option<Uuid>,
                DateTime<Utc>,
            )>()
            .all(&self.db)
            .await?
            .into_iter()
            .map(
                |(
                    id,
                    article_id,
                    filename,
                    content_type,
                    size,
                    sha256,
                    uploaded_by,
                    created_at,
                )| {
                    KbAttachmentMeta {
                        id,
                        article_id,
                        filename,
                        content_type,
                        size,
                        sha256,
                        uploaded_by,
                        created_at,
                    }
                },
            )
            .collect())
    }

    /// The file and its bytes.
    pub async fn kb_attachment(&self, id: Uuid) -> Result<(KbAttachmentMeta, Vec<u8>)> {
        let m = attachment::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound("attachment"))?;
        let bytes = m.content.clone();
        Ok((meta_of(m), bytes))
    }

    pub async fn kb_delete_attachment(&self, actor: &Actor, id: Uuid) -> Result<KbAttachmentMeta> {
        let tx = self.kb_begin_write().await?;
        let m = attachment::Entity::find_by_id(id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("attachment"))?;
        attachment::Entity::delete_by_id(id).exec(&tx).await?;
        let meta = meta_of(m);
        audit::record(
            &tx,
            actor,
            "kb.attachment.delete",
            "kb_article",
            Some(meta.article_id.to_string()),
            Some(&meta),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(meta)
    }

    // ---- favorites, events, votes ----

    /// Marks or unmarks an article as a favorite of `user` (idempotent).
    pub async fn kb_set_favorite(
        &self,
        user: Uuid,
        article_id: Uuid,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.kb_begin_write().await?;
        if article::Entity::find_by_id(article_id)
            .one(&tx)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound("article"));
        }
        let existing = favorite::Entity::find()
            .filter(favorite::Column::UserId.eq(user))
            .filter(favorite::Column::ArticleId.eq(article_id))
            .one(&tx)
            .await?;
        match (on, existing) {
            (true, None) => {
                favorite::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    user_id: Set(user),
                    article_id: Set(article_id),
                    created_at: Set(now),
                }
                .insert(&tx)
                .await?;
            }
            (false, Some(f)) => {
                favorite::Entity::delete_by_id(f.id).exec(&tx).await?;
            }
            _ => {}
        }
        tx.commit().await?;
        Ok(())
    }

    /// `user`'s favorites, newest first.
    pub async fn kb_favorite_ids(&self, user: Uuid) -> Result<Vec<Uuid>> {
        Ok(favorite::Entity::find()
            .filter(favorite::Column::UserId.eq(user))
            .order_by_desc(favorite::Column::CreatedAt)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|f| f.article_id)
            .collect())
    }

    pub async fn kb_is_favorite(&self, user: Uuid, article_id: Uuid) -> Result<bool> {
        Ok(favorite::Entity::find()
            .filter(favorite::Column::UserId.eq(user))
            .filter(favorite::Column::ArticleId.eq(article_id))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Counts an opening (`view`) or an opening from a search hit (`click`, with its query).
    pub async fn kb_record_event(
        &self,
        article_id: Uuid,
        kind: &str,
        user: Option<Uuid>,
        query: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if !matches!(kind, "view" | "click") {
            return Err(invalid("kind", "只记录 view 或 click"));
        }
        event::ActiveModel {
            id: Set(Uuid::now_v7()),
            article_id: Set(article_id),
            kind: Set(kind.to_string()),
            user_id: Set(user),
            query: Set(query),
            at: Set(now),
        }
        .insert(&self.db)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                StoreError::NotFound("article")
            }
            _ => StoreError::Db(e),
        })?;
        Ok(())
    }

    /// `user`'s vote on an article: `Some(helpful)` sets or changes it, `None` takes it back.
    pub async fn kb_vote(
        &self,
        user: Uuid,
        article_id: Uuid,
        helpful: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.kb_begin_write().await?;
        if article::Entity::find_by_id(article_id)
            .one(&tx)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound("article"));
        }
        let existing = vote::Entity::find()
            .filter(vote::Column::UserId.eq(user))
            .filter(vote::Column::ArticleId.eq(article_id))
            .one(&tx)
            .await?;
        match (helpful, existing) {
            (Some(h), Some(v)) => {
                vote::ActiveModel {
                    id: Set(v.id),
                    helpful: Set(h),
                    at: Set(now),
                    ..Default::default()
                }
                .update(&tx)
                .await?;
            }
            (Some(h), None) => {
                vote::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    article_id: Set(article_id),
                    user_id: Set(user),
                    helpful: Set(h),
                    at: Set(now),
                }
                .insert(&tx)
                .await?;
            }
            (None, Some(v)) => {
                vote::Entity::delete_by_id(v.id).exec(&tx).await?;
            }
            (None, None) => {}
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn kb_my_vote(&self, user: Uuid, article_id: Uuid) -> Result<Option<bool>> {
        Ok(vote::Entity::find()
            .filter(vote::Column::UserId.eq(user))
            .filter(vote::Column::ArticleId.eq(article_id))
            .one(&self.db)
            .await?
            .map(|v| v.helpful))
    }

    /// The ranking inputs of every article that has any (all time).
    pub async fn kb_counts(&self) -> Result<HashMap<Uuid, KbCounts>> {
        let mut out: HashMap<Uuid, KbCounts> = HashMap::new();
        let events = event::Entity::find()
            .select_only()
            .column(event::Column::ArticleId)
            .column(event::Column::Kind)
            .expr(Func::count(Expr::col(event::Column::Id)))
            .group_by(event::Column::ArticleId)
            .group_by(event::Column::Kind)
            .into_tuple::<(Uuid, String, i64)>()
            .all(&self.db)
            .await?;
        for (id, kind, n) in events {
            let c = out.entry(id).or_default();
            match kind.as_str() {
                "view" => c.views = n as u64,
                "click" => c.clicks = n as u64,
                _ => {}
            }
        }
        let votes = vote::Entity::find()
            .select_only()
            .column(vote::Column::ArticleId)
            .column(vote::Column::Helpful)
            .expr(Func::count(Expr::col(vote::Column::Id)))
            .group_by(vote::Column::ArticleId)
            .group_by(vote::Column::Helpful)
            .into_tuple::<(Uuid, bool, i64)>()
            .all(&self.db)
            .await?;
        for (id, helpful, n) in votes {
            let c = out.entry(id).or_default();
            if helpful {
                c.helpful = n as u64;
            } else {
                c.unhelpful = n as u64;
            }
        }
        Ok(out)
    }

    pub async fn kb_counts_of(&self, article_id: Uuid) -> Result<KbCounts> {
        // Small per-article queries: the grouped ones above scan everything.
        let count = |kind: &'static str| {
            event::Entity::find()
                .filter(event::Column::ArticleId.eq(article_id))
                .filter(event::Column::Kind.eq(kind))
                .count(&self.db)
        };
        let votes = |h: bool| {
            vote::Entity::find()
                .filter(vote::Column::ArticleId.eq(article_id))
                .filter(vote::Column::Helpful.eq(h))
                .count(&self.db)
        };
        Ok(KbCounts {
            views: count("view").await?,
            clicks: count("click").await?,
            helpful: votes(true).await?,
            unhelpful: votes(false).await?,
        })
    }

    /// The hottest articles since `since` (all time when `None`), best first: views + 2 × clicks
    /// + 3 × helpful votes cast in the period. Only articles with a score above zero.
    pub async fn kb_hot(&self, since: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<KbHot>> {
        let mut ev = event::Entity::find()
            .select_only()
            .column(event::Column::ArticleId)
            .column(event::Column::Kind)
            .expr(Func::count(Expr::col(event::Column::Id)))
            .group_by(event::Column::ArticleId)
            .group_by(event::Column::Kind);
        let mut vo = vote::Entity::find()
            .select_only()
            .column(vote::Column::ArticleId)
            .expr(Func::count(Expr::col(vote::Column::Id)))
            .filter(vote::Column::Helpful.eq(true))
            .group_by(vote::Column::ArticleId);
        if let Some(t) = since {
            ev = ev.filter(event::Column::At.gte(t));
            vo = vo.filter(vote::Column::At.gte(t));
        }
        let mut score: HashMap<Uuid, u64> = HashMap::new();
        for (id, kind, n) in ev.into_tuple::<(Uuid, String, i64)>().all(&self.db).await? {
            let w = if kind == "click" { 2 } else { 1 };
            *score.entry(id).or_default() += w * n as u64;
        }
        for (id, n) in vo.into_tuple::<(Uuid, i64)>().all(&self.db).await? {
            *score.entry(id).or_default() += 3 * n as u64;
        }
        let mut hot: Vec<KbHot> = score
            .into_iter()
            .filter(|(_, s)| *s > 0)
            .map(|(article_id, score)| KbHot { article_id, score })
            .collect();
        hot.sort_by(|a, b| b.score.cmp(&a.score).then(b.article_id.cmp(&a.article_id)));
        hot.truncate(limit);
        Ok(hot)
    }

    // ---- searches without results ----

    pub async fn kb_log_no_result(
        &self,
        query: &str,
        audience: &str,
        user: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        no_result::ActiveModel {
            id: Set(Uuid::now_v7()),
            query: Set(query.to_string()),
            audience: Set(audience.to_string()),
            user_id: Set(user),
            at: Set(now),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// Queries that found nothing in `[from, to)`, most frequent first.
    pub async fn kb_no_results(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: u64,
    ) -> Result<Vec<KbNoResult>> {
        let mut q = no_result::Entity::find()
            .select_only()
            .column(no_result::Column::Query)
            .expr(Func::count(Expr::col(no_result::Column::Id)))
            .expr(Func::max(Expr::col(no_result::Column::At)))
            .group_by(no_result::Column::Query);
        if let Some(f) = from {
            q = q.filter(no_result::Column::At.gte(f));
        }
        if let Some(t) = to {
            q = q.filter(no_result::Column::At.lt(t));
        }
        let mut rows: Vec<KbNoResult> = q
            .into_tuple::<(String, i64, DateTime<Utc>)>()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(query, count, last_at)| KbNoResult {
                query,
                count: count as u64,
                last_at,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(b.last_at.cmp(&a.last_at))
                .then(a.query.cmp(&b.query))
        });
        rows.truncate(limit as usize);
        Ok(rows)
    }

    // ---- synonyms ----

    pub async fn kb_synonyms(&self) -> Result<KbSynonyms> {
        Ok(match synonyms::Entity::find_by_id(1).one(&self.db).await? {
            Some(r) => KbSynonyms {
                groups: serde_json::from_value(r.groups).unwrap_or_default(),
                version: r.version,
            },
            None => KbSynonyms {
                groups: Vec::new(),
                version: 0,
            },
        })
    }

    /// Replaces the synonym groups (checked by `kefu-kb`) and counts the version up.
    pub async fn kb_set_synonyms(
        &self,
        actor: &Actor,
        groups: Vec<Vec<String>>,
        now: DateTime<Utc>,
    ) -> Result<KbSynonyms> {
        let tx = self.kb_begin_write().await?;
        let out = set_synonyms_in(&tx, groups, now).await?;
        audit::record(
            &tx,
            actor,
            "kb.synonyms.update",
            "kb_synonyms",
            None,
            Some(&out.0),
            Some(&out.1),
        )
        .await?;
        tx.commit().await?;
        Ok(out.1)
    }

    // ---- import ----

    /// Applies an import in one transaction: categories from the paths (created when missing),
    /// articles matched by slug (a new one is created, a changed one gets a new version; both
    /// published at once), and the synonyms when given. Nothing is written when anything fails.
    pub async fn kb_import(
        &self,
        actor: &Actor,
        articles: Vec<KbImportArticle>,
        synonyms_groups: Option<Vec<Vec<String>>>,
        now: DateTime<Utc>,
    ) -> Result<KbImportReport> {
        let tx = self.kb_begin_write().await?;
        let mut report = KbImportReport::default();
        let mut cats = category::Entity::find().all(&tx).await?;
        let mut seen = HashSet::new();
        for (i, item) in articles.iter().enumerate() {
            if !seen.insert(item.slug.clone()) {
                return Err(invalid(
                    &format!("[{}].slug", i + 1),
                    format!("标识 {} 重复出现", item.slug),
                ));
            }
        }
        for item in articles {
            if item.category_path.is_empty() {
                return Err(invalid("category", format!("文章 {} 没有分类", item.slug)));
            }
            // The category of the path, created level by level.
            let mut parent: Option<Uuid> = None;
            for name in &item.category_path {
                let found = cats
                    .iter()
                    .find(|c| c.parent_id == parent && &c.name == name)
                    .map(|c| c.id);
                parent = Some(match found {
                    Some(id) => id,
                    None => {
                        let position = cats.iter().filter(|c| c.parent_id == parent).count() as i32;
                        let row = category::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            parent_id: Set(parent),
                            name: Set(name.clone()),
                            position: Set(position),
                            created_at: Set(now),
                            updated_at: Set(now),
                        }
                        .insert(&tx)
                        .await?;
                        report.categories_created += 1;
                        let id = row.id;
                        cats.push(row);
                        id
                    }
                });
            }
            let content = KbContent {
                title: item.title,
                category_id: parent.expect("a non-empty path"),
                tags: item.tags,
                visibility: item.visibility,
                valid_from: item.valid_from,
                valid_to: item.valid_to,
                body: item.body,
            };
            let existing = article::Entity::find()
                .filter(article::Column::Slug.eq(item.slug.as_str()))
                .one(&tx)
                .await?;
            match existing {
                None => {
                    let id = Uuid::now_v7();
                    article::ActiveModel {
                        id: Set(id),
                        slug: Set(item.slug.clone()),
                        status: Set("published".into()),
                        current_version: Set(1),
                        published_version: Set(Some(1)),
                        author_id: Set(actor.user_id.map(|u| u.0)),
                        submitted_by: Set(None),
                        reviewer_id: Set(actor.user_id.map(|u| u.0)),
                        reviewer_name: Set(Some(name_of(&tx, actor).await?)),
                        reviewed_at: Set(Some(now)),
                        reject_comment: Set(None),
                        published_at: Set(Some(now)),
                        created_at: Set(now),
                        updated_at: Set(now),
                    }
                    .insert(&tx)
                    .await?;
                    self.kb_insert_version(&tx, id, 1, &content, Some("导入".into()), actor, now)
                        .await?;
                    report.created += 1;
                }
                Some(a) => {
                    let latest = version::Entity::find()
                        .filter(version::Column::ArticleId.eq(a.id))
                        .filter(version::Column::Version.eq(a.current_version))
                        .one(&tx)
                        .await?
                        .map(|v| content_of(&v));
                    if latest.as_ref() == Some(&content)
                        && a.published_version == Some(a.current_version)
                    {
                        report.unchanged += 1;
                        continue;
                    }
                    let n = a.current_version + 1;
                    self.kb_insert_version(&tx, a.id, n, &content, Some("导入".into()), actor, now)
                        .await?;
                    let reviewer = name_of(&tx, actor).await?;
                    let mut m: article::ActiveModel = a.into();
                    m.status = Set("published".into());
                    m.current_version = Set(n);
                    m.published_version = Set(Some(n));
                    m.reviewer_id = Set(actor.user_id.map(|u| u.0));
                    m.reviewer_name = Set(Some(reviewer));
                    m.reviewed_at = Set(Some(now));
                    m.reject_comment = Set(None);
                    m.published_at = Set(Some(now));
                    m.updated_at = Set(now);
                    m.update(&tx).await?;
                    report.updated += 1;
                }
            }
        }
        if let Some(groups) = synonyms_groups {
            set_synonyms_in(&tx, groups, now).await?;
        }
        audit::record(
            &tx,
            actor,
            "kb.import",
            "kb_article",
            None,
            None::<&()>,
            Some(&report),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// What goes into the audit log for an article: everything but the body, whose size and checksum
/// stand for it.
fn audit_view(a: &KbArticle) -> serde_json::Value {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(a.content.body.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    serde_json::json!({
        "slug": a.slug,
        "status": a.status,
        "version": a.current_version,
        "published_version": a.published_version,
        "title": a.content.title,
        "category_id": a.content.category_id,
        "tags": a.content.tags,
        "visibility": a.content.visibility,
        "valid_from": a.content.valid_from,
        "valid_to": a.content.valid_to,
        "body_bytes": a.content.body.len(),
        "body_sha256": hex,
    })
}

async fn set_synonyms_in(
    tx: &DatabaseTransaction,
    groups: Vec<Vec<String>>,
    now: DateTime<Utc>,
) -> Result<(KbSynonyms, KbSynonyms)> {
    let existing = synonyms::Entity::find_by_id(1).one(tx).await?;
    let before = KbSynonyms {
        groups: existing
            .as_ref()
            .and_then(|r| serde_json::from_value(r.groups.clone()).ok())
            .unwrap_or_default(),
        version: existing.as_ref().map(|r| r.version).unwrap_or(0),
    };
    let after = KbSynonyms {
        groups,
        version: before.version + 1,
    };
    let value = serde_json::to_value(&after.groups).unwrap_or_default();
    match existing {
        Some(_) => {
            synonyms::ActiveModel {
                id: Set(1),
                groups: Set(value),
                version: Set(after.version),
                updated_at: Set(now),
            }
            .update(tx)
            .await?;
        }
        None => {
            synonyms::ActiveModel {
                id: Set(1),
                groups: Set(value),
                version: Set(after.version),
                updated_at: Set(now),
            }
            .insert(tx)
            .await?;
        }
    }
    Ok((before, after))
}
