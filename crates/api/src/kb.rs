//! The knowledge base (知识库, issue 7, `docs/kb.md`): categories, articles with versions and the
//! review workflow, attachments, search and suggestions, favorites, votes, hot articles, the
//! no-result log, synonyms, and the Markdown-folder / Excel archive. Staff under `/api/v1/kb`, the
//! customer portal and the IVR under `/api/v1/public/kb`.
//!
//! The rules of the content are `kefu_kb`'s (validation, rendering, workflow); the search runs on
//! the index the binary plugs in ([`KbSearch`]), so this crate does not depend on the search engine.
//! Every change that can alter what readers see is handed to [`KbSearch::changed`] after commit.
//!
//! **Invariant:** a public path answers only with public, published, valid articles; anything else is
//! the same 404 as an id that does not exist, and no public answer counts or mentions the others.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use kefu_domain::{FieldError, Permission, Role};
use kefu_kb::workflow::{self, Action, WorkflowError};
use kefu_kb::{ArticleDraft, ArticleStatus, CategoryName, Visibility};
use kefu_store::{
    KbArticle, KbArticleQuery, KbAttachmentMeta, KbCategory, KbCategoryChanges, KbContent,
    KbTransition, KbView, NewAttachment, NewKbArticle,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Caller;
use crate::attachments::{Refused, clean_filename, content_disposition, sniff};
use crate::problem::{ApiError, ApiResult, Json, Path, Query};
use crate::{AppState, PageOf, PageParams, double_option};

/// Largest attachment of an article.
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;
/// Largest JSON body of the article routes: above the 256 KiB Markdown limit, so a too-long body is
/// answered 422 on field `body` rather than cut off by the transport.
pub const MAX_ARTICLE_JSON_BYTES: usize = 2 * 1024 * 1024;
/// Largest archive import (zip or xlsx).
pub const MAX_ARCHIVE_BYTES: usize = 100 * 1024 * 1024;
/// Query text is cut to this many characters.
pub const QUERY_MAX_CHARS: usize = 100;

// ---- the search engine, as the API sees it ----

/// Who is searching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KbAudience {
    /// Signed-in staff: internal and public articles.
    Internal,
    /// The customer portal and the IVR: public articles only.
    Public,
}

impl KbAudience {
    pub fn as_str(self) -> &'static str {
        match self {
            KbAudience::Internal => "internal",
            KbAudience::Public => "public",
        }
    }
}

