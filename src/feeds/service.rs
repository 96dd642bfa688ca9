//! Builds a [`Feed`] (format-neutral) from the database; `write` turns it
//! into RSS, Atom or JSON Feed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::links::{self, Target};
use super::repo::{self, Scope};
use crate::config::{FeedContent, Settings};
use crate::db::schema::categories;
use crate::db::DbConnection;
use crate::error::ApiError;

/// A feed format, from the `{format}` path segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedFormat {
    /// `rss`: RSS 2.0 (`application/rss+xml`).
    Rss,
    /// `atom`: Atom 1.0, RFC 4287 (`application/atom+xml`).
    Atom,
    /// `json`: JSON Feed 1.1 (`application/feed+json`).
    Json,
}

impl FeedFormat {
    /// Parses `rss`, `atom` or `json`; anything else is a 400 naming `format`.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        match s {
            "rss" => Ok(Self::Rss),
            "atom" => Ok(Self::Atom),
            "json" => Ok(Self::Json),
            _ => Err(ApiError::invalid("format", "must be rss, atom or json")),
        }
    }

    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rss => "rss",
            Self::Atom => "atom",
            Self::Json => "json",
        }
    }

    /// The response's media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Rss => "application/rss+xml; charset=utf-8",
            Self::Atom => "application/atom+xml; charset=utf-8",
            Self::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// What a scoped feed follows, from the `{kind}` path segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedKind {
    /// `category`: the category and its descendants.
    Category,
    /// `tag`.
    Tag,
    /// `author`: articles with the author in the byline.
    Author,
    /// `series`.
    Series,
}

impl FeedKind {
    /// Parses `category`, `tag`, `author` or `series`; anything else is a 400 naming `kind`.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        match s {
            "category" => Ok(Self::Category),
            "tag" => Ok(Self::Tag),
            "author" => Ok(Self::Author),
            "series" => Ok(Self::Series),
            _ => Err(ApiError::invalid("kind", "must be category, tag, author or series")),
        }
    }

    /// The path segment: `category`, `tag`, `author` or `series`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Tag => "tag",
            Self::Author => "author",
            Self::Series => "series",
        }
    }
}

impl FeedKind {
    /// The taxonomy whose slug history this kind follows (categories and tags).
    pub fn taxonomy(self) -> Option<crate::taxonomy::Kind> {
        match self {
            Self::Category => Some(crate::taxonomy::Kind::Category),
            Self::Tag => Some(crate::taxonomy::Kind::Tag),
            Self::Author | Self::Series => None,
        }
    }
}

/// `slug` percent-encoded as one path segment.
pub fn encode_segment(slug: &str) -> String {
    percent_encoding::utf8_percent_encode(slug, SEGMENT).to_string()
}

/// A format-neutral feed.
#[derive(Clone, Debug)]
pub struct Feed {
    /// Feed title: the site's, or `"{site} – {term}"`.
    pub title: String,
    /// Short description.
    pub description: String,
    /// The front-end page the feed follows.
    pub home_url: String,
    /// This feed's own URL (under `PUBLIC_BASE_URL`).
    pub self_url: String,
    /// A stable id for Atom: `{PUBLIC_BASE_URL}/feeds/{scope}` (format-independent).
    pub id: String,
    /// Content language.
    pub language: String,
    /// The newest `updated_at` of its entries (`Last-Modified`), if any.
    pub updated: Option<NaiveDateTime>,
    /// Newest first.
    pub entries: Vec<Entry>,
}

/// One article in a feed.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Stable id: `{PUBLIC_BASE_URL}/api/v1/articles/{id}` (survives slug changes).
    pub id: String,
    /// Front-end URL.
    pub url: String,
    /// Title.
    pub title: String,
    /// Publication time (UTC).
    pub published: NaiveDateTime,
    /// Last update (UTC).
    pub updated: NaiveDateTime,
    /// The excerpt, if any.
    pub summary: Option<String>,
    /// The sanitized body HTML (`FEED_CONTENT=full`), else `None`.
    pub content_html: Option<String>,
    /// Bylines in order: `(name, front-end URL)`.
    pub authors: Vec<(String, String)>,
    /// Categories then tags: `(slug, name, front-end URL)`.
    pub terms: Vec<(String, String, String)>,
    /// The featured image, if it has a URL.
    pub image: Option<Image>,
}

/// A featured image as an enclosure or media element.
#[derive(Clone, Debug)]
pub struct Image {
    /// Absolute URL.
    pub url: String,
    /// MIME type (`image/jpeg` when unknown).
    pub mime_type: String,
    /// Size in bytes (0 when unknown, as RSS allows).
    pub length: i64,
    /// Credit: the article's `featured_credit`, else the media's.
    pub credit: Option<String>,
    /// Caption: the article's `featured_caption`, else the media's.
    pub caption: Option<String>,
    /// Alt text.
    pub alt_text: Option<String>,
}

