//! Hostile bodies through `kefu_kb::render`: nothing that runs script, loads a frame or styles the page
//! may come out, whichever way it is written.

use kefu_kb::{plain_text, render};

/// Elements that must never come out.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script", "style", "iframe", "frame", "svg", "math", "object", "embed", "form", "button",
    "base", "meta", "link", "textarea", "select", "template", "noscript",
];
/// URL schemes that must never be in an attribute value.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript:", "vbscript:", "data:", "file:"];

/// The tags of ammonia's output as (element, [(attribute, value)]). The serializer escapes every `<` in
/// text as `&lt;` and double-quotes every attribute value (escaping `"`), so a literal `<` starts a tag.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let end = after.find('>').expect("ammonia closes every tag");
        let inner = after[..end].trim_start_matches('/').trim_end_matches('/');
        rest = &after[end + 1..];
        let (name, mut attrs_text) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        let mut attrs = Vec::new();
        loop {
            attrs_text = attrs_text.trim_start();
            if attrs_text.is_empty() {
                break;
            }
            let name_end = attrs_text.find(['=', ' ']).unwrap_or(attrs_text.len());
            let attr = attrs_text[..name_end].to_lowercase();
            attrs_text = &attrs_text[name_end..];
            let mut value = String::new();
            if let Some(v) = attrs_text.strip_prefix("=\"") {
                let close = v.find('"').expect("quoted value");
                value = v[..close].to_string();
                attrs_text = &v[close + 1..];
            }
            attrs.push((attr, value));
        }
        out.push((name.to_lowercase(), attrs));
    }
    out
}

fn check(markdown: &str) -> String {
    let html = render(markdown);
    for (element, attrs) in tags(&html) {
        assert!(
            !FORBIDDEN_ELEMENTS.contains(&element.as_str()),
            "<{element}> survived in {html:?} (from {markdown:?})"
        );
        for (attr, value) in attrs {
            assert!(
                !attr.starts_with("on")
                    && !["style", "srcdoc", "formaction", "xlink:href"].contains(&attr.as_str()),
                "attribute {attr} survived in {html:?} (from {markdown:?})"
            );
            let squeezed: String = value
                .to_lowercase()
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect();
            for scheme in FORBIDDEN_SCHEMES {
                assert!(
                    !squeezed.contains(scheme),
                    "{scheme} survived in {attr}={value:?} in {html:?} (from {markdown:?})"
                );
            }
            if attr == "rel" {
                assert_eq!(value, "noopener noreferrer", "{html}");
            }
        }
    }
    html
}

#[test]
fn the_checker_sees_what_it_must_refuse() {
    // The checker itself, on HTML that render() never produces.
    let found = tags(
        r#"<p>a &lt;b&gt;</p><img src="x" onerror="alert(1)"><a href="javascript:x" rel="noopener noreferrer">"#,
    );
    assert_eq!(found.len(), 4);
    assert_eq!(found[2].0, "img");
    assert_eq!(
        found[2].1[1],
        ("onerror".to_string(), "alert(1)".to_string())
    );
    assert_eq!(found[3].1[0].1, "javascript:x");
}

#[test]
fn script_tags_are_removed_with_their_content() {
    let html = check("前文\n\n<script>alert('x')</script>\n\n后文 <script>fetch('/api')</script>");
    assert!(!html.contains("alert"), "{html}");
    assert!(!html.contains("fetch"), "{html}");
    assert!(html.contains("前文") && html.contains("后文"), "{html}");
    check("<SCRIPT SRC=//evil.example/x.js></SCRIPT>");
    check("<scr<script>ipt>alert(1)</scr</script>ipt>");
    check("<<script>script>alert(1)<</script>/script>");
}

#[test]
fn event_handlers_are_removed() {
    let html = check("<img src=x onerror=alert(1)>");
    assert!(html.contains("<img"), "a harmless image stays: {html}");
    check("<img src=\"x\" ONERROR=\"alert(1)\">");
    check("<p onclick=\"alert(1)\">点我</p>");
    check("<a href=\"https://example.com\" onmouseover=\"alert(1)\">链接</a>");
    check("<body onload=alert(1)>");
    check("<details open ontoggle=alert(1)>x</details>");
    check("<img/src=x/onerror=alert(1)>");
}

#[test]
fn javascript_links_are_removed_in_markdown_and_raw_html() {
    let html = check("[点我](javascript:alert(1))");
    assert!(html.contains("点我"), "the text stays: {html}");
    check("[点我](JaVaScRiPt:alert(1))");
    check("[点我](  javascript:alert(1))");
    check("[x](java\tscript:alert(1))");
    check("[x](&#106;avascript:alert(1))");
    check("[x](javascript&colon;alert(1))");
    check("<a href=\"javascript:alert(1)\">x</a>");
    check("<a href=\"&#x6A;avascript:alert(1)\">x</a>");
    check("<a href=\"jav&#x09;ascript:alert(1)\">x</a>");
    check("<a href=\"vbscript:msgbox(1)\">x</a>");
    check("[ref]\n\n[ref]: javascript:alert(1)");
    let html = check("<javascript:alert(1)>");
    assert!(!html.contains("href"), "{html}");
}

