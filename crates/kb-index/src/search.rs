//! Query building, ranking, snippets and suggestions.

use std::collections::HashSet;
use std::ops::Bound;

use chrono::NaiveDate;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, InvertedIndexRangeQuery, Occur,
    Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};
use uuid::Uuid;

use crate::schema::{self, Fields};
use crate::text::{self, Run};
use crate::{
    Audience, IndexError, SearchHit, SearchQuery, SearchResults, Suggestion, Synonyms, Visibility,
};

/// How many of the best hits popularity re-ranks.
const RERANK: usize = 100;
/// Weight of popularity: relevance × (1 + POPULARITY_WEIGHT × popularity).
const POPULARITY_WEIGHT: f32 = 0.3;
/// Most suggestions.
pub const SUGGEST_MAX: usize = 8;
/// Most distinct terms a prefix query expands to (keeps one-letter prefixes cheap).
const PREFIX_TERMS: u64 = 128;

const TITLE_BOOST: f32 = 3.0;
const TAGS_BOOST: f32 = 2.0;
const BODY_BOOST: f32 = 1.0;
const TITLE_GRAM_BOOST: f32 = 1.5;
const BODY_GRAM_BOOST: f32 = 0.5;
const SYNONYM_WEIGHT: f32 = 0.8;
const PINYIN_BOOST: f32 = 4.0;
const INITIALS_BOOST: f32 = 3.0;
const HOMOPHONE_BOOST: f32 = 8.0;
const HOMOPHONE_WORD_BOOST: f32 = 4.0;
const PINYIN_FUZZY_BOOST: f32 = 2.0;
const WORD_FUZZY_BOOST: f32 = 1.0;
/// Shortest Latin term (letters or pinyin) looked up with one typo allowed.
const FUZZY_MIN_LEN: usize = 4;

/// Synonym groups as the index applies them: lowercased words, groups of at least two.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynonymTable {
    groups: Vec<Vec<String>>,
}

impl SynonymTable {
    pub fn from_synonyms(synonyms: &Synonyms) -> SynonymTable {
        SynonymTable::from_groups(
            synonyms
                .groups()
                .iter()
                .map(|g| g.iter().map(String::as_str)),
        )
    }

    fn from_groups<'a>(
        groups: impl IntoIterator<Item = impl IntoIterator<Item = &'a str>>,
    ) -> Self {
        let groups = groups
            .into_iter()
            .map(|g| {
                let mut words: Vec<String> = g
                    .into_iter()
                    .map(text::compact)
                    .filter(|w| !w.is_empty())
                    .collect();
                words.dedup();
                words
            })
            .filter(|g| g.len() >= 2)
            .collect();
        SynonymTable { groups }
    }

    /// One group per line, words separated by `,`.
    pub fn from_lines(text: &str) -> SynonymTable {
        SynonymTable::from_groups(text.lines().map(|l| l.split(',')))
    }

    pub fn to_lines(&self) -> String {
        self.groups.iter().map(|g| g.join(",") + "\n").collect()
    }

    /// The words to search besides `text`: the other words of every group that has a word
    /// occurring in `text`.
    pub fn expand(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for group in &self.groups {
            if group.iter().any(|w| text.contains(w.as_str())) {
                for w in group {
                    if !text.contains(w.as_str()) && !out.contains(w) {
                        out.push(w.clone());
                    }
                }
            }
        }
        out
    }
}

/// What a query text became: weighted clauses, and the terms to highlight.
struct Plan {
    clauses: Vec<(Occur, Box<dyn Query>)>,
    /// Han words and Latin words to mark in titles and snippets.
    highlight: Vec<String>,
    /// Latin runs (and their concatenation) to mark by pinyin in titles.
    latin: Vec<String>,
}

fn boosted(q: Box<dyn Query>, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(q, boost)))
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

/// Terms of `field` starting with `prefix`, constant score.
fn prefix(field: Field, prefix: &str) -> Box<dyn Query> {
    let mut upper = prefix.to_string();
    upper.push(char::MAX);
    let mut q = InvertedIndexRangeQuery::new(
        Bound::Included(Term::from_field_text(field, prefix)),
        Bound::Excluded(Term::from_field_text(field, &upper)),
    );
    q.limit(PREFIX_TERMS);
    Box::new(q)
}

