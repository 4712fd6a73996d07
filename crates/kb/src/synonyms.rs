//! Synonym groups (煤气 ↔ 燃气, 户号 ↔ 用户编号 ↔ 用户号), applied by the index at query time.
//!
//! Text form (`synonyms.txt`, the admin's text box): one group per line, words separated by `,`, `，`,
//! `、` or `↔`; blank lines and lines starting with `#` are skipped. A word is 1–30 characters; a group
//! needs two different words. Groups that share a word are merged (a word belongs to one group), and
//! duplicate words are dropped, so [`Synonyms::expand`] is a single look-up. Latin letters match in
//! any case.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use kefu_domain::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};

/// Longest word, in characters.
pub const WORD_MAX: usize = 30;
/// Most groups.
pub const GROUPS_MAX: usize = 2000;

const SEPARATORS: [char; 4] = [',', '，', '、', '↔'];

/// One group as the API sends it: `{ "words": [..] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynonymGroup {
    pub words: Vec<String>,
}

/// A bad line of the text form (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SynonymError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for SynonymError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "第 {} 行：{}", self.line, self.reason)
    }
}

/// The synonym groups, merged and deduplicated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
    /// Lower-cased word → index into `groups`.
    by_word: HashMap<String, usize>,
}

fn key(word: &str) -> String {
    word.to_lowercase()
}

fn check_word(word: &str) -> Result<String, String> {
    let w = word.trim();
    let len = w.chars().count();
    if len > WORD_MAX {
        return Err(format!(
            "「{w}」太长：同义词最多 {WORD_MAX} 个字符（现在 {len} 个）"
        ));
    }
    if w.chars().any(char::is_control) {
        return Err("同义词不能包含控制字符".to_string());
    }
    Ok(w.to_string())
}

impl Synonyms {
    /// No synonyms.
    pub fn new() -> Synonyms {
        Synonyms::default()
    }

