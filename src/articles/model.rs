//! Database rows for `articles` and its join tables.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::articles;

/// Article status values stored in `articles.status`.
pub mod status {
    /// Being written; never public.
    pub const DRAFT: &str = "draft";
    /// Public from `published_at` on.
    pub const SCHEDULED: &str = "scheduled";
    /// Public.
    pub const PUBLISHED: &str = "published";
    /// Withdrawn from lists and reads.
    pub const ARCHIVED: &str = "archived";
}

/// One `articles` row.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = articles)]
pub struct ArticleRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub excerpt: Option<String>,
    pub body_html: String,
    pub status: String,
    #[diesel(deserialize_as = crate::db::time::MaybeTime)]
    pub published_at: Option<NaiveDateTime>,
    pub featured_media_id: Option<i64>,
    pub comment_status: String,
    pub is_sticky: bool,
    pub password_protected: bool,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    #[diesel(deserialize_as = crate::db::time::Time)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::time::Time)]
    pub updated_at: NaiveDateTime,
    pub body_format: String,
    pub body_source: String,
    pub body_text: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub series_id: Option<i64>,
    pub series_position: Option<i32>,
    pub featured_caption: Option<String>,
    pub featured_credit: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub og_image_media_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub version: i32,
}

impl ArticleRow {
    /// The status readers see at `now`: a scheduled article whose time has
    /// come is published, whether or not anything has flipped the column.
    pub fn effective_status(&self, now: NaiveDateTime) -> &str {
        if self.status == status::SCHEDULED && self.published_at.is_some_and(|t| t <= now) {
            status::PUBLISHED
        } else {
            &self.status
        }
    }

    /// Whether the public may read it at `now`.
    pub fn is_public(&self, now: NaiveDateTime) -> bool {
        self.effective_status(now) == status::PUBLISHED
    }

    /// The strong ETag of this version: `"a{id}-v{version}"`.
    pub fn etag(&self) -> String {
        format!("\"a{}-v{}\"", self.id, self.version)
    }
}

/// Fields written when an article is imported (insert or update).
#[derive(Clone, Debug, Insertable, AsChangeset)]
#[diesel(table_name = articles, treat_none_as_null = true)]
pub struct ArticleForm {
    pub slug: String,
    pub title: String,
    pub excerpt: Option<String>,
    pub body_html: String,
    pub body_format: String,
    pub body_source: String,
    pub body_text: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub featured_media_id: Option<i64>,
    pub comment_status: String,
    pub is_sticky: bool,
    pub password_protected: bool,
    /// argon2id PHC hash of the post password (`wp:post_password`, hashed on import).
    pub password_hash: Option<String>,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A byline: one author of one article, in order, with what a list shows of
/// the author (avatar) and what `include=authors` embeds (bio, website,
/// social links), all read by the one bylines query.
#[derive(Clone, Debug, Queryable)]
pub struct BylineRow {
    pub article_id: i64,
    pub author_id: i64,
    pub slug: String,
    pub display_name: String,
    pub avatar_media_id: Option<i64>,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
    pub website: Option<String>,
    pub social_links: String,
}

/// A category or tag attached to an article.
#[derive(Clone, Debug, Queryable)]
pub struct TermRow {
    pub article_id: i64,
    pub id: i64,
    pub slug: String,
    pub name: String,
}