/// A search as the index runs it.
#[derive(Debug, Clone)]
pub struct KbQuery {
    /// Already cut and cleaned ([`clean_query`]).
    pub text: String,
    pub audience: KbAudience,
    /// With its subtree.
    pub category: Option<Uuid>,
    pub tags: Vec<String>,
    pub visibility: Option<Visibility>,
    pub today: NaiveDate,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KbHit {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    /// Escaped text with `<mark>` around matches.
    pub title_html: String,
    /// Escaped text with `<mark>` around matches.
    pub snippet_html: String,
    pub category_path: String,
    pub tags: Vec<String>,
    pub visibility: String,
    pub score: f32,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct KbResults {
    pub total: usize,
    pub hits: Vec<KbHit>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KbSuggestion {
    pub id: Uuid,
    pub title: String,
    pub title_html: String,
}

/// The knowledge base's search index, plugged in by the binary.
#[async_trait::async_trait]
pub trait KbSearch: Send + Sync {
    async fn search(&self, q: KbQuery) -> Result<KbResults, String>;
    async fn suggest(
        &self,
        text: String,
        audience: KbAudience,
        today: NaiveDate,
        limit: usize,
    ) -> Result<Vec<KbSuggestion>, String>;
    /// These articles changed in the store (committed): bring their index entries up to date (add,
    /// replace or remove) and record the new stamp. `None`: anything may have changed (categories,
    /// synonyms, an import) — re-read everything.
    async fn changed(&self, ids: Option<Vec<Uuid>>) -> Result<(), String>;
}

impl AppState {
    /// Plugs in the knowledge base's search index.
    pub fn set_kb(&self, kb: Arc<dyn KbSearch>) {
        *self.kb.write().expect("kb lock") = Some(kb);
    }

    /// Unplugs the index (at shutdown, so it can be closed), returning it.
    pub fn take_kb(&self) -> Option<Arc<dyn KbSearch>> {
        self.kb.write().expect("kb lock").take()
    }

    pub fn kb(&self) -> Option<Arc<dyn KbSearch>> {
        self.kb.read().expect("kb lock").clone()
    }
}

fn no_index() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "知识库搜索索引尚未就绪，请稍后再试",
    )
}

/// Tells the index what changed; a failure is logged (the next start rebuilds from the stamp).
async fn reindex(app: &AppState, ids: Option<Vec<Uuid>>) {
    if let Some(kb) = app.kb()
        && let Err(e) = kb.changed(ids).await
    {
        tracing::error!(error = %e, "knowledge base index update failed; it is rebuilt at next start");
    }
}

/// At most [`QUERY_MAX_CHARS`] characters, control characters removed, trimmed.
pub fn clean_query(q: &str) -> String {
    let cut: String = q
        .chars()
        .filter(|c| !c.is_control())
        .take(QUERY_MAX_CHARS)
        .collect();
    cut.trim().to_string()
}

// ---- views ----

/// A category with its children, in order.
#[derive(Serialize, ToSchema)]
pub struct CategoryView {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub position: i32,
    /// Articles directly in it (their latest version).
    pub article_count: u64,
    #[schema(no_recursion)]
    pub children: Vec<CategoryView>,
}

fn rows_of(cats: &[KbCategory]) -> Vec<kefu_kb::categories::CategoryRow> {
    cats.iter()
        .map(|c| kefu_kb::categories::CategoryRow {
            id: c.id,
            parent_id: c.parent_id,
            name: c.name.clone(),
            position: c.position,
        })
        .collect()
}

fn tree(cats: &[KbCategory]) -> Vec<CategoryView> {
    let counts: HashMap<Uuid, u64> = cats.iter().map(|c| (c.id, c.article_count)).collect();
    fn conv(n: kefu_kb::categories::CategoryNode, counts: &HashMap<Uuid, u64>) -> CategoryView {
        CategoryView {
            id: n.id,
            parent_id: n.parent_id,
            article_count: counts.get(&n.id).copied().unwrap_or(0),
            name: n.name,
            position: n.position,
            children: n.children.into_iter().map(|c| conv(c, counts)).collect(),
        }
    }
    kefu_kb::categories::build_tree(&rows_of(cats))
        .into_iter()
        .map(|n| conv(n, &counts))
        .collect()
}

/// The names from the root down to `id`.
fn path_of(cats: &[KbCategory], id: Uuid) -> Vec<String> {
    kefu_kb::categories::path_names(id, &rows_of(cats))
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<KbAttachmentMeta> for AttachmentView {
    fn from(m: KbAttachmentMeta) -> AttachmentView {
        AttachmentView {
            id: m.id,
            filename: m.filename,
            content_type: m.content_type,
            size: m.size,
            sha256: m.sha256,
            created_at: m.created_at,
        }
    }
}

/// An article as one version of it reads (lists leave out `body`, `body_html` and the per-reader
/// fields).
#[derive(Serialize, ToSchema)]
pub struct ArticleView {
    pub id: Uuid,
    pub slug: String,
    /// `draft`, `in_review`, `published`, `archived` (of the latest version).
    pub status: String,
    /// Which version this is.
    pub version: i32,
    pub current_version: i32,
    pub published_version: Option<i32>,
    pub title: String,
    pub category_id: Uuid,
    pub category_path: Vec<String>,
    pub tags: Vec<String>,
    pub visibility: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body rendered and sanitized (`kefu_kb::render`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    pub version_by: Option<Uuid>,
    pub version_by_name: String,
    pub version_at: DateTime<Utc>,
    pub author_id: Option<Uuid>,
    pub reviewer_name: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reject_comment: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favorite: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helpful: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unhelpful: Option<u64>,
    /// The caller's vote: `true` helpful, `false` not, `null` none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_vote: Option<Option<bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

fn view(a: KbArticle, cats: &[KbCategory], full: bool) -> ArticleView {
    let path = path_of(cats, a.content.category_id);
    ArticleView {
        id: a.id,
        slug: a.slug,
        status: a.status,
        version: a.version,
        current_version: a.current_version,
        published_version: a.published_version,
        title: a.content.title,
        category_id: a.content.category_id,
        category_path: path,
        tags: a.content.tags,
        visibility: a.content.visibility,
        valid_from: a.content.valid_from,
        valid_to: a.content.valid_to,
        body_html: full.then(|| kefu_kb::render(&a.content.body)),
        body: full.then_some(a.content.body),
        version_by: a.version_by,
        version_by_name: a.version_by_name,
        version_at: a.version_at,
        author_id: a.author_id,
        reviewer_name: a.reviewer_name,
        reviewed_at: a.reviewed_at,
        reject_comment: a.reject_comment,
        published_at: a.published_at,
        created_at: a.created_at,
        updated_at: a.updated_at,
        favorite: None,
        views: None,
        helpful: None,
        unhelpful: None,
        my_vote: None,
        attachments: None,
    }
}

fn can(caller: &Caller, p: Permission) -> bool {
    caller.principal.user.role.can(p)
}

/// Whether readers see it today: published version, inside its validity dates.
fn valid_today(a: &KbArticle, today: NaiveDate) -> bool {
    kefu_kb::is_valid_on(a.content.valid_from, a.content.valid_to, today)
}

// ---- categories ----

/// The category tree.
#[utoipa::path(get, path = "/api/v1/kb/categories", tag = "kb",
    responses((status = 200, body = Vec<CategoryView>)))]
pub async fn list_categories(
    State(app): State<AppState>,
    _caller: Caller,
) -> ApiResult<axum::Json<Vec<CategoryView>>> {
    Ok(axum::Json(tree(&app.store.kb_categories().await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
}

/// A new category (last among its siblings).
#[utoipa::path(post, path = "/api/v1/kb/categories", tag = "kb", request_body = CategoryInput,
    responses((status = 201, body = CategoryView), (status = 422, body = crate::problem::Problem)))]
pub async fn create_category(
    State(app): State<AppState>,
    caller: Caller,
    Json(input): Json<CategoryInput>,
) -> ApiResult<(StatusCode, axum::Json<CategoryView>)> {
    let name = CategoryName::parse(&input.name).map_err(|e| ApiError::field("name", e.reason))?;
    let c = app
        .store
        .kb_create_category(&caller.actor, name.as_str(), input.parent_id, Utc::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CategoryView {
            id: c.id,
            parent_id: c.parent_id,
            name: c.name,
            position: c.position,
            article_count: 0,
            children: Vec::new(),
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    #[serde(default)]
    pub name: Option<String>,
    /// `null` moves it to the roots.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    /// Index among its (new) siblings.
    #[serde(default)]
    pub position: Option<u32>,
}

/// Renames, moves (not under itself or a descendant: 422 `parent_id`) and reorders a category.
#[utoipa::path(patch, path = "/api/v1/kb/categories/{id}", tag = "kb", params(("id" = Uuid, Path)),
    request_body = CategoryPatch,
    responses((status = 200, body = Vec<CategoryView>), (status = 422, body = crate::problem::Problem)))]
pub async fn update_category(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(input): Json<CategoryPatch>,
) -> ApiResult<axum::Json<Vec<CategoryView>>> {
    let name = match &input.name {
        Some(n) => Some(
            CategoryName::parse(n)
                .map_err(|e| ApiError::field("name", e.reason))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    app.store
        .kb_update_category(
            &caller.actor,
            id,
            KbCategoryChanges {
                name,
                parent_id: input.parent_id,
                position: input.position,
            },
            Utc::now(),
        )
        .await?;
    // Paths of the articles under it changed.
    reindex(&app, None).await;
    Ok(axum::Json(tree(&app.store.kb_categories().await?)))
}

/// Deletes an empty category (409 when it has articles or children).
#[utoipa::path(delete, path = "/api/v1/kb/categories/{id}", tag = "kb", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 409, body = crate::problem::Problem)))]
pub async fn delete_category(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    app.store.kb_delete_category(&caller.actor, id).await?;
    reindex(&app, Some(Vec::new())).await;
    Ok(StatusCode::NO_CONTENT)
}

// ---- articles ----

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ArticleParams {
    pub category: Option<Uuid>,
    pub tag: Option<String>,
    pub status: Option<String>,
    pub visibility: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// Articles, newest change first. Editors (`kb.edit`) see every article at its latest version;
/// readers only published, valid ones at their published version.
#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "kb", params(ArticleParams),
    responses((status = 200, body = PageOf<ArticleView>)))]
pub async fn list_articles(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<ArticleParams>,
) -> ApiResult<axum::Json<PageOf<ArticleView>>> {
    let page = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .request()?;
    let editor = can(&caller, Permission::KbEdit);
    let mut q = KbArticleQuery::new(if editor {
        KbView::Latest
    } else {
        KbView::Published
    });
    q.category_id = p.category;
    q.tag = p.tag.filter(|t| !t.trim().is_empty());
    if let Some(s) = &p.status {
        let s = ArticleStatus::parse(s).map_err(|e| ApiError::field("status", e.reason))?;
        q.status = Some(s.as_str().to_string());
    }
    if let Some(v) = &p.visibility {
        let v = Visibility::parse(v).map_err(|e| ApiError::field("visibility", e.reason))?;
        q.visibility = Some(v.as_str().to_string());
    }
    if !editor {
        q.valid_on = Some(app.today());
        // Readers see served articles only; the status is that of the latest version, which may
        // be a draft of a published article.
        q.status = match q.status.as_deref() {
            None | Some("published") => None,
            Some(_) => Some("-".into()),
        };
    }
    let res = app.store.kb_articles(&q, page).await?;
    let cats = app.store.kb_categories().await?;
    Ok(axum::Json(PageOf {
        items: res
            .items
            .into_iter()
            .filter(|a| editor || a.status != "archived")
            .map(|a| view(a, &cats, false))
            .collect(),
        total: res.total,
        page: res.page,
        per_page: res.per_page,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    pub title: String,
    pub category_id: Uuid,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// `internal` or `public`.
    pub visibility: String,
    #[serde(default)]
    pub valid_from: Option<String>,
    #[serde(default)]
    pub valid_to: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    /// What this version changes (shown in the history).
    #[serde(default)]
    pub note: Option<String>,
}

fn check_note(note: Option<String>) -> ApiResult<Option<String>> {
    match note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) {
        Some(n) if n.chars().count() > 200 => {
            Err(ApiError::field("note", "修改说明最多 200 个字符"))
        }
        n => Ok(n),
    }
}

/// Checks every field with `kefu_kb` and returns all errors at once.
fn content_of(draft: ArticleDraft, category_id: Uuid) -> ApiResult<(Option<String>, KbContent)> {
    let f = draft.validate().map_err(ApiError::from)?;
    Ok((
        f.slug.map(|s| s.as_str().to_string()),
        KbContent {
            title: f.title.as_str().to_string(),
            category_id,
            tags: f.tags.as_slice().to_vec(),
            visibility: f.visibility.as_str().to_string(),
            valid_from: f.valid_from,
            valid_to: f.valid_to,
            body: f.body,
        },
    ))
}

/// A new article, as a draft at version 1.
#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "kb", request_body = ArticleInput,
    responses((status = 201, body = ArticleView), (status = 422, body = crate::problem::Problem)))]
pub async fn create_article(
    State(app): State<AppState>,
    caller: Caller,
    Json(input): Json<ArticleInput>,
) -> ApiResult<(StatusCode, axum::Json<ArticleView>)> {
    let note = check_note(input.note)?;
    let (slug, content) = content_of(
        ArticleDraft {
            slug: input.slug,
            title: input.title,
            body: input.body,
            tags: input.tags,
            visibility: input.visibility,
            valid_from: input.valid_from,
            valid_to: input.valid_to,
        },
        input.category_id,
    )?;
    let a = app
        .store
        .kb_create_article(
            &caller.actor,
            NewKbArticle {
                slug,
                content,
                note,
            },
            Utc::now(),
        )
        .await?;
    let cats = app.store.kb_categories().await?;
    reindex(&app, Some(vec![a.id])).await;
    Ok((StatusCode::CREATED, axum::Json(view(a, &cats, true))))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ArticleGetParams {
    /// `1`: the latest version (editors).
    pub latest: Option<u8>,
    /// `0`: do not count this as a view.
    pub count: Option<u8>,
}

/// One article with the caller's favorite and vote, its counts and attachments; counts a view unless
/// `?count=0`. Readers get the published version (404 when none is served); editors get the latest
/// with `?latest=1`, or when nothing is published.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = Uuid, Path), ArticleGetParams),
    responses((status = 200, body = ArticleView), (status = 404, body = crate::problem::Problem)))]
pub async fn get_article(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(p): Query<ArticleGetParams>,
) -> ApiResult<axum::Json<ArticleView>> {
    let editor = can(&caller, Permission::KbEdit);
    let a = if editor && p.latest == Some(1) {
        app.store.kb_article(id, KbView::Latest).await?
    } else {
        match app.store.kb_article(id, KbView::Published).await {
            Ok(a) if a.status != "archived" && (editor || valid_today(&a, app.today())) => a,
            Ok(_) | Err(kefu_store::StoreError::NotFound(_)) if editor => {
                app.store.kb_article(id, KbView::Latest).await?
            }
            Ok(_) => return Err(ApiError::not_found("article")),
            Err(e) => return Err(e.into()),
        }
    };
    let me = caller.principal.user.id.0;
    if p.count != Some(0) {
        app.store
            .kb_record_event(id, "view", Some(me), None, Utc::now())
            .await?;
    }
    let counts = app.store.kb_counts_of(id).await?;
    let favorite = app.store.kb_is_favorite(me, id).await?;
    let my_vote = app.store.kb_my_vote(me, id).await?;
    let attachments = app.store.kb_attachments(id).await?;
    let cats = app.store.kb_categories().await?;
    let mut v = view(a, &cats, true);
    v.favorite = Some(favorite);
    v.views = Some(counts.views);
    v.helpful = Some(counts.helpful);
    v.unhelpful = Some(counts.unhelpful);
    v.my_vote = Some(my_vote);
    v.attachments = Some(attachments.into_iter().map(Into::into).collect());
    Ok(axum::Json(v))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticlePatch {
    /// The version the edit started from (409 when another was saved since).
    pub expected_version: i32,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub valid_from: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub valid_to: Option<Option<String>>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

fn wf_actor(caller: &Caller, a: &KbArticle) -> workflow::Actor {
    workflow::Actor {
        can_edit: can(caller, Permission::KbEdit),
        can_approve: can(caller, Permission::KbApprove),
        is_admin: caller.principal.user.role == Role::Admin,
        is_author: a.version_by == Some(caller.principal.user.id.0),
    }
}

fn wf_error(e: WorkflowError) -> ApiError {
    match e {
        WorkflowError::Forbidden { .. } | WorkflowError::OwnVersion => {
            ApiError::forbidden(e.to_string())
        }
        WorkflowError::NotAllowed { .. } => ApiError::conflict(e.to_string()),
        WorkflowError::Comment(reason) => ApiError::field("comment", reason),
    }
}

fn status_of(a: &KbArticle) -> ApiResult<ArticleStatus> {
    ArticleStatus::parse(&a.status).map_err(|_| ApiError::internal())
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// Saves a new version (the fields not given stay as in the latest version). A published article
/// keeps serving its published version until the new one is approved.
#[utoipa::path(patch, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = Uuid, Path)),
    request_body = ArticlePatch,
    responses((status = 200, body = ArticleView), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_article(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(input): Json<ArticlePatch>,
) -> ApiResult<axum::Json<ArticleView>> {
    let latest = app.store.kb_article(id, KbView::Latest).await?;
    workflow::apply(
        status_of(&latest)?,
        &Action::Edit,
        wf_actor(&caller, &latest),
    )
    .map_err(wf_error)?;
    let note = check_note(input.note)?;
    let c = &latest.content;
    let (_, content) = content_of(
        ArticleDraft {
            slug: None,
            title: input.title.unwrap_or(c.title.clone()),
            body: input.body.unwrap_or(c.body.clone()),
            tags: input.tags.unwrap_or(c.tags.clone()),
            visibility: input.visibility.unwrap_or(c.visibility.clone()),
            valid_from: input.valid_from.unwrap_or(date_text(c.valid_from)),
            valid_to: input.valid_to.unwrap_or(date_text(c.valid_to)),
        },
        input.category_id.unwrap_or(c.category_id),
    )?;
    let slug = match input.slug {
        Some(s) => Some(
            kefu_kb::Slug::parse(&s)
                .map_err(|e| ApiError::field("slug", e.reason))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let a = app
        .store
        .kb_update_article(
            &caller.actor,
            id,
            input.expected_version,
            slug,
            content,
            note,
            Utc::now(),
        )
        .await?;
    reindex(&app, Some(vec![id])).await;
    let cats = app.store.kb_categories().await?;
    Ok(axum::Json(view(a, &cats, true)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// The version the step was decided on (409 when another was saved since).
    #[serde(default)]
    pub expected_version: Option<i32>,
    /// Why (reject).
    #[serde(default)]
    pub comment: Option<String>,
}

async fn step(
    app: &AppState,
    caller: &Caller,
    id: Uuid,
    action: Action,
    input: StepInput,
) -> ApiResult<axum::Json<ArticleView>> {
    let latest = app.store.kb_article(id, KbView::Latest).await?;
    let t = workflow::apply(status_of(&latest)?, &action, wf_actor(caller, &latest))
        .map_err(wf_error)?;
    let a = app
        .store
        .kb_transition(
            &caller.actor,
            id,
            KbTransition {
                action: action.as_str().to_string(),
                from: t.from.as_str().to_string(),
                to: t.to.as_str().to_string(),
                expected_version: input.expected_version,
                publish: t.publishes,
                unpublish: t.to == ArticleStatus::Archived,
                comment: t.comment,
            },
            Utc::now(),
        )
        .await?;
    reindex(app, Some(vec![id])).await;
    let cats = app.store.kb_categories().await?;
    Ok(axum::Json(view(a, &cats, true)))
}

/// Body of the workflow steps: optional, `{}` when empty.
fn step_input(body: &Bytes) -> ApiResult<StepInput> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(StepInput::default());
    }
    crate::problem::parse_json(body)
}

macro_rules! workflow_route {
    ($name:ident, $path:literal, $doc:literal, $action:expr) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "kb", params(("id" = Uuid, Path)),
            request_body(content = StepInput, description = "optional"),
            responses((status = 200, body = ArticleView), (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
        pub async fn $name(
            State(app): State<AppState>,
            caller: Caller,
            Path(id): Path<Uuid>,
            body: Bytes,
        ) -> ApiResult<axum::Json<ArticleView>> {
            let input = step_input(&body)?;
            #[allow(clippy::redundant_closure_call)]
            let action = ($action)(&input);
            step(&app, &caller, id, action, input).await
        }
    };
}

workflow_route!(
    submit,
    "/api/v1/kb/articles/{id}/submit",
    "Asks for review (`kb.edit`).",
    |_: &StepInput| Action::Submit
);
workflow_route!(
    approve,
    "/api/v1/kb/articles/{id}/approve",
    "Approves the version in review: readers see it (`kb.approve`; not one's own unless administrator).",
    |_: &StepInput| Action::Approve
);
workflow_route!(
    reject,
    "/api/v1/kb/articles/{id}/reject",
    "Sends the version in review back to draft with a comment (`kb.approve`).",
    |i: &StepInput| Action::Reject {
        comment: i.comment.clone().unwrap_or_default()
    }
);
workflow_route!(
    archive,
    "/api/v1/kb/articles/{id}/archive",
    "Takes an article out of reach of readers (`kb.approve`).",
    |_: &StepInput| Action::Archive
);
workflow_route!(
    publish,
    "/api/v1/kb/articles/{id}/publish",
    "Publishes the latest version without review (`kb.approve`).",
    |_: &StepInput| Action::Publish
);

// ---- history ----

#[derive(Serialize, ToSchema)]
pub struct VersionView {
    pub version: i32,
    pub title: String,
    pub category_id: Uuid,
    pub tags: Vec<String>,
    pub visibility: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
}

fn version_view(v: kefu_store::KbVersion, full: bool) -> VersionView {
    VersionView {
        version: v.version,
        title: v.content.title,
        category_id: v.content.category_id,
        tags: v.content.tags,
        visibility: v.content.visibility,
        valid_from: v.content.valid_from,
        valid_to: v.content.valid_to,
        body_html: full.then(|| kefu_kb::render(&v.content.body)),
        body: full.then_some(v.content.body),
        note: v.note,
        created_by: v.created_by,
        created_by_name: v.created_by_name,
        created_at: v.created_at,
    }
}

/// Every version, oldest first (without bodies).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions", tag = "kb", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<VersionView>)))]
pub async fn versions(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Vec<VersionView>>> {
    Ok(axum::Json(
        app.store
            .kb_versions(id)
            .await?
            .into_iter()
            .map(|v| version_view(v, false))
            .collect(),
    ))
}

/// One version, with its body.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions/{version}", tag = "kb",
    params(("id" = Uuid, Path), ("version" = i32, Path)),
    responses((status = 200, body = VersionView), (status = 404, body = crate::problem::Problem)))]
pub async fn get_version(
    State(app): State<AppState>,
    _caller: Caller,
    Path((id, n)): Path<(Uuid, i32)>,
) -> ApiResult<axum::Json<VersionView>> {
    Ok(axum::Json(version_view(
        app.store.kb_version(id, n).await?,
        true,
    )))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiffParams {
    pub from: i32,
    pub to: i32,
}

#[derive(Serialize, ToSchema)]
pub struct DiffView {
    pub from: i32,
    pub to: i32,
    /// `[{ op: equal | insert | delete, text }]`, line by line.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<kefu_kb::DiffLine>,
}

/// The line diff of the bodies of two versions.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/diff", tag = "kb",
    params(("id" = Uuid, Path), DiffParams),
    responses((status = 200, body = DiffView), (status = 422, body = crate::problem::Problem)))]
pub async fn diff(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
    Query(p): Query<DiffParams>,
) -> ApiResult<axum::Json<DiffView>> {
    let get = |n: i32, field: &'static str| {
        let app = app.clone();
        async move {
            app.store.kb_version(id, n).await.map_err(|e| match e {
                kefu_store::StoreError::NotFound(_) => ApiError::field(field, "没有这个版本"),
                e => e.into(),
            })
        }
    };
    app.store.kb_article(id, KbView::Latest).await?;
    let old = get(p.from, "from").await?;
    let new = get(p.to, "to").await?;
    Ok(axum::Json(DiffView {
        from: p.from,
        to: p.to,
        lines: kefu_kb::diff(&old.content.body, &new.content.body),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreInput {
    pub version: i32,
}

/// A new version copying an old one.
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/restore", tag = "kb", params(("id" = Uuid, Path)),
    request_body = RestoreInput,
    responses((status = 200, body = ArticleView), (status = 422, body = crate::problem::Problem)))]
pub async fn restore(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(input): Json<RestoreInput>,
) -> ApiResult<axum::Json<ArticleView>> {
    let latest = app.store.kb_article(id, KbView::Latest).await?;
    workflow::apply(
        status_of(&latest)?,
        &Action::Edit,
        wf_actor(&caller, &latest),
    )
    .map_err(wf_error)?;
    let a = app
        .store
        .kb_restore_version(&caller.actor, id, input.version, Utc::now())
        .await?;
    reindex(&app, Some(vec![id])).await;
    let cats = app.store.kb_categories().await?;
    Ok(axum::Json(view(a, &cats, true)))
}

// ---- attachments ----

fn file_problem(status: StatusCode, kind: &'static str, reason: String) -> ApiError {
    let mut e = ApiError::new(status, kind, format!("invalid field file: {reason}"));
    e.errors.push(FieldError::new("file", reason));
    e
}

fn too_big(limit: usize) -> ApiError {
    file_problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!("文件最大 {} MiB", limit / (1024 * 1024)),
    )
}

fn unreadable(e: MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_big(limit)
    } else {
        ApiError::field("file", format!("上传内容无法读取：{}", e.body_text()))
    }
}

/// One multipart part named `file`: its name and bytes, at most `limit` bytes (413 beyond).
async fn read_file(
    form: Result<Multipart, MultipartRejection>,
    limit: usize,
) -> ApiResult<(String, Vec<u8>)> {
    let mut form = form.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "请以 multipart/form-data 上传，文件字段名为 file",
        )
    })?;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = form.next_field().await.map_err(|e| unreadable(e, limit))? {
        if field.name() != Some("file") {
            return Err(ApiError::field("file", "只接受一个名为 file 的文件"));
        }
        if file.is_some() {
            return Err(ApiError::field("file", "一次只能上传一个文件"));
        }
        let name = field
            .file_name()
            .ok_or_else(|| ApiError::field("file", "缺少文件名"))?
            .to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| unreadable(e, limit))? {
            if bytes.len() + chunk.len() > limit {
                return Err(too_big(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        file = Some((name, bytes));
    }
    let (name, bytes) = file.ok_or_else(|| ApiError::field("file", "没有收到文件"))?;
    if bytes.is_empty() {
        return Err(ApiError::field("file", "文件是空的"));
    }
    Ok((name, bytes))
}

/// Attaches a file (multipart `file`, at most 20 MiB; the kinds work-order attachments accept).
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/attachments", tag = "kb", params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "one part named `file`"),
    responses((status = 201, body = AttachmentView), (status = 413, body = crate::problem::Problem), (status = 415, body = crate::problem::Problem)))]
pub async fn upload_attachment(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, axum::Json<AttachmentView>)> {
    app.store.kb_article(id, KbView::Latest).await?;
    let (name, bytes) = read_file(form, MAX_ATTACHMENT_BYTES).await?;
    let filename = clean_filename(&name).map_err(|r| ApiError::field("file", r))?;
    let content_type = sniff(&filename, &bytes).map_err(|Refused(reason)| {
        file_problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            reason,
        )
    })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let meta = app
        .store
        .kb_add_attachment(
            &caller.actor,
            id,
            NewAttachment {
                filename,
                content_type: content_type.to_string(),
                sha256,
                content: bytes,
            },
            Utc::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(meta.into())))
}

/// Downloads an attachment (always as a download, never rendered as a page).
#[utoipa::path(get, path = "/api/v1/kb/attachments/{id}", tag = "kb", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404, body = crate::problem::Problem)))]
pub async fn download_attachment(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let (meta, bytes) = app.store.kb_attachment(id).await?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&meta.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(&meta.filename))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}

#[utoipa::path(delete, path = "/api/v1/kb/attachments/{id}", tag = "kb", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_attachment(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    app.store.kb_delete_attachment(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- search ----

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
    pub category: Option<Uuid>,
    pub tag: Option<String>,
    pub visibility: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

async fn run_search(
    app: &AppState,
    p: SearchParams,
    audience: KbAudience,
    who: Option<Uuid>,
) -> ApiResult<KbResults> {
    let text = clean_query(&p.q);
    let limit = p.limit.unwrap_or(10);
    if limit == 0 || limit > 50 {
        return Err(ApiError::field("limit", "每页 1 到 50 条"));
    }
    let offset = p.offset.unwrap_or(0);
    if offset > 1000 {
        return Err(ApiError::field("offset", "最多翻到第 1000 条"));
    }
    let visibility = match &p.visibility {
        Some(v) if audience == KbAudience::Internal => {
            Some(Visibility::parse(v).map_err(|e| ApiError::field("visibility", e.reason))?)
        }
        _ => None,
    };
    if text.is_empty() {
        return Ok(KbResults::default());
    }
    let kb = app.kb().ok_or_else(no_index)?;
    let results = kb
        .search(KbQuery {
            text: text.clone(),
            audience,
            category: p.category,
            tags: p.tag.into_iter().filter(|t| !t.trim().is_empty()).collect(),
            visibility,
            today: app.today(),
            limit,
            offset,
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "knowledge base search failed");
            ApiError::internal()
        })?;
    if results.total == 0 {
        app.store
            .kb_log_no_result(&text, audience.as_str(), who, Utc::now())
            .await?;
    }
    Ok(results)
}

/// Searches published articles (internal and public), best first.
#[utoipa::path(get, path = "/api/v1/kb/search", tag = "kb", params(SearchParams),
    responses((status = 200, body = KbResults)))]
