//! Plain-text conversions for fields that must never hold markup.

/// A title as plain text: HTML tags dropped (their text kept, `script` and
/// `style` contents dropped), entities decoded once (`&amp;` → `&`,
/// `&#8217;` → `’`), whitespace runs collapsed and the ends trimmed. Used for
/// imported WordPress titles (WXR `<title>` holds HTML), once on import and
/// once by the data migration `2026-12-02-000091_plain_text`.
pub fn plain_title(html: &str) -> String {
    // Parsing decodes every entity; ammonia then writes the text back
    // escaping only these, which are undone here (`&amp;` last).
    let text = ammonia::Builder::empty().clean(html).to_string();
    let decoded = text.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", "\u{a0}").replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::plain_title;

    #[test]
    fn titles_lose_tags_and_entities_once() {
        let cases = [
            ("Title <em>With</em> Markup", "Title With Markup"),
            ("Tom&#8217;s &amp; Jerry&#039;s", "Tom’s & Jerry's"),
            ("AT&T <3", "AT&T <3"),
            ("a &amp;lt; b", "a &lt; b"),
            ("Foo<b>bar</b>baz", "Foobarbaz"),
            ("x<script>alert(1)</script>y", "xy"),
            ("  spaced\n\tout  ", "spaced out"),
            ("Plain title", "Plain title"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(plain_title(input), want, "{input:?}");
        }
    }
}
