//! The archive formats of docs/kb.md, bytes in and bytes out: the Markdown folder (one file per
//! article, `<category path>/<slug>.md` with YAML front matter, plus `synonyms.txt`), travelling as a
//! zip, and the Excel workbook (sheets 文章 and 同义词).
//!
//! Reading checks everything and reports every problem with its file (or sheet), line (or row) and
//! field; an archive with any problem gives no articles at all, so an import writes nothing. Slugs
//! must be unique. Zip entries with `..`, absolute or backslashed paths are refused, as are
//! encrypted entries, symlinks and oversized files.
//!
//! Markdown front matter:
//!
//! ```markdown
//! ---
//! slug: bottled-gas-phone-order
//! title: 瓶装液化气电话订购流程
//! category: 瓶装液化气/订购与配送
//! tags: [瓶装气, 订气, 送气]
//! visibility: public
//! valid_from: 2026-01-01
//! valid_to:
//! ---
//! 正文（Markdown）……
//! ```
//!
//! `slug` defaults to the file name and `category` to the folder; `visibility` defaults to `internal`
//! (the safe side); `tags` may also be one `,`-separated text. Other keys are refused.

use std::collections::HashMap;
use std::fmt;
use std::io::{Cursor, Read, Write};

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Serialize;
use serde_yaml_ng::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::model::{
    BODY_MAX_BYTES, CategoryName, Slug, Tags, Title, Visibility, check_body, check_validity,
    parse_date,
};
use crate::synonyms::Synonyms;

/// Most articles in one archive.
pub const ARTICLES_MAX: usize = 10_000;
/// Largest Markdown file (the body limit plus room for the front matter).
pub const FILE_MAX_BYTES: u64 = BODY_MAX_BYTES as u64 + 64 * 1024;
/// Most bytes unpacked from one zip.
pub const UNPACKED_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// The synonyms file at the root of the folder.
pub const SYNONYMS_FILE: &str = "synonyms.txt";
/// The articles sheet.
pub const ARTICLES_SHEET: &str = "文章";
/// The synonyms sheet.
pub const SYNONYMS_SHEET: &str = "同义词";
/// Excel holds at most 32,767 characters in a cell; longer bodies continue in 正文2, 正文3, …
const CELL_CHARS: usize = 32_000;

/// One article as archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchivedArticle {
    pub slug: Slug,
    pub title: Title,
    /// Category names from the root down; never empty.
    pub category_path: Vec<String>,
    pub tags: Tags,
    pub visibility: Visibility,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub body_markdown: String,
}

/// A whole knowledge base as archived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Archive {
    pub articles: Vec<ArchivedArticle>,
    pub synonyms: Synonyms,
}

/// One problem in an archive: the file (a path in the folder, or a sheet name), the line (1-based; the
/// row for a sheet; none for the whole file), the field (a front-matter key or column header) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveError {
    pub file: String,
    pub line: Option<usize>,
    pub field: String,
    pub reason: String,
}

impl ArchiveError {
    fn new(
        file: impl Into<String>,
        line: Option<usize>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> ArchiveError {
        ArchiveError {
            file: file.into(),
            line,
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, " 第 {line} 行")?;
        }
        if !self.field.is_empty() {
            write!(f, " {}", self.field)?;
        }
        write!(f, "：{}", self.reason)
    }
}

impl std::error::Error for ArchiveError {}

const KEYS: [&str; 7] = [
    "slug",
    "title",
    "category",
    "tags",
    "visibility",
    "valid_from",
    "valid_to",
];

/// A front-matter value as text: strings, numbers and booleans as written, null as `None`.
fn scalar(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Tagged(t) => scalar(&t.value),
        Value::Sequence(_) | Value::Mapping(_) => Err("应为一段文本，不是列表或对象".to_string()),
    }
}

