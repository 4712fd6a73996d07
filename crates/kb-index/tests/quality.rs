//! The quality test (docs/kb.md): the demo KB indexed, every labeled query run as staff with no
//! popularity, recall@5 (mean over queries of |expected ∩ top 5| / |expected|) must be ≥ 0.9.
//! Misses are printed as a table (`cargo test -p kefu-kb-index --test quality -- --nocapture`).

mod support;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kefu_kb_index::{Audience, KbIndex, SearchQuery};
use support::demo::{articles, queries, synonyms};

#[test]
fn recall_at_5_over_the_labeled_queries_is_at_least_0_9() {
    let articles = articles();
    assert!(articles.len() >= 60, "{} demo articles", articles.len());
    let queries = queries();
    assert!(queries.len() >= 50);
    let dir = tempfile::tempdir().unwrap();
    let index = KbIndex::open(dir.path()).unwrap();
    index.rebuild(&articles, &synonyms(), "demo").unwrap();
    // The demo's "now": one notice is not yet valid and one promotion has expired.
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let mut total = 0.0;
    let mut first = 0;
    let mut by_kind: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for lq in &queries {
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
        first += usize::from(
            top.first()
                .is_some_and(|t| lq.expect.iter().any(|e| e == t)),
        );
        let k = by_kind.entry(format!("{:?}", lq.kind)).or_default();
        k.0 += recall;
        k.1 += 1;
        if found < lq.expect.len() {
            misses.push(format!(
                "| {:?} | {} | {:.2} | {} | {} |",
                lq.kind,
                lq.q,
                recall,
                lq.expect.join(", "),
                top.join(", ")
            ));
        }
    }
    let recall = total / queries.len() as f64;
    println!(
        "recall@5 = {recall:.3} over {} queries; the first hit is an expected one for {first}",
        queries.len()
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