pub async fn search(
    State(app): State<AppState>,
    caller: Caller,
    Query(p): Query<SearchParams>,
) -> ApiResult<axum::Json<KbResults>> {
    let who = Some(caller.principal.user.id.0);
    Ok(axum::Json(
        run_search(&app, p, KbAudience::Internal, who).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SuggestParams {
    #[serde(default)]
    pub q: String,
}

async fn run_suggest(
    app: &AppState,
    q: &str,
    audience: KbAudience,
) -> ApiResult<Vec<KbSuggestion>> {
    let text = clean_query(q);
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let kb = app.kb().ok_or_else(no_index)?;
    kb.suggest(text, audience, app.today(), 8)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "knowledge base suggest failed");
            ApiError::internal()
        })
}

/// Titles as you type (at most 8): words, pinyin and initials prefixes.
#[utoipa::path(get, path = "/api/v1/kb/suggest", tag = "kb", params(SuggestParams),
    responses((status = 200, body = Vec<KbSuggestion>)))]
pub async fn suggest(
    State(app): State<AppState>,
    _caller: Caller,
    Query(p): Query<SuggestParams>,
) -> ApiResult<axum::Json<Vec<KbSuggestion>>> {
    Ok(axum::Json(
        run_suggest(&app, &p.q, KbAudience::Internal).await?,
    ))
}

