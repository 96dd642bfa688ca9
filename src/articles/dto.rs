//! Wire types for articles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::ArticleRow;
use super::repo::Relations;

/// Article status.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    /// Being written; never public.
    Draft,
    /// Public from `published_at` on.
    Scheduled,
    /// Public.
    Published,
    /// Withdrawn.
    Archived,
}

impl ArticleStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    /// Parses the stored form (unknown values read as draft).
    pub fn from_db(s: &str) -> Self {
        match s {
            "scheduled" => Self::Scheduled,
            "published" => Self::Published,
            "archived" => Self::Archived,
            _ => Self::Draft,
        }
    }
}

/// Whether readers may comment.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CommentStatus {
    /// New comments are accepted (into the moderation queue).
    Open,
    /// No new comments.
    Closed,
}

/// One author in an article's byline, in byline order.
#[derive(Debug, Serialize, ToSchema)]
pub struct Byline {
    /// Author id.
    pub id: i64,
    /// Author slug, for `/authors/{slug}`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The author's photo; `null` when none is set.
    pub avatar: Option<BylineAvatar>,
    /// The author's bio, website and social links; present only with
    /// `include=authors` (lists) and always on a single article.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub profile: Option<BylineProfile>,
}

/// An author's photo as shown beside a byline.
#[derive(Debug, Serialize, ToSchema)]
pub struct BylineAvatar {
    /// Media id of the photo; `null` for an imported avatar URL.
    pub media_id: Option<i64>,
    /// Absolute URL of the photo (the stored original, or the imported URL).
    pub url: Option<String>,
    /// Renditions for `srcset`, narrowest first, ending with `original`
    /// (the media library's variants); empty when not stored here.
    pub sizes: Vec<crate::media::dto::MediaSize>,
}

/// What `include=authors` embeds in a byline.
#[derive(Debug, Serialize, ToSchema)]
pub struct BylineProfile {
    /// Short biography, plain text.
    pub bio: Option<String>,
    /// Personal or professional website.
    pub website: Option<String>,
    /// Social profiles by network name, e.g. `{"mastodon": "https://…"}`.
    pub social_links: std::collections::BTreeMap<String, String>,
}

impl Byline {
    fn build(b: &super::model::BylineRow, rel: &Relations) -> Self {
        let media = b.avatar_media_id.and_then(|id| rel.media.get(&id));
        let avatar = match (media, &b.avatar_url) {
            (Some(m), _) => Some(BylineAvatar {
                media_id: Some(m.id),
                url: crate::media::dto::public_url(&rel.base_url, m),
                sizes: crate::media::dto::sizes(&rel.base_url, m),
            }),
            (None, Some(url)) => Some(BylineAvatar { media_id: None, url: Some(url.clone()), sizes: Vec::new() }),
            (None, None) => None,
        };
        Self { id: b.author_id, slug: b.slug.clone(), name: b.display_name.clone(), avatar, profile: None }
    }
}

/// A category or tag as attached to an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermRef {
    /// Term id.
    pub id: i64,
    /// Term slug, usable in the `category` / `tag` filters.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// The featured image of an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeaturedMedia {
    /// Media id, for `/media/{id}`.
    pub id: i64,
    /// Where the file can be fetched; for WordPress imports the original URL.
    pub url: Option<String>,
    /// Alternative text.
    pub alt_text: Option<String>,
    /// Caption.
    pub caption: Option<String>,
    /// Photographer or agency credit.
    pub credit: Option<String>,
    /// Width in pixels, when known.
    pub width: Option<i32>,
    /// Height in pixels, when known.
    pub height: Option<i32>,
    /// `true` when the file is stored here; `false` for WordPress imports,
    /// whose `url` is the original `source_url`.
    pub hosted: bool,
    /// Renditions for `srcset`, narrowest first, ending with `original`;
    /// empty for imports.
    pub sizes: Vec<crate::media::dto::MediaSize>,
}

