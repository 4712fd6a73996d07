//! The article's values: visibility, status, slug, title, tags, category name, validity dates and the
//! body limit, each with a parser that is the only way to get a value, and [`ArticleDraft`], the whole
//! input of a save, validated in one call that reports every bad field at once.
//!
//! Reasons are zh-CN sentences a person can act on; the field names are the API's.

use std::fmt;

use chrono::NaiveDate;
use kefu_domain::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The largest body, in bytes of UTF-8 Markdown (256 KiB).
pub const BODY_MAX_BYTES: usize = 256 * 1024;
/// Longest slug, in characters.
pub const SLUG_MAX: usize = 80;
/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Most tags on one article.
pub const TAGS_MAX: usize = 20;
/// Longest tag, in characters.
pub const TAG_MAX: usize = 20;
/// Longest category name, in characters.
pub const CATEGORY_NAME_MAX: usize = 50;

fn reason(text: impl Into<String>) -> FieldError {
    FieldError::new("", text)
}

/// Who may read an article: `internal` (agents only) or `public` (also the customer portal and the IVR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Internal,
    Public,
}

impl Visibility {
    /// Reads `internal`/`public` (any case) or 内部/公开.
    pub fn parse(input: &str) -> Result<Visibility, FieldError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "internal" | "内部" => Ok(Visibility::Internal),
            "public" | "公开" => Ok(Visibility::Public),
            other => Err(reason(format!(
                "可见范围只能是 internal（内部）或 public（公开），不是「{other}」"
            ))),
        }
    }

    /// The keyword used in the API, the front matter and the index: `internal` or `public`.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }

    /// The zh-CN label: 内部 or 公开.
    pub fn label(self) -> &'static str {
        match self {
            Visibility::Internal => "内部",
            Visibility::Public => "公开",
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an article is in the review workflow (see [`crate::workflow`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    InReview,
    Published,
    Archived,
}

impl ArticleStatus {
    /// Every status, in workflow order.
    pub const ALL: [ArticleStatus; 4] = [
        ArticleStatus::Draft,
        ArticleStatus::InReview,
        ArticleStatus::Published,
        ArticleStatus::Archived,
    ];

    /// Reads `draft`, `in_review`, `published`, `archived` or 草稿/待审核/已发布/已归档.
    pub fn parse(input: &str) -> Result<ArticleStatus, FieldError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "draft" | "草稿" => Ok(ArticleStatus::Draft),
            "in_review" | "待审核" | "审核中" => Ok(ArticleStatus::InReview),
            "published" | "已发布" => Ok(ArticleStatus::Published),
            "archived" | "已归档" => Ok(ArticleStatus::Archived),
            other => Err(reason(format!(
                "状态只能是 draft、in_review、published 或 archived，不是「{other}」"
            ))),
        }
    }

    /// The keyword stored and sent: `draft`, `in_review`, `published`, `archived`.
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::InReview => "in_review",
            ArticleStatus::Published => "published",
            ArticleStatus::Archived => "archived",
        }
    }

    /// The zh-CN label.
    pub fn label(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "草稿",
            ArticleStatus::InReview => "待审核",
            ArticleStatus::Published => "已发布",
            ArticleStatus::Archived => "已归档",
        }
    }
}

impl fmt::Display for ArticleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(value: String) -> Result<$name, FieldError> {
                $name::parse(&value)
            }
        }
    };
}

string_value!(
    /// The article's key in URLs and archives: 1–80 of `a-z`, `0-9` and `-`.
    Slug
);

impl Slug {
    /// Accepts 1–80 characters of `a-z0-9-` after trimming; upper case is refused, not folded, so a
    /// slug reads the same everywhere.
    pub fn parse(input: &str) -> Result<Slug, FieldError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(reason("slug 不能为空"));
        }
        let len = s.chars().count();
        if len > SLUG_MAX {
            return Err(reason(format!(
                "slug 最多 {SLUG_MAX} 个字符（现在 {len} 个）"
            )));
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(reason(format!(
                "slug 只能包含小写字母 a-z、数字 0-9 和 -，不能有「{bad}」"
            )));
        }
        Ok(Slug(s.to_string()))
    }

    /// The slug of an article created without one: its id, hyphenated and lower case (36 characters).
    pub fn from_id(id: Uuid) -> Slug {
        Slug(id.hyphenated().to_string())
    }
}

string_value!(
    /// An article's title: 1–200 characters, trimmed, no control characters.
    Title
);

impl Title {
    pub fn parse(input: &str) -> Result<Title, FieldError> {
        bounded("标题", input, TITLE_MAX).map(Title)
    }
}

string_value!(
    /// A category's name: 1–50 characters, trimmed, without `/` or `\` (names are joined with `/` into
    /// paths) and not only dots.
    CategoryName
);