// ---- ranking inputs ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClickInput {
    /// The query whose hit was opened.
    #[serde(default)]
    pub q: String,
}

/// Counts an opening from a search hit.
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/click", tag = "kb", params(("id" = Uuid, Path)),
    request_body = ClickInput, responses((status = 204)))]
pub async fn click(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(input): Json<ClickInput>,
) -> ApiResult<StatusCode> {
    let q = clean_query(&input.q);
    app.store
        .kb_record_event(
            id,
            "click",
            Some(caller.principal.user.id.0),
            (!q.is_empty()).then_some(q),
            Utc::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteInput {
    /// `true` helpful, `false` not helpful, `null` takes the vote back.
    pub helpful: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct VoteView {
    pub helpful: u64,
    pub unhelpful: u64,
    pub my_vote: Option<bool>,
}

/// The caller's one vote on an article (changeable).
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/vote", tag = "kb", params(("id" = Uuid, Path)),
    request_body = VoteInput, responses((status = 200, body = VoteView)))]
pub async fn vote(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(input): Json<VoteInput>,
) -> ApiResult<axum::Json<VoteView>> {
    let me = caller.principal.user.id.0;
    app.store.kb_vote(me, id, input.helpful, Utc::now()).await?;
    let c = app.store.kb_counts_of(id).await?;
    Ok(axum::Json(VoteView {
        helpful: c.helpful,
        unhelpful: c.unhelpful,
        my_vote: input.helpful,
    }))
}

#[utoipa::path(put, path = "/api/v1/kb/articles/{id}/favorite", tag = "kb", params(("id" = Uuid, Path)),
    responses((status = 204)))]
