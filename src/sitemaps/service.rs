//! Renders sitemap XML (sitemaps.org 0.9 and Google News 0.9) and `robots.txt`.

use chrono::NaiveDateTime;

use super::repo::{self, Source};
use crate::config::Settings;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::feeds::links::{self, Target};

/// The sitemaps protocol's size limit per file: 50 MB (52,428,800 bytes) uncompressed.
pub const MAX_FILE_BYTES: usize = 52_428_800;
/// Google News: at most 1,000 URLs, published in the last 48 hours.
pub const NEWS_MAX_URLS: i64 = 1000;
/// Google News window, in hours.
pub const NEWS_WINDOW_HOURS: i64 = 48;

const URLSET_OPEN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
"#;

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

fn w3c(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// URLs per file: `SITEMAP_MAX_URLS`, lowered if the longest possible entry
/// (the longest pattern, a 200-byte slug percent-encoded threefold, a 20-digit
/// id, the tags) could take a full file past 50 MB.
pub fn urls_per_file(settings: &Settings) -> i64 {
    let d = &settings.distribution;
    let longest = [&d.article_url, &d.page_url, &d.author_url, &d.category_url, &d.tag_url]
        .iter()
        .map(|p| p.len())
        .max()
        .unwrap_or(0);
    let entry = longest + 3 * crate::slugs::MAX_SLUG_LEN + 20 + 120;
    let fit = ((MAX_FILE_BYTES - URLSET_OPEN.len() - 16) / entry) as i64;
    d.sitemap_max_urls.min(fit).max(1)
}

fn url_of(settings: &Settings, source: Source, row: &repo::Row) -> String {
    let d = &settings.distribution;
    let (id, slug, date, _) = row;
    match source {
        Source::Articles => links::article(d, slug, *id, *date),
        Source::Pages => links::of(d, Target::Page, slug, *id),
        Source::Authors => links::of(d, Target::Author, slug, *id),
        Source::Categories => links::of(d, Target::Category, slug, *id),
        Source::Tags => links::of(d, Target::Tag, slug, *id),
    }
}

/// The sitemap index: one `<sitemap>` per file of each source (none for an
/// empty source), each with the newest `lastmod` it holds.
pub fn index(conn: &mut DbConnection, settings: &Settings, now: NaiveDateTime) -> Result<String, ApiError> {
    let per_file = urls_per_file(settings);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for source in Source::ALL {
        let total = repo::count(conn, source, now)?;
        let files = (total + per_file - 1) / per_file;
        for n in 0..files {
            out.push_str("  <sitemap>\n    <loc>");
            out.push_str(&esc(&format!("{}/sitemaps/{}-{}.xml", settings.public_base_url, source.as_str(), n + 1)));
            out.push_str("</loc>\n");
            let rows = repo::page(conn, source, n, per_file, now)?;
            if let Some(lastmod) = rows.iter().filter_map(|r| r.3).max() {
                out.push_str(&format!("    <lastmod>{}</lastmod>\n", w3c(lastmod)));
            }
            out.push_str("  </sitemap>\n");
        }
    }
    out.push_str("</sitemapindex>\n");
    Ok(out)
}

/// Parses `{source}-{n}.xml` (n from 1) into the source and its 0-based page.
pub fn parse_file(name: &str) -> Option<(Source, i64)> {
    let stem = name.strip_suffix(".xml")?;
    let (source, n) = stem.rsplit_once('-')?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) || n.len() > 9 {
        return None;
    }
    Some((Source::parse(source)?, n.parse::<i64>().ok()? - 1))
}

/// One sitemap file; 404 when `name` is not one the index lists.
pub fn file(conn: &mut DbConnection, settings: &Settings, name: &str, now: NaiveDateTime) -> Result<String, ApiError> {
    let missing = || ApiError::NotFound("no such sitemap file".into());
    let (source, page) = parse_file(name).ok_or_else(missing)?;
    let rows = repo::page(conn, source, page, urls_per_file(settings), now)?;
    if rows.is_empty() {
        return Err(missing());
    }
    let mut out = String::from(URLSET_OPEN);
    for row in &rows {
        out.push_str("  <url><loc>");
        out.push_str(&esc(&url_of(settings, source, row)));
        out.push_str("</loc>");
        if let Some(lastmod) = row.3 {
            out.push_str(&format!("<lastmod>{}</lastmod>", w3c(lastmod)));
        }
        out.push_str("</url>\n");
    }
    out.push_str("</urlset>\n");
    Ok(out)
}

/// The Google News sitemap: listed articles published in the last 48 hours,
/// newest first, at most 1,000.
pub fn news(conn: &mut DbConnection, settings: &Settings, now: NaiveDateTime) -> Result<String, ApiError> {
    let d = &settings.distribution;
    let since = now - chrono::Duration::hours(NEWS_WINDOW_HOURS);
    let rows = repo::news(conn, since, NEWS_MAX_URLS, now)?;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n",
    );
    for (id, slug, title, published) in rows {
        out.push_str(&format!(
            "  <url>\n    <loc>{}</loc>\n    <news:news>\n      <news:publication>\n        <news:name>{}</news:name>\n        \
             <news:language>{}</news:language>\n      </news:publication>\n      \
             <news:publication_date>{}</news:publication_date>\n      <news:title>{}</news:title>\n    </news:news>\n  </url>\n",
            esc(&links::article(d, &slug, id, published)),
            esc(&d.site_title),
            esc(&d.site_language),
            w3c(published),
            esc(&title),
        ));
    }
    out.push_str("</urlset>\n");
    Ok(out)
}

/// `robots.txt`: everything may be crawled; both sitemaps are named.
pub fn robots(settings: &Settings) -> String {
    let base = &settings.public_base_url;
    format!("User-agent: *\nAllow: /\n\nSitemap: {base}/sitemap.xml\nSitemap: {base}/sitemap-news.xml\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_parse_strictly() {
        assert_eq!(parse_file("articles-1.xml"), Some((Source::Articles, 0)));
        assert_eq!(parse_file("tags-12.xml"), Some((Source::Tags, 11)));
        for bad in
            ["articles-0.xml", "articles-01.xml", "articles-.xml", "events-1.xml", "articles-1", "articles-1x.xml"]
        {
            assert_eq!(parse_file(bad), None, "{bad}");
        }
    }
}
