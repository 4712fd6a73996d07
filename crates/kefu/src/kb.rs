//! The knowledge base's search index in the running process (`docs/kb.md`, "The index"): opened
//! under `<data-dir>/kb-index` at start and rebuilt when it is missing, of another schema, or its
//! stamp differs from the database's; kept up to date after every change the API commits
//! ([`kefu_api::kb::KbSearch::changed`]); and the demo knowledge base seeded with `--demo`.
//!
//! The index is a cache of the database: the store is the truth, and the stamp (visible articles,
//! latest change, synonyms' version) tells whether the cache still matches it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use kefu_api::kb::{KbAudience, KbHit, KbQuery, KbResults, KbSearch, KbSuggestion};
use kefu_kb::categories::{CategoryRow, ancestor_ids, path_names};
use kefu_kb_index::{Audience, IndexedArticle, KbIndex, SearchQuery};
use kefu_store::{Actor, KbArticle, KbCategory, KbView, Store};
use uuid::Uuid;

/// How long the popularity of articles (from views, clicks and votes) is reused between searches.
const POPULARITY_TTL: Duration = Duration::from_secs(60);

/// Popularity in [0, 1] per article.
type Popularity = Arc<HashMap<Uuid, f32>>;

/// What [`KbService::open`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartReport {
    /// The index was rebuilt (missing, schema changed, or stale).
    pub rebuilt: bool,
    /// Articles in the index now.
    pub articles: u64,
    pub took: Duration,
}

pub struct KbService {
    store: Store,
    index: Arc<KbIndex>,
    /// One index update at a time, each reading the store after the previous one.
    updates: tokio::sync::Mutex<()>,
    popularity: RwLock<Option<(Instant, Popularity)>>,
}

fn rows(cats: &[KbCategory]) -> Vec<CategoryRow> {
    cats.iter()
        .map(|c| CategoryRow {
            id: c.id,
            parent_id: c.parent_id,
            name: c.name.clone(),
            position: c.position,
        })
        .collect()
}

fn visibility(s: &str) -> kefu_kb::Visibility {
    kefu_kb::Visibility::parse(s).unwrap_or(kefu_kb::Visibility::Internal)
}

/// What the index holds of a served article.
fn indexed(a: &KbArticle, cats: &[CategoryRow]) -> IndexedArticle {
    let c = &a.content;
    IndexedArticle {
        id: a.id,
        slug: a.slug.clone(),
        title: c.title.clone(),
        text: kefu_kb::plain_text(&c.body),
        tags: c.tags.clone(),
        category_ids: ancestor_ids(c.category_id, cats),
        category_path: path_names(c.category_id, cats).join("/"),
        visibility: visibility(&c.visibility),
        valid_from: c.valid_from,
        valid_to: c.valid_to,
        updated_at: a.published_at.unwrap_or(a.updated_at),
    }
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

impl KbService {
    /// Opens (or creates) the index in `dir` and rebuilds it when it does not match the store.
    pub async fn open(store: Store, dir: &Path) -> anyhow::Result<(Arc<KbService>, StartReport)> {
        let started = Instant::now();
        let d = dir.to_path_buf();
        let index = tokio::task::spawn_blocking(move || KbIndex::open(&d))
            .await?
            .with_context(|| format!("opening the knowledge base index in {}", dir.display()))?;
        let service = Arc::new(KbService {
            store,
            index: Arc::new(index),
            updates: tokio::sync::Mutex::new(()),
            popularity: RwLock::new(None),
        });
        let stamp = service.store.kb_index_stamp().await?;
        let rebuilt =
            service.index.needs_rebuild() || service.index.stamp().as_deref() != Some(&stamp);
        if rebuilt {
            let _guard = service.updates.lock().await;
            service.rebuild().await?;
        }
        let report = StartReport {
            rebuilt,
            articles: service.index.len(),
            took: started.elapsed(),
        };
        if rebuilt {
            tracing::info!(
                articles = report.articles,
                ms = report.took.as_millis() as u64,
                "knowledge base index rebuilt"
            );
        } else {
            tracing::info!(
                articles = report.articles,
                "knowledge base index is current"
            );
        }
        Ok((service, report))
    }

    /// Everything from the store (the caller holds `updates`).
    async fn rebuild(&self) -> anyhow::Result<()> {
        let stamp = self.store.kb_index_stamp().await?;
        let cats = rows(&self.store.kb_categories().await?);
        let articles: Vec<IndexedArticle> = self
            .store
            .kb_published_articles()
            .await?
            .iter()
            .filter(|a| a.status != "archived")
            .map(|a| indexed(a, &cats))
            .collect();
        let synonyms = synonyms_of(&self.store.kb_synonyms().await?.groups);
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.rebuild(&articles, &synonyms, &stamp)).await??;
        Ok(())
    }

    /// These articles again from the store (the caller holds `updates`).
    async fn refresh(&self, ids: &[Uuid]) -> anyhow::Result<()> {
        let cats = rows(&self.store.kb_categories().await?);
        let mut upserts = Vec::new();
        let mut removals = Vec::new();
        for &id in ids {
            match self.store.kb_article(id, KbView::Published).await {
                Ok(a) if a.status != "archived" => upserts.push(indexed(&a, &cats)),
                Ok(_) | Err(kefu_store::StoreError::NotFound(_)) => removals.push(id),
                Err(e) => return Err(e.into()),
            }
        }
        let stamp = self.store.kb_index_stamp().await?;
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            if !upserts.is_empty() {
                index.upsert_many(&upserts)?;
            }
            for id in removals {
                index.remove(id)?;
            }
            index.set_stamp(&stamp)?;
            Ok(())
        })
        .await??;
        Ok(())
    }

    /// Popularity in [0, 1] per article, from the counts (cached for [`POPULARITY_TTL`]).
    async fn popularity(&self) -> anyhow::Result<Popularity> {
        if let Some((at, p)) = self.popularity.read().expect("popularity lock").as_ref()
            && at.elapsed() < POPULARITY_TTL
        {
            return Ok(p.clone());
        }
        let p: HashMap<Uuid, f32> = self
            .store
            .kb_counts()
            .await?
            .into_iter()
            .map(|(id, c)| {
                (
                    id,
                    kefu_kb::popularity(c.views, c.clicks, c.helpful, c.unhelpful),
                )
            })
            .collect();
        let p = Arc::new(p);
        *self.popularity.write().expect("popularity lock") = Some((Instant::now(), p.clone()));
        Ok(p)
    }

    /// The stamp the index recorded last.
    pub fn stamp(&self) -> Option<String> {
        self.index.stamp()
    }
}