/// An article in a list: everything but the body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 59, "slug": "council-approves-budget", "title": "Council approves budget", "subtitle": null,
    "excerpt": "<p>The vote was 7-2.</p>", "excerpt_auto": false, "status": "published", "published_at": "2026-02-01T12:30:00Z",
    "updated_at": "2026-02-01T13:00:00Z", "sticky": false, "password_protected": false, "comment_status": "open",
    "bylines": [{"id": 1, "slug": "jane-doe", "name": "Jane Doe", "avatar": {"media_id": 9, "url": "https://news.example/api/v1/media/9/file",
        "sizes": [{"name": "w320", "url": "https://news.example/api/v1/media/9/file/w320", "width": 320, "height": 320, "mime_type": "image/jpeg", "byte_size": 18211},
                  {"name": "original", "url": "https://news.example/api/v1/media/9/file", "width": 400, "height": 400, "mime_type": "image/jpeg", "byte_size": 30412}]}}],
    "categories": [{"id": 3, "slug": "city-hall", "name": "City hall"}],
    "tags": [{"id": 7, "slug": "budget", "name": "budget"}],
    "featured_media": {"id": 4, "url": "https://cdn.example/council.jpg", "alt_text": "Council chamber",
                       "caption": "The vote", "credit": "Jane Doe / Agency", "width": 2048, "height": 1365, "hosted": false, "sizes": []},
    "comment_count": 3, "word_count": 812, "reading_time_minutes": 4,
    "series": {"id": 2, "slug": "budget-2026", "title": "Budget 2026", "position": 1}}))]
pub struct ArticleSummary {
    /// Numeric id.
    pub id: i64,
    /// URL-safe unique name, for `/articles/{slug}`.
    pub slug: String,
    /// Headline; may be empty (WordPress allows untitled posts).
    pub title: String,
    /// Standfirst / dek.
    pub subtitle: Option<String>,
    /// Short summary: as written (sanitized HTML) or, when none was given,
    /// the first 55 words of the body text followed by `…` (as WordPress's
    /// automatic excerpt); see `excerpt_auto`. `null` when password-protected
    /// or when there is neither an excerpt nor a body.
    pub excerpt: Option<String>,
    /// `true` when `excerpt` was made from the body, not written.
    pub excerpt_auto: bool,
    /// Status; public reads only ever show `published` (or `scheduled` whose time has come).
    pub status: ArticleStatus,
    /// RFC 3339 UTC; when the article went (or goes) public.
    #[serde(serialize_with = "crate::wire::utc_opt")]
    pub published_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC; last modification.
    #[serde(serialize_with = "crate::wire::utc")]
    pub updated_at: DateTime<Utc>,
    /// Pinned to the top of front pages.
    pub sticky: bool,
    /// Whether the article is password-protected; if so its body and excerpt are withheld.
    pub password_protected: bool,
    /// Whether comments are open.
    pub comment_status: CommentStatus,
    /// Authors, in byline order.
    pub bylines: Vec<Byline>,
    /// Categories, by name.
    pub categories: Vec<TermRef>,
    /// Tags, by name.
    pub tags: Vec<TermRef>,
    /// Featured image; `null` when none.
    pub featured_media: Option<FeaturedMedia>,
    /// Approved comments, pingbacks and trackbacks excluded; 0 when password-protected.
    pub comment_count: i64,
    /// Words in the body; `null` when password-protected (unless the caller
    /// may edit it), since it would tell the length of a hidden body.
    pub word_count: Option<i32>,
    /// `ceil(word_count / 230)` minutes; `null` when `word_count` is.
    pub reading_time_minutes: Option<i32>,
    /// The series this article belongs to, with its position.
    pub series: Option<SeriesRef>,
    /// Body HTML, sanitized; `null` when password-protected. In lists the key
    /// is present only with `include=body`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub body_html: Option<Option<String>>,
}

/// An article's place in a series.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesRef {
    /// Series id.
    pub id: i64,
    /// Series slug.
    pub slug: String,
    /// Series title.
    pub title: String,
    /// 1-based position in the series; `null` when unordered.
    pub position: Option<i32>,
}

/// A public, dated correction or update note: "Updated on … to …".
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateNote {
    /// Note id.
    pub id: i64,
    /// What changed, plain text.
    pub note: String,
    /// RFC 3339 UTC; when the note was added.
    pub created_at: DateTime<Utc>,
}