/// Splits a category path written with `/` and checks every name.
fn category_path(text: &str) -> Result<Vec<String>, String> {
    let mut path = Vec::new();
    for piece in text.split('/') {
        if piece.trim().is_empty() {
            continue;
        }
        let name = CategoryName::parse(piece).map_err(|e| e.reason)?;
        path.push(name.as_str().to_string());
    }
    if path.is_empty() {
        return Err("分类不能为空（如 瓶装液化气/订购与配送）".to_string());
    }
    Ok(path)
}

/// The raw fields of one article, from front matter or a sheet row, with where each came from.
#[derive(Default)]
struct RawArticle {
    slug: Option<String>,
    title: Option<String>,
    category: Option<String>,
    tags: Option<Result<Tags, String>>,
    visibility: Option<String>,
    valid_from: Option<String>,
    valid_to: Option<String>,
    body: String,
}

/// Checks the raw fields; `at(field)` says where each field is for its error.
fn check_article(
    raw: RawArticle,
    file: &str,
    at: impl Fn(&str) -> (Option<usize>, String),
    errors: &mut Vec<ArchiveError>,
) -> Option<ArchivedArticle> {
    let before = errors.len();
    let mut fail = |field: &str, reason: String| {
        let (line, name) = at(field);
        errors.push(ArchiveError::new(file, line, name, reason));
    };
    let slug = match raw.slug.as_deref().map(str::trim) {
        None | Some("") => {
            fail("slug", "slug 必填（小写字母、数字和 -）".to_string());
            None
        }
        Some(s) => Slug::parse(s).map_err(|e| fail("slug", e.reason)).ok(),
    };
    let title = match raw.title.as_deref() {
        None => {
            fail("title", "标题必填".to_string());
            None
        }
        Some(t) => Title::parse(t).map_err(|e| fail("title", e.reason)).ok(),
    };
    let category = match raw.category.as_deref() {
        None => {
            fail(
                "category",
                "分类必填（如 瓶装液化气/订购与配送）".to_string(),
            );
            None
        }
        Some(c) => category_path(c).map_err(|r| fail("category", r)).ok(),
    };
    let tags = match raw.tags {
        None => Some(Tags::default()),
        Some(t) => t.map_err(|r| fail("tags", r)).ok(),
    };
    let visibility = match raw.visibility.as_deref().map(str::trim) {
        None | Some("") => Some(Visibility::Internal),
        Some(v) => Visibility::parse(v)
            .map_err(|e| fail("visibility", e.reason))
            .ok(),
    };
    let mut date = |field: &str, text: Option<&str>| {
        parse_date(text.unwrap_or(""))
            .map_err(|e| fail(field, e.reason))
            .ok()
    };
    let valid_from = date("valid_from", raw.valid_from.as_deref());
    let valid_to = date("valid_to", raw.valid_to.as_deref());
    if let (Some(from), Some(to)) = (valid_from, valid_to)
        && let Err(e) = check_validity(from, to)
    {
        fail("valid_to", e.reason);
    }
    if let Err(e) = check_body(&raw.body) {
        fail("body", e.reason);
    }
    if errors.len() > before {
        return None;
    }
    Some(ArchivedArticle {
        slug: slug?,
        title: title?,
        category_path: category?,
        tags: tags?,
        visibility: visibility?,
        valid_from: valid_from?,
        valid_to: valid_to?,
        body_markdown: raw.body,
    })
}

