//! Comment text: plain text with a small Markdown subset (paragraphs, line
//! breaks, emphasis, strong, strikethrough, inline code, code blocks,
//! quotes, lists and links), rendered to sanitized HTML. Raw HTML in the
//! source is shown as text, never interpreted. Links get
//! `rel="nofollow ugc noopener"` and only `http`, `https` and `mailto` URLs
//! survive (no `javascript:` or `data:`).

use std::collections::HashSet;

use pulldown_cmark::{html, Event, Options, Parser};

/// Tags a rendered comment may contain.
const TAGS: [&str; 13] = ["p", "br", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr"];

/// Renders `source` to sanitized HTML. The error is a message for `body`:
/// nesting deeper than the article renderer allows.
pub fn render(source: &str) -> Result<String, String> {
    let events = Parser::new_ext(source, Options::ENABLE_STRIKETHROUGH).map(|e| match e {
        // Raw HTML is text in a comment.
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 2);
    html::push_html(&mut out, events);
    crate::articles::render::check_html(&out)?;
    let tags: HashSet<&str> = TAGS.into_iter().collect();
    let schemes: HashSet<&str> = ["http", "https", "mailto"].into_iter().collect();
    Ok(ammonia::Builder::default()
        .tags(tags)
        .url_schemes(schemes)
        .link_rel(Some("nofollow ugc noopener"))
        .clean(&out)
        .to_string())
}

/// The URLs written in `text` (bare, autolinked or in Markdown links):
/// every `http://` or `https://` up to whitespace or a closing bracket.
pub fn urls(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    for scheme in ["http://", "https://"] {
        for (i, _) in lower.match_indices(scheme) {
            let end = text[i..]
                .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>' | '"' | '\'' | ']' | '<'))
                .map_or(text.len(), |e| i + e);
            found.push(text[i..end].to_owned());
        }
    }
    found
}

/// How many links `text` holds: URLs with a scheme plus `www.` ones without.
pub fn link_count(text: &str) -> usize {
    let lower = text.to_ascii_lowercase();
    let bare_www = lower.match_indices("www.").filter(|(i, _)| *i == 0 || !lower[..*i].ends_with("//")).count();
    urls(text).len() + bare_www
}

/// The lowercased host of `url`, if it parses.
pub fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_subset_renders_and_links_are_nofollow() {
        let html = render("Hello *world* and [a link](https://example.com).").unwrap();
        assert!(html.contains("<em>world</em>"), "{html}");
        assert!(html.contains(r#"<a href="https://example.com" rel="nofollow ugc noopener">a link</a>"#), "{html}");
    }

    #[test]
    fn scripts_handlers_and_bad_schemes_are_neutralised() {
        for src in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            let html = render(src).unwrap();
            assert!(!html.contains("<script"), "{src}: {html}");
            assert!(!html.contains("<img"), "{src}: {html}");
            assert!(!html.contains("<a href=\"javascript"), "{src}: {html}");
            assert!(!html.contains("<a href=\"data"), "{src}: {html}");
        }
        assert!(render("<b>x</b>").unwrap().contains("&lt;b&gt;"), "raw HTML is shown as text");
    }

    #[test]
    fn deep_nesting_is_refused() {
        assert!(render(&">".repeat(200)).is_err());
    }

    #[test]
    fn links_are_counted_once_each() {
        assert_eq!(link_count("see [a](https://a.example) and http://b.example/x and www.c.example"), 3);
        assert_eq!(link_count("plain text"), 0);
        assert_eq!(host_of("https://Spam.Example/x").as_deref(), Some("spam.example"));
    }
}