/// Words of `text` by jieba (search mode), lowercased, without punctuation.
fn words(text: &str) -> Vec<String> {
    let mut analyzer = schema::jieba_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out: Vec<String> = Vec::new();
    while stream.advance() {
        let t = &stream.token().text;
        if t.chars()
            .any(|c| text::is_han(c) || c.is_ascii_alphanumeric())
            && !out.contains(t)
        {
            out.push(t.clone());
        }
    }
    out
}

fn add_words(plan: &mut Plan, f: &Fields, phrase: &str, weight: f32, seen: &mut HashSet<String>) {
    for w in words(phrase) {
        if !seen.insert(w.clone()) {
            continue;
        }
        plan.clauses
            .push(boosted(term(f.title, &w), TITLE_BOOST * weight));
        plan.clauses
            .push(boosted(term(f.tag_words, &w), TAGS_BOOST * weight));
        plan.clauses
            .push(boosted(term(f.body, &w), BODY_BOOST * weight));
        let han = w.chars().filter(|c| text::is_han(*c)).count();
        if han >= 2 || (han == 0 && w.len() >= 2) {
            plan.highlight.push(w);
        }
    }
    for g in text::bigrams(phrase) {
        if !seen.insert(format!("\u{1}{}", g.text)) {
            continue;
        }
        plan.clauses.push(boosted(
            term(f.title_gram, &g.text),
            TITLE_GRAM_BOOST * weight,
        ));
        // A bigram that is also a query word adds little in the body but the cost of its long
        // posting list.
        if !seen.contains(&g.text) {
            plan.clauses.push(boosted(
                term(f.body_gram, &g.text),
                BODY_GRAM_BOOST * weight,
            ));
        }
    }
}

fn add_latin(plan: &mut Plan, f: &Fields, typed: &str) {
    if typed.len() >= 2 {
        plan.clauses
            .push(boosted(prefix(f.pinyin, typed), PINYIN_BOOST));
        plan.clauses
            .push(boosted(prefix(f.pinyin_head, typed), 1.0));
        if typed.len() <= text::INITIALS_TOKEN_MAX {
            plan.clauses
                .push(boosted(prefix(f.initials, typed), INITIALS_BOOST));
        }
    }
    if typed.len() >= FUZZY_MIN_LEN && typed.bytes().all(|b| b.is_ascii_lowercase()) {
        let t = Term::from_field_text(f.pinyin, typed);
        plan.clauses.push(boosted(
            Box::new(FuzzyTermQuery::new_prefix(t, 1, true)),
            PINYIN_FUZZY_BOOST,
        ));
        for field in [f.title, f.body] {
            let t = Term::from_field_text(field, typed);
            plan.clauses.push(boosted(
                Box::new(FuzzyTermQuery::new(t, 1, true)),
                WORD_FUZZY_BOOST,
            ));
        }
    }
    plan.latin.push(typed.to_string());
}

/// Chinese typed with a pinyin input method goes wrong by homophones (压金 for 押金, 燃汽 for
/// 燃气): the run's pinyin, and each word's, is looked up in the title's and tags' pinyin.
fn add_homophones(plan: &mut Plan, f: &Fields, han: &str) {
    if han.chars().count() < 2 {
        return;
    }
    let (full, _) = text::pinyin_head(han);
    plan.clauses
        .push(boosted(prefix(f.pinyin, &full), HOMOPHONE_BOOST));
    plan.latin.push(full.clone());
    for w in words(han) {
        if w.chars().count() >= 2 && w.chars().all(text::is_han) {
            let (p, _) = text::pinyin_head(&w);
            if p != full {
                plan.clauses
                    .push(boosted(prefix(f.pinyin, &p), HOMOPHONE_WORD_BOOST));
                plan.latin.push(p);
            }
        }
    }
}

