//! The compiled-in demo KB parses like an import and its labeled queries point at real articles.

use std::collections::HashSet;

use kefu_kb::demo;
use kefu_kb::demo::QueryKind;

#[test]
fn demo_kb_parses_with_at_least_60_articles() {
    let archive = demo::archive().unwrap_or_else(|errors| {
        panic!(
            "the demo KB has errors:\n{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert!(
        archive.articles.len() >= 60,
        "only {} demo articles",
        archive.articles.len()
    );
    let mut slugs = HashSet::new();
    for a in &archive.articles {
        assert!(!a.category_path.is_empty(), "{} has no category", a.slug);
        assert!(slugs.insert(a.slug.as_str()), "{} twice", a.slug);
        assert!(!a.body_markdown.trim().is_empty(), "{} has no body", a.slug);
    }
    assert!(
        archive
            .articles
            .iter()
            .any(|a| a.visibility == kefu_kb::Visibility::Public)
            && archive
                .articles
                .iter()
                .any(|a| a.visibility == kefu_kb::Visibility::Internal),
        "the demo needs both public and internal articles"
    );
    assert!(!archive.synonyms.is_empty(), "the demo has no synonyms");
    // The contract's own example group: 煤气 ↔ 燃气.
    assert!(
        archive.synonyms.expand("煤气").iter().any(|w| w == "燃气"),
        "煤气 should expand to 燃气: {:?}",
        archive.synonyms.expand("煤气")
    );
}

#[test]
fn labeled_queries_point_at_demo_articles() {
    let archive = demo::archive().expect("demo KB parses");
    let slugs: HashSet<&str> = archive.articles.iter().map(|a| a.slug.as_str()).collect();
    let queries = demo::queries().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        queries.len() >= 50,
        "only {} labeled queries",
        queries.len()
    );
    for q in &queries {
        assert!(!q.q.trim().is_empty(), "an empty query");
        assert!(!q.expect.is_empty(), "{:?} expects nothing", q.q);
        for slug in &q.expect {
            assert!(
                slugs.contains(slug.as_str()),
                "{:?} expects unknown slug {slug}",
                q.q
            );
        }
    }
    let kinds: HashSet<QueryKind> = queries.iter().map(|q| q.kind).collect();
    for kind in [
        QueryKind::Pinyin,
        QueryKind::Initials,
        QueryKind::Typo,
        QueryKind::Colloquial,
    ] {
        assert!(kinds.contains(&kind), "no {kind:?} query");
    }
}

#[test]
fn demo_survives_both_archive_formats() {
    let archive = demo::archive().expect("demo KB parses");
    let zip = kefu_kb::write_zip(&archive).unwrap();
    assert_eq!(kefu_kb::read_zip(&zip).unwrap(), archive);
    let xlsx = kefu_kb::write_xlsx(&archive).unwrap();
    assert_eq!(kefu_kb::read_xlsx(&xlsx).unwrap(), archive);
}
