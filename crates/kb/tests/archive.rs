//! The archive formats: write then read gives the same archive (Markdown zip and Excel), and every
//! kind of bad input is reported with its file, line and field, with nothing read.

use std::io::{Cursor, Write};

use chrono::NaiveDate;
use kefu_kb::archive::{
    Archive, ArchiveError, ArchivedArticle, parse_markdown_file, read_xlsx, read_zip,
    write_markdown_file, write_xlsx, write_zip,
};
use kefu_kb::{Slug, Synonyms, Tags, Title, Visibility};
use rust_xlsxwriter::Workbook;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

fn date(s: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

#[allow(clippy::too_many_arguments)]
fn article(
    slug: &str,
    title: &str,
    path: &[&str],
    tags: &[&str],
    visibility: Visibility,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    body: &str,
) -> ArchivedArticle {
    ArchivedArticle {
        slug: Slug::parse(slug).unwrap(),
        title: Title::parse(title).unwrap(),
        category_path: path.iter().map(|s| s.to_string()).collect(),
        tags: Tags::parse(tags).unwrap(),
        visibility,
        valid_from: from,
        valid_to: to,
        body_markdown: body.to_string(),
    }
}

/// Values chosen to trip a careless writer: YAML keywords and numbers, colons, quotes, brackets,
/// front-matter fences inside the body, CRLF, an empty body, a body longer than an Excel cell.
fn sample() -> Archive {
    Archive {
        articles: vec![
            article(
                "bottled-gas-phone-order",
                "瓶装液化气电话订购流程",
                &["瓶装液化气", "订购与配送"],
                &["瓶装气", "订气", "送气"],
                Visibility::Public,
                date("2026-01-01"),
                None,
                "## 步骤\n\n1. 核对户号\n2. 约定送气时间\n",
            ),
            article(
                "2026-price",
                "Q: 2026 年气价\"调整\"？",
                &["气价与收费"],
                &["yes", "2026", "[重要]", "null", "a: b", "#标签"],
                Visibility::Internal,
                date("2026-03-01"),
                date("2026-12-31"),
                "---\nnot: front matter\n---\r\nCRLF 行\r\n\n| a | b |\n|---|---|\n",
            ),
            article(
                "empty-body",
                "true",
                &["安全与抢修", "报警器", "安装"],
                &[],
                Visibility::Public,
                None,
                date("2027-01-03"),
                "",
            ),
            article(
                "long-body",
                "很长的文章",
                &["服务网点"],
                &["长文"],
                Visibility::Internal,
                None,
                None,
                &"燃气安全，人人有责。\n".repeat(8_000),
            ),
        ],
        synonyms: Synonyms::parse("煤气,燃气\n户号,用户编号,用户号\n").unwrap(),
    }
}

#[test]
fn markdown_file_round_trips() {
    for a in sample().articles {
        let (path, text) = write_markdown_file(&a);
        let back =
            parse_markdown_file(&path, &text).unwrap_or_else(|e| panic!("{path}: {e:?}\n{text}"));
        assert_eq!(back, a, "{text}");
    }
}

#[test]
fn markdown_file_looks_like_the_contract() {
    let (path, text) = write_markdown_file(&sample().articles[0]);
    assert_eq!(path, "瓶装液化气/订购与配送/bottled-gas-phone-order.md");
    assert_eq!(
        text,
        "---\nslug: bottled-gas-phone-order\ntitle: 瓶装液化气电话订购流程\ncategory: 瓶装液化气/订购与配送\ntags: [瓶装气, 订气, 送气]\nvisibility: public\nvalid_from: 2026-01-01\nvalid_to:\n---\n## 步骤\n\n1. 核对户号\n2. 约定送气时间\n"
    );
}

#[test]
fn zip_round_trips() {
    let archive = sample();
    let bytes = write_zip(&archive).unwrap();
    assert_eq!(read_zip(&bytes).unwrap(), archive);
    // The same archive gives the same bytes.
    assert_eq!(write_zip(&archive).unwrap(), bytes);
}

#[test]
fn xlsx_round_trips() {
    let archive = sample();
    let bytes = write_xlsx(&archive).unwrap();
    let back = read_xlsx(&bytes).unwrap_or_else(|e| panic!("{e:#?}"));
    for (a, b) in archive.articles.iter().zip(&back.articles) {
        assert_eq!(a, b);
    }
    assert_eq!(back, archive);
}

#[test]
fn empty_archive_round_trips() {
    let empty = Archive::default();
    assert_eq!(read_zip(&write_zip(&empty).unwrap()).unwrap(), empty);
    assert_eq!(read_xlsx(&write_xlsx(&empty).unwrap()).unwrap(), empty);
}

fn one_error(result: Result<ArchivedArticle, Vec<ArchiveError>>) -> ArchiveError {
    let mut errors = result.unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.remove(0)
}

const GOOD: &str = "---\nslug: gas-alarm\ntitle: 燃气报警器响了\ncategory: 安全与抢修\ntags: [报警器]\nvisibility: public\nvalid_from:\nvalid_to:\n---\n正文\n";

#[test]
fn good_file_parses_and_path_gives_defaults() {
    let a = parse_markdown_file("安全与抢修/gas-alarm.md", GOOD).unwrap();
    assert_eq!(a.slug.as_str(), "gas-alarm");
    assert_eq!(a.body_markdown, "正文\n");
    // Without slug and category the file name and folder are used; visibility defaults to internal.
    let a = parse_markdown_file("安全/报警器/from-path.md", "---\ntitle: 标题\n---\n").unwrap();
    assert_eq!(a.slug.as_str(), "from-path");
    assert_eq!(a.category_path, ["安全", "报警器"]);
    assert_eq!(a.visibility, Visibility::Internal);
    // Tags as one text, a BOM and CRLF lines are fine.
    let a = parse_markdown_file(
        "x.md",
        "\u{feff}---\r\ntitle: t\r\ncategory: 分类\r\ntags: 甲，乙\r\n---\r\nbody",
    )
    .unwrap();
    assert_eq!(a.tags.as_slice(), ["甲", "乙"]);
    assert_eq!(a.body_markdown, "body");
}

#[test]
fn bad_front_matter_is_reported() {
    let e = one_error(parse_markdown_file("a.md", "# 没有 YAML 头\n"));
    assert_eq!((e.line, e.field.as_str()), (Some(1), "front_matter"));
    let e = one_error(parse_markdown_file("a.md", "---\ntitle: 没有结束\n正文"));
    assert_eq!(e.field, "front_matter");
    let e = one_error(parse_markdown_file(
        "a.md",
        "---\ntitle: 好\ncategory: [未闭合\n---\n",
    ));
    assert_eq!(e.field, "front_matter");
    assert!(e.line.is_some_and(|l| l >= 3), "{e:?}");
    let e = one_error(parse_markdown_file(
        "c/a.md",
        "---\ntitle: t\nauthor: 张三\n---\n",
    ));
    assert_eq!((e.line, e.field.as_str()), (Some(3), "author"));
}

#[test]
fn missing_title_bad_visibility_and_bad_dates_are_each_reported() {
    let text = GOOD
        .replace("title: 燃气报警器响了\n", "")
        .replace("visibility: public", "visibility: everyone")
        .replace("valid_from:", "valid_from: 2026-02-30")
        .replace("valid_to:", "valid_to: 明天");
    let errors = parse_markdown_file("安全与抢修/gas-alarm.md", &text).unwrap_err();
    let got: Vec<(Option<usize>, &str)> =
        errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (None, "title"),
            (Some(5), "visibility"),
            (Some(6), "valid_from"),
            (Some(7), "valid_to")
        ],
        "{errors:#?}"
    );
    assert!(errors.iter().all(|e| e.file == "安全与抢修/gas-alarm.md"));
    assert!(errors[0].reason.contains("标题"), "{}", errors[0].reason);
}