/// Reads one Markdown file of the folder. `path_in_folder` (`瓶装液化气/订购与配送/x.md`) gives the
/// slug and category when the front matter does not. Every bad field is reported.
pub fn parse_markdown_file(
    path_in_folder: &str,
    text: &str,
) -> Result<ArchivedArticle, Vec<ArchiveError>> {
    let file = path_in_folder;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let whole = |reason: &str| vec![ArchiveError::new(file, Some(1), "front_matter", reason)];
    // Line starts, to cut the front matter and body by line.
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(whole(
            "文件应以 --- 开头的 YAML 头（slug、title、category……）开始",
        ));
    }
    let mut yaml = String::new();
    let mut consumed = first.len();
    let mut closed = false;
    let mut yaml_lines: Vec<&str> = Vec::new();
    for line in lines {
        consumed += line.len();
        let bare = line.trim_end();
        if bare == "---" || bare == "..." {
            closed = true;
            break;
        }
        yaml.push_str(line);
        yaml_lines.push(line);
    }
    if !closed {
        return Err(whole("YAML 头没有结束的 --- 行"));
    }
    let body = text[consumed..].to_string();
    // Line of a key in the file: the `---` is line 1, the first YAML line is line 2.
    let key_line = |key: &str| {
        yaml_lines
            .iter()
            .position(|l| {
                l.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
            .map(|i| i + 2)
    };

    let value: Value = match serde_yaml_ng::from_str(&yaml) {
        Ok(v) => v,
        Err(e) => {
            let line = e.location().map(|l| l.line() + 1);
            return Err(vec![ArchiveError::new(
                file,
                line,
                "front_matter",
                format!("YAML 头写法有误：{e}"),
            )]);
        }
    };
    let mapping = match value {
        Value::Mapping(m) => m,
        Value::Null => Default::default(),
        _ => return Err(whole("YAML 头应是 键: 值 的形式")),
    };

    let mut errors = Vec::new();
    let mut raw = RawArticle {
        body,
        ..RawArticle::default()
    };
    for (k, v) in &mapping {
        let Some(key) = k.as_str() else {
            errors.push(ArchiveError::new(
                file,
                None,
                "front_matter",
                "YAML 头的键应是文字",
            ));
            continue;
        };
        let line = key_line(key);
        if key == "tags" {
            raw.tags =
                match v {
                    Value::Null => None,
                    Value::Sequence(items) => {
                        let texts: Result<Vec<String>, String> = items
                            .iter()
                            .map(|i| scalar(i).map(Option::unwrap_or_default))
                            .collect();
                        Some(texts.and_then(|t| Tags::parse(t).map_err(|e| e.reason)))
                    }
                    other => Some(scalar(other).and_then(|t| {
                        Tags::parse_list(&t.unwrap_or_default()).map_err(|e| e.reason)
                    })),
                };
            continue;
        }
        if !KEYS.contains(&key) {
            errors.push(ArchiveError::new(
                file,
                line,
                key,
                format!("不认识的字段，只能有 {}", KEYS.join("、")),
            ));
            continue;
        }
        let text = match scalar(v) {
            Ok(t) => t,
            Err(reason) => {
                errors.push(ArchiveError::new(file, line, key, reason));
                continue;
            }
        };
        let slot = match key {
            "slug" => &mut raw.slug,
            "title" => &mut raw.title,
            "category" => &mut raw.category,
            "visibility" => &mut raw.visibility,
            "valid_from" => &mut raw.valid_from,
            _ => &mut raw.valid_to,
        };
        *slot = text;
    }
    // Defaults from the path: the file name is the slug, the folder the category.
    let (folder, name) = path_in_folder
        .rsplit_once('/')
        .unwrap_or(("", path_in_folder));
    if raw.slug.is_none() {
        raw.slug = name.strip_suffix(".md").map(str::to_string);
    }
    if raw.category.as_deref().is_none_or(|c| c.trim().is_empty()) && !folder.is_empty() {
        raw.category = Some(folder.to_string());
    }
    let body_line = yaml_lines.len() + 3;
    let article = check_article(
        raw,
        file,
        |field| {
            let line = if field == "body" {
                Some(body_line)
            } else {
                key_line(field)
            };
            (line, field.to_string())
        },
        &mut errors,
    );
    match article {
        Some(a) if errors.is_empty() => Ok(a),
        _ => Err(errors),
    }
}

/// Whether a text can be written as a plain YAML scalar, in block and flow context alike, and reads
/// back as the same string.
fn plain_yaml(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let lower = s.to_ascii_lowercase();
    !(first.is_ascii_digit()
        || "-?:,[]{}#&*!|>'\"%@`+.~ \t".contains(first)
        || s.ends_with([' ', '\t', ':'])
        || s.contains([',', '[', ']', '{', '}', '"', '\'', '\\', '#'])
        || s.contains(": ")
        || s.chars().any(char::is_control)
        || [
            "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
        ]
        .contains(&lower.as_str()))
}

/// A string as a YAML scalar: plain when safe, otherwise double-quoted with escapes.
fn yaml_scalar(s: &str) -> String {
    if plain_yaml(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The path of an article in the folder: `<category path>/<slug>.md`.
pub fn markdown_path(article: &ArchivedArticle) -> String {
    let mut path = article.category_path.join("/");
    if !path.is_empty() {
        path.push('/');
    }
    path.push_str(article.slug.as_str());
    path.push_str(".md");
    path
}

/// Writes one article as a Markdown file of the folder: its relative path and text.
/// [`parse_markdown_file`] reads it back to the same article.
pub fn write_markdown_file(article: &ArchivedArticle) -> (String, String) {
    let date = |d: Option<NaiveDate>| d.map(|d| format!(" {d}")).unwrap_or_default();
    let tags: Vec<String> = article.tags.iter().map(|t| yaml_scalar(t)).collect();
    let text = format!(
        "---\nslug: {}\ntitle: {}\ncategory: {}\ntags: [{}]\nvisibility: {}\nvalid_from:{}\nvalid_to:{}\n---\n{}",
        yaml_scalar(article.slug.as_str()),
        yaml_scalar(article.title.as_str()),
        yaml_scalar(&article.category_path.join("/")),
        tags.join(", "),
        article.visibility.as_str(),
        date(article.valid_from),
        date(article.valid_to),
        article.body_markdown,
    );
    (markdown_path(article), text)
}

/// Why a zip entry's name is not a plain relative path inside the folder, if it is not.
fn unsafe_path(name: &str) -> Option<&'static str> {
    if name.contains('\\') || name.contains('\0') {
        return Some("路径中不能有 \\ 或 NUL");
    }
    if name.starts_with('/') || name.split('/').next().is_some_and(|c| c.contains(':')) {
        return Some("不能是绝对路径");
    }
    let parts: Vec<&str> = name.trim_end_matches('/').split('/').collect();
    if parts
        .iter()
        .any(|p| *p == ".." || *p == "." || p.is_empty())
    {
        return Some("路径中不能有 ..、. 或空的一段（路径穿越）");
    }
    None
}

/// Whether an entry is operating-system litter that is skipped (`__MACOSX/`, `.DS_Store`, dot files).
fn is_litter(name: &str) -> bool {
    name.starts_with("__MACOSX/") || name.rsplit('/').next().is_some_and(|n| n.starts_with('.'))
}

/// Reads the files of a folder (path, bytes): Markdown articles and `synonyms.txt`. Shared by the zip
/// reader and the compiled-in demo.
pub(crate) fn read_folder(
    files: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Result<Archive, Vec<ArchiveError>> {
    let mut errors = Vec::new();
    let mut articles: Vec<ArchivedArticle> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut synonyms = Synonyms::new();
    for (name, bytes) in files {
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                errors.push(ArchiveError::new(
                    &name,
                    None,
                    "file",
                    format!(
                        "不是 UTF-8 编码（第 {} 个字节起），请另存为 UTF-8",
                        e.utf8_error().valid_up_to() + 1
                    ),
                ));
                continue;
            }
        };
        if name == SYNONYMS_FILE {
            match Synonyms::parse(&text) {
                Ok(s) => synonyms = s,
                Err(bad) => errors.extend(
                    bad.into_iter()
                        .map(|e| ArchiveError::new(&name, Some(e.line), "synonyms", e.reason)),
                ),
            }
            continue;
        }
        if !name.to_ascii_lowercase().ends_with(".md") {
            errors.push(ArchiveError::new(
                &name,
                None,
                "file",
                "只接受 .md 文章和根目录下的 synonyms.txt",
            ));
            continue;
        }
        match parse_markdown_file(&name, &text) {
            Ok(article) => {
                let key = article.slug.as_str().to_string();
                if let Some(first) = seen.get(&key) {
                    errors.push(ArchiveError::new(
                        &name,
                        None,
                        "slug",
                        format!("slug「{key}」与 {first} 重复"),
                    ));
                } else {
                    seen.insert(key, name.clone());
                    articles.push(article);
                }
            }
            Err(e) => errors.extend(e),
        }
    }
    if articles.len() > ARTICLES_MAX {
        errors.push(ArchiveError::new(
            "",
            None,
            "file",
            format!(
                "一次最多 {ARTICLES_MAX} 篇文章（现在 {} 篇）",
                articles.len()
            ),
        ));
    }
    if errors.is_empty() {
        Ok(Archive { articles, synonyms })
    } else {
        Err(errors)
    }
}

/// Reads a zip of the Markdown folder.
pub fn read_zip(bytes: &[u8]) -> Result<Archive, Vec<ArchiveError>> {
    let whole = |reason: String| vec![ArchiveError::new("", None, "file", reason)];
    let mut zip = ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| whole(format!("不是有效的 zip 文件：{e}")))?;
    if zip.len() > ARTICLES_MAX + 100 {
        return Err(whole(format!("zip 里的文件太多（{} 个）", zip.len())));
    }
    let mut errors = Vec::new();
    let mut files = Vec::new();
    let mut unpacked: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                errors.push(ArchiveError::new(
                    format!("#{}", i + 1),
                    None,
                    "file",
                    format!("读不出这个文件：{e}"),
                ));
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                errors.push(ArchiveError::new(
                    format!("#{}", i + 1),
                    None,
                    "file",
                    format!("文件名无法识别：{e}"),
                ));
                continue;
            }
        };
        if let Some(reason) = unsafe_path(&name) {
            errors.push(ArchiveError::new(&name, None, "file", reason));
            continue;
        }
        if entry.is_dir() || is_litter(&name) {
            continue;
        }
        if entry.is_symlink() {
            errors.push(ArchiveError::new(&name, None, "file", "不接受符号链接"));
            continue;
        }
        if entry.encrypted() {
            errors.push(ArchiveError::new(&name, None, "file", "不接受加密的文件"));
            continue;
        }
        let mut data = Vec::new();
        let read = (&mut entry).take(FILE_MAX_BYTES + 1).read_to_end(&mut data);
        if let Err(e) = read {
            errors.push(ArchiveError::new(
                &name,
                None,
                "file",
                format!("解压失败：{e}"),
            ));
            continue;
        }
        if data.len() as u64 > FILE_MAX_BYTES {
            errors.push(ArchiveError::new(
                &name,
                None,
                "file",
                format!("文件太大：最多 {} KiB", FILE_MAX_BYTES / 1024),
            ));
            continue;
        }
        unpacked += data.len() as u64;
        if unpacked > UNPACKED_MAX_BYTES {
            errors.push(ArchiveError::new(
                &name,
                None,
                "file",
                format!("解压后超过 {} MiB", UNPACKED_MAX_BYTES / 1024 / 1024),
            ));
            break;
        }
        files.push((name, data));
    }
    match read_folder(files) {
        Ok(archive) if errors.is_empty() => Ok(archive),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

fn write_error(file: &str, e: impl fmt::Display) -> ArchiveError {
    ArchiveError::new(file, None, "file", format!("写出失败：{e}"))
}

/// Writes the Markdown folder as a zip: one file per article in archive order, then `synonyms.txt`.
/// Entries carry a fixed date, so the same archive gives the same bytes. Fails only on an archive
/// that [`read_zip`] would refuse (two articles with one slug and category).
pub fn write_zip(archive: &Archive) -> Result<Vec<u8>, ArchiveError> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for article in &archive.articles {
        let (path, text) = write_markdown_file(article);
        zip.start_file(path.as_str(), options)
            .map_err(|e| write_error(&path, e))?;
        zip.write_all(text.as_bytes())
            .map_err(|e| write_error(&path, e))?;
    }
    zip.start_file(SYNONYMS_FILE, options)
        .map_err(|e| write_error(SYNONYMS_FILE, e))?;
    zip.write_all(archive.synonyms.format().as_bytes())
        .map_err(|e| write_error(SYNONYMS_FILE, e))?;
    let cursor = zip.finish().map_err(|e| write_error("", e))?;
    Ok(cursor.into_inner())
}

