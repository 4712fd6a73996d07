//! The demo knowledge base, compiled in from `crates/kb/demo/`: the articles in the Markdown-folder
//! format, `synonyms.txt`, and `queries.toml`, the labeled queries of the search quality test.

use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};

use crate::archive::{Archive, ArchiveError, read_folder};

#[derive(RustEmbed)]
#[folder = "demo/"]
#[allow_missing = true]
struct DemoFiles;

/// The labeled queries' file.
pub const QUERIES_FILE: &str = "queries.toml";

/// What kind of typing a labeled query stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryKind {
    Words,
    Pinyin,
    Initials,
    Typo,
    Colloquial,
    Synonym,
}

/// One labeled query: what is typed, its kind, and the slugs of the articles that truly answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabeledQuery {
    pub q: String,
    pub kind: QueryKind,
    pub expect: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueriesFile {
    #[serde(default)]
    query: Vec<LabeledQuery>,
}

/// The demo KB: every `.md` under `demo/` and `synonyms.txt`, checked like an import.
pub fn archive() -> Result<Archive, Vec<ArchiveError>> {
    let mut names: Vec<String> = DemoFiles::iter()
        .map(|n| n.into_owned())
        .filter(|n| n != QUERIES_FILE)
        .collect();
    names.sort();
    let files = names.into_iter().filter_map(|name| {
        let file = DemoFiles::get(&name)?;
        Some((name, file.data.into_owned()))
    });
    read_folder(files)
}

/// The labeled queries from `queries.toml` (none when the file is missing).
pub fn queries() -> Result<Vec<LabeledQuery>, String> {
    let Some(file) = DemoFiles::get(QUERIES_FILE) else {
        return Ok(Vec::new());
    };
    let text =
        std::str::from_utf8(&file.data).map_err(|e| format!("{QUERIES_FILE} 不是 UTF-8：{e}"))?;
    let parsed: QueriesFile =
        toml::from_str(text).map_err(|e| format!("{QUERIES_FILE} 写法有误：{e}"))?;
    Ok(parsed.query)
}
