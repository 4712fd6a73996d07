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

/// Deepest nesting of Markdown elements kept (quotes in quotes, lists in lists, emphasis in links…);
/// deeper ones keep their text but lose their markup.
pub const NESTING_MAX: usize = 32;
/// Most raw HTML tags in one body. Beyond this the body's raw HTML is shown as text.
pub const RAW_HTML_TAGS_MAX: usize = 300;

/// Bounds the work of the HTML parser behind ammonia (html5ever). Its tree building is quadratic in
/// the nesting depth and can multiply misnested formatting elements (`<p><b title=1></p>` repeated
/// makes every paragraph reopen every earlier `<b>`: 20 KB of input became 9 MB of output and seconds
/// of work). So Markdown nesting is capped at [`NESTING_MAX`], and a body with more than
/// [`RAW_HTML_TAGS_MAX`] raw HTML tags has its raw HTML escaped as text. Ordinary articles (Markdown,
/// a little HTML) are untouched.
fn bounded_events(markdown: &str) -> Vec<Event<'_>> {
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options()).collect();
    let raw_tags: usize = events
        .iter()
        .map(|e| match e {
            Event::Html(h) | Event::InlineHtml(h) => h.matches('<').count(),
            _ => 0,
        })
        .sum();
    let escape_raw = raw_tags > RAW_HTML_TAGS_MAX;
    let mut kept: Vec<bool> = Vec::new();
    let mut depth = 0;
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        match event {
            Event::Start(tag) => {
                let keep = depth < NESTING_MAX;
                kept.push(keep);
                if keep {
                    depth += 1;
                    out.push(Event::Start(tag));
                }
            }
            Event::End(tag) => {
                if kept.pop().unwrap_or(false) {
                    depth -= 1;
                    out.push(Event::End(tag));
                }
            }
            Event::Html(h) | Event::InlineHtml(h) if escape_raw => out.push(Event::Text(h)),
            other => out.push(other),
        }
    }
    out
}

/// Renders Markdown to sanitized HTML: the one way `body_html` is made.
pub fn render(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() + markdown.len() / 2);
    pulldown_cmark::html::push_html(&mut html, bounded_events(markdown).into_iter());
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

/// Drops everything between `<` and `>`: the text of raw HTML without running an HTML parser, for
/// bodies with more raw HTML than [`RAW_HTML_TAGS_MAX`] (see [`bounded_events`]).
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The text of a Markdown body, without markup: one line per block, table cells separated by spaces,
/// raw HTML reduced to its text. For the search index and snippets (which escape it themselves).
pub fn plain_text(markdown: &str) -> String {
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options()).collect();
    let raw_tags: usize = events
        .iter()
        .map(|e| match e {
            Event::Html(h) | Event::InlineHtml(h) => h.matches('<').count(),
            _ => 0,
        })
        .sum();
    let html_to_text = |html: &str| {
        if raw_tags > RAW_HTML_TAGS_MAX {
            strip_tags(html)
        } else {
            html_text(html)
        }
    };
    let mut out = String::with_capacity(markdown.len());
    let mut html_block: Option<String> = None;
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => match html_block.as_mut() {
                Some(buf) => buf.push_str(&t),
                None => out.push_str(&t),
            },
            Event::Html(h) | Event::InlineHtml(h) => match html_block.as_mut() {
                Some(buf) => buf.push_str(&h),
                None => out.push_str(&html_to_text(&h)),
            },
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::End(TagEnd::HtmlBlock) => {
                if let Some(buf) = html_block.take() {
                    out.push_str(&html_to_text(&buf));
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
