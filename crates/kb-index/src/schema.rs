//! The index's fields and how an article becomes a document.

use chrono::{Datelike, NaiveDate};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, TextAnalyzer};
use tantivy::{Index, TantivyDocument};

use crate::IndexedArticle;
use crate::text;

/// Bumped whenever the fields or their analysis change: an index written with another version is
/// rebuilt.
pub const SCHEMA_VERSION: &str = "kefu-kb-index 2";

pub const JIEBA: &str = "kb_jieba";
pub const BIGRAM: &str = "kb_bigram";

/// `valid_from` of an article without one.
pub const DAY_MIN: i64 = -1_000_000;
/// `valid_to` of an article without one.
pub const DAY_MAX: i64 = 10_000_000;

pub fn day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub id_hi: Field,
    pub id_lo: Field,
    pub slug: Field,
    pub title: Field,
    pub title_gram: Field,
    pub body: Field,
    pub body_gram: Field,
    pub tags: Field,
    pub tag_words: Field,
    pub pinyin: Field,
    pub initials: Field,
    pub pinyin_head: Field,
    pub initials_head: Field,
    pub title_prefix: Field,
    pub title_head: Field,
    pub category_ids: Field,
    pub category_path: Field,
    pub visibility: Field,
    pub valid_from: Field,
    pub valid_to: Field,
    pub updated_at: Field,
    /// The title's length in characters: suggestions break ties by it without reading stored
    /// documents.
    pub title_chars: Field,
}

fn analyzed(tokenizer: &str, stored: bool) -> TextOptions {
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    if stored {
        options.set_stored()
    } else {
        options
    }
}

/// A field of whole-value terms (ids, keywords, pinyin suffixes) without frequencies.
fn keyword(stored: bool) -> TextOptions {
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic),
    );
    if stored {
        options.set_stored()
    } else {
        options
    }
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        id_hi: b.add_u64_field("id_hi", FAST),
        id_lo: b.add_u64_field("id_lo", FAST),
        slug: b.add_text_field("slug", STRING | STORED),
        title: b.add_text_field("title", analyzed(JIEBA, true)),
        title_gram: b.add_text_field("title_gram", analyzed(BIGRAM, false)),
        body: b.add_text_field("body", analyzed(JIEBA, true)),
        body_gram: b.add_text_field("body_gram", analyzed(BIGRAM, false)),
        tags: b.add_text_field("tags", keyword(true)),
        tag_words: b.add_text_field("tag_words", analyzed(JIEBA, false)),
        pinyin: b.add_text_field("pinyin", keyword(false)),
        initials: b.add_text_field("initials", keyword(false)),
        pinyin_head: b.add_text_field("pinyin_head", keyword(false)),
        initials_head: b.add_text_field("initials_head", keyword(false)),
        title_prefix: b.add_text_field("title_prefix", keyword(false)),
        title_head: b.add_text_field("title_head", keyword(false)),
        category_ids: b.add_text_field("category_ids", STRING),
        category_path: b.add_text_field("category_path", STORED),
        visibility: b.add_text_field("visibility", STRING | STORED),
        valid_from: b.add_i64_field("valid_from", INDEXED | FAST),
        valid_to: b.add_i64_field("valid_to", INDEXED | FAST),
        updated_at: b.add_i64_field("updated_at", FAST),
        title_chars: b.add_u64_field("title_chars", FAST),
    };
    (b.build(), fields)
}

/// The analyzers the schema names.
pub fn register_tokenizers(index: &Index) {
    index.tokenizers().register(JIEBA, jieba_analyzer());
    index
        .tokenizers()
        .register(BIGRAM, TextAnalyzer::builder(text::BigramTokenizer).build());
}

/// jieba in search mode (long words also as their parts), lowercased, overlong tokens dropped.
pub fn jieba_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::new())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .build()
}

pub fn document(f: &Fields, article: &IndexedArticle) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    let (hi, lo) = article.id.as_u64_pair();
    doc.add_text(f.id, article.id.to_string());
    doc.add_u64(f.id_hi, hi);
    doc.add_u64(f.id_lo, lo);
    doc.add_text(f.slug, &article.slug);
    doc.add_text(f.title, &article.title);
    doc.add_text(f.title_gram, &article.title);
    doc.add_text(f.body, &article.text);
    doc.add_text(f.body_gram, &article.text);
    for tag in &article.tags {
        doc.add_text(f.tags, tag);
        doc.add_text(f.tag_words, tag);
    }
    let mut pinyin_terms = Vec::new();
    let mut initials_terms = Vec::new();
    for source in std::iter::once(&article.title).chain(&article.tags) {
        let (full, initials) = text::pinyin_suffixes(source);
        pinyin_terms.extend(full);
        initials_terms.extend(initials);
    }
    pinyin_terms.sort_unstable();
    pinyin_terms.dedup();
    initials_terms.sort_unstable();
    initials_terms.dedup();
    for t in pinyin_terms {
        doc.add_text(f.pinyin, t);
    }
    for t in initials_terms {
        doc.add_text(f.initials, t);
    }
    let (full, initials) = text::pinyin_head(&article.title);
    doc.add_text(f.pinyin_head, full);
    doc.add_text(f.initials_head, initials);
    let mut prefixes = text::title_suffixes(&article.title);
    prefixes.sort_unstable();
    prefixes.dedup();
    for p in prefixes {
        doc.add_text(f.title_prefix, p);
    }
    doc.add_text(
        f.title_head,
        text::compact(&article.title)
            .chars()
            .take(text::TITLE_TOKEN_MAX)
            .collect::<String>(),
    );
    for category in &article.category_ids {
        doc.add_text(f.category_ids, category.to_string());
    }
    doc.add_text(f.category_path, &article.category_path);
    doc.add_text(f.visibility, article.visibility.as_str());
    doc.add_i64(f.valid_from, article.valid_from.map_or(DAY_MIN, day));
    doc.add_i64(f.valid_to, article.valid_to.map_or(DAY_MAX, day));
    doc.add_i64(f.updated_at, article.updated_at.timestamp());
    doc.add_u64(f.title_chars, article.title.chars().count() as u64);
    doc
}
