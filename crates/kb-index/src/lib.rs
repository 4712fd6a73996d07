//! The knowledge base's search index on local disk (tantivy). See docs/kb.md for the contract.
//!
//! One [`KbIndex`] per directory and process: searches run on `&self` from any thread; changes go
//! through one writer behind a mutex, are committed at once and the reader is reloaded before the
//! call returns, so the next search sees them.
//!
//! Fields: jieba words of the title, tags and body; CJK bigrams of title and body (a query with one
//! wrong character still shares most bigrams with the right text); the full pinyin and initials of
//! the title and tags from every word start (prefix queries find `ranqi`, `xielou`, `rq`); the
//! title from every character (suggestions); category ids with ancestors (subtree filters),
//! visibility, validity days.

mod schema;
mod search;
pub mod text;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};
use uuid::Uuid;

pub use kefu_kb::{Synonyms, Visibility};
pub use search::SynonymTable;

/// Who is searching: staff see every article, the public only public ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    Internal,
    Public,
}

/// What the index holds of an article: its published version's text and where it is filed.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedArticle {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    /// The body as plain text (no Markdown, no HTML).
    pub text: String,
    pub tags: Vec<String>,
    /// Its category and every ancestor, for subtree filters.
    pub category_ids: Vec<Uuid>,
    /// The category's path for display, e.g. `瓶装液化气/订购与配送`.
    pub category_path: String,
    pub visibility: Visibility,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

/// A search. `text` is taken as typed (any bytes, any length: it is cleaned and cut, never parsed).
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub text: String,
    pub audience: Audience,
    /// Only articles in this category or below it.
    pub category: Option<Uuid>,
    /// Only articles carrying every one of these tags.
    pub tags: Vec<String>,
    pub visibility: Option<Visibility>,
    /// The local date: articles outside their validity dates are not found.
    pub today: NaiveDate,
    pub limit: usize,
    pub offset: usize,
}