/// Loads the feed for `scope` (`None`: the whole site) at `now`.
///
/// Errors: 404 when the category, tag, author or series `slug` does not exist.
pub fn load(
    conn: &mut DbConnection,
    settings: &Settings,
    format: FeedFormat,
    scope: Option<(FeedKind, &str)>,
    now: NaiveDateTime,
) -> Result<Feed, ApiError> {
    let d = &settings.distribution;
    let base = &settings.public_base_url;
    let not_found = |kind: FeedKind| ApiError::NotFound(format!("no {} with that slug", kind.as_str()));
    let (query, term_name, home_url, path) = match scope {
        None => (Scope::Site, None, d.home_url.clone(), String::new()),
        Some((kind, slug)) => {
            let (query, name, target, id) = match kind {
                FeedKind::Category => {
                    let ids = crate::articles::repo::category_and_descendants(conn, slug)?;
                    let root = *ids.first().ok_or_else(|| not_found(kind))?;
                    let name: String = categories::table.find(root).select(categories::name).first(conn)?;
                    (Scope::Categories(ids), name, Target::Category, root)
                }
                FeedKind::Tag => {
                    let (id, name) = repo::tag_by_slug(conn, slug)?.ok_or_else(|| not_found(kind))?;
                    (Scope::Tag(id), name, Target::Tag, id)
                }
                FeedKind::Author => {
                    let a =
                        crate::authors::repo::find_by_slug(conn, slug).optional()?.ok_or_else(|| not_found(kind))?;
                    (Scope::Author(a.id), a.display_name, Target::Author, a.id)
                }
                FeedKind::Series => {
                    let s = crate::series::repo::find_by_key(conn, &crate::slugs::IdOrSlug::Slug(slug.to_owned()))?
                        .ok_or_else(|| not_found(kind))?;
                    (Scope::Series(s.id), s.title, Target::Series, s.id)
                }
            };
            let path = format!("/{}/{}", kind.as_str(), percent_encoding::utf8_percent_encode(slug, SEGMENT));
            (query, Some(name), links::of(d, target, slug, id), path)
        }
    };
    let rows = repo::newest(conn, &query, d.feed_items, now)?;
    let rel = crate::articles::repo::load_relations(conn, &rows, false, base)?;
    let entries: Vec<Entry> = rows
        .iter()
        .map(|r| {
            let published = r.published_at.unwrap_or(r.created_at);
            let mut terms: Vec<(String, String, String)> = Vec::new();
            for c in rel.categories.get(&r.id).into_iter().flatten() {
                terms.push((c.slug.clone(), c.name.clone(), links::of(d, Target::Category, &c.slug, c.id)));
            }
            for t in rel.tags.get(&r.id).into_iter().flatten() {
                terms.push((t.slug.clone(), t.name.clone(), links::of(d, Target::Tag, &t.slug, t.id)));
            }
            let image = r.featured_media_id.and_then(|m| rel.media.get(&m)).and_then(|m| {
                Some(Image {
                    url: crate::media::dto::public_url(base, m)?,
                    mime_type: m.mime_type.clone().unwrap_or_else(|| "image/jpeg".into()),
                    length: m.byte_size.unwrap_or(0),
                    credit: r.featured_credit.clone().or_else(|| m.credit.clone()).filter(|c| !c.trim().is_empty()),
                    caption: r.featured_caption.clone().or_else(|| m.caption.clone()).filter(|c| !c.trim().is_empty()),
                    alt_text: m.alt_text.clone().filter(|c| !c.trim().is_empty()),
                })
            });
            Entry {
                id: format!("{base}/api/v1/articles/{}", r.id),
                url: links::article(d, &r.slug, r.id, published),
                title: r.title.clone(),
                published,
                updated: r.updated_at.max(published),
                summary: r.excerpt.clone().filter(|e| !e.trim().is_empty()),
                content_html: (d.feed_content == FeedContent::Full).then(|| r.body_html.clone()),
                authors: rel
                    .bylines
                    .get(&r.id)
                    .into_iter()
                    .flatten()
                    .map(|b| (b.display_name.clone(), links::of(d, Target::Author, &b.slug, b.author_id)))
                    .collect(),
                terms,
                image,
            }
        })
        .collect();
    let title = match &term_name {
        None => d.site_title.clone(),
        Some(n) => format!("{} \u{2013} {n}", d.site_title),
    };
    Ok(Feed {
        description: match &term_name {
            None => format!("The latest from {}", d.site_title),
            Some(n) => format!("The latest from {} in {n}", d.site_title),
        },
        title,
        home_url,
        self_url: format!("{base}/feeds/{}{path}", format.as_str()),
        id: format!("{base}/feeds{path}"),
        language: d.site_language.clone(),
        updated: entries.iter().map(|e| e.updated).max(),
        entries,
    })
}

const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