/// Search-engine and social metadata. `meta_title`, `meta_description` and
/// `og_image_media_id` are the overrides as set (`null` when not set);
/// `title`, `description` and `og_image_url` are what to put in the page,
/// with the fallbacks applied.
#[derive(Debug, Serialize, ToSchema)]
pub struct Seo {
    /// `<title>` override, as set.
    pub meta_title: Option<String>,
    /// `<meta name="description">` override, as set.
    pub meta_description: Option<String>,
    /// `<link rel="canonical">`, absolute http(s) URL.
    pub canonical_url: Option<String>,
    /// Media id of the Open Graph image override, as set.
    pub og_image_media_id: Option<i64>,
    /// The `<title>` to use: `meta_title`, else the article's `title`.
    pub title: String,
    /// The description to use, plain text: `meta_description`, else the
    /// excerpt (written or automatic) as text; `null` when neither exists.
    pub description: Option<String>,
    /// URL of the Open Graph image: the override's, else the featured image's.
    pub og_image_url: Option<String>,
}

/// A full article, with its body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Article {
    /// Everything shown in lists (`body_html` is always present here: `null`
    /// only when password-protected).
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// RFC 3339 UTC; creation time (WordPress `post_date_gmt` for imports).
    pub created_at: DateTime<Utc>,
    /// `markdown` or `html`: how `body_source` is written.
    pub body_format: BodyFormat,
    /// The body as written; only for callers who may edit the article, else `null`.
    pub body_source: Option<String>,
    /// Public corrections and updates, oldest first.
    pub update_notes: Vec<UpdateNote>,
    /// SEO and social metadata.
    pub seo: Seo,
    /// Revision counter; the `ETag` is `"a{id}-v{version}"`.
    pub version: i32,
}

/// How a body is written.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    /// CommonMark with tables, strikethrough and footnotes.
    Markdown,
    /// HTML (sanitized on save).
    Html,
}

impl BodyFormat {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Markdown => "markdown",
            Self::Html => "html",
        }
    }
}

/// Words in an automatic excerpt, as WordPress's `excerpt_length`.
pub const AUTO_EXCERPT_WORDS: usize = 55;

/// Whether [`excerpt_of`] builds `row`'s excerpt from its body text: not
/// password-protected, and no excerpt of its own (none, or only
/// whitespace). Only then does a list row need its `body_text`.
pub fn uses_auto_excerpt(row: &ArticleRow) -> bool {
    !row.password_protected && row.excerpt.as_ref().is_none_or(|e| e.trim().is_empty())
}

/// The excerpt served for `row` and whether it is automatic: the written one
/// when there is one, else the first [`AUTO_EXCERPT_WORDS`] words of the body
/// text (plus `…` when cut). Nothing for a password-protected article.
pub fn excerpt_of(row: &ArticleRow) -> (Option<String>, bool) {
    if row.password_protected {
        return (None, false);
    }
    if !uses_auto_excerpt(row) {
        return (row.excerpt.clone(), false);
    }
    let mut words = row.body_text.split_whitespace();
    let head: Vec<&str> = words.by_ref().take(AUTO_EXCERPT_WORDS).collect();
    if head.is_empty() {
        return (None, false);
    }
    let more = if words.next().is_some() { "…" } else { "" };
    (Some(format!("{}{more}", head.join(" "))), true)
}