pub async fn add_favorite(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    app.store
        .kb_set_favorite(caller.principal.user.id.0, id, true, Utc::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/kb/articles/{id}/favorite", tag = "kb", params(("id" = Uuid, Path)),
    responses((status = 204)))]
pub async fn remove_favorite(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    app.store
        .kb_set_favorite(caller.principal.user.id.0, id, false, Utc::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's favorites, newest first (editors see drafts too).
#[utoipa::path(get, path = "/api/v1/kb/favorites", tag = "kb",
    responses((status = 200, body = Vec<ArticleView>)))]
pub async fn favorites(
    State(app): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<ArticleView>>> {
    let ids = app
        .store
        .kb_favorite_ids(caller.principal.user.id.0)
        .await?;
    let editor = can(&caller, Permission::KbEdit);
    let view_of = if editor {
        KbView::Latest
    } else {
        KbView::Published
    };
    let today = app.today();
    let cats = app.store.kb_categories().await?;
    Ok(axum::Json(
        app.store
            .kb_articles_by_ids(&ids, view_of)
            .await?
            .into_iter()
            .filter(|a| editor || (a.status != "archived" && valid_today(a, today)))
            .map(|a| view(a, &cats, false))
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HotParams {
    /// `day`, `week` (default) or `all`.
    pub period: Option<String>,
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct HotView {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub category_path: Vec<String>,
    pub visibility: String,
    /// Views + 2 × clicks + 3 × helpful votes in the period.
    pub score: u64,
}

/// The hottest published articles of the day, the week or all time.
#[utoipa::path(get, path = "/api/v1/kb/hot", tag = "kb", params(HotParams),
    responses((status = 200, body = Vec<HotView>)))]
pub async fn hot(
    State(app): State<AppState>,
    _caller: Caller,
    Query(p): Query<HotParams>,
) -> ApiResult<axum::Json<Vec<HotView>>> {
    let now = Utc::now();
    let since = match p.period.as_deref().unwrap_or("week") {
        "day" => Some(now - TimeDelta::days(1)),
        "week" => Some(now - TimeDelta::days(7)),
        "all" => None,
        _ => return Err(ApiError::field("period", "只能是 day、week 或 all")),
    };
    let limit = p.limit.unwrap_or(10);
    if limit == 0 || limit > 50 {
        return Err(ApiError::field("limit", "1 到 50 条"));
    }
    // More than asked: some hot articles may no longer be served.
    let hot = app.store.kb_hot(since, limit * 3 + 10).await?;
    let ids: Vec<Uuid> = hot.iter().map(|h| h.article_id).collect();
    let articles: HashMap<Uuid, KbArticle> = app
        .store
        .kb_articles_by_ids(&ids, KbView::Published)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let today = app.today();
    let cats = app.store.kb_categories().await?;
    Ok(axum::Json(
        hot.into_iter()
            .filter_map(|h| {
                let a = articles.get(&h.article_id)?;
                if a.status == "archived" || !valid_today(a, today) {
                    return None;
                }
                Some(HotView {
                    id: a.id,
                    slug: a.slug.clone(),
                    title: a.content.title.clone(),
                    category_path: path_of(&cats, a.content.category_id),
                    visibility: a.content.visibility.clone(),
                    score: h.score,
                })
            })
            .take(limit)
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NoResultParams {
    /// First day (local, `YYYY-MM-DD`); default 30 days ago.
    pub from: Option<NaiveDate>,
    /// Last day, inclusive; default today.
    pub to: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
pub struct NoResultView {
    pub query: String,
    pub count: u64,
    pub last_at: DateTime<Utc>,
}

/// Searches that found nothing, most frequent first: what the knowledge base is missing.
#[utoipa::path(get, path = "/api/v1/kb/no-results", tag = "kb", params(NoResultParams),
    responses((status = 200, body = Vec<NoResultView>)))]
pub async fn no_results(
    State(app): State<AppState>,
    _caller: Caller,
    Query(p): Query<NoResultParams>,
) -> ApiResult<axum::Json<Vec<NoResultView>>> {
    let today = app.today();
    let from = p.from.unwrap_or(today - TimeDelta::days(30));
    let to = p.to.unwrap_or(today);
    if to < from {
        return Err(ApiError::field("to", "结束日期不能早于开始日期"));
    }
    let offset = app.settings.utc_offset;
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(offset).single())
            .map(|t| t.with_timezone(&Utc))
    };
    let rows = app
        .store
        .kb_no_results(start(from), start(to + TimeDelta::days(1)), 500)
        .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|r| NoResultView {
                query: r.query,
                count: r.count,
                last_at: r.last_at,
            })
            .collect(),
    ))
}

