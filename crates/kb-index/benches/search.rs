//! The knowledge base index at 100,000 articles: indexing rate (one rebuild), search and suggestion
//! latency. Articles are generated deterministically (seeded) from the demo KB's vocabulary: titles
//! from the demo titles' words, bodies from the demo bodies' sentences, tags, categories and a
//! tenth internal.
//!
//! Criterion reports means and medians but no percentiles, so before criterion runs this prints its
//! own p50/p99 from a timing loop (every query of the mix timed once after a warm-up).
//!
//! `cargo bench -p kefu-kb-index --bench search` (KB_BENCH_ARTICLES overrides the 100,000).

#[path = "../tests/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::Criterion;
use kefu_kb_index::{Audience, IndexedArticle, KbIndex, SearchQuery, Visibility, text};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// The demo's words and sentences.
struct Vocabulary {
    title_words: Vec<String>,
    sentences: Vec<String>,
    tags: Vec<String>,
    categories: Vec<(String, Vec<Uuid>)>,
}

fn han_words(text: &str) -> Vec<String> {
    // Title words: runs of Han characters cut into pieces of 2–4 characters.
    let mut out = Vec::new();
    for run in text::runs(text) {
        if let text::Run::Han(h) = run {
            let chars: Vec<char> = h.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                let n = (2 + (i % 3)).min(chars.len() - i);
                out.push(chars[i..i + n].iter().collect());
                i += n;
            }
        }
    }
    out
}

fn vocabulary(demo: &[IndexedArticle]) -> Vocabulary {
    let mut title_words = Vec::new();
    let mut sentences = Vec::new();
    let mut tags = Vec::new();
    let mut categories = Vec::new();
    for a in demo {
        title_words.extend(han_words(&a.title));
        for s in a.text.split(['。', '；', '\n', '！', '？']) {
            let s = s.trim();
            if s.chars().count() >= 6 {
                sentences.push(format!("{s}。"));
            }
        }
        tags.extend(a.tags.iter().cloned());
        categories.push((a.category_path.clone(), a.category_ids.clone()));
    }
    for v in [&mut title_words, &mut sentences, &mut tags] {
        v.sort();
        v.dedup();
    }
    categories.sort();
    categories.dedup();
    Vocabulary {
        title_words,
        sentences,
        tags,
        categories,
    }
}

fn generate(v: &Vocabulary, n: usize, rng: &mut StdRng) -> Vec<IndexedArticle> {
    let endings = ["", "", "怎么办", "的办理流程", "须知", "常见问题", "说明"];
    (0..n)
        .map(|i| {
            let words = rng.random_range(2..=4);
            let mut title: String = (0..words)
                .map(|_| v.title_words.choose(rng).unwrap().as_str())
                .collect();
            title.push_str(endings.choose(rng).unwrap());
            let sentences = rng.random_range(6..=18);
            let body: String = (0..sentences)
                .map(|_| v.sentences.choose(rng).unwrap().as_str())
                .collect();
            let tags = (0..rng.random_range(1..=4))
                .map(|_| v.tags.choose(rng).unwrap().clone())
                .collect();
            let (path, ids) = v.categories.choose(rng).unwrap().clone();
            IndexedArticle {
                id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | i as u128),
                slug: format!("article-{i}"),
                title,
                text: body,
                tags,
                category_ids: ids,
                category_path: path,
                visibility: if i % 10 == 0 {
                    Visibility::Internal
                } else {
                    Visibility::Public
                },
                valid_from: None,
                valid_to: None,
                updated_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            }
        })
        .collect()
}

/// A mix of what agents type, each labeled with its kind.
fn search_mix(
    articles: &[IndexedArticle],
    rng: &mut StdRng,
    n: usize,
) -> Vec<(&'static str, String)> {
    let han: Vec<char> = "燃气表阀门泄漏报警器缴费发票钢瓶押金维修安装"
        .chars()
        .collect();
    (0..n)
        .map(|i| {
            let a = articles.choose(rng).unwrap();
            let words = han_words(&a.title);
            let word = |rng: &mut StdRng| words.choose(rng).cloned().unwrap_or_default();
            match i % 6 {
                0 => ("words", format!("{} {}", word(rng), word(rng))),
                1 => ("pinyin", text::pinyin_head(&word(rng)).0),
                2 => (
                    "initials",
                    text::pinyin_head(&a.title).1.chars().take(4).collect(),
                ),
                3 => {
                    let mut chars: Vec<char> = a.title.chars().take(5).collect();
                    let at = rng.random_range(0..chars.len());
                    chars[at] = *han.choose(rng).unwrap();
                    ("typo", chars.into_iter().collect())
                }
                4 => {
                    let chars: Vec<char> = a.text.chars().collect();
                    let start = rng.random_range(0..chars.len().saturating_sub(12).max(1));
                    (
                        "sentence",
                        chars[start..(start + 12).min(chars.len())].iter().collect(),
                    )
                }
                _ => ("public", word(rng)),
            }
        })
        .collect()
}