impl ArticleSummary {
    /// Builds the summary of `row` from relations loaded for its page; the
    /// status is the effective one at `now`.
    pub fn build(row: &ArticleRow, rel: &Relations, now: chrono::NaiveDateTime) -> Self {
        let terms = |m: &std::collections::HashMap<i64, Vec<super::model::TermRow>>| {
            m.get(&row.id)
                .map(|v| v.iter().map(|t| TermRef { id: t.id, slug: t.slug.clone(), name: t.name.clone() }).collect())
                .unwrap_or_default()
        };
        let (excerpt, auto) = excerpt_of(row);
        Self {
            id: row.id,
            slug: row.slug.clone(),
            title: row.title.clone(),
            subtitle: row.subtitle.clone(),
            excerpt: excerpt.clone(),
            excerpt_auto: excerpt.is_some() && auto,
            status: ArticleStatus::from_db(row.effective_status(now)),
            published_at: row.published_at.map(|t| t.and_utc()),
            updated_at: row.updated_at.and_utc(),
            sticky: row.is_sticky,
            password_protected: row.password_protected,
            comment_status: if row.comment_status == "open" { CommentStatus::Open } else { CommentStatus::Closed },
            bylines: rel
                .bylines
                .get(&row.id)
                .map(|v| v.iter().map(|b| Byline::build(b, rel)).collect())
                .unwrap_or_default(),
            categories: terms(&rel.categories),
            tags: terms(&rel.tags),
            featured_media: row.featured_media_id.and_then(|id| rel.media.get(&id)).map(|m| FeaturedMedia {
                id: m.id,
                url: crate::media::dto::public_url(&rel.base_url, m),
                hosted: m.storage_key.is_some(),
                sizes: crate::media::dto::sizes(&rel.base_url, m),
                alt_text: m.alt_text.clone(),
                caption: row.featured_caption.clone().or_else(|| m.caption.clone()),
                credit: row.featured_credit.clone().or_else(|| m.credit.clone()),
                width: m.width,
                height: m.height,
            }),
            // A protected article's discussion is not public (see the comments endpoint).
            comment_count: if row.password_protected {
                0
            } else {
                rel.comment_counts.get(&row.id).copied().unwrap_or(0)
            },
            word_count: (!row.password_protected).then_some(row.word_count),
            reading_time_minutes: (!row.password_protected).then_some(row.reading_time_minutes),
            series: row.series_id.and_then(|id| rel.series.get(&id)).map(|s| SeriesRef {
                id: s.id,
                slug: s.slug.clone(),
                title: s.title.clone(),
                position: row.series_position,
            }),
            body_html: None,
        }
    }
}

impl ArticleSummary {
    /// Embeds each byline's author profile (`include=authors`), from the
    /// rows the bylines query already read.
    pub fn embed_authors(&mut self, rel: &Relations) {
        let Some(rows) = rel.bylines.get(&self.id) else { return };
        for byline in &mut self.bylines {
            if let Some(b) = rows.iter().find(|b| b.author_id == byline.id) {
                byline.profile = Some(BylineProfile {
                    bio: b.bio.clone(),
                    website: b.website.clone(),
                    social_links: serde_json::from_str(&b.social_links).unwrap_or_default(),
                });
            }
        }
    }
}

impl Article {
    /// Builds the full view of `row`. The body is withheld when
    /// password-protected; `body_source` only when `can_edit`.
    pub fn build(row: ArticleRow, rel: &Relations, now: chrono::NaiveDateTime, can_edit: bool) -> Self {
        let mut summary = ArticleSummary::build(&row, rel, now);
        summary.embed_authors(rel);
        summary.body_html = Some(if row.password_protected && !can_edit { None } else { Some(row.body_html.clone()) });
        if can_edit {
            summary.word_count = Some(row.word_count);
            summary.reading_time_minutes = Some(row.reading_time_minutes);
        }
        Self {
            created_at: row.created_at.and_utc(),
            body_format: if row.body_format == "markdown" { BodyFormat::Markdown } else { BodyFormat::Html },
            body_source: if can_edit { Some(row.body_source.clone()) } else { None },
            update_notes: rel
                .notes
                .get(&row.id)
                .map(|v| {
                    v.iter().map(|n| UpdateNote { id: n.0, note: n.1.clone(), created_at: n.2.and_utc() }).collect()
                })
                .unwrap_or_default(),
            seo: Seo {
                meta_title: row.meta_title.clone(),
                meta_description: row.meta_description.clone(),
                canonical_url: row.canonical_url.clone(),
                og_image_media_id: row.og_image_media_id,
                title: row.meta_title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| row.title.clone()),
                description: row
                    .meta_description
                    .clone()
                    .filter(|d| !d.trim().is_empty())
                    .or_else(|| summary.excerpt.as_deref().map(super::render::plain_text)),
                og_image_url: row
                    .og_image_media_id
                    .and_then(|id| rel.media.get(&id))
                    .and_then(|m| crate::media::dto::public_url(&rel.base_url, m))
                    .or_else(|| summary.featured_media.as_ref().and_then(|f| f.url.clone())),
            },
            version: row.version,
            summary,
        }
    }
}

