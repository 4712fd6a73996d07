//! Text handling shared by indexing and searching: cleaning user input, pinyin, the CJK bigram
//! tokenizer, and highlighting (escaped HTML with `<mark>` only).

use pinyin::ToPinyin;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Longest query text kept, in characters.
pub const QUERY_MAX_CHARS: usize = 100;
/// Longest pinyin suffix token, in letters.
pub const PINYIN_TOKEN_MAX: usize = 48;
/// Longest initials suffix token, in letters.
pub const INITIALS_TOKEN_MAX: usize = 16;
/// Longest title suffix token (for suggestions), in characters.
pub const TITLE_TOKEN_MAX: usize = 16;

/// A CJK ideograph (the basic block, extension A, compatibility and the supplementary planes).
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// Full-width ASCII (ＡＢＣ１２３) to ASCII, ideographic space to space.
fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// What the user typed, made safe: control characters removed, cut to [`QUERY_MAX_CHARS`],
/// full-width ASCII folded, trimmed. Never interpreted as a query language.
pub fn clean_query(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(QUERY_MAX_CHARS)
        .map(fold_width)
        .collect();
    cleaned.trim().to_string()
}

/// A piece of a query: a run of Han characters or a run of ASCII letters and digits (lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run {
    Han(String),
    Latin(String),
}

/// Splits cleaned text into Han and Latin runs; everything else (punctuation, emoji, spaces)
/// separates runs and is dropped.
pub fn runs(text: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut han = false;
    for c in text.chars() {
        let class = if is_han(c) {
            Some(true)
        } else if c.is_ascii_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match class {
            Some(is) if !current.is_empty() && is == han => current.push(c.to_ascii_lowercase()),
            Some(is) => {
                flush(&mut out, &mut current, han);
                han = is;
                current.push(c.to_ascii_lowercase());
            }
            None => flush(&mut out, &mut current, han),
        }
    }
    flush(&mut out, &mut current, han);
    out
}

fn flush(out: &mut Vec<Run>, current: &mut String, han: bool) {
    if current.is_empty() {
        return;
    }
    let text = std::mem::take(current);
    out.push(if han {
        Run::Han(text)
    } else {
        Run::Latin(text)
    });
}

/// One character of a title with its pinyin: a Han character's first reading (toneless) and
/// initial; an ASCII letter or digit stands for itself. Other characters have no entry.
#[derive(Debug, Clone)]
pub struct Syllable {
    pub start: usize,
    pub end: usize,
    pub plain: String,
    pub initial: char,
}

/// Words whose characters are read differently from their first reading.
const POLYPHONE_WORDS: &[(&str, &[&str])] = &[
    ("银行", &["yin", "hang"]),
    ("重新", &["chong", "xin"]),
    ("重复", &["chong", "fu"]),
    ("还款", &["huan", "kuan"]),
    ("退还", &["tui", "huan"]),
    ("归还", &["gui", "huan"]),
    ("调压", &["tiao", "ya"]),
    ("调整", &["tiao", "zheng"]),
    ("调价", &["tiao", "jia"]),
    ("长期", &["chang", "qi"]),
    ("长度", &["chang", "du"]),
    ("单位", &["dan", "wei"]),
    ("着火", &["zhao", "huo"]),
    ("处理", &["chu", "li"]),
    ("供应", &["gong", "ying"]),
    ("供气", &["gong", "qi"]),
    ("应急", &["ying", "ji"]),
    ("相关", &["xiang", "guan"]),
    ("便利", &["bian", "li"]),
    ("数据", &["shu", "ju"]),
    ("地址", &["di", "zhi"]),
];