#[test]
fn frames_styles_svg_and_objects_are_removed() {
    check("<iframe src=\"https://evil.example\"></iframe>");
    check("<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>");
    check("<style>body{display:none}</style>可见");
    check("<p style=\"position:fixed;top:0\">盖住页面</p>");
    check("<svg onload=alert(1)><script>alert(1)</script></svg>");
    check("<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>");
    check("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>");
    check("<object data=\"x.swf\"></object><embed src=\"x.swf\">");
    check(
        "<form action=\"https://evil.example\"><button formaction=\"javascript:alert(1)\">x</button></form>",
    );
    check(
        "<base href=\"https://evil.example/\"><meta http-equiv=refresh content=0;url=https://evil.example>",
    );
    check("<link rel=stylesheet href=https://evil.example/x.css>");
}

#[test]
fn data_urls_are_refused_for_images_and_links() {
    let html = check("![图](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)");
    assert!(!html.contains("src="), "{html}");
    check("<img src=\"data:image/png;base64,iVBORw0KGgo=\">");
    check("[x](data:text/html,<script>alert(1)</script>)");
    check("<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>");
}

#[test]
fn images_keep_http_and_relative_sources() {
    let html = check("![示意图](https://example.com/a.png) ![附件](/api/v1/kb/attachments/1)");
    assert!(html.contains("src=\"https://example.com/a.png\""), "{html}");
    assert!(html.contains("src=\"/api/v1/kb/attachments/1\""), "{html}");
    let html = check("![x](ftp://example.com/a.png)");
    assert!(!html.contains("ftp:"), "{html}");
}

#[test]
fn links_get_noopener_noreferrer() {
    let html = check(
        "[燃气公司](https://example.com) <a href=\"https://example.com\" rel=\"opener\" target=\"_top\">x</a>",
    );
    assert_eq!(
        html.matches("rel=\"noopener noreferrer\"").count(),
        2,
        "{html}"
    );
    assert!(!html.contains("opener\""), "{html}");
    assert!(!html.contains("target"), "{html}");
    let html = check("[电话](tel:96777) [邮件](mailto:kf@example.com)");
    assert!(html.contains("href=\"tel:96777\""), "{html}");
}

#[test]
fn comments_and_unclosed_tags_do_not_leak() {
    check("<!-- <script>alert(1)</script> -->");
    check("<img src=x onerror=alert(1)//");
    check("<a href='javascript:alert(1)'");
    check("```html\n<script>alert(1)</script>\n```");
    // Inside code the text is shown escaped, not run.
    let html = render("`<script>alert(1)</script>`");
    assert!(html.contains("&lt;script&gt;"), "{html}");
}

#[test]
fn task_list_boxes_cannot_become_other_inputs() {
    check("<input type=\"text\" onfocus=\"alert(1)\" autofocus>");
    let html = render("<input type=\"password\" name=\"p\">");
    assert!(!html.contains("password"), "{html}");
    assert!(html.contains("disabled"), "{html}");
}

#[test]
fn plain_text_of_hostile_html_is_text_only() {
    let text = plain_text("<script>alert(1)</script>\n\n正文<img src=x onerror=alert(1)>结束");
    assert!(!text.contains('<'), "{text}");
    assert!(!text.contains("onerror"), "{text}");
    assert!(text.contains("正文") && text.contains("结束"), "{text}");
}

/// Bodies at the 256 KiB limit built to make the HTML parser work quadratically: deep nesting and
/// misnested formatting elements that html5ever reopens in every following paragraph.
#[test]
fn pathological_bodies_stay_small_and_shallow() {
    let limit = kefu_kb::model::BODY_MAX_BYTES;
    let fill = |unit: &str| unit.repeat(limit / unit.len());
    for unit in [">", "- ", "* ", "1. ", "> - ", "*a ", "[a "] {
        let body = fill(unit);
        let html = check(&body);
        let depth = html.matches("<blockquote>").count()
            + html.matches("<ul>").count()
            + html.matches("<ol>").count();
        assert!(depth <= 64, "{unit:?}: {depth} nested containers");
        assert!(
            html.len() < 4 * limit,
            "{unit:?}: {} bytes of HTML",
            html.len()
        );
    }
    let reopen: String = (0..limit / 24)
        .map(|i| format!("<p><b title={i}>x</p>"))
        .collect();
    let html = check(&reopen);
    assert!(html.len() < 4 * limit, "{} bytes of HTML", html.len());
    let divs = check(&fill("<div>"));
    assert!(divs.len() < 4 * limit, "{} bytes of HTML", divs.len());
}

#[test]
fn a_little_raw_html_is_kept_and_a_flood_is_shown_as_text() {
    let html = check("<b>燃气</b> 与 <i>煤气</i>");
    assert!(html.contains("<b>燃气</b>"), "{html}");
    let flood = "<b>燃气</b>".repeat(200);
    let html = check(&flood);
    assert!(html.contains("&lt;b&gt;燃气"), "{}", &html[..80]);
}

#[test]
fn plain_text_of_a_raw_html_flood_is_bounded() {
    let limit = kefu_kb::model::BODY_MAX_BYTES;
    let reopen: String = (0..limit / 24)
        .map(|i| format!("<p><b title={i}>x</p>"))
        .collect();
    let text = plain_text(&reopen);
    assert_eq!(text, "x".repeat(limit / 24));
    assert_eq!(plain_text(&"<b>燃气</b>".repeat(400)), "燃气".repeat(400));
}