#[test]
fn dates_in_the_wrong_order_and_bad_slugs_are_reported() {
    let text = GOOD
        .replace("valid_from:", "valid_from: 2026-05-01")
        .replace("valid_to:", "valid_to: 2026-04-30");
    let e = one_error(parse_markdown_file("a.md", &text));
    assert_eq!((e.line, e.field.as_str()), (Some(8), "valid_to"));
    let e = one_error(parse_markdown_file(
        "a.md",
        &GOOD.replace("gas-alarm", "Gas Alarm"),
    ));
    assert_eq!((e.line, e.field.as_str()), (Some(2), "slug"));
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(*name, SimpleFileOptions::default()).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn zip_refuses_duplicate_slugs_non_utf8_and_stray_files() {
    let errors = read_zip(&zip_of(&[
        ("安全与抢修/gas-alarm.md", GOOD.as_bytes()),
        ("别处/gas-alarm.md", GOOD.as_bytes()),
        ("gbk.md", b"---\ntitle: \xc8\xbc\xc6\xf8\n---\n"),
        ("notes.docx", b"PK"),
        ("__MACOSX/._gas-alarm.md", b"\x00\x05\x16\x07"),
        (".DS_Store", b"\x00"),
    ]))
    .unwrap_err();
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.file.as_str(), e.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("别处/gas-alarm.md", "slug"),
            ("gbk.md", "file"),
            ("notes.docx", "file")
        ],
        "{errors:#?}"
    );
    assert!(errors[0].reason.contains("安全与抢修/gas-alarm.md"));
    assert!(errors[1].reason.contains("UTF-8"));
}

