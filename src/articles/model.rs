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
    pub published_at: Option<NaiveDateTime>,
    pub featured_media_id: Option<i64>,
    pub comment_status: String,
    pub is_sticky: bool,
    pub password_protected: bool,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Fields written when an article is imported (insert or update).
#[derive(Clone, Debug, Insertable, AsChangeset)]
#[diesel(table_name = articles, treat_none_as_null = true)]
pub struct ArticleForm {
    pub slug: String,
    pub title: String,
    pub excerpt: Option<String>,
    pub body_html: String,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub featured_media_id: Option<i64>,
    pub comment_status: String,
    pub is_sticky: bool,
    pub password_protected: bool,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A byline: one author of one article, in order.
#[derive(Clone, Debug, Queryable)]
pub struct BylineRow {
    pub article_id: i64,
    pub author_id: i64,
    pub slug: String,
    pub display_name: String,
}

/// A category or tag attached to an article.
#[derive(Clone, Debug, Queryable)]
pub struct TermRow {
    pub article_id: i64,
    pub id: i64,
    pub slug: String,
    pub name: String,
}
