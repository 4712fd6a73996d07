//! The demo KB (`kefu_kb::demo`) as the index takes it, shared by the quality test and the benchmark.
//! Category ids are derived from the category paths (no database here).

use chrono::{TimeZone, Utc};
use kefu_kb::demo::LabeledQuery;
use kefu_kb_index::{IndexedArticle, Synonyms};
use uuid::Uuid;

/// A category's id from its path (stable, FNV-1a).
fn category_id(path: &str) -> Uuid {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in path.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    Uuid::from_u128(h)
}

pub fn articles() -> Vec<IndexedArticle> {
    let archive = kefu_kb::demo::archive().expect("the demo archive reads");
    archive
        .articles
        .iter()
        .enumerate()
        .map(|(n, a)| {
            let path = &a.category_path;
            IndexedArticle {
                id: Uuid::from_u128(n as u128 + 1),
                slug: a.slug.as_str().to_string(),
                title: a.title.as_str().to_string(),
                text: kefu_kb::plain_text(&a.body_markdown),
                tags: a.tags.as_slice().to_vec(),
                category_ids: (1..=path.len())
                    .map(|k| category_id(&path[..k].join("/")))
                    .collect(),
                category_path: path.join("/"),
                visibility: a.visibility,
                valid_from: a.valid_from,
                valid_to: a.valid_to,
                updated_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            }
        })
        .collect()
}

pub fn synonyms() -> Synonyms {
    kefu_kb::demo::archive()
        .expect("the demo archive reads")
        .synonyms
}

pub fn queries() -> Vec<LabeledQuery> {
    kefu_kb::demo::queries().expect("the labeled queries read")
}