#[test]
fn zip_refuses_path_traversal() {
    for evil in [
        "../evil.md",
        "a/../../evil.md",
        "/etc/evil.md",
        "a\\..\\..\\evil.md",
    ] {
        let errors = read_zip(&zip_of(&[
            ("安全与抢修/gas-alarm.md", GOOD.as_bytes()),
            (evil, GOOD.replace("gas-alarm", "evil").as_bytes()),
        ]))
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{evil}: {errors:#?}");
        assert_eq!(errors[0].file, evil);
        assert!(errors[0].reason.contains("路径"), "{}", errors[0].reason);
    }
}

#[test]
fn zip_reports_bad_synonyms_and_garbage() {
    let errors =
        read_zip(&zip_of(&[("synonyms.txt", "煤气,燃气\n孤词\n".as_bytes())])).unwrap_err();
    assert_eq!(
        (errors[0].file.as_str(), errors[0].line),
        ("synonyms.txt", Some(2))
    );
    let errors = read_zip(b"not a zip").unwrap_err();
    assert_eq!(errors[0].field, "file");
}

#[test]
fn zip_refuses_an_oversized_file() {
    let big = format!("{GOOD}{}", "x".repeat(400 * 1024));
    let errors = read_zip(&zip_of(&[("a/big.md", big.as_bytes())])).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].reason.contains("太大"), "{}", errors[0].reason);
}

/// A workbook with a 文章 sheet of `rows` (the first is the header) and optionally a 同义词 sheet.
fn xlsx_of(rows: &[&[&str]], synonyms: Option<&[&str]>) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("文章").unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r as u32, c as u16, *text).unwrap();
            }
        }
    }
    if let Some(lines) = synonyms {
        let sheet = book.add_worksheet();
        sheet.set_name("同义词").unwrap();
        for (r, line) in lines.iter().enumerate() {
            sheet.write_string(r as u32, 0, *line).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

const HEADER: &[&str] = &[
    "slug",
    "标题",
    "分类",
    "标签",
    "可见范围",
    "生效日期",
    "失效日期",
    "正文",
];

#[test]
fn xlsx_reports_every_bad_row_with_its_row_and_column() {
    let bytes = xlsx_of(
        &[
            HEADER,
            &[
                "gas-alarm",
                "燃气报警器响了",
                "安全/报警器",
                "报警器,安全",
                "公开",
                "2026/1/1",
                "",
                "正文",
            ],
            &[],
            &["no-title", "", "安全", "", "internal", "", "", "x"],
            &["bad-vis", "标题", "安全", "", "所有人", "", "", "x"],
            &[
                "bad-date",
                "标题",
                "安全",
                "",
                "public",
                "2026-13-01",
                "",
                "x",
            ],
            &["gas-alarm", "重复", "安全", "", "public", "", "", "x"],
            &["", "没有 slug", "安全", "", "public", "", "", "x"],
        ],
        Some(&["同义词组", "煤气,燃气", "孤词"]),
    );
    let errors = read_xlsx(&bytes).unwrap_err();
    let got: Vec<(&str, Option<usize>, &str)> = errors
        .iter()
        .map(|e| (e.file.as_str(), e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("文章", Some(4), "标题"),
            ("文章", Some(5), "可见范围"),
            ("文章", Some(6), "生效日期"),
            ("文章", Some(7), "slug"),
            ("文章", Some(8), "slug"),
            ("同义词", Some(3), "同义词"),
        ],
        "{errors:#?}"
    );
    assert!(errors[3].reason.contains("第 2 行"), "{}", errors[3].reason);
}

#[test]
fn xlsx_reads_chinese_keywords_and_missing_columns_are_named() {
    let bytes = xlsx_of(
        &[
            HEADER,
            &[
                "gas-alarm",
                "燃气报警器响了",
                "安全/报警器",
                "报警器、安全",
                "内部",
                "2026年1月1日",
                "",
                "正文",
            ],
        ],
        None,
    );
    let archive = read_xlsx(&bytes).unwrap();
    let a = &archive.articles[0];
    assert_eq!(a.visibility, Visibility::Internal);
    assert_eq!(a.valid_from, date("2026-01-01"));
    assert_eq!(a.tags.as_slice(), ["报警器", "安全"]);
    assert_eq!(a.category_path, ["安全", "报警器"]);
    assert!(archive.synonyms.is_empty());

    let errors = read_xlsx(&xlsx_of(&[&["slug", "标题"]], None)).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["分类", "正文"]);

    let mut book = Workbook::new();
    book.add_worksheet().set_name("Sheet1").unwrap();
    let errors = read_xlsx(&book.save_to_buffer().unwrap()).unwrap_err();
    assert!(errors[0].reason.contains("文章"), "{errors:?}");
    assert!(read_xlsx(b"PK\x03\x04 not really").is_err());
}