fn xe(sheet: &'static str) -> impl Fn(XlsxError) -> ArchiveError {
    move |e| write_error(sheet, e)
}

/// The 文章 sheet's columns: (field, header, other headers accepted on import).
const COLUMNS: [(&str, &str, &[&str]); 8] = [
    ("slug", "slug", &[]),
    ("title", "标题", &["title"]),
    ("category", "分类", &["category"]),
    ("tags", "标签", &["tags"]),
    ("visibility", "可见范围", &["visibility"]),
    ("valid_from", "生效日期", &["valid_from"]),
    ("valid_to", "失效日期", &["valid_to"]),
    ("body", "正文", &["body"]),
];

fn chunks(text: &str, chars: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let cut = rest
            .char_indices()
            .nth(chars)
            .map_or(rest.len(), |(i, _)| i);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

/// Writes the Excel workbook: sheet 文章 (one row per article; bodies longer than a cell holds go on
/// in 正文2, 正文3, …) and sheet 同义词 (one group per row, words joined with `,`).
pub fn write_xlsx(archive: &Archive) -> Result<Vec<u8>, ArchiveError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let bodies: Vec<Vec<&str>> = archive
        .articles
        .iter()
        .map(|a| chunks(&a.body_markdown, CELL_CHARS))
        .collect();
    let body_columns = bodies.iter().map(Vec::len).max().unwrap_or(1).max(1);
    {
        let sheet = book.add_worksheet();
        sheet.set_name(ARTICLES_SHEET).map_err(xe(ARTICLES_SHEET))?;
        let mut headers: Vec<String> = COLUMNS.iter().map(|c| c.1.to_string()).collect();
        headers.extend((2..=body_columns).map(|n| format!("正文{n}")));
        for (col, header) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, header, &bold)
                .map_err(xe(ARTICLES_SHEET))?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xe(ARTICLES_SHEET))?;
        for (i, (a, body)) in archive.articles.iter().zip(&bodies).enumerate() {
            let row = u32::try_from(i + 1)
                .map_err(|_| write_error(ARTICLES_SHEET, "文章太多，超出工作表的行数"))?;
            let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            let cells = [
                a.slug.as_str().to_string(),
                a.title.as_str().to_string(),
                a.category_path.join("/"),
                a.tags.join(),
                a.visibility.as_str().to_string(),
                date(a.valid_from),
                date(a.valid_to),
            ];
            let texts = cells.iter().map(String::as_str).chain(body.iter().copied());
            for (col, text) in texts.enumerate() {
                if !text.is_empty() {
                    sheet
                        .write_string(row, col as u16, text)
                        .map_err(xe(ARTICLES_SHEET))?;
                }
            }
        }
        sheet.set_column_width(1, 30).map_err(xe(ARTICLES_SHEET))?;
        sheet.set_column_width(2, 24).map_err(xe(ARTICLES_SHEET))?;
        sheet.set_column_width(7, 60).map_err(xe(ARTICLES_SHEET))?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name(SYNONYMS_SHEET).map_err(xe(SYNONYMS_SHEET))?;
        sheet
            .write_string_with_format(0, 0, "同义词组", &bold)
            .map_err(xe(SYNONYMS_SHEET))?;
        for (i, group) in archive.synonyms.groups().iter().enumerate() {
            let row =
                u32::try_from(i + 1).map_err(|_| write_error(SYNONYMS_SHEET, "同义词组太多"))?;
            sheet
                .write_string(row, 0, group.join(","))
                .map_err(xe(SYNONYMS_SHEET))?;
        }
        sheet.set_column_width(0, 60).map_err(xe(SYNONYMS_SHEET))?;
    }
    book.save_to_buffer().map_err(|e| write_error("", e))
}

