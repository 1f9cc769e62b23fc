//! Markdown, as documents are written: to HTML for the web pages and to a tree the PDF
//! templates render. Raw HTML in the text is shown as text, never passed through, and
//! links keep only http, https, mailto and relative targets.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::{Value, json};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// A link target a reader may follow, or `#` for anything else (`javascript:`, `data:`).
fn safe_url(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    let scheme_free = !lower.contains(':');
    if lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || (scheme_free && !lower.starts_with("//"))
    {
        url.trim().to_owned()
    } else {
        "#".to_owned()
    }
}

/// The events with raw HTML turned into text, unsafe link targets defused, and images
/// turned into links (a page never loads what a document points at).
fn safe_events(md: &str) -> impl Iterator<Item = Event<'_>> {
    Parser::new_ext(md, options()).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(&dest_url).into(),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(&dest_url).into(),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    })
}

/// One level down: a page has its own `h1`, so a document's headings start at `h2`.
fn demote(l: HeadingLevel) -> HeadingLevel {
    match l {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

/// The document as HTML (escaped text, safe links, headings from `h2`), for pages.
pub fn to_html(md: &str) -> String {
    let events = safe_events(md).map(|e| match e {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: demote(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(demote(level))),
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// The document as a tree of nodes `{"t": kind, "c": children, …}` for the PDF templates:
/// h (level), p, ul, ol (start), li, code (text), quote, hr, table, tr, td, strong, emph,
/// strike, icode (text), link (url), text (text), br, sp (a soft break).
pub fn to_tree(md: &str) -> Value {
    let mut stack: Vec<(Value, Vec<Value>)> = vec![(json!({"t": "doc"}), Vec::new())];
    let mut code: Option<String> = None;
    for e in safe_events(md) {
        match e {
            Event::Start(Tag::CodeBlock(_)) => code = Some(String::new()),
            Event::End(TagEnd::CodeBlock) => {
                let text = code.take().unwrap_or_default();
                if let Some((_, c)) = stack.last_mut() {
                    c.push(json!({"t": "code", "text": text.trim_end()}));
                }
            }
            Event::Text(t) if code.is_some() => {
                if let Some(c) = code.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::Start(tag) => {
                let node = match tag {
                    Tag::Heading { level, .. } => json!({"t": "h", "level": heading(level)}),
                    Tag::Paragraph => json!({"t": "p"}),
                    Tag::List(Some(start)) => json!({"t": "ol", "start": start}),
                    Tag::List(None) => json!({"t": "ul"}),
                    Tag::Item => json!({"t": "li"}),
                    Tag::BlockQuote(_) => json!({"t": "quote"}),
                    Tag::Table(_) => json!({"t": "table"}),
                    Tag::TableHead | Tag::TableRow => json!({"t": "tr"}),
                    Tag::TableCell => json!({"t": "td"}),
                    Tag::Emphasis => json!({"t": "emph"}),
                    Tag::Strong => json!({"t": "strong"}),
                    Tag::Strikethrough => json!({"t": "strike"}),
                    Tag::Link { dest_url, .. } => json!({"t": "link", "url": dest_url.as_ref()}),
                    _ => json!({"t": "span"}),
                };
                stack.push((node, Vec::new()));
            }
            Event::End(_) if stack.len() > 1 => {
                let (mut node, children) = stack.pop().expect("a frame");
                node["c"] = Value::Array(children);
                if let Some((_, c)) = stack.last_mut() {
                    c.push(node);
                }
            }
            Event::Text(t) => push(&mut stack, json!({"t": "text", "text": t.as_ref()})),
            Event::Code(t) => push(&mut stack, json!({"t": "icode", "text": t.as_ref()})),
            Event::SoftBreak => push(&mut stack, json!({"t": "sp"})),
            Event::HardBreak => push(&mut stack, json!({"t": "br"})),
            Event::Rule => push(&mut stack, json!({"t": "hr"})),
            _ => {}
        }
    }
    let (mut root, children) = stack.swap_remove(0);
    root["c"] = Value::Array(children);
    root
}

fn push(stack: &mut [(Value, Vec<Value>)], node: Value) {
    if let Some((_, c)) = stack.last_mut() {
        c.push(node);
    }
}

fn heading(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Every piece of text in a tree (to check that the fonts can draw it).
pub fn tree_text(v: &Value, out: &mut String) {
    if let Some(t) = v.get("text").and_then(Value::as_str) {
        out.push_str(t);
    }
    if let Some(c) = v.get("c").and_then(Value::as_array) {
        for n in c {
            tree_text(n, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_raw_html_and_defuses_links() {
        let h = to_html(
            "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](https://ok.example) ![i](http://img.example/a.png)",
        );
        assert!(h.contains("<h2>Title</h2>"), "{h}");
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(h.contains("href=\"#\""), "{h}");
        assert!(h.contains("href=\"https://ok.example\""), "{h}");
        assert!(!h.contains("<img"), "{h}");
    }

    #[test]
    fn tree_keeps_structure_and_text() {
        let t = to_tree(
            "## Rules\n\n1. **Least** privilege\n2. MFA `always`\n\n```\nfn x()\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        let c = t["c"].as_array().unwrap();
        assert_eq!(c[0]["t"], "h");
        assert_eq!(c[0]["level"], 2);
        assert_eq!(c[1]["t"], "ol");
        assert_eq!(c[1]["start"], 1);
        assert_eq!(c[1]["c"][0]["c"][0]["t"], "strong");
        assert_eq!(c[2]["t"], "code");
        assert_eq!(c[2]["text"], "fn x()");
        assert_eq!(c[3]["t"], "table");
        let mut text = String::new();
        tree_text(&t, &mut text);
        assert!(text.contains("Least") && text.contains("always") && text.contains("2"));
    }
}
