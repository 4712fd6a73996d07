//! The quality test (docs/kb.md): the demo KB indexed, every labeled query run as staff with no
//! popularity, recall@5 (mean over queries of |expected ∩ top 5| / |expected|) must be ≥ 0.9.
//! Misses are printed as a table (`cargo test -p kefu-kb-index --test quality -- --nocapture`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Utc};
use kefu_kb_index::{Audience, IndexedArticle, KbIndex, SearchQuery, Synonyms, Visibility};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
struct FrontMatter {
    slug: String,
    title: String,
    category: String,
    #[serde(default)]
    tags: Vec<String>,
    visibility: String,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

#[derive(Deserialize)]
struct Queries {
    query: Vec<LabeledQuery>,
}

#[derive(Deserialize)]
struct LabeledQuery {
    q: String,
    kind: String,
    expect: Vec<String>,
}

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kb/demo")
}

/// A category's id from its path (stable, no database here).
fn category_id(path: &str) -> Uuid {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in path.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    Uuid::from_u128(h)
}

/// Markdown to the plain words the index wants (the markup is punctuation to the tokenizers).
fn plain(markdown: &str) -> String {
    markdown
        .chars()
        .map(|c| {
            if matches!(c, '#' | '*' | '`' | '>' | '|' | '[' | ']') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

fn articles() -> Vec<IndexedArticle> {
    let mut files = Vec::new();
    markdown_files(&demo_dir(), &mut files);
    files.sort();
    files
        .iter()
        .enumerate()
        .map(|(n, path)| {
            let text = std::fs::read_to_string(path).unwrap();
            let rest = text.strip_prefix("---\n").unwrap();
            let (front, body) = rest.split_once("\n---\n").unwrap();
            let front: FrontMatter = serde_yaml_ng::from_str(front)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let parts: Vec<&str> = front.category.split('/').collect();
            let category_ids = (1..=parts.len())
                .map(|k| category_id(&parts[..k].join("/")))
                .collect();
            IndexedArticle {
                id: Uuid::from_u128(n as u128 + 1),
                slug: front.slug,
                title: front.title,
                text: plain(body),
                tags: front.tags,
                category_ids,
                category_path: front.category,
                visibility: if front.visibility == "public" {
                    Visibility::Public
                } else {
                    Visibility::Internal
                },
                valid_from: front.valid_from,
                valid_to: front.valid_to,
                updated_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            }
        })
        .collect()
}

fn synonyms() -> Synonyms {
    let text = std::fs::read_to_string(demo_dir().join("synonyms.txt")).unwrap();
    Synonyms::from_groups(
        text.lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|l| l.split(',').map(|w| w.trim().to_string()).collect())
            .collect(),
    )
}

#[test]
fn recall_at_5_over_the_labeled_queries_is_at_least_0_9() {
    let articles = articles();
    assert!(articles.len() >= 60, "{} demo articles", articles.len());
    let queries: Queries =
        toml::from_str(&std::fs::read_to_string(demo_dir().join("queries.toml")).unwrap()).unwrap();
    assert!(queries.query.len() >= 50);
    let dir = tempfile::tempdir().unwrap();
    let index = KbIndex::open(dir.path()).unwrap();
    index.rebuild(&articles, &synonyms(), "demo").unwrap();
    // The demo's "now": one notice is not yet valid and one promotion has expired.
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let mut total = 0.0;
    let mut by_kind: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for lq in &queries.query {
        for slug in &lq.expect {
            assert!(
                articles.iter().any(|a| &a.slug == slug),
                "{}: no article {slug}",
                lq.q
            );
        }
        let mut q = SearchQuery::new(lq.q.as_str(), Audience::Internal, today);
        q.limit = 5;
        let results = index.search(&q, &|_| 0.0).unwrap();
        let top: Vec<&str> = results.hits.iter().map(|h| h.slug.as_str()).collect();
        let found = lq
            .expect
            .iter()
            .filter(|s| top.contains(&s.as_str()))
            .count();
        let recall = found as f64 / lq.expect.len() as f64;
        total += recall;
        let k = by_kind.entry(lq.kind.as_str()).or_default();
        k.0 += recall;
        k.1 += 1;
        if found < lq.expect.len() {
            misses.push(format!(
                "| {} | {} | {:.2} | {} | {} |",
                lq.kind,
                lq.q,
                recall,
                lq.expect.join(", "),
                top.join(", ")
            ));
        }
    }
    let recall = total / queries.query.len() as f64;
    println!(
        "recall@5 = {recall:.3} over {} queries",
        queries.query.len()
    );
    for (kind, (sum, n)) in &by_kind {
        println!("  {kind:<11} {:.3} ({n})", sum / *n as f64);
    }
    println!("| kind | query | recall | expected | top 5 |\n|---|---|---|---|---|");
    for m in &misses {
        println!("{m}");
    }
    assert!(
        recall >= 0.9,
        "recall@5 {recall:.3} < 0.9; misses:\n{}",
        misses.join("\n")
    );
}