crate::list_envelope!(ArticleList, ArticleSummary, "A page of articles (bodies only with `include=body`).");
crate::data_envelope!(ArticleEnvelope, Article, "`{\"data\": Article}`");

/// `POST /articles` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Council approves budget",
    "body": "The council voted **7–2**…",
    "body_format": "markdown",
    "categories": [1],
    "tags": [2, 3]
}))]
pub struct CreateArticle {
    /// Headline, 1–300 characters.
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: String,
    /// Standfirst, at most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub subtitle: Option<String>,
    /// Slug; derived from the title (transliterated to ASCII) when omitted.
    #[serde(default)]
    #[schema(pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// Summary, plain text or inline HTML, at most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub excerpt: Option<String>,
    /// The body as written, at most 512 KiB.
    #[serde(default)]
    pub body: Option<String>,
    /// How `body` is written; default `markdown`.
    #[serde(default)]
    pub body_format: Option<BodyFormat>,
    /// Author ids in byline order (1–20); default: the caller's own author
    /// profile. An API key, or an account without a profile, has none to
    /// default to and must name them (422 otherwise).
    #[serde(default)]
    #[schema(min_items = 1, max_items = 20)]
    pub bylines: Option<Vec<i64>>,
    /// Categories, each by id or slug (a former slug names the category it moved to).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub categories: Vec<crate::taxonomy::dto::TermKey>,
    /// Tags, each by id or slug (a former or merged-away slug names the tag it moved to).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub tags: Vec<crate::taxonomy::dto::TermKey>,
    /// Series id.
    #[serde(default)]
    pub series_id: Option<i64>,
    /// 1-based position in the series.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub series_position: Option<i32>,
    /// Featured image (media id).
    #[serde(default)]
    pub featured_media_id: Option<i64>,
    /// Caption for this use of the featured image (overrides the media's own).
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub featured_caption: Option<String>,
    /// Credit for this use of the featured image (overrides the media's own).
    #[serde(default)]
    #[schema(max_length = 300)]
    pub featured_credit: Option<String>,
    /// `<title>` override, at most 300 characters.
    #[serde(default)]
    #[schema(max_length = 300)]
    pub meta_title: Option<String>,
    /// Meta description, at most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub meta_description: Option<String>,
    /// Absolute http(s) canonical URL.
    #[serde(default)]
    #[schema(pattern = "^https?://[A-Za-z0-9.-]*[A-Za-z](:[0-9]{1,4})?([/?#][!-~]*)?$", max_length = 2000)]
    pub canonical_url: Option<String>,
    /// Open Graph image (media id).
    #[serde(default)]
    pub og_image_media_id: Option<i64>,
    /// Default `open`.
    #[serde(default)]
    pub comment_status: Option<CommentStatus>,
    /// Default `false`.
    #[serde(default)]
    pub sticky: Option<bool>,
    /// `draft` (default), `scheduled` (needs a future `published_at`) or
    /// `published`. Contributors may only create drafts.
    #[serde(default)]
    pub status: Option<ArticleStatus>,
    /// RFC 3339. Required and in the future for `scheduled`; for `published`
    /// defaults to now.
    #[serde(default)]
    pub published_at: Option<DateTime<Utc>>,
    /// Post password (WordPress `post_password`), 1–255 characters: readers
    /// then get the body only from `POST /articles/{article}/unlock`.
    /// Stored argon2id-hashed; write-only, never returned.
    #[serde(default)]
    #[schema(write_only, min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    pub password: Option<String>,
}

