//! The demo KB read from `crates/kb/demo` (the Markdown folder, `synonyms.txt`, `queries.toml`),
//! shared by the quality test and the benchmark.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Utc};
use kefu_kb_index::{IndexedArticle, Synonyms, Visibility};
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
pub struct Queries {
    pub query: Vec<LabeledQuery>,
}

#[derive(Deserialize)]
pub struct LabeledQuery {
    pub q: String,
    pub kind: String,
    pub expect: Vec<String>,
}

pub fn demo_dir() -> PathBuf {
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

pub fn articles() -> Vec<IndexedArticle> {
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

pub fn synonyms() -> Synonyms {
    let text = std::fs::read_to_string(demo_dir().join("synonyms.txt")).unwrap();
    Synonyms::from_groups(
        text.lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|l| l.split(',').map(|w| w.trim().to_string()).collect())
            .collect(),
    )
}

pub fn queries() -> Queries {
    toml::from_str(&std::fs::read_to_string(demo_dir().join("queries.toml")).unwrap()).unwrap()
}