fn audience(a: KbAudience) -> Audience {
    match a {
        KbAudience::Internal => Audience::Internal,
        KbAudience::Public => Audience::Public,
    }
}

#[async_trait::async_trait]
impl KbSearch for KbService {
    async fn search(&self, q: KbQuery) -> Result<KbResults, String> {
        let popularity = self.popularity().await.map_err(|e| e.to_string())?;
        let index = self.index.clone();
        let query = SearchQuery {
            text: q.text,
            audience: audience(q.audience),
            category: q.category,
            tags: q.tags,
            visibility: q.visibility,
            today: q.today,
            limit: q.limit,
            offset: q.offset,
        };
        let results = tokio::task::spawn_blocking(move || {
            index.search(&query, &|id| popularity.get(&id).copied().unwrap_or(0.0))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        Ok(KbResults {
            total: results.total,
            hits: results
                .hits
                .into_iter()
                .map(|h| KbHit {
                    id: h.id,
                    slug: h.slug,
                    title: h.title,
                    title_html: h.title_html,
                    snippet_html: h.snippet_html,
                    category_path: h.category_path,
                    tags: h.tags,
                    visibility: h.visibility.as_str().to_string(),
                    score: h.score,
                })
                .collect(),
        })
    }

    async fn suggest(
        &self,
        text: String,
        who: KbAudience,
        today: NaiveDate,
        limit: usize,
    ) -> Result<Vec<KbSuggestion>, String> {
        let index = self.index.clone();
        let found =
            tokio::task::spawn_blocking(move || index.suggest(&text, audience(who), today, limit))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        Ok(found
            .into_iter()
            .map(|s| KbSuggestion {
                id: s.id,
                title: s.title,
                title_html: s.title_html,
            })
            .collect())
    }

    async fn changed(&self, ids: Option<Vec<Uuid>>) -> Result<(), String> {
        let _guard = self.updates.lock().await;
        match ids {
            Some(ids) => self.refresh(&ids).await,
            None => self.rebuild().await,
        }
        .map_err(|e| format!("{e:#}"))
    }
}

/// Seeds the demo knowledge base (categories from the paths, every article published, the synonyms)
/// when the knowledge base is empty. Returns how many articles it added.
pub async fn seed_demo(store: &Store) -> anyhow::Result<u64> {
    if !store.kb_is_empty().await? {
        return Ok(0);
    }
    let archive = kefu_kb::demo::archive().map_err(|errors| {
        anyhow::anyhow!("the demo knowledge base does not pass its own checks: {errors:?}")
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
    let report = store
        .kb_import(
            &Actor::system("demo"),
            items,
            Some(archive.synonyms.groups().to_vec()),
            Utc::now(),
        )
        .await?;
    Ok(report.created)
}