impl CategoryName {
    pub fn parse(input: &str) -> Result<CategoryName, FieldError> {
        let name = bounded("分类名称", input, CATEGORY_NAME_MAX)?;
        if name.contains(['/', '\\']) {
            return Err(reason("分类名称不能包含 / 或 \\（它们用来分隔分类路径）"));
        }
        if name.chars().all(|c| c == '.') {
            return Err(reason("分类名称不能只由 . 组成"));
        }
        Ok(CategoryName(name))
    }
}

/// Trims and checks 1..=max characters (not bytes) and no control characters.
fn bounded(what: &str, input: &str, max: usize) -> Result<String, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(reason(format!("{what}不能为空")));
    }
    let len = s.chars().count();
    if len > max {
        return Err(reason(format!("{what}最多 {max} 个字符（现在 {len} 个）")));
    }
    if s.chars().any(char::is_control) {
        return Err(reason(format!("{what}不能包含控制字符")));
    }
    Ok(s.to_string())
}

/// An article's tags: at most 20, each 1–20 characters, trimmed, without commas, duplicates removed
/// (first occurrence kept, in the order given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Tags(Vec<String>);

/// What separates tags in one line of text (Excel cells, form fields).
const TAG_SEPARATORS: [char; 4] = [',', '，', '、', ';'];

