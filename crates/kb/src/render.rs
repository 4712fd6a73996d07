//! Markdown bodies to safe HTML, and to plain text for the index and snippets.
//!
//! [`render`] is the only producer of `body_html`: pulldown-cmark (tables, strikethrough, task lists)
//! and then ammonia's allow-list. What survives: ordinary formatting, lists, tables, code, quotes,
//! links (`http`, `https`, `mailto`, `tel` or relative, always `rel="noopener noreferrer"`), images
//! (`http`, `https` or relative only) and disabled task-list check boxes. What does not: `script`,
//! `style`, `iframe`, `object`, SVG, MathML, forms, every `on*` handler, `style` attributes,
//! `javascript:`, `data:` and other URL schemes, comments.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::Builder;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Whether a URL is `http(s)` or relative (no scheme at all). Anything else — `data:`, `javascript:`,
/// `file:` — is not an image source we serve.
fn is_http_or_relative(url: &str) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return true;
    }
    // A scheme is letters, digits, `+`, `-`, `.` before the first `:`, and comes before any `/?#`.
    match url.find([':', '/', '?', '#']) {
        Some(i) => url.as_bytes()[i] != b':',
        None => true,
    }
}

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    b.url_schemes(HashSet::from(["http", "https", "mailto", "tel"]))
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .add_clean_content_tags([
            "iframe", "object", "embed", "svg", "math", "noscript", "template", "textarea",
            "select", "title",
        ])
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked"])
        .set_tag_attribute_value("input", "disabled", "")
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("img", "src") if !is_http_or_relative(value) => None,
            ("input", "type") if value != "checkbox" => None,
            _ => Some(Cow::Borrowed(value)),
        });
    b
});

/// Renders Markdown to sanitized HTML: the one way `body_html` is made.
pub fn render(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() + markdown.len() / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, options()));
    SANITIZER.clean(&html).to_string()
}

/// Strips the tags of a piece of raw HTML (script and style contents dropped) and decodes what
/// ammonia escapes, leaving the text a reader would see.
fn html_text(html: &str) -> String {
    let escaped = Builder::empty().clean(html).to_string();
    escaped
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text of a Markdown body, without markup: one line per block, table cells separated by spaces,
/// raw HTML reduced to its text. For the search index and snippets (which escape it themselves).
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut html_block: Option<String> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => match html_block.as_mut() {
                Some(buf) => buf.push_str(&t),
                None => out.push_str(&t),
            },
            Event::Html(h) | Event::InlineHtml(h) => match html_block.as_mut() {
                Some(buf) => buf.push_str(&h),
                None => out.push_str(&html_text(&h)),
            },
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::End(TagEnd::HtmlBlock) => {
                if let Some(buf) = html_block.take() {
                    out.push_str(&html_text(&buf));
                    out.push('\n');
                }
            }
            Event::SoftBreak => out.push(' '),
            Event::HardBreak | Event::Rule => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_),
            ) => out.push('\n'),
            _ => {}
        }
    }
    let lines: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_survives() {
        let html = render(
            "# 标题\n\n**粗体** ~~删除~~ `code`\n\n| 列 | 值 |\n|---|---|\n| a | b |\n\n- [x] 完成\n- [ ] 未完成\n",
        );
        for expected in [
            "<h1>标题</h1>",
            "<strong>粗体</strong>",
            "<del>删除</del>",
            "<code>code</code>",
            "<table>",
            "<td>a</td>",
        ] {
            assert!(html.contains(expected), "{expected} missing in {html}");
        }
        assert!(
            html.contains(r#"<input type="checkbox" checked="" disabled="">"#),
            "{html}"
        );
    }

    #[test]
    fn img_sources_are_http_or_relative() {
        assert!(is_http_or_relative("https://example.com/a.png"));
        assert!(is_http_or_relative("/api/v1/kb/attachments/1"));
        assert!(is_http_or_relative("a.png?x=1:2"));
        assert!(!is_http_or_relative("data:image/png;base64,AAAA"));
        assert!(!is_http_or_relative("javascript:alert(1)"));
        assert!(!is_http_or_relative("file:///etc/passwd"));
    }

    #[test]
    fn plain_text_drops_markup() {
        let text = plain_text(
            "# 燃气报警器\n\n请**立即**关闭[阀门](https://x)。\n\n| 步骤 | 说明 |\n|---|---|\n| 1 | 开窗 |\n\n<div>拨打 <b>96777</b></div>\n",
        );
        assert_eq!(
            text,
            "燃气报警器\n请立即关闭阀门。\n步骤 说明\n1 开窗\n拨打 96777"
        );
    }
}