fn plan(f: &Fields, synonyms: &SynonymTable, cleaned: &str) -> Plan {
    let mut plan = Plan {
        clauses: Vec::new(),
        highlight: Vec::new(),
        latin: Vec::new(),
    };
    let runs = text::runs(cleaned);
    let mut seen = HashSet::new();
    let mut latin_run: Vec<&str> = Vec::new();
    for run in &runs {
        match run {
            Run::Han(h) => {
                add_words(&mut plan, f, h, 1.0, &mut seen);
                add_homophones(&mut plan, f, h);
            }
            Run::Latin(l) => {
                add_words(&mut plan, f, l, 1.0, &mut seen);
                add_latin(&mut plan, f, l);
                latin_run.push(l);
            }
        }
    }
    if latin_run.len() >= 2 {
        let joined: String = latin_run.concat();
        if joined.len() <= text::PINYIN_TOKEN_MAX {
            plan.clauses
                .push(boosted(prefix(f.pinyin, &joined), PINYIN_BOOST));
            plan.latin.push(joined);
        }
    }
    let compact = text::compact(cleaned);
    for synonym in synonyms.expand(&compact) {
        add_words(&mut plan, f, &synonym, SYNONYM_WEIGHT, &mut seen);
        plan.highlight.push(synonym);
    }
    plan
}

/// The hard filters: audience, validity on `today`, and the caller's filters. Never scored.
fn filters(f: &Fields, q: &SearchQuery) -> Vec<(Occur, Box<dyn Query>)> {
    let mut out: Vec<Box<dyn Query>> = Vec::new();
    out.extend(audience_filter(f, q.audience, q.today));
    if let Some(v) = q.visibility {
        out.push(keyword(f.visibility, v.as_str()));
    }
    if let Some(c) = q.category {
        out.push(keyword(f.category_ids, &c.to_string()));
    }
    for tag in &q.tags {
        out.push(keyword(f.tags, tag.trim()));
    }
    out.into_iter()
        .map(|q| {
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>,
            )
        })
        .collect()
}

fn keyword(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

fn audience_filter(f: &Fields, audience: Audience, today: NaiveDate) -> Vec<Box<dyn Query>> {
    let day = schema::day(today);
    let mut out: Vec<Box<dyn Query>> = vec![
        Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Included(Term::from_field_i64(f.valid_from, day)),
        )),
        Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_i64(f.valid_to, day)),
            Bound::Unbounded,
        )),
    ];
    if audience == Audience::Public {
        out.push(keyword(f.visibility, Visibility::Public.as_str()));
    }
    out
}

fn article_id(searcher: &Searcher, at: DocAddress) -> Result<(Uuid, i64), IndexError> {
    let segment = searcher.segment_reader(at.segment_ord);
    let fast = segment.fast_fields();
    let hi = fast.u64("id_hi")?.first(at.doc_id).unwrap_or(0);
    let lo = fast.u64("id_lo")?.first(at.doc_id).unwrap_or(0);
    let updated = fast.i64("updated_at")?.first(at.doc_id).unwrap_or(0);
    Ok((Uuid::from_u64_pair(hi, lo), updated))
}