/// `PATCH /articles/{article}` body: only the fields present change; `null`
/// clears a nullable field. Send the article's `ETag` in `If-Match`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Council approves revised budget", "update_note": "Corrected the vote count."}))]
pub struct UpdateArticle {
    /// Headline.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 300,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: Option<String>,
    /// Standfirst, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub subtitle: Option<Option<String>>,
    /// New slug; the old one keeps answering with a 301.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// Summary, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub excerpt: Option<Option<String>>,
    /// The body as written.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub body: Option<String>,
    /// How `body` is written.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub body_format: Option<BodyFormat>,
    /// Author ids in byline order (at least one).
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, min_items = 1, max_items = 20)]
    pub bylines: Option<Vec<i64>>,
    /// Categories by id or slug (replaces all).
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, max_items = 100)]
    pub categories: Option<Vec<crate::taxonomy::dto::TermKey>>,
    /// Tags by id or slug (replaces all).
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, max_items = 100)]
    pub tags: Option<Vec<crate::taxonomy::dto::TermKey>>,
    /// Series id, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub series_id: Option<Option<i64>>,
    /// Position in the series, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 10000)]
    pub series_position: Option<Option<i32>>,
    /// Featured image, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub featured_media_id: Option<Option<i64>>,
    /// Caption override, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub featured_caption: Option<Option<String>>,
    /// Credit override, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 300)]
    pub featured_credit: Option<Option<String>>,
    /// `<title>` override, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 300)]
    pub meta_title: Option<Option<String>>,
    /// Meta description, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub meta_description: Option<Option<String>>,
    /// Canonical URL, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, pattern = "^https?://[A-Za-z0-9.-]*[A-Za-z](:[0-9]{1,4})?([/?#][!-~]*)?$", max_length = 2000)]
    pub canonical_url: Option<Option<String>>,
    /// Open Graph image, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub og_image_media_id: Option<Option<i64>>,
    /// Comment status.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub comment_status: Option<CommentStatus>,
    /// Sticky flag.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub sticky: Option<bool>,
    /// New status: draft → scheduled → published → archived, and back to draft.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub status: Option<ArticleStatus>,
    /// RFC 3339 publication time (future for `scheduled`). Kept once published.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub published_at: Option<DateTime<Utc>>,
    /// Appends a public, dated update note ("Updated on … to …"), at most 1000 characters.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, min_length = 1, max_length = 1000)]
    pub update_note: Option<String>,
    /// A new post password (1–255 characters), or `null` to remove the
    /// protection. Stored argon2id-hashed; write-only, never returned.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, write_only, min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    pub password: Option<Option<String>>,
}

/// `POST /articles/{article}/unlock` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "open sesame"}))]
pub struct UnlockArticle {
    /// The article's post password.
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    pub password: String,
}

/// Longest post password, in characters (WordPress's `post_password` column
/// is `varchar(255)`).
pub const MAX_POST_PASSWORD_CHARS: usize = 255;

/// Checks a post password's shape; the message is for the `password` field.
pub fn check_post_password(p: &str) -> Result<(), crate::error::ApiError> {
    if p.is_empty() || p.chars().count() > MAX_POST_PASSWORD_CHARS || p.contains('\0') {
        return Err(crate::error::ApiError::invalid(
            "password",
            format!("must be 1 to {MAX_POST_PASSWORD_CHARS} characters, without NUL"),
        ));
    }
    Ok(())
}

/// The body of a password-protected article, for a reader who gave its
/// password. Never cached (`Cache-Control: no-store`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UnlockedArticle {
    /// Article id.
    pub id: i64,
    /// Body HTML, sanitized.
    pub body_html: String,
    /// The written excerpt, else the automatic one (see `ArticleSummary`).
    pub excerpt: Option<String>,
    /// `true` when `excerpt` was made from the body.
    pub excerpt_auto: bool,
    /// Words in the body.
    pub word_count: i32,
    /// `ceil(word_count / 230)` minutes.
    pub reading_time_minutes: i32,
}

impl UnlockedArticle {
    /// The unlocked view of `row`.
    pub fn of(row: &ArticleRow) -> Self {
        let open = ArticleRow { password_protected: false, ..row.clone() };
        let (excerpt, auto) = excerpt_of(&open);
        Self {
            id: row.id,
            body_html: row.body_html.clone(),
            excerpt_auto: excerpt.is_some() && auto,
            excerpt,
            word_count: row.word_count,
            reading_time_minutes: row.reading_time_minutes,
        }
    }
}

crate::data_envelope!(UnlockedArticleEnvelope, UnlockedArticle, "`{\"data\": UnlockedArticle}`");

/// One stored revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revision {
    /// Revision id.
    pub id: i64,
    /// The user who made it; `null` for API keys or deleted users.
    pub user_id: Option<i64>,
    /// Names of the fields this revision changed.
    pub changed_fields: Vec<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}