// ---- synonyms ----

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SynonymGroupView {
    pub words: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/kb/synonyms", tag = "kb",
    responses((status = 200, body = Vec<SynonymGroupView>)))]
pub async fn get_synonyms(
    State(app): State<AppState>,
    _caller: Caller,
) -> ApiResult<axum::Json<Vec<SynonymGroupView>>> {
    Ok(axum::Json(
        app.store
            .kb_synonyms()
            .await?
            .groups
            .into_iter()
            .map(|words| SynonymGroupView { words })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SynonymsBody {
    List(Vec<SynonymGroupView>),
    Object { groups: Vec<SynonymGroupView> },
}

/// Replaces the synonym groups (a JSON array `[{ words }]`, or `{ groups: [...] }`).
#[utoipa::path(put, path = "/api/v1/kb/synonyms", tag = "kb", request_body = Vec<SynonymGroupView>,
    responses((status = 200, body = Vec<SynonymGroupView>), (status = 422, body = crate::problem::Problem)))]
pub async fn put_synonyms(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<Vec<SynonymGroupView>>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the body as Content-Type: application/json",
        ));
    }
    let parsed: SynonymsBody = serde_json::from_slice(&body)
        .map_err(|_| ApiError::field("groups", "应为 [{\"words\": [\"煤气\", \"燃气\"]}, …]"))?;
    let groups = match parsed {
        SynonymsBody::List(g) | SynonymsBody::Object { groups: g } => g,
    };
    let groups: Vec<kefu_kb::SynonymGroup> = groups
        .into_iter()
        .map(|g| kefu_kb::SynonymGroup { words: g.words })
        .collect();
    let checked = kefu_kb::Synonyms::from_groups(&groups).map_err(ApiError::from)?;
    let saved = app
        .store
        .kb_set_synonyms(&caller.actor, checked.groups().to_vec(), Utc::now())
        .await?;
    reindex(&app, None).await;
    Ok(axum::Json(
        saved
            .groups
            .into_iter()
            .map(|words| SynonymGroupView { words })
            .collect(),
    ))
}