    /// Reads the text form; every bad line is reported.
    pub fn parse(text: &str) -> Result<Synonyms, Vec<SynonymError>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut groups = Vec::new();
        let mut errors = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match Synonyms::group(line.split(SEPARATORS)) {
                Ok(words) => groups.push(words),
                Err(reason) => errors.push(SynonymError {
                    line: line_no,
                    reason,
                }),
            }
        }
        if groups.len() > GROUPS_MAX {
            errors.push(SynonymError {
                line: text.lines().count(),
                reason: format!("最多 {GROUPS_MAX} 组同义词（现在 {} 组）", groups.len()),
            });
        }
        if errors.is_empty() {
            Ok(Synonyms::from_checked(groups))
        } else {
            Err(errors)
        }
    }

    /// Reads the API form `[{ words: [..] }]`; errors are on `[i].words`.
    pub fn from_groups(groups: &[SynonymGroup]) -> Result<Synonyms, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut checked = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            match Synonyms::group(g.words.iter().map(String::as_str)) {
                Ok(words) => checked.push(words),
                Err(reason) => errors
                    .0
                    .push(FieldError::new(format!("[{i}].words"), reason)),
            }
        }
        if checked.len() > GROUPS_MAX {
            errors.push(
                "",
                format!("最多 {GROUPS_MAX} 组同义词（现在 {} 组）", checked.len()),
            );
        }
        errors.into_result()?;
        Ok(Synonyms::from_checked(checked))
    }

    /// Checks the words of one group, dropping empty pieces and repeats.
    fn group<'a>(words: impl Iterator<Item = &'a str>) -> Result<Vec<String>, String> {
        let mut out: Vec<String> = Vec::new();
        for w in words {
            if w.trim().is_empty() {
                continue;
            }
            let w = check_word(w)?;
            if !out.iter().any(|o| key(o) == key(&w)) {
                out.push(w);
            }
        }
        if out.len() < 2 {
            return Err("一组同义词至少要有两个不同的词".to_string());
        }
        Ok(out)
    }

    /// Merges groups that share a word, keeping first appearances in order.
    fn from_checked(groups: Vec<Vec<String>>) -> Synonyms {
        let mut merged: Vec<Vec<String>> = Vec::new();
        let mut by_word: HashMap<String, usize> = HashMap::new();
        for group in groups {
            let mut targets: Vec<usize> = group
                .iter()
                .filter_map(|w| by_word.get(&key(w)).copied())
                .collect();
            targets.sort_unstable();
            targets.dedup();
            let into = match targets.first() {
                Some(&first) => {
                    // Fold every other group this one touches into the first.
                    for &other in targets[1..].iter().rev() {
                        let moved = std::mem::take(&mut merged[other]);
                        for w in moved {
                            by_word.insert(key(&w), first);
                            merged[first].push(w);
                        }
                    }
                    first
                }
                None => {
                    merged.push(Vec::new());
                    merged.len() - 1
                }
            };
            // Words already known are now all in `into`; the rest join it.
            for w in group {
                if let Entry::Vacant(slot) = by_word.entry(key(&w)) {
                    slot.insert(into);
                    merged[into].push(w);
                }
            }
        }
        let groups: Vec<Vec<String>> = merged.into_iter().filter(|g| !g.is_empty()).collect();
        let mut by_word = HashMap::new();
        for (i, g) in groups.iter().enumerate() {
            for w in g {
                by_word.insert(key(w), i);
            }
        }
        Synonyms { groups, by_word }
    }

    /// The group of `word` (itself included), or an empty slice when it has no synonyms.
    pub fn expand(&self, word: &str) -> &[String] {
        self.by_word
            .get(&key(word.trim()))
            .map_or(&[], |&i| self.groups[i].as_slice())
    }

    /// The groups, in the order first written.
    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }

    /// The API form.
    pub fn to_groups(&self) -> Vec<SynonymGroup> {
        self.groups
            .iter()
            .map(|words| SynonymGroup {
                words: words.clone(),
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The text form: one group per line, words joined with `,`. [`Synonyms::parse`] reads it back to
    /// the same value.
    pub fn format(&self) -> String {
        let mut out = String::new();
        for g in &self.groups {
            out.push_str(&g.join(","));
            out.push('\n');
        }
        out
    }

    /// A short stable fingerprint of the groups (16 hex digits, FNV-1a 64 of [`Synonyms::format`]),
    /// for the index's stamp: it changes whenever a word or group changes, and never between runs or
    /// builds.
    pub fn version(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.format().bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_separator_and_skips_comments() {
        let s = Synonyms::parse(
            "\u{feff}# 常见说法\n煤气, 燃气\n户号 ↔ 用户编号 ↔ 用户号\n\n液化气，液化石油气、LPG\n",
        )
        .unwrap();
        assert_eq!(
            s.groups(),
            [
                vec!["煤气", "燃气"],
                vec!["户号", "用户编号", "用户号"],
                vec!["液化气", "液化石油气", "LPG"],
            ]
        );
        assert_eq!(s.expand("燃气"), ["煤气", "燃气"]);
        assert_eq!(s.expand(" lpg "), ["液化气", "液化石油气", "LPG"]);
        assert!(s.expand("电费").is_empty());
    }

    #[test]
    fn shared_words_merge_groups_and_duplicates_drop() {
        let s = Synonyms::parse("煤气,燃气,煤气\n天然气,管道气\n燃气,天然气\n").unwrap();
        assert_eq!(s.groups(), [vec!["煤气", "燃气", "天然气", "管道气"]]);
        assert_eq!(s.expand("管道气").len(), 4);
    }

    #[test]
    fn bad_lines_are_reported_with_line_numbers() {
        let errors =
            Synonyms::parse("煤气,燃气\n只有一个\n燃气,燃气\n".to_string().as_str()).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3]);
        let long = format!("a,{}", "b".repeat(31));
        assert_eq!(Synonyms::parse(&long).unwrap_err()[0].line, 1);
    }

    #[test]
    fn api_form_errors_name_the_group() {
        let groups = vec![
            SynonymGroup {
                words: vec!["煤气".into(), "燃气".into()],
            },
            SynonymGroup {
                words: vec!["户号".into()],
            },
        ];
        let errors = Synonyms::from_groups(&groups).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].field, "[1].words");
        let ok = Synonyms::from_groups(&groups[..1]).unwrap();
        assert_eq!(ok.to_groups(), groups[..1]);
    }

    #[test]
    fn format_round_trips_and_version_tracks_changes() {
        let s = Synonyms::parse("煤气，燃气\n户号↔用户号\n").unwrap();
        assert_eq!(s.format(), "煤气,燃气\n户号,用户号\n");
        let again = Synonyms::parse(&s.format()).unwrap();
        assert_eq!(again, s);
        assert_eq!(again.version(), s.version());
        assert_eq!(s.version().len(), 16);
        let changed = Synonyms::parse("煤气，燃气\n户号↔用户编号\n").unwrap();
        assert_ne!(changed.version(), s.version());
        assert_ne!(Synonyms::new().version(), s.version());
        // Fixed across runs and builds: FNV-1a 64 of the empty text is its offset basis.
        assert_eq!(Synonyms::new().version(), "cbf29ce484222325");
    }
}