/// The pinyin of every Han character, letter and digit of `text`, in order.
pub fn syllables(text: &str) -> Vec<Syllable> {
    let mut out: Vec<Syllable> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if is_han(c) {
            let rest = &text[start..];
            if let Some((word, readings)) =
                POLYPHONE_WORDS.iter().find(|(w, _)| rest.starts_with(w))
            {
                for (k, reading) in readings.iter().enumerate() {
                    let (s, ch) = chars[i + k];
                    out.push(Syllable {
                        start: s,
                        end: s + ch.len_utf8(),
                        plain: (*reading).to_string(),
                        initial: reading.chars().next().unwrap_or('x'),
                    });
                }
                i += word.chars().count();
                continue;
            }
            if let Some(p) = c.to_pinyin() {
                let plain = p.plain();
                out.push(Syllable {
                    start,
                    end: start + c.len_utf8(),
                    plain: plain.to_string(),
                    initial: plain.chars().next().unwrap_or('x'),
                });
            }
        } else {
            let c = fold_width(c);
            if c.is_ascii_alphanumeric() {
                let lower = c.to_ascii_lowercase();
                out.push(Syllable {
                    start,
                    end: start + c.len_utf8(),
                    plain: lower.to_string(),
                    initial: lower,
                });
            }
        }
        i += 1;
    }
    out
}

/// Whether a syllable starts a word: every Han character does; a letter or digit does when the
/// character before it was not also a letter or digit.
fn starts_word(syllables: &[Syllable], i: usize) -> bool {
    let s = &syllables[i];
    let ascii = |s: &Syllable| s.plain.len() == 1 && s.plain.as_bytes()[0].is_ascii_alphanumeric();
    !ascii(s) || i == 0 || !ascii(&syllables[i - 1]) || syllables[i - 1].end != s.start
}

/// The pinyin and initials tokens of a text: the pinyin (initials) of the text from every word
/// start to its end, capped, so a prefix query finds "ranqi" or "rq" anywhere a word begins.
pub fn pinyin_suffixes(text: &str) -> (Vec<String>, Vec<String>) {
    let syl = syllables(text);
    let mut full = Vec::new();
    let mut initials = Vec::new();
    for i in 0..syl.len() {
        if !starts_word(&syl, i) {
            continue;
        }
        let mut p = String::new();
        for s in &syl[i..] {
            if p.len() + s.plain.len() > PINYIN_TOKEN_MAX {
                break;
            }
            p.push_str(&s.plain);
        }
        let ini: String = syl[i..]
            .iter()
            .map(|s| s.initial)
            .take(INITIALS_TOKEN_MAX)
            .collect();
        full.push(p);
        initials.push(ini);
    }
    (full, initials)
}

/// The whole text's pinyin and initials (for "starts with" on suggestions).
pub fn pinyin_head(text: &str) -> (String, String) {
    let syl = syllables(text);
    let mut p = String::new();
    for s in &syl {
        if p.len() + s.plain.len() > PINYIN_TOKEN_MAX {
            break;
        }
        p.push_str(&s.plain);
    }
    let ini = syl
        .iter()
        .map(|s| s.initial)
        .take(INITIALS_TOKEN_MAX)
        .collect();
    (p, ini)
}

