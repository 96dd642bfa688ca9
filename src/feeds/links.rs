//! Front-end URLs from the `FRONTEND_*_URL` patterns: the API does not know
//! the site's URL scheme, so feeds and sitemaps fill the configured patterns.

use chrono::{Datelike, NaiveDateTime};

use crate::config::DistributionSettings;

/// Fills `pattern`'s `{slug}`, `{id}`, `{yyyy}`, `{mm}` and `{dd}` (the date
/// in UTC; an undated article uses `fallback_date`). The slug is
/// percent-encoded as one path segment.
pub fn fill(pattern: &str, slug: &str, id: i64, date: NaiveDateTime) -> String {
    let slug = percent_encoding::utf8_percent_encode(slug, SEGMENT).to_string();
    pattern
        .replace("{slug}", &slug)
        .replace("{id}", &id.to_string())
        .replace("{yyyy}", &format!("{:04}", date.year()))
        .replace("{mm}", &format!("{:02}", date.month()))
        .replace("{dd}", &format!("{:02}", date.day()))
}

/// Characters escaped in a path segment (RFC 3986 `pchar` complement).
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The front-end URL of an article published at `published` (or created at, if undated).
pub fn article(s: &DistributionSettings, slug: &str, id: i64, published: NaiveDateTime) -> String {
    fill(&s.article_url, slug, id, published)
}

/// What a taxonomy or people URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// An author's page.
    Author,
    /// A category's page.
    Category,
    /// A tag's page.
    Tag,
    /// A series' page.
    Series,
    /// A static page (`crate::pages`).
    Page,
}

/// The front-end URL of an author, category, tag or series page.
pub fn of(s: &DistributionSettings, target: Target, slug: &str, id: i64) -> String {
    let pattern = match target {
        Target::Author => &s.author_url,
        Target::Category => &s.category_url,
        Target::Tag => &s.tag_url,
        Target::Series => &s.series_url,
        Target::Page => &s.page_url,
    };
    fill(pattern, slug, id, NaiveDateTime::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_fill_date_parts_and_encode_the_slug() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 7).unwrap().and_hms_opt(23, 0, 0).unwrap();
        let url = fill("https://example.com/{yyyy}/{mm}/{dd}/{slug}-{id}", "caf\u{e9} au lait/x", 42, at);
        assert_eq!(url, "https://example.com/2026/03/07/caf%C3%A9%20au%20lait%2Fx-42");
    }
}