fn stored_str(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn search(
    searcher: &Searcher,
    f: &Fields,
    synonyms: &SynonymTable,
    q: &SearchQuery,
    popularity: &dyn Fn(Uuid) -> f32,
) -> Result<SearchResults, IndexError> {
    let empty = SearchResults {
        total: 0,
        hits: Vec::new(),
    };
    let cleaned = text::clean_query(&q.text);
    let plan = plan(f, synonyms, &cleaned);
    if plan.clauses.is_empty() || q.limit == 0 {
        return Ok(empty);
    }
    let mut clauses = filters(f, q);
    clauses.push((Occur::Must, Box::new(BooleanQuery::new(plan.clauses))));
    let query = BooleanQuery::new(clauses);
    let wanted = q.offset.saturating_add(q.limit).max(RERANK);
    let (top, total) = searcher.search(
        &query,
        &(TopDocs::with_limit(wanted).order_by_score(), Count),
    )?;
    let mut ranked = Vec::with_capacity(top.len());
    for (score, at) in top {
        let (id, updated) = article_id(searcher, at)?;
        let pop = popularity(id).clamp(0.0, 1.0);
        let pop = if pop.is_nan() { 0.0 } else { pop };
        ranked.push((score * (1.0 + POPULARITY_WEIGHT * pop), updated, id, at));
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut hits = Vec::new();
    for (score, _, id, at) in ranked.into_iter().skip(q.offset).take(q.limit) {
        let doc: TantivyDocument = searcher.doc(at)?;
        let title = stored_str(&doc, f.title);
        let body = stored_str(&doc, f.body);
        let mut title_ranges = text::find_terms(&title, &plan.highlight);
        let mut body_terms = plan.highlight.clone();
        for typed in &plan.latin {
            for (a, b) in text::pinyin_matches(&title, typed) {
                title_ranges.push((a, b));
                let matched = &title[a..b];
                if matched.chars().count() >= 2 {
                    body_terms.push(matched.to_string());
                }
            }
        }
        let title_ranges = text::merge(title_ranges);
        let body_ranges = text::find_terms(&body, &body_terms);
        let visibility = match stored_str(&doc, f.visibility).as_str() {
            "public" => Visibility::Public,
            _ => Visibility::Internal,
        };
        hits.push(SearchHit {
            id,
            slug: stored_str(&doc, f.slug),
            title_html: text::mark(&title, 0, title.len(), &title_ranges),
            snippet_html: text::snippet(&body, &body_ranges),
            title,
            category_path: stored_str(&doc, f.category_path),
            tags: doc
                .get_all(f.tags)
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            visibility,
            score,
        });
    }
    Ok(SearchResults { total, hits })
}

pub fn suggest(
    searcher: &Searcher,
    f: &Fields,
    typed: &str,
    audience: Audience,
    today: NaiveDate,
    limit: usize,
) -> Result<Vec<Suggestion>, IndexError> {
    let limit = limit.min(SUGGEST_MAX);
    let cleaned = text::clean_query(typed);
    let compact: String = text::compact(&cleaned)
        .chars()
        .take(text::TITLE_TOKEN_MAX)
        .collect();
    if compact.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let latin = compact.bytes().all(|b| b.is_ascii_alphanumeric());
    let mut should: Vec<(Occur, Box<dyn Query>)> = vec![
        boosted(prefix(f.title_head, &compact), 2.0),
        boosted(prefix(f.title_prefix, &compact), 1.0),
    ];
    if latin {
        let p: String = compact.chars().take(text::PINYIN_TOKEN_MAX).collect();
        should.push(boosted(prefix(f.pinyin_head, &p), 2.0));
        should.push(boosted(prefix(f.pinyin, &p), 1.0));
        if compact.len() >= 2 && compact.len() <= text::INITIALS_TOKEN_MAX {
            should.push(boosted(prefix(f.initials_head, &compact), 2.0));
            should.push(boosted(prefix(f.initials, &compact), 1.0));
        }
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = audience_filter(f, audience, today)
        .into_iter()
        .map(|q| {
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>,
            )
        })
        .collect();
    clauses.push((Occur::Must, Box::new(BooleanQuery::new(should))));
    let query = BooleanQuery::new(clauses);
    let top = searcher.search(&query, &TopDocs::with_limit(64).order_by_score())?;
    // Ties broken by the shorter title, from fast fields; only the suggestions shown are read from
    // the document store (a stored document carries its whole body).
    let mut found = Vec::with_capacity(top.len());
    for (score, at) in top {
        let (id, _) = article_id(searcher, at)?;
        let chars = searcher
            .segment_reader(at.segment_ord)
            .fast_fields()
            .u64("title_chars")?
            .first(at.doc_id)
            .unwrap_or(u64::MAX);
        found.push((score, chars, id, at));
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    found.truncate(limit);
    let mut shown = Vec::with_capacity(found.len());
    for (_, _, id, at) in found {
        let doc: TantivyDocument = searcher.doc(at)?;
        shown.push((stored_str(&doc, f.title), id));
    }
    Ok(shown
        .into_iter()
        .map(|(title, id)| {
            let mut ranges = text::find_terms(&title, std::slice::from_ref(&compact));
            if latin {
                ranges.extend(text::pinyin_matches(&title, &compact));
            }
            let ranges = text::merge(ranges);
            Suggestion {
                id,
                title_html: text::mark(&title, 0, title.len(), &ranges),
                title,
            }
        })
        .collect())
}
