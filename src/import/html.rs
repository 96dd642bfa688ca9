//! HTML clean-up for imported content.

/// Sanitizes an HTML fragment with ammonia's defaults: no `<script>`, no
/// event-handler attributes, no `javascript:` or `data:` URLs; links get
/// `rel="noopener noreferrer"`.
pub fn sanitize(html: &str) -> String {
    ammonia::clean(html)
}

const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "iframe",
    "li",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "!--",
];

fn starts_with_block(chunk: &str) -> bool {
    let Some(rest) = chunk.strip_prefix('<') else { return false };
    let rest = rest.trim_start_matches('/');
    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '!' || *c == '-').collect();
    BLOCK_TAGS.contains(&name.to_ascii_lowercase().as_str())
}

/// WordPress stores post bodies without paragraph tags and adds them on
/// display (`wpautop`). This does the same for the common case: text blocks
/// separated by blank lines become `<p>` elements, single newlines inside them
/// become `<br>`, and blocks that already start with a block-level tag are
/// left alone, as is everything inside `<pre>…</pre>`.
pub fn autop(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let (before, pre, after) = match rest.find("<pre") {
            Some(start) => {
                let end = rest[start..].find("</pre>").map(|e| start + e + "</pre>".len()).unwrap_or(rest.len());
                (&rest[..start], &rest[start..end], &rest[end..])
            }
            None => (rest, "", ""),
        };
        paragraphs(before, &mut out);
        if !pre.is_empty() {
            out.push_str(pre);
            out.push('\n');
        }
        rest = after;
    }
    out.trim_end().to_owned()
}

fn paragraphs(text: &str, out: &mut String) {
    let mut para: Vec<&str> = Vec::new();
    let flush = |para: &mut Vec<&str>, out: &mut String| {
        if !para.is_empty() {
            out.push_str("<p>");
            out.push_str(&para.join("<br>\n"));
            out.push_str("</p>\n");
            para.clear();
        }
    };
    for line in text.split('\n') {
        let line = line.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            flush(&mut para, out);
        } else if starts_with_block(trimmed) {
            // A line that opens or closes a block element stands on its own.
            flush(&mut para, out);
            out.push_str(line);
            out.push('\n');
        } else {
            para.push(line);
        }
    }
    flush(&mut para, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_text_blocks_and_keeps_block_tags_and_pre() {
        let got = autop("Hello\nworld\n\n<ul>\n<li>a</li>\n</ul>\n\n<pre>x\n\ny</pre>\nEnd");
        assert_eq!(got, "<p>Hello<br>\nworld</p>\n<ul>\n<li>a</li>\n</ul>\n<pre>x\n\ny</pre>\n<p>End</p>");
        assert_eq!(
            autop("<strong>H</strong>\n<h1>One</h1>\nText"),
            "<p><strong>H</strong></p>\n<h1>One</h1>\n<p>Text</p>"
        );
    }

    #[test]
    fn sanitize_removes_script_handlers_and_js_urls() {
        let got = sanitize(
            r#"<p onclick="x()">a<script>alert(1)</script><a href="javascript:alert(1)">l</a><img src="data:image/png;base64,AA"></p>"#,
        );
        assert!(
            !got.contains("script")
                && !got.contains("onclick")
                && !got.contains("javascript:")
                && !got.contains("data:"),
            "{got}"
        );
    }
}