/// An article's editable content as a revision stored it (or as it is now).
/// Times are RFC 3339 UTC; bylines, categories and tags are ids (bylines in
/// order).
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionSnapshot {
    pub title: String,
    pub subtitle: Option<String>,
    pub slug: String,
    pub excerpt: Option<String>,
    pub body_format: String,
    pub body_source: String,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub bylines: Vec<i64>,
    pub categories: Vec<i64>,
    pub tags: Vec<i64>,
    pub series_id: Option<i64>,
    pub series_position: Option<i32>,
    pub featured_media_id: Option<i64>,
    pub featured_caption: Option<String>,
    pub featured_credit: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub og_image_media_id: Option<i64>,
    pub comment_status: String,
    pub sticky: bool,
    /// Whether a post password was set (the password itself is never shown).
    pub password_protected: bool,
}

impl From<&super::service::ArticleState> for RevisionSnapshot {
    fn from(st: &super::service::ArticleState) -> Self {
        Self {
            title: st.title.clone(),
            subtitle: st.subtitle.clone(),
            slug: st.slug.clone(),
            excerpt: st.excerpt.clone(),
            body_format: st.body_format.clone(),
            body_source: st.body_source.clone(),
            status: st.status.clone(),
            published_at: st.published_at.map(|t| t.and_utc()),
            bylines: st.bylines.clone(),
            categories: st.categories.clone(),
            tags: st.tags.clone(),
            series_id: st.series_id,
            series_position: st.series_position,
            featured_media_id: st.featured_media_id,
            featured_caption: st.featured_caption.clone(),
            featured_credit: st.featured_credit.clone(),
            meta_title: st.meta_title.clone(),
            meta_description: st.meta_description.clone(),
            canonical_url: st.canonical_url.clone(),
            og_image_media_id: st.og_image_media_id,
            comment_status: st.comment_status.clone(),
            sticky: st.sticky,
            password_protected: st.password_protected,
        }
    }
}

/// One field that differs between a revision and the current version.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldDiff {
    /// The field's name in [`RevisionSnapshot`].
    pub field: String,
    /// Its value in the revision (any JSON type: the field's own).
    pub revision: serde_json::Value,
    /// Its value now (any JSON type: the field's own).
    pub current: serde_json::Value,
}

/// One revision in full: its snapshot, and how it differs from the current
/// version field by field (what a restore would change, except `status` and
/// `published_at`, which a restore keeps).
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionDetail {
    /// Revision id.
    pub id: i64,
    /// The user who made it; `null` for API keys, imports or deleted users.
    pub user_id: Option<i64>,
    /// Names of the fields this revision changed.
    pub changed_fields: Vec<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// The article as this revision stored it.
    pub snapshot: RevisionSnapshot,
    /// The article's current version (its `ETag` is `"a{id}-v{version}"`).
    pub current_version: i32,
    /// Fields whose value differs from the current version, by field name;
    /// empty when the revision matches the article as it is now.
    pub diff: Vec<FieldDiff>,
}

impl RevisionDetail {
    /// The diff of `rev` against `current`, field by field.
    pub fn diff(rev: &RevisionSnapshot, current: &RevisionSnapshot) -> Vec<FieldDiff> {
        let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
            (serde_json::to_value(rev), serde_json::to_value(current))
        else {
            return Vec::new();
        };
        a.into_iter()
            .filter_map(|(field, revision)| {
                let current = b.get(&field).cloned().unwrap_or(serde_json::Value::Null);
                (revision != current).then_some(FieldDiff { field, revision, current })
            })
            .collect()
    }
}

crate::data_envelope!(RevisionDetailEnvelope, RevisionDetail, "`{\"data\": RevisionDetail}`");

/// A preview link for a draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    /// Signed token (HS256 JWT, audience `broadsheet-preview`).
    pub token: String,
    /// `GET` this URL to read the draft without signing in.
    pub url: String,
    /// RFC 3339 UTC.
    pub expires_at: DateTime<Utc>,
}

crate::list_envelope!(RevisionList, Revision, "A page of revisions, newest first.");
crate::data_envelope!(PreviewEnvelope, Preview, "`{\"data\": Preview}`");
crate::list_envelope!(RelatedList, ArticleSummary, "Related articles, best first.");