impl SearchQuery {
    /// A query for `text` by `audience` on `today`, first 10 hits, no filters.
    pub fn new(text: impl Into<String>, audience: Audience, today: NaiveDate) -> SearchQuery {
        SearchQuery {
            text: text.into(),
            audience,
            category: None,
            tags: Vec::new(),
            visibility: None,
            today,
            limit: 10,
            offset: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    /// The title, escaped, with `<mark>` around what matched.
    pub title_html: String,
    /// A piece of the body, escaped, with `<mark>` around what matched.
    pub snippet_html: String,
    pub category_path: String,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// Every article matching (with the audience and filters applied), not only this page.
    pub total: usize,
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub id: Uuid,
    pub title: String,
    pub title_html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("知识库索引出错：{0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("知识库索引目录读写失败：{0}")]
    Io(#[from] std::io::Error),
    #[error("知识库索引目录 {0} 不是空目录，也不是本系统的索引，未做任何改动")]
    NotAnIndex(PathBuf),
    #[error("知识库索引目录打开失败：{0}")]
    OpenDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
}

const VERSION_FILE: &str = "kefu-schema-version";
const STAMP_FILE: &str = "kefu-stamp";
const SYNONYMS_FILE: &str = "kefu-synonyms.txt";
/// Memory for the writer (split among its threads).
const WRITER_MEMORY: usize = 96_000_000;

pub struct KbIndex {
    dir: PathBuf,
    fields: schema::Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    synonyms: RwLock<SynonymTable>,
    stamp: RwLock<Option<String>>,
    needs_rebuild: bool,
}

impl KbIndex {
    /// Opens the index in `dir`, creating the directory and an empty index when missing. An index
    /// written with another schema version is deleted and recreated empty: [`Self::needs_rebuild`]
    /// then says so (and [`Self::stamp`] is `None`). A non-empty directory that holds no index is
    /// refused and left alone.
    pub fn open(dir: impl AsRef<Path>) -> Result<KbIndex, IndexError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        let version = fs::read_to_string(dir.join(VERSION_FILE)).ok();
        let has_index = dir.join("meta.json").exists();
        let is_empty = fs::read_dir(&dir)?.next().is_none();
        let current = version.as_deref().map(str::trim) == Some(schema::SCHEMA_VERSION);
        let needs_rebuild = !(current && has_index);
        if needs_rebuild {
            if !is_empty && version.is_none() && !has_index {
                return Err(IndexError::NotAnIndex(dir));
            }
            if !is_empty {
                fs::remove_dir_all(&dir)?;
                fs::create_dir_all(&dir)?;
            }
        }
        let (schema, fields) = schema::build();
        let directory = MmapDirectory::open(&dir)?;
        let index = Index::open_or_create(directory, schema)?;
        schema::register_tokenizers(&index);
        if needs_rebuild {
            write_atomically(&dir, VERSION_FILE, schema::SCHEMA_VERSION)?;
        }
        let writer = index.writer(WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let stamp = if needs_rebuild {
            None
        } else {
            fs::read_to_string(dir.join(STAMP_FILE)).ok()
        };
        let synonyms = fs::read_to_string(dir.join(SYNONYMS_FILE))
            .map(|text| SynonymTable::from_lines(&text))
            .unwrap_or_default();
        Ok(KbIndex {
            dir,
            fields,
            reader,
            writer: Mutex::new(writer),
            synonyms: RwLock::new(synonyms),
            stamp: RwLock::new(stamp),
            needs_rebuild,
        })
    }

    /// Whether the index was created or recreated empty by [`Self::open`] (missing, or another
    /// schema version): the caller should [`Self::rebuild`] it.
    pub fn needs_rebuild(&self) -> bool {
        self.needs_rebuild
    }

    /// What the last [`Self::rebuild`] or [`Self::set_stamp`] recorded.
    pub fn stamp(&self) -> Option<String> {
        self.stamp.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records `stamp` (e.g. after the caller applied a change with [`Self::upsert`]).
    pub fn set_stamp(&self, stamp: &str) -> Result<(), IndexError> {
        write_atomically(&self.dir, STAMP_FILE, stamp)?;
        *self.stamp.write().unwrap_or_else(|e| e.into_inner()) = Some(stamp.to_string());
        Ok(())
    }

    /// Replaces everything with `articles` and `synonyms` in one commit and records `stamp`.
    pub fn rebuild(
        &self,
        articles: &[IndexedArticle],
        synonyms: &Synonyms,
        stamp: &str,
    ) -> Result<(), IndexError> {
        {
            let mut writer = self.writer();
            let applied = (|| {
                writer.delete_all_documents()?;
                for article in articles {
                    writer.add_document(schema::document(&self.fields, article))?;
                }
                writer.commit()
            })();
            if let Err(e) = applied {
                writer.rollback()?;
                return Err(e.into());
            }
        }
        self.reader.reload()?;
        self.set_synonyms(synonyms)?;
        self.set_stamp(stamp)
    }

    /// Adds or replaces one article; visible to the next search when this returns.
    pub fn upsert(&self, article: &IndexedArticle) -> Result<(), IndexError> {
        self.upsert_many(std::slice::from_ref(article))
    }

    /// Adds or replaces several articles in one commit.
    pub fn upsert_many(&self, articles: &[IndexedArticle]) -> Result<(), IndexError> {
        {
            let mut writer = self.writer();
            let applied = (|| {
                for article in articles {
                    let id = Term::from_field_text(self.fields.id, &article.id.to_string());
                    writer.delete_term(id);
                    writer.add_document(schema::document(&self.fields, article))?;
                }
                writer.commit()
            })();
            if let Err(e) = applied {
                writer.rollback()?;
                return Err(e.into());
            }
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Removes an article (no error when it is not there).
    pub fn remove(&self, id: Uuid) -> Result<(), IndexError> {
        {
            let mut writer = self.writer();
            writer.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
            writer.commit()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// The synonym groups applied to queries from now on (kept in the index directory).
    pub fn set_synonyms(&self, synonyms: &Synonyms) -> Result<(), IndexError> {
        let table = SynonymTable::from_synonyms(synonyms);
        write_atomically(&self.dir, SYNONYMS_FILE, &table.to_lines())?;
        *self.synonyms.write().unwrap_or_else(|e| e.into_inner()) = table;
        Ok(())
    }

    /// Number of articles in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Searches; `popularity(id)` in [0, 1] re-ranks the best hits (relevance × (1 + 0.3 ×
    /// popularity)).
    pub fn search(
        &self,
        query: &SearchQuery,
        popularity: &dyn Fn(Uuid) -> f32,
    ) -> Result<SearchResults, IndexError> {
        let synonyms = self
            .synonyms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        search::search(
            &self.reader.searcher(),
            &self.fields,
            &synonyms,
            query,
            popularity,
        )
    }

    /// Titles that start with (or have a word starting with) what was typed, in characters, full
    /// pinyin or initials; at most `limit` (and never more than 8), only what `audience` may read
    /// and valid on `today`.
    pub fn suggest(
        &self,
        text: &str,
        audience: Audience,
        today: NaiveDate,
        limit: usize,
    ) -> Result<Vec<Suggestion>, IndexError> {
        search::suggest(
            &self.reader.searcher(),
            &self.fields,
            text,
            audience,
            today,
            limit,
        )
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        // A panic while holding the writer leaves nothing half-committed: tantivy's own state is
        // consistent between calls, so the lock is taken over.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn write_atomically(dir: &Path, name: &str, content: &str) -> Result<(), IndexError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut file = fs::File::create(&tmp)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(name))?;
    Ok(())
}
