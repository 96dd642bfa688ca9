//! Article bodies: stored as written (`body_source`, in `markdown` or `html`),
//! served as sanitized HTML and indexed as plain text.
//!
//! Markdown is CommonMark plus tables, strikethrough and footnotes
//! (pulldown-cmark); the HTML either way goes through ammonia, which drops
//! `<script>`, event-handler attributes and any URL scheme outside
//! http/https/mailto/tel and relative URLs (so no `javascript:` or `data:`).

use std::collections::HashSet;

use pulldown_cmark::{html, Options, Parser};

/// Words per minute used for `reading_time_minutes` (a common adult average).
pub const WORDS_PER_MINUTE: usize = 230;

/// A rendered body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Sanitized HTML.
    pub html: String,
    /// Plain text (for search and counts).
    pub text: String,
    /// Whitespace-separated words in `text`.
    pub word_count: i32,
    /// `ceil(word_count / 230)`; 0 for an empty body.
    pub reading_time_minutes: i32,
}

/// The sanitizer for bodies: ammonia's defaults with a strict URL scheme list.
pub fn sanitize(html: &str) -> String {
    let schemes: HashSet<&str> = ["http", "https", "mailto", "tel"].into_iter().collect();
    ammonia::Builder::default().url_schemes(schemes).clean(html).to_string()
}

/// Renders `source` written in `format` (`markdown` or `html`).
pub fn render(format: &str, source: &str) -> Rendered {
    let unsafe_html = if format == "markdown" {
        let mut opts = Options::empty();
        opts.insert(Options::ENABLE_TABLES);
        opts.insert(Options::ENABLE_STRIKETHROUGH);
        opts.insert(Options::ENABLE_FOOTNOTES);
        let mut out = String::with_capacity(source.len() * 3 / 2);
        html::push_html(&mut out, Parser::new_ext(source, opts));
        out
    } else {
        source.to_owned()
    };
    let html = sanitize(&unsafe_html);
    let text = plain_text(&html);
    let word_count = text.split_whitespace().count();
    Rendered {
        html,
        word_count: word_count as i32,
        reading_time_minutes: word_count.div_ceil(WORDS_PER_MINUTE) as i32,
        text,
    }
}

/// Plain text of sanitized HTML: tags removed (block ends become spaces) and
/// the entities ammonia writes decoded.
pub fn plain_text(html: &str) -> String {
    let spaced = html.replace("</", " </").replace("<br", " <br");
    let stripped = ammonia::Builder::empty().clean(&spaced).to_string();
    let decoded = stripped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Most HTML tags a body may hold. html5ever's tree building is quadratic on
/// some malformed input (thousands of unclosed `<table>`), so the size limit
/// alone does not bound the work.
pub const MAX_TAGS: usize = 5_000;
/// Deepest markdown nesting (list items and block quotes) on one line;
/// pulldown-cmark's work grows faster than linearly with it.
pub const MAX_NESTING: usize = 16;

/// Refuses bodies whose rendering could take far longer than their size
/// suggests; the message is for the `body` field.
pub fn check_complexity(format: &str, source: &str) -> Result<(), String> {
    let tags =
        source.as_bytes().windows(2).filter(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/')).count();
    if tags > MAX_TAGS {
        return Err(format!("has {tags} HTML tags; at most {MAX_TAGS} are allowed"));
    }
    if format == "markdown" {
        for line in source.lines() {
            let mut depth = 0;
            let mut rest = line.trim_start();
            loop {
                let next = rest
                    .strip_prefix("> ")
                    .or_else(|| rest.strip_prefix('>'))
                    .or_else(|| rest.strip_prefix("- "))
                    .or_else(|| rest.strip_prefix("* "))
                    .or_else(|| rest.strip_prefix("+ "));
                match next {
                    Some(r) => {
                        depth += 1;
                        rest = r.trim_start();
                    }
                    None => break,
                }
                if depth > MAX_NESTING {
                    return Err(format!("nests lists or quotes deeper than {MAX_NESTING} levels on one line"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_sanitized_and_counted() {
        let r = render(
            "markdown",
            "# Hi\n\nSome *text* [x](javascript:alert(1)) <img src=x onerror=alert(1)> ![p](data:image/png;base64,AA)",
        );
        assert!(r.html.contains("<h1>Hi</h1>") && r.html.contains("<em>text</em>"), "{}", r.html);
        assert!(
            !r.html.contains("javascript:") && !r.html.contains("onerror") && !r.html.contains("data:"),
            "{}",
            r.html
        );
        assert_eq!(r.text, "Hi Some text x");
        assert_eq!((r.word_count, r.reading_time_minutes), (4, 1));
    }

    #[test]
    fn pathological_bodies_are_refused_before_rendering() {
        assert!(check_complexity("markdown", &"- ".repeat(20_000)).is_err());
        assert!(check_complexity("html", &"<table>".repeat(100_000)).is_err());
        assert!(check_complexity("markdown", "- a\n  - b\n> quote").is_ok());
    }

    #[test]
    fn html_is_sanitized_and_reading_time_rounds_up() {
        let body = format!("<p onclick=\"x()\">{}</p><script>bad()</script>", "word ".repeat(231));
        let r = render("html", &body);
        assert!(!r.html.contains("onclick") && !r.html.contains("script"));
        assert_eq!((r.word_count, r.reading_time_minutes), (231, 2));
        assert_eq!(render("html", "").reading_time_minutes, 0);
    }
}
