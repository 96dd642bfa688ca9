//! Wire types for articles.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::ArticleRow;
use super::repo::Relations;

/// Article status.
#[derive(Clone, Copy, Debug, Serialize, ToSchema, PartialEq, Eq)]
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
    fn from_db(s: &str) -> Self {
        match s {
            "scheduled" => Self::Scheduled,
            "published" => Self::Published,
            "archived" => Self::Archived,
            _ => Self::Draft,
        }
    }
}

/// Whether readers may comment.
#[derive(Clone, Copy, Debug, Serialize, ToSchema, PartialEq, Eq)]
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
}

/// An article in a list: everything but the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleSummary {
    /// Numeric id.
    pub id: i64,
    /// URL-safe unique name, for `/articles/{slug}`.
    pub slug: String,
    /// Headline; may be empty (WordPress allows untitled posts).
    pub title: String,
    /// Standfirst / dek.
    pub subtitle: Option<String>,
    /// Short summary, sanitized HTML; `null` when absent or password-protected.
    pub excerpt: Option<String>,
    /// Status; public reads only ever show `published` (or `scheduled` whose time has come).
    pub status: ArticleStatus,
    /// RFC 3339 UTC; when the article went (or goes) public.
    pub published_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC; last modification.
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
}

/// A full article, with its body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Article {
    /// Everything shown in lists.
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// Body, sanitized HTML (ammonia); `null` when password-protected.
    pub body_html: Option<String>,
    /// RFC 3339 UTC; creation time (WordPress `post_date_gmt` for imports).
    pub created_at: DateTime<Utc>,
}

impl ArticleSummary {
    /// Builds the public summary of `row` from relations loaded for its page.
    pub fn build(row: &ArticleRow, rel: &Relations) -> Self {
        let terms = |m: &std::collections::HashMap<i64, Vec<super::model::TermRow>>| {
            m.get(&row.id)
                .map(|v| v.iter().map(|t| TermRef { id: t.id, slug: t.slug.clone(), name: t.name.clone() }).collect())
                .unwrap_or_default()
        };
        Self {
            id: row.id,
            slug: row.slug.clone(),
            title: row.title.clone(),
            subtitle: row.subtitle.clone(),
            excerpt: if row.password_protected { None } else { row.excerpt.clone() },
            status: ArticleStatus::from_db(&row.status),
            published_at: row.published_at.map(|t| t.and_utc()),
            updated_at: row.updated_at.and_utc(),
            sticky: row.is_sticky,
            password_protected: row.password_protected,
            comment_status: if row.comment_status == "open" { CommentStatus::Open } else { CommentStatus::Closed },
            bylines: rel
                .bylines
                .get(&row.id)
                .map(|v| {
                    v.iter()
                        .map(|b| Byline { id: b.author_id, slug: b.slug.clone(), name: b.display_name.clone() })
                        .collect()
                })
                .unwrap_or_default(),
            categories: terms(&rel.categories),
            tags: terms(&rel.tags),
            featured_media: row.featured_media_id.and_then(|id| rel.media.get(&id)).map(|m| FeaturedMedia {
                id: m.id,
                url: m.source_url.clone(),
                alt_text: m.alt_text.clone(),
                caption: m.caption.clone(),
                credit: m.credit.clone(),
                width: m.width,
                height: m.height,
            }),
            // A protected article's discussion is not public (see the comments endpoint).
            comment_count: if row.password_protected {
                0
            } else {
                rel.comment_counts.get(&row.id).copied().unwrap_or(0)
            },
        }
    }
}

impl Article {
    /// Builds the public view of `row`; the body is withheld when password-protected.
    pub fn build(row: ArticleRow, rel: &Relations) -> Self {
        let summary = ArticleSummary::build(&row, rel);
        Self {
            summary,
            body_html: if row.password_protected { None } else { Some(row.body_html) },
            created_at: row.created_at.and_utc(),
        }
    }
}

crate::list_envelope!(ArticleList, ArticleSummary, "A page of articles (without bodies).");
crate::data_envelope!(ArticleEnvelope, Article, "`{\"data\": Article}`");