/// The characters of a title that can be typed: Han, letters and digits, lowercased.
pub fn compact(text: &str) -> String {
    text.chars()
        .map(fold_width)
        .filter(|c| is_han(*c) || c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The title's suffixes from every character, capped, for "typed so far" suggestions.
pub fn title_suffixes(text: &str) -> Vec<String> {
    let chars: Vec<char> = compact(text).chars().collect();
    (0..chars.len())
        .map(|i| chars[i..].iter().take(TITLE_TOKEN_MAX).collect())
        .collect()
}

/// Byte ranges of `text` whose pinyin matches the Latin `typed`: full pinyin from a word start
/// (the last syllable may be partial), or initials.
pub fn pinyin_matches(text: &str, typed: &str) -> Vec<(usize, usize)> {
    let syl = syllables(text);
    let mut out = Vec::new();
    if typed.is_empty() {
        return out;
    }
    for i in 0..syl.len() {
        if !starts_word(&syl, i) {
            continue;
        }
        // Full pinyin.
        let mut pos = 0;
        let mut j = i;
        while j < syl.len() && pos < typed.len() {
            let rest = &typed[pos..];
            let plain = syl[j].plain.as_str();
            if rest.starts_with(plain) {
                pos += plain.len();
                j += 1;
            } else if plain.starts_with(rest) {
                pos = typed.len();
                j += 1;
            } else {
                break;
            }
        }
        if pos == typed.len() && j > i {
            out.push((syl[i].start, syl[j - 1].end));
            continue;
        }
        // Initials (two or more).
        let n = typed.len();
        if n >= 2
            && i + n <= syl.len()
            && typed
                .chars()
                .zip(&syl[i..i + n])
                .all(|(c, s)| c == s.initial)
        {
            out.push((syl[i].start, syl[i + n - 1].end));
        }
    }
    out
}

/// The bigram tokenizer: every pair of adjacent Han characters (a lone Han character alone), and
/// every run of ASCII letters and digits lowercased. It lets a query with one wrong character
/// (燃汽泄漏) still share most of its tokens with the right text (燃气泄漏).
#[derive(Clone, Default)]
pub struct BigramTokenizer;

pub struct VecTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.index < self.tokens.len() {
            self.index += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream {
            tokens: bigrams(text),
            index: 0,
        }
    }
}

/// The tokens of [`BigramTokenizer`].
pub fn bigrams(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut push = |from: usize, to: usize, text: String| {
        let position = tokens.len();
        tokens.push(Token {
            offset_from: from,
            offset_to: to,
            position,
            text,
            position_length: 1,
        });
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if is_han(c) {
            let mut j = i;
            while j < chars.len() && is_han(chars[j].1) {
                j += 1;
            }
            if j - i == 1 {
                push(start, start + c.len_utf8(), c.to_string());
            } else {
                for k in i..j - 1 {
                    let (a, ca) = chars[k];
                    let (b, cb) = chars[k + 1];
                    let mut s = String::with_capacity(6);
                    s.push(ca);
                    s.push(cb);
                    push(a, b + cb.len_utf8(), s);
                }
            }
            i = j;
        } else if c.is_ascii_alphanumeric() {
            let mut j = i;
            while j < chars.len() && chars[j].1.is_ascii_alphanumeric() {
                j += 1;
            }
            let end = if j < chars.len() {
                chars[j].0
            } else {
                text.len()
            };
            push(start, end, text[start..end].to_ascii_lowercase());
            i = j;
        } else {
            i += 1;
        }
    }
    tokens
}

/// Byte ranges of every occurrence of the terms in `text` (ASCII case-insensitive), sorted and
/// merged.
pub fn find_terms(text: &str, terms: &[String]) -> Vec<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for term in terms {
        if term.is_empty() {
            continue;
        }
        for (at, m) in lower.match_indices(term.as_str()) {
            ranges.push((at, at + m.len()));
            if ranges.len() > 2_000 {
                break;
            }
        }
    }
    merge(ranges)
}