fn suggest_mix(
    articles: &[IndexedArticle],
    rng: &mut StdRng,
    n: usize,
) -> Vec<(&'static str, String)> {
    (0..n)
        .map(|i| {
            let a = articles.choose(rng).unwrap();
            let (full, initials) = text::pinyin_head(&a.title);
            match i % 3 {
                0 => (
                    "chars",
                    a.title.chars().take(rng.random_range(1..=4)).collect(),
                ),
                1 => (
                    "pinyin",
                    full.chars().take(rng.random_range(2..=8)).collect(),
                ),
                _ => (
                    "initials",
                    initials.chars().take(rng.random_range(2..=3)).collect(),
                ),
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

fn report(name: &str, timings: &mut [(&'static str, Duration)]) {
    let mut kinds: Vec<&str> = timings.iter().map(|t| t.0).collect();
    kinds.sort();
    kinds.dedup();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut all: Vec<Duration> = timings.iter().map(|t| t.1).collect();
    all.sort();
    println!(
        "{name:<10} all       n={:<5} p50 {:7.3} ms  p99 {:7.3} ms  max {:7.3} ms",
        all.len(),
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        ms(*all.last().unwrap())
    );
    for kind in kinds {
        let mut d: Vec<Duration> = timings
            .iter()
            .filter(|t| t.0 == kind)
            .map(|t| t.1)
            .collect();
        d.sort();
        println!(
            "{name:<10} {kind:<9} n={:<5} p50 {:7.3} ms  p99 {:7.3} ms",
            d.len(),
            ms(percentile(&d, 0.5)),
            ms(percentile(&d, 0.99))
        );
    }
}

fn main() {
    let n: usize = std::env::var("KB_BENCH_ARTICLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut rng = StdRng::seed_from_u64(7);
    let demo = support::demo::articles();
    let vocabulary = vocabulary(&demo);
    let articles = generate(&vocabulary, n, &mut rng);
    let chars: usize = articles
        .iter()
        .map(|a| a.title.chars().count() + a.text.chars().count())
        .sum();
    println!(
        "{n} articles generated from {} demo articles ({} title words, {} sentences); {:.0} characters each on average",
        demo.len(),
        vocabulary.title_words.len(),
        vocabulary.sentences.len(),
        chars as f64 / n as f64
    );

    let dir = tempfile::tempdir().unwrap();
    let index = KbIndex::open(dir.path().join("kb-index")).unwrap();
    let started = Instant::now();
    index
        .rebuild(&articles, &support::demo::synonyms(), "bench")
        .unwrap();
    let took = started.elapsed();
    println!(
        "indexing   {n} articles in {:.1} s: {:.0} articles/s (one rebuild, one commit)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    let started = Instant::now();
    let extra: Vec<IndexedArticle> = generate(&vocabulary, 200, &mut rng)
        .into_iter()
        .enumerate()
        .map(|(i, mut a)| {
            a.id = Uuid::from_u128(0x0194_0000_0000_7000_8000_0000_0000_0000 | i as u128);
            a
        })
        .collect();
    for a in &extra[..20] {
        index.upsert(a).unwrap();
    }
    println!(
        "upsert     one article (commit + reload each): {:.1} ms on average over 20",
        started.elapsed().as_secs_f64() * 1000.0 / 20.0
    );

    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let queries = search_mix(&articles, &mut rng, 3_000);
    let search = |kind: &str, q: &str| {
        let audience = if kind == "public" {
            Audience::Public
        } else {
            Audience::Internal
        };
        let r = index
            .search(&SearchQuery::new(q, audience, today), &|id| {
                (id.as_u128() % 7) as f32 / 7.0
            })
            .unwrap();
        std::hint::black_box(r);
    };
    for (kind, q) in &queries[..300] {
        search(kind, q);
    }
    let mut timings: Vec<(&'static str, Duration)> = queries
        .iter()
        .map(|(kind, q)| {
            let t = Instant::now();
            search(kind, q);
            (*kind, t.elapsed())
        })
        .collect();
    report("search", &mut timings);

    let prefixes = suggest_mix(&articles, &mut rng, 3_000);
    let suggest = |q: &str| {
        std::hint::black_box(index.suggest(q, Audience::Public, today, 8).unwrap());
    };
    for (_, q) in &prefixes[..300] {
        suggest(q);
    }
    let mut timings: Vec<(&'static str, Duration)> = prefixes
        .iter()
        .map(|(kind, q)| {
            let t = Instant::now();
            suggest(q);
            (*kind, t.elapsed())
        })
        .collect();
    report("suggest", &mut timings);

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    c.bench_function("search/words 燃气表 维修", |b| {
        b.iter(|| search("words", "燃气表 维修"))
    });
    c.bench_function("search/pinyin ranqixielou", |b| {
        b.iter(|| search("pinyin", "ranqixielou"))
    });
    c.bench_function("search/typo 燃汽泄漏", |b| {
        b.iter(|| search("typo", "燃汽泄漏"))
    });
    c.bench_function("suggest/rq", |b| b.iter(|| suggest("rq")));
    c.bench_function("suggest/燃气", |b| b.iter(|| suggest("燃气")));
    c.final_summary();
}