/// A cell as text; dates (Excel date cells) as `2026-01-01`.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let serial = dt.as_f64().floor() as i64;
            NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(serial)))
                .map(|d| d.to_string())
                .ok_or_else(|| "日期超出范围".to_string())?
        }
        Data::Error(e) => return Err(format!("单元格有错误：{e:?}")),
    })
}

/// Reads the Excel workbook. Rows are numbered as Excel shows them; empty rows are skipped.
pub fn read_xlsx(bytes: &[u8]) -> Result<Archive, Vec<ArchiveError>> {
    let whole = |reason: String| vec![ArchiveError::new("", None, "file", reason)];
    // An xlsx is a zip: refuse a bomb before calamine unpacks the sheets into memory.
    if let Ok(mut zip) = ZipArchive::new(Cursor::new(bytes)) {
        let mut declared: u64 = 0;
        for i in 0..zip.len().min(10_000) {
            if let Ok(entry) = zip.by_index_raw(i) {
                declared = declared.saturating_add(entry.size());
            }
        }
        if zip.len() > 10_000 || declared > UNPACKED_MAX_BYTES {
            return Err(whole(format!(
                "xlsx 解压后超过 {} MiB",
                UNPACKED_MAX_BYTES / 1024 / 1024
            )));
        }
    }
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| whole(format!("不是有效的 xlsx 文件：{e}")))?;
    if !book.sheet_names().iter().any(|n| n == ARTICLES_SHEET) {
        return Err(whole(format!("缺少工作表「{ARTICLES_SHEET}」")));
    }
    let range = book
        .worksheet_range(ARTICLES_SHEET)
        .map_err(|e| whole(format!("读不出工作表「{ARTICLES_SHEET}」：{e}")))?;
    let first_row = range.start().map_or(0, |s| s.0);
    let mut rows = range.rows();
    let mut errors = Vec::new();

    // The header row: which column holds which field.
    let header: Vec<String> = rows
        .next()
        .map(|r| {
            r.iter()
                .map(|c| cell_text(c).unwrap_or_default().trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut column_of: HashMap<&str, usize> = HashMap::new();
    let mut body_parts: Vec<(u32, usize)> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let lower = h.to_ascii_lowercase();
        if let Some(&(field, ..)) = COLUMNS
            .iter()
            .find(|(_, zh, other)| *zh == h || other.contains(&lower.as_str()))
        {
            column_of.insert(field, i);
        } else if let Some(n) = h.strip_prefix("正文").and_then(|n| n.parse::<u32>().ok()) {
            body_parts.push((n, i));
        }
    }
    body_parts.sort_unstable();
    let header_of = |field: &str| {
        COLUMNS
            .iter()
            .find(|c| c.0 == field)
            .map_or(field, |c| c.1)
            .to_string()
    };
    for required in ["slug", "title", "category", "body"] {
        if !column_of.contains_key(required) {
            errors.push(ArchiveError::new(
                ARTICLES_SHEET,
                Some(first_row as usize + 1),
                header_of(required),
                format!("缺少「{}」列", header_of(required)),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut articles: Vec<ArchivedArticle> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.enumerate() {
        let line = first_row as usize + i + 2;
        if row.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let mut cell_errors = Vec::new();
        let mut get = |field: &str, col: Option<usize>| -> Option<String> {
            let cell = row.get(col?)?;
            match cell_text(cell) {
                Ok(t) if t.trim().is_empty() => None,
                Ok(t) => Some(t),
                Err(reason) => {
                    cell_errors.push(ArchiveError::new(
                        ARTICLES_SHEET,
                        Some(line),
                        header_of(field),
                        reason,
                    ));
                    None
                }
            }
        };
        let mut body = get("body", column_of.get("body").copied()).unwrap_or_default();
        for &(_, col) in &body_parts {
            if let Some(more) = get("body", Some(col)) {
                body.push_str(&more);
            }
        }
        let raw = RawArticle {
            slug: get("slug", column_of.get("slug").copied()),
            title: get("title", column_of.get("title").copied()),
            category: get("category", column_of.get("category").copied()),
            tags: get("tags", column_of.get("tags").copied())
                .map(|t| Tags::parse_list(&t).map_err(|e| e.reason)),
            visibility: get("visibility", column_of.get("visibility").copied()),
            valid_from: get("valid_from", column_of.get("valid_from").copied()),
            valid_to: get("valid_to", column_of.get("valid_to").copied()),
            body,
        };
        errors.extend(cell_errors);
        if let Some(article) = check_article(
            raw,
            ARTICLES_SHEET,
            |field| (Some(line), header_of(field)),
            &mut errors,
        ) {
            let key = article.slug.as_str().to_string();
            if let Some(first) = seen.get(&key) {
                errors.push(ArchiveError::new(
                    ARTICLES_SHEET,
                    Some(line),
                    "slug",
                    format!("slug「{key}」与第 {first} 行重复"),
                ));
            } else {
                seen.insert(key, line);
                articles.push(article);
            }
        }
    }
    if articles.len() > ARTICLES_MAX {
        errors.push(ArchiveError::new(
            ARTICLES_SHEET,
            None,
            "",
            format!("一次最多 {ARTICLES_MAX} 篇文章"),
        ));
    }

    let mut synonyms = Synonyms::new();
    if book.sheet_names().iter().any(|n| n == SYNONYMS_SHEET) {
        match book.worksheet_range(SYNONYMS_SHEET) {
            Ok(range) => {
                // One line per row, so the parser's line numbers are the sheet's row numbers.
                let first = range.start().map_or(0, |s| s.0 as usize);
                let mut text = "\n".repeat(first);
                for (i, row) in range.rows().enumerate() {
                    let words: Vec<String> = row
                        .iter()
                        .filter_map(|c| cell_text(c).ok())
                        .filter(|t| !t.trim().is_empty())
                        .collect();
                    let line = words.join(",");
                    let is_header =
                        i == 0 && ["同义词组", "同义词", "synonyms"].contains(&line.trim());
                    if !is_header {
                        text.push_str(&line.replace('\n', " "));
                    }
                    text.push('\n');
                }
                match Synonyms::parse(&text) {
                    Ok(s) => synonyms = s,
                    Err(bad) => errors.extend(bad.into_iter().map(|e| {
                        ArchiveError::new(SYNONYMS_SHEET, Some(e.line), "同义词", e.reason)
                    })),
                }
            }
            Err(e) => errors.push(ArchiveError::new(
                SYNONYMS_SHEET,
                None,
                "",
                format!("读不出工作表：{e}"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(Archive { articles, synonyms })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_scalars_quote_what_needs_it() {
        for plain in ["燃气", "bottled-gas", "燃气：安全", "a b"] {
            assert_eq!(yaml_scalar(plain), plain);
        }
        for (text, quoted) in [
            ("yes", "\"yes\""),
            ("2026", "\"2026\""),
            ("a, b", "\"a, b\""),
            ("Q: 怎么办", "\"Q: 怎么办\""),
            ("[x]", "\"[x]\""),
            ("say \"hi\"", "\"say \\\"hi\\\"\""),
            ("", "\"\""),
        ] {
            assert_eq!(yaml_scalar(text), quoted);
            let back: String = serde_yaml_ng::from_str(&yaml_scalar(text)).unwrap();
            assert_eq!(back, text);
        }
    }

    #[test]
    fn unsafe_paths() {
        assert_eq!(unsafe_path("安全/报警器/a.md"), None);
        for bad in [
            "../a.md",
            "a/../../b.md",
            "/etc/passwd",
            "C:/x.md",
            "a\\..\\b.md",
            "a//b.md",
            "./a.md",
        ] {
            assert!(unsafe_path(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn long_bodies_split_on_characters() {
        let body = "燃".repeat(70_001);
        let parts = chunks(&body, CELL_CHARS);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), body);
        assert!(chunks("", CELL_CHARS).is_empty());
    }
}