// ---- public ----

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PublicSearchParams {
    #[serde(default)]
    pub q: String,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// Searches public, published, valid articles (the customer portal and the IVR; no sign-in).
#[utoipa::path(get, path = "/api/v1/public/kb/search", tag = "kb", params(PublicSearchParams),
    security(()), responses((status = 200, body = KbResults)))]
pub async fn public_search(
    State(app): State<AppState>,
    Query(p): Query<PublicSearchParams>,
) -> ApiResult<axum::Json<KbResults>> {
    let p = SearchParams {
        q: p.q,
        category: None,
        tag: None,
        visibility: None,
        limit: p.limit,
        offset: p.offset,
    };
    let mut results = run_search(&app, p, KbAudience::Public, None).await?;
    // The index filters by audience; this is the second lock on the door.
    results.hits.retain(|h| h.visibility == "public");
    Ok(axum::Json(results))
}

#[utoipa::path(get, path = "/api/v1/public/kb/suggest", tag = "kb", params(SuggestParams),
    security(()), responses((status = 200, body = Vec<KbSuggestion>)))]
pub async fn public_suggest(
    State(app): State<AppState>,
    Query(p): Query<SuggestParams>,
) -> ApiResult<axum::Json<Vec<KbSuggestion>>> {
    Ok(axum::Json(
        run_suggest(&app, &p.q, KbAudience::Public).await?,
    ))
}

/// A public article as the portal shows it.
#[derive(Serialize, ToSchema)]
pub struct PublicArticleView {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub category_path: Vec<String>,
    pub tags: Vec<String>,
    pub body_html: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub published_at: Option<DateTime<Utc>>,
}

/// A public, published, valid article; anything else is 404.
#[utoipa::path(get, path = "/api/v1/public/kb/articles/{id}", tag = "kb", params(("id" = Uuid, Path)),
    security(()), responses((status = 200, body = PublicArticleView), (status = 404, body = crate::problem::Problem)))]