impl Tags {
    /// Checks each tag; an empty tag is an error (use [`Tags::parse_list`] for a typed-in line).
    pub fn parse<S: AsRef<str>>(tags: impl IntoIterator<Item = S>) -> Result<Tags, FieldError> {
        let mut out: Vec<String> = Vec::new();
        for (i, tag) in tags.into_iter().enumerate() {
            let n = i + 1;
            let t = tag.as_ref().trim();
            if t.is_empty() {
                return Err(reason(format!("第 {n} 个标签为空")));
            }
            let len = t.chars().count();
            if len > TAG_MAX {
                return Err(reason(format!(
                    "标签「{t}」太长：每个标签最多 {TAG_MAX} 个字符（现在 {len} 个）"
                )));
            }
            if t.contains(TAG_SEPARATORS) {
                return Err(reason(format!("标签「{t}」不能包含逗号、顿号或分号")));
            }
            if t.chars().any(char::is_control) {
                return Err(reason(format!("第 {n} 个标签包含控制字符")));
            }
            if !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
        if out.len() > TAGS_MAX {
            return Err(reason(format!(
                "最多 {TAGS_MAX} 个标签（现在 {} 个）",
                out.len()
            )));
        }
        Ok(Tags(out))
    }

    /// Reads tags typed on one line, separated by `,`, `，`, `、` or `;`; empty pieces are skipped.
    pub fn parse_list(line: &str) -> Result<Tags, FieldError> {
        Tags::parse(line.split(TAG_SEPARATORS).filter(|t| !t.trim().is_empty()))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    /// The tags joined with `,` (the Excel form; [`Tags::parse_list`] reads it back).
    pub fn join(&self) -> String {
        self.0.join(",")
    }
}

impl TryFrom<Vec<String>> for Tags {
    type Error = FieldError;
    fn try_from(value: Vec<String>) -> Result<Tags, FieldError> {
        Tags::parse(value)
    }
}

impl From<Tags> for Vec<String> {
    fn from(value: Tags) -> Vec<String> {
        value.0
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Checks the validity dates (inclusive local dates): when both are set, `valid_to` may not be before
/// `valid_from`. The error is on `valid_to`.
pub fn check_validity(
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
) -> Result<(), FieldError> {
    match (valid_from, valid_to) {
        (Some(from), Some(to)) if to < from => Err(FieldError::new(
            "valid_to",
            format!("失效日期 {to} 早于生效日期 {from}"),
        )),
        _ => Ok(()),
    }
}

/// Whether `today` lies inside the validity dates (both inclusive; a missing date is no bound).
pub fn is_valid_on(
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    valid_from.is_none_or(|from| from <= today) && valid_to.is_none_or(|to| today <= to)
}

/// Reads a date as people write it: `2026-01-01`, `2026/1/1`, `2026.1.1` or `2026年1月1日`. An empty
/// text is no date.
pub fn parse_date(input: &str) -> Result<Option<NaiveDate>, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let normalized: String = s
        .trim_end_matches('日')
        .chars()
        .map(|c| match c {
            '/' | '.' | '年' | '月' => '-',
            c => c,
        })
        .collect();
    NaiveDate::parse_from_str(&normalized, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| reason(format!("「{s}」不是日期，请写成 2026-01-01")))
}

/// Checks the body's size: at most [`BODY_MAX_BYTES`] bytes of UTF-8.
pub fn check_body(body: &str) -> Result<(), FieldError> {
    if body.len() > BODY_MAX_BYTES {
        return Err(FieldError::new(
            "body",
            format!(
                "正文最多 256 KiB（现在 {:.1} KiB）",
                body.len() as f64 / 1024.0
            ),
        ));
    }
    if body.contains('\0') {
        return Err(FieldError::new("body", "正文不能包含 NUL 字符"));
    }
    Ok(())
}

/// The fields of an article as typed into a form or an import row, not yet checked. Dates are text
/// (empty means none) so that a bad date is reported with the other fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleDraft {
    #[serde(default)]
    pub slug: Option<String>,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub visibility: String,
    #[serde(default)]
    pub valid_from: Option<String>,
    #[serde(default)]
    pub valid_to: Option<String>,
}

/// An article's fields, every one valid. `slug` is `None` when none was given (the store then uses
/// [`Slug::from_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleFields {
    pub slug: Option<Slug>,
    pub title: Title,
    pub body: String,
    pub tags: Tags,
    pub visibility: Visibility,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl ArticleDraft {
    /// Checks every field and returns all the errors at once, each under its field name (`slug`,
    /// `title`, `body`, `tags`, `visibility`, `valid_from`, `valid_to`).
    pub fn validate(&self) -> Result<ArticleFields, FieldErrors> {
        let mut errors = FieldErrors::new();
        let slug = match self.slug.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(s) => errors.check("slug", Slug::parse(s)).map(Some),
        };
        let title = errors.check("title", Title::parse(&self.title));
        let body = errors.check("body", check_body(&self.body));
        let tags = errors.check("tags", Tags::parse(&self.tags));
        let visibility = errors.check("visibility", Visibility::parse(&self.visibility));
        let valid_from = errors.check(
            "valid_from",
            parse_date(self.valid_from.as_deref().unwrap_or("")),
        );
        let valid_to = errors.check(
            "valid_to",
            parse_date(self.valid_to.as_deref().unwrap_or("")),
        );
        if let (Some(from), Some(to)) = (valid_from, valid_to)
            && let Err(e) = check_validity(from, to)
        {
            errors.0.push(e);
        }
        match (slug, title, body, tags, visibility, valid_from, valid_to) {
            (
                Some(slug),
                Some(title),
                Some(()),
                Some(tags),
                Some(visibility),
                Some(from),
                Some(to),
            ) if errors.is_empty() => Ok(ArticleFields {
                slug,
                title,
                body: self.body.clone(),
                tags,
                visibility,
                valid_from: from,
                valid_to: to,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_reads_english_and_chinese_and_serializes_lowercase() {
        assert_eq!(Visibility::parse("PUBLIC").unwrap(), Visibility::Public);
        assert_eq!(Visibility::parse(" 公开 ").unwrap(), Visibility::Public);
        assert_eq!(Visibility::parse("内部").unwrap(), Visibility::Internal);
        let err = Visibility::parse("secret").unwrap_err();
        assert!(err.reason.contains("secret"), "{}", err.reason);
        assert_eq!(
            serde_json::to_string(&Visibility::Internal).unwrap(),
            "\"internal\""
        );
        assert_eq!(
            serde_json::from_str::<Visibility>("\"public\"").unwrap(),
            Visibility::Public
        );
    }

    #[test]
    fn status_is_snake_case() {
        assert_eq!(
            serde_json::to_string(&ArticleStatus::InReview).unwrap(),
            "\"in_review\""
        );
        for s in ArticleStatus::ALL {
            assert_eq!(ArticleStatus::parse(s.as_str()).unwrap(), s);
            assert_eq!(ArticleStatus::parse(s.label()).unwrap(), s);
        }
        assert!(ArticleStatus::parse("deleted").is_err());
    }

    #[test]
    fn slug_rules() {
        assert_eq!(
            Slug::parse(" gas-alarm-1 ").unwrap().as_str(),
            "gas-alarm-1"
        );
        assert!(Slug::parse("").is_err());
        assert!(Slug::parse("Gas").is_err());
        assert!(Slug::parse("燃气").is_err());
        assert!(Slug::parse("a_b").is_err());
        assert!(Slug::parse("../etc").is_err());
        assert!(Slug::parse(&"a".repeat(80)).is_ok());
        assert!(Slug::parse(&"a".repeat(81)).is_err());
        let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00ab);
        let from_id = Slug::from_id(id);
        assert_eq!(from_id.as_str(), "01900000-0000-7000-8000-0000000000ab");
        assert_eq!(Slug::parse(from_id.as_str()).unwrap(), from_id);
        assert!(serde_json::from_str::<Slug>("\"BAD SLUG\"").is_err());
    }

    #[test]
    fn title_counts_characters() {
        assert_eq!(
            Title::parse("  燃气报警器响了  ").unwrap().as_str(),
            "燃气报警器响了"
        );
        assert!(Title::parse(&"燃".repeat(200)).is_ok());
        assert!(Title::parse(&"燃".repeat(201)).is_err());
        assert!(Title::parse(" \t ").is_err());
        assert!(Title::parse("a\u{7}b").is_err());
    }

    #[test]
    fn tags_limits_and_dedupe() {
        let t = Tags::parse(["燃气", " 报警 ", "燃气"]).unwrap();
        assert_eq!(t.as_slice(), ["燃气", "报警"]);
        assert!(Tags::parse([""]).is_err());
        assert!(Tags::parse(["a".repeat(21)]).is_err());
        assert!(Tags::parse(["a,b"]).is_err());
        let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&twenty).is_ok());
        let mut many = twenty.clone();
        many.push("t20".into());
        assert!(Tags::parse(&many).is_err());
        // Duplicates do not count against the limit.
        let mut dup = twenty;
        dup.push("t0".into());
        assert_eq!(Tags::parse(&dup).unwrap().len(), 20);
        assert_eq!(
            Tags::parse_list("瓶装气，订气、送气,,").unwrap().as_slice(),
            ["瓶装气", "订气", "送气"]
        );
        assert_eq!(Tags::parse_list("a, b").unwrap().join(), "a,b");
    }

    #[test]
    fn category_name_rules() {
        assert_eq!(
            CategoryName::parse(" 安全用气 ").unwrap().as_str(),
            "安全用气"
        );
        assert!(CategoryName::parse("").is_err());
        assert!(CategoryName::parse("a/b").is_err());
        assert!(CategoryName::parse("..").is_err());
        assert!(CategoryName::parse(&"类".repeat(50)).is_ok());
        assert!(CategoryName::parse(&"类".repeat(51)).is_err());
    }

    #[test]
    fn validity_dates() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(check_validity(Some(d("2026-01-01")), Some(d("2026-01-01"))).is_ok());
        let err = check_validity(Some(d("2026-02-01")), Some(d("2026-01-01"))).unwrap_err();
        assert_eq!(err.field, "valid_to");
        assert!(check_validity(None, Some(d("2026-01-01"))).is_ok());
        assert!(is_valid_on(
            Some(d("2026-01-01")),
            Some(d("2026-01-31")),
            d("2026-01-31")
        ));
        assert!(!is_valid_on(
            Some(d("2026-01-01")),
            Some(d("2026-01-31")),
            d("2026-02-01")
        ));
        assert!(!is_valid_on(Some(d("2026-01-01")), None, d("2025-12-31")));
        assert!(is_valid_on(None, None, d("2025-12-31")));
        assert_eq!(parse_date("2026/1/5").unwrap(), Some(d("2026-01-05")));
        assert_eq!(parse_date("2026年1月5日").unwrap(), Some(d("2026-01-05")));
        assert_eq!(parse_date("  ").unwrap(), None);
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("tomorrow").is_err());
    }