pub fn merge(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn escape_into(out: &mut String, text: &str) {
    let mut last_space = out.ends_with(' ');
    for c in text.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// `text[from..to]` escaped, with `<mark>` around the ranges (byte ranges into `text`, sorted and
/// merged; parts outside `from..to` are cut).
pub fn mark(text: &str, from: usize, to: usize, ranges: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut at = from;
    for &(a, b) in ranges {
        let (a, b) = (a.max(from), b.min(to));
        if a >= b || a < at {
            continue;
        }
        escape_into(&mut out, &text[at..a]);
        out.push_str("<mark>");
        escape_into(&mut out, &text[a..b]);
        out.push_str("</mark>");
        at = b;
    }
    if at < to {
        escape_into(&mut out, &text[at..to]);
    }
    out.trim().to_string()
}

/// Length of a snippet, in characters.
pub const SNIPPET_CHARS: usize = 120;
/// Characters of context kept before the first match in a snippet.
const SNIPPET_LEAD: usize = 16;

fn back_chars(text: &str, from: usize, n: usize) -> usize {
    text[..from]
        .char_indices()
        .rev()
        .take(n)
        .last()
        .map_or(from, |(i, _)| i)
}

fn forward_chars(text: &str, from: usize, n: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(i, _)| from + i)
}

/// A snippet of `text`: the window of [`SNIPPET_CHARS`] holding the most matches (the first such),
/// or the beginning when nothing matches; escaped, `<mark>` around matches, `…` where cut.
pub fn snippet(text: &str, ranges: &[(usize, usize)]) -> String {
    let ranges = &ranges[..ranges.len().min(200)];
    let mut best: Option<(usize, usize, usize)> = None; // (count, start, end)
    for (k, &(a, _)) in ranges.iter().enumerate() {
        let start = back_chars(text, a, SNIPPET_LEAD);
        let end = forward_chars(text, start, SNIPPET_CHARS);
        let count = ranges[k..].iter().take_while(|r| r.1 <= end).count();
        if best.is_none_or(|(c, _, _)| count > c) {
            best = Some((count, start, end));
        }
    }
    let (start, end) = match best {
        Some((_, s, e)) => (s, e),
        None => (0, forward_chars(text, 0, SNIPPET_CHARS)),
    };
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&mark(text, start, end, ranges));
    if end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_han_latin_and_drop_the_rest() {
        assert_eq!(
            runs("燃气 RanQi!😀泄漏95598"),
            vec![
                Run::Han("燃气".into()),
                Run::Latin("ranqi".into()),
                Run::Han("泄漏".into()),
                Run::Latin("95598".into()),
            ]
        );
        assert!(
            runs("\"*:(AND OR ~^ ！？")
                .iter()
                .all(|r| matches!(r, Run::Latin(_)))
        );
    }

    #[test]
    fn pinyin_suffixes_start_at_every_word() {
        let (full, ini) = pinyin_suffixes("燃气泄漏");
        assert_eq!(full, vec!["ranqixielou", "qixielou", "xielou", "lou"]);
        assert_eq!(ini, vec!["rqxl", "qxl", "xl", "l"]);
        let (full, _) = pinyin_suffixes("IC卡充值");
        assert_eq!(full[0], "ickachongzhi");
        assert_eq!(full[1], "kachongzhi");
    }

    #[test]
    fn polyphone_words_take_their_reading() {
        let (full, _) = pinyin_head("银行代扣");
        assert_eq!(full, "yinhangdaikou");
    }

    #[test]
    fn pinyin_matches_full_partial_and_initials() {
        let t = "燃气泄漏怎么办";
        assert_eq!(pinyin_matches(t, "xielou"), vec![(6, 12)]);
        assert_eq!(pinyin_matches(t, "ranqixie"), vec![(0, 9)]);
        assert_eq!(pinyin_matches(t, "rqxl"), vec![(0, 12)]);
        assert!(pinyin_matches(t, "zzz").is_empty());
    }

    #[test]
    fn bigrams_of_han_and_words_of_latin() {
        let t: Vec<String> = bigrams("燃气泄漏 IC卡")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(t, vec!["燃气", "气泄", "泄漏", "ic", "卡"]);
    }

    #[test]
    fn marks_are_the_only_markup() {
        let text = "<b>燃气</b> & 泄漏";
        let ranges = find_terms(text, &["燃气".into()]);
        assert_eq!(
            mark(text, 0, text.len(), &ranges),
            "&lt;b&gt;<mark>燃气</mark>&lt;/b&gt; &amp; 泄漏"
        );
    }

    #[test]
    fn snippet_picks_the_window_with_matches() {
        let text = format!("{}燃气泄漏请开窗{}", "无关".repeat(200), "其他".repeat(200));
        let s = snippet(&text, &find_terms(&text, &["泄漏".into()]));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>泄漏</mark>"), "{s}");
        let plain = snippet("短文", &[]);
        assert_eq!(plain, "短文");
    }

    #[test]
    fn clean_query_cuts_and_strips() {
        let long = "燃".repeat(500);
        assert_eq!(clean_query(&long).chars().count(), QUERY_MAX_CHARS);
        assert_eq!(clean_query("\u{0}燃\u{7}气\n"), "燃气");
        assert_eq!(clean_query("ＲＱ"), "RQ");
    }
}