pub async fn public_article(
    State(app): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<PublicArticleView>> {
    let not_found = || ApiError::not_found("article");
    let a = match app.store.kb_article(id, KbView::Published).await {
        Ok(a) => a,
        Err(kefu_store::StoreError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if a.status == "archived"
        || a.content.visibility != Visibility::Public.as_str()
        || !valid_today(&a, app.today())
    {
        return Err(not_found());
    }
    app.store
        .kb_record_event(id, "view", None, None, Utc::now())
        .await?;
    let cats = app.store.kb_categories().await?;
    Ok(axum::Json(PublicArticleView {
        id: a.id,
        slug: a.slug,
        title: a.content.title,
        category_path: path_of(&cats, a.content.category_id),
        tags: a.content.tags,
        body_html: kefu_kb::render(&a.content.body),
        valid_from: a.content.valid_from,
        valid_to: a.content.valid_to,
        published_at: a.published_at,
    }))
}

// ---- archive ----

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `markdown` (a zip of the folder) or `xlsx`.
    pub format: Option<String>,
}

/// Every article (its latest version) and the synonyms as a Markdown-folder zip or an Excel workbook.
#[utoipa::path(get, path = "/api/v1/kb/export", tag = "kb", params(ExportParams),
    responses((status = 200, description = "the archive", content_type = "application/octet-stream")))]
pub async fn export(
    State(app): State<AppState>,
    _caller: Caller,
    Query(p): Query<ExportParams>,
) -> ApiResult<Response> {
    let format = p.format.as_deref().unwrap_or("markdown");
    if !matches!(format, "markdown" | "xlsx") {
        return Err(ApiError::field("format", "只能是 markdown 或 xlsx"));
    }
    let cats = app.store.kb_categories().await?;
    let mut articles = Vec::new();
    let mut page = 1;
    loop {
        let res = app
            .store
            .kb_articles(
                &KbArticleQuery::new(KbView::Latest),
                kefu_store::PageRequest {
                    page,
                    per_page: kefu_store::PageRequest::MAX_PER_PAGE,
                },
            )
            .await?;
        let n = res.items.len();
        articles.extend(res.items);
        if n == 0 || articles.len() as u64 >= res.total {
            break;
        }
        page += 1;
    }
    articles.sort_by(|a, b| a.slug.cmp(&b.slug));
    let synonyms = app.store.kb_synonyms().await?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for a in articles {
        match archived(a, &cats) {
            Ok(x) => out.push(x),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        tracing::error!(
            ?errors,
            "stored articles that do not pass the archive's checks"
        );
        return Err(ApiError::internal());
    }
    let archive = kefu_kb::archive::Archive {
        articles: out,
        synonyms: synonyms_of(&synonyms.groups),
    };
    let (bytes, ct, name) = match format {
        "xlsx" => (
            kefu_kb::archive::write_xlsx(&archive).map_err(|e| {
                tracing::error!(error = ?e, "kb export");
                ApiError::internal()
            })?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "知识库.xlsx",
        ),
        _ => (
            kefu_kb::archive::write_zip(&archive).map_err(|e| {
                tracing::error!(error = ?e, "kb export");
                ApiError::internal()
            })?,
            "application/zip",
            "知识库.zip",
        ),
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(name))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(resp)
}

#[derive(Serialize, ToSchema)]
pub struct ImportView {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub categories_created: u64,
}

/// Imports a Markdown-folder zip or an Excel workbook (multipart `file`): articles matched by slug
/// (an update makes a new version; both are published), categories from the paths, the synonyms.
/// Every bad row is reported with its line and field, and nothing is written when any is bad.
#[utoipa::path(post, path = "/api/v1/kb/import", tag = "kb",
    request_body(content_type = "multipart/form-data", description = "one part named `file`: .zip or .xlsx"),
    responses((status = 200, body = ImportView), (status = 422, body = crate::problem::Problem)))]
pub async fn import(
    State(app): State<AppState>,
    caller: Caller,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<axum::Json<ImportView>> {
    let (name, bytes) = read_file(form, MAX_ARCHIVE_BYTES).await?;
    let lower = name.to_lowercase();
    let parsed = if lower.ends_with(".xlsx") {
        kefu_kb::archive::read_xlsx(&bytes)
    } else if lower.ends_with(".zip") {
        kefu_kb::archive::read_zip(&bytes)
    } else {
        return Err(ApiError::field(
            "file",
            "只接受 .zip（Markdown 文件夹）或 .xlsx",
        ));
    };
    let archive = parsed.map_err(|errors| {
        ApiError::invalid(
            errors
                .into_iter()
                .map(|e| {
                    let at = match e.line {
                        Some(l) => format!("{}:{l}", e.file),
                        None => e.file,
                    };
                    FieldError::new(format!("{at}:{}", e.field), e.reason)
                })
                .collect(),
        )
    })?;
    let items = archive
        .articles
        .into_iter()
        .map(|a| kefu_store::KbImportArticle {
            slug: a.slug.as_str().to_string(),
            category_path: a.category_path,
            title: a.title.as_str().to_string(),
            tags: a.tags.as_slice().to_vec(),
            visibility: a.visibility.as_str().to_string(),
            valid_from: a.valid_from,
            valid_to: a.valid_to,
            body: a.body_markdown,
        })
        .collect();
    let groups = archive.synonyms.groups().to_vec();
    let report = app
        .store
        .kb_import(&caller.actor, items, Some(groups), Utc::now())
        .await?;
    reindex(&app, None).await;
    Ok(axum::Json(ImportView {
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        categories_created: report.categories_created,
    }))
}

/// A stored article as archived (its latest version).
fn archived(
    a: KbArticle,
    cats: &[KbCategory],
) -> Result<kefu_kb::archive::ArchivedArticle, String> {
    let e = |f: &str, r: FieldError| format!("{} {f}: {}", a.slug, r.reason);
    Ok(kefu_kb::archive::ArchivedArticle {
        slug: kefu_kb::Slug::parse(&a.slug).map_err(|r| e("slug", r))?,
        title: kefu_kb::Title::parse(&a.content.title).map_err(|r| e("title", r))?,
        category_path: path_of(cats, a.content.category_id),
        tags: kefu_kb::Tags::parse(&a.content.tags).map_err(|r| e("tags", r))?,
        visibility: Visibility::parse(&a.content.visibility).map_err(|r| e("visibility", r))?,
        valid_from: a.content.valid_from,
        valid_to: a.content.valid_to,
        body_markdown: a.content.body,
    })
}

fn synonyms_of(groups: &[Vec<String>]) -> kefu_kb::Synonyms {
    let groups: Vec<kefu_kb::SynonymGroup> = groups
        .iter()
        .map(|words| kefu_kb::SynonymGroup {
            words: words.clone(),
        })
        .collect();
    // The store holds only groups checked on the way in.
    kefu_kb::Synonyms::from_groups(&groups).unwrap_or_default()
}
