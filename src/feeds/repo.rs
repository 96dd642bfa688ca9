//! Queries for feeds and sitemaps: public articles (published, or scheduled
//! whose time has come) that are not password-protected, newest first.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::articles::model::{status, ArticleRow};
use crate::db::schema::{article_authors, article_categories, article_tags, articles, tags};
use crate::db::DbConnection;

type Backend = <DbConnection as diesel::Connection>::Backend;

/// Public, unprotected articles at `now` (the same predicate as the articles API).
pub fn listed<'a>(now: NaiveDateTime) -> articles::BoxedQuery<'a, Backend> {
    articles::table
        .filter(
            articles::status
                .eq(status::PUBLISHED)
                .or(articles::status.eq(status::SCHEDULED).and(articles::published_at.le(now))),
        )
        .filter(articles::password_protected.eq(false))
        .into_boxed()
}

/// Which articles a feed holds.
#[derive(Clone, Debug)]
pub enum Scope {
    /// Every listed article.
    Site,
    /// Articles in any of these categories (a category and its descendants).
    Categories(Vec<i64>),
    /// Articles with this tag.
    Tag(i64),
    /// Articles with this author in their byline.
    Author(i64),
    /// Articles in this series.
    Series(i64),
}

/// The newest `limit` listed articles in `scope`: one query.
pub fn newest(conn: &mut DbConnection, scope: &Scope, limit: i64, now: NaiveDateTime) -> QueryResult<Vec<ArticleRow>> {
    let q = listed(now);
    let q = match scope {
        Scope::Site => q,
        Scope::Categories(ids) => q.filter(
            articles::id.eq_any(
                article_categories::table
                    .filter(article_categories::category_id.eq_any(ids.clone()))
                    .select(article_categories::article_id),
            ),
        ),
        Scope::Tag(id) => q.filter(
            articles::id
                .eq_any(article_tags::table.filter(article_tags::tag_id.eq(*id)).select(article_tags::article_id)),
        ),
        Scope::Author(id) => q.filter(articles::id.eq_any(
            article_authors::table.filter(article_authors::author_id.eq(*id)).select(article_authors::article_id),
        )),
        Scope::Series(id) => q.filter(articles::series_id.eq(*id)),
    };
    q.order((articles::published_at.is_null().asc(), articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .select(ArticleRow::as_select())
        .load(conn)
}

/// `(id, name)` of the tag `slug`.
pub fn tag_by_slug(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<(i64, String)>> {
    tags::table.filter(tags::slug.eq(slug)).select((tags::id, tags::name)).first(conn).optional()
}