    #[test]
    fn body_limit_is_256_kib() {
        assert!(check_body(&"a".repeat(BODY_MAX_BYTES)).is_ok());
        let err = check_body(&"a".repeat(BODY_MAX_BYTES + 1)).unwrap_err();
        assert_eq!(err.field, "body");
    }

    #[test]
    fn draft_reports_every_bad_field_at_once() {
        let draft = ArticleDraft {
            slug: Some("Bad Slug".into()),
            title: " ".into(),
            body: "x".repeat(BODY_MAX_BYTES + 1),
            tags: vec!["".into()],
            visibility: "everyone".into(),
            valid_from: Some("2026-13-01".into()),
            valid_to: Some("2026-01-01".into()),
        };
        let errors = draft.validate().unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["slug", "title", "body", "tags", "visibility", "valid_from"]
        );

        let draft = ArticleDraft {
            valid_from: Some("2026-02-01".into()),
            valid_to: Some("2026-01-01".into()),
            title: "t".into(),
            visibility: "public".into(),
            ..ArticleDraft::default()
        };
        let errors = draft.validate().unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].field, "valid_to");
    }

    #[test]
    fn good_draft_becomes_fields() {
        let draft: ArticleDraft = serde_json::from_str(
            r##"{"title":" 燃气报警器响了怎么办 ","body":"# 步骤","tags":["报警器","安全"],
                "visibility":"公开","valid_from":"2026-01-01","valid_to":""}"##,
        )
        .unwrap();
        let f = draft.validate().unwrap();
        assert_eq!(f.slug, None);
        assert_eq!(f.title.as_str(), "燃气报警器响了怎么办");
        assert_eq!(f.visibility, Visibility::Public);
        assert_eq!(f.tags.as_slice(), ["报警器", "安全"]);
        assert_eq!(f.valid_from, NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(f.valid_to, None);
    }
}
