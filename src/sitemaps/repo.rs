//! Queries for sitemaps. Articles are the listed ones (`crate::feeds::repo::listed`:
//! public and not password-protected); authors, categories and tags appear
//! once at least one listed article carries them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{article_authors, article_categories, article_tags, articles, authors, categories, tags};
use crate::db::DbConnection;
use crate::feeds::repo::listed;

/// What a sitemap file lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Listed articles (with `lastmod`).
    Articles,
    /// Authors with a listed article.
    Authors,
    /// Categories with a listed article.
    Categories,
    /// Tags with a listed article.
    Tags,
}

impl Source {
    /// Every source, in index order.
    pub const ALL: [Source; 4] = [Source::Articles, Source::Authors, Source::Categories, Source::Tags];

    /// The file-name stem (`articles` in `articles-1.xml`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Articles => "articles",
            Self::Authors => "authors",
            Self::Categories => "categories",
            Self::Tags => "tags",
        }
    }

    /// Parses a stem.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One URL's raw material: `(id, slug, date for the pattern, lastmod)`.
pub type Row = (i64, String, NaiveDateTime, Option<NaiveDateTime>);

/// Ids of listed articles as an unboxed subquery (a boxed one cannot be
/// nested through `MultiConnection`); the predicate matches `feeds::repo::listed`.
macro_rules! listed_ids {
    ($now:expr) => {
        articles::table
            .filter(articles::status.eq(crate::articles::model::status::PUBLISHED).or(
                articles::status.eq(crate::articles::model::status::SCHEDULED).and(articles::published_at.le($now)),
            ))
            .filter(articles::password_protected.eq(false))
            .select(articles::id)
    };
}

/// How many URLs `source` has at `now`.
pub fn count(conn: &mut DbConnection, source: Source, now: NaiveDateTime) -> QueryResult<i64> {
    match source {
        Source::Articles => listed(now).count().get_result(conn),
        Source::Authors => authors::table
            .filter(
                authors::id.eq_any(
                    article_authors::table
                        .filter(article_authors::article_id.eq_any(listed_ids!(now)))
                        .select(article_authors::author_id),
                ),
            )
            .count()
            .get_result(conn),
        Source::Categories => categories::table
            .filter(
                categories::id.eq_any(
                    article_categories::table
                        .filter(article_categories::article_id.eq_any(listed_ids!(now)))
                        .select(article_categories::category_id),
                ),
            )
            .count()
            .get_result(conn),
        Source::Tags => tags::table
            .filter(
                tags::id.eq_any(
                    article_tags::table
                        .filter(article_tags::article_id.eq_any(listed_ids!(now)))
                        .select(article_tags::tag_id),
                ),
            )
            .count()
            .get_result(conn),
    }
}

/// Page `page` (0-based) of `per_page` URLs of `source`, by id.
pub fn page(
    conn: &mut DbConnection,
    source: Source,
    page: i64,
    per_page: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<Row>> {
    let offset = page * per_page;
    let epoch = NaiveDateTime::default();
    match source {
        Source::Articles => {
            let rows: Vec<(i64, String, Option<NaiveDateTime>, NaiveDateTime, NaiveDateTime)> = listed(now)
                .order(articles::id.asc())
                .offset(offset)
                .limit(per_page)
                .select((
                    articles::id,
                    articles::slug,
                    articles::published_at,
                    articles::created_at,
                    articles::updated_at,
                ))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|(id, slug, published, created, updated)| {
                    let published = published.unwrap_or(created);
                    (id, slug, published, Some(updated.max(published)))
                })
                .collect())
        }
        Source::Authors => Ok(authors::table
            .filter(
                authors::id.eq_any(
                    article_authors::table
                        .filter(article_authors::article_id.eq_any(listed_ids!(now)))
                        .select(article_authors::author_id),
                ),
            )
            .order(authors::id.asc())
            .offset(offset)
            .limit(per_page)
            .select((authors::id, authors::slug))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .map(|(id, slug)| (id, slug, epoch, None))
            .collect()),
        Source::Categories => Ok(categories::table
            .filter(
                categories::id.eq_any(
                    article_categories::table
                        .filter(article_categories::article_id.eq_any(listed_ids!(now)))
                        .select(article_categories::category_id),
                ),
            )
            .order(categories::id.asc())
            .offset(offset)
            .limit(per_page)
            .select((categories::id, categories::slug))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .map(|(id, slug)| (id, slug, epoch, None))
            .collect()),
        Source::Tags => Ok(tags::table
            .filter(
                tags::id.eq_any(
                    article_tags::table
                        .filter(article_tags::article_id.eq_any(listed_ids!(now)))
                        .select(article_tags::tag_id),
                ),
            )
            .order(tags::id.asc())
            .offset(offset)
            .limit(per_page)
            .select((tags::id, tags::slug))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .map(|(id, slug)| (id, slug, epoch, None))
            .collect()),
    }
}

/// Listed articles published in `[since, now]`, newest first, at most
/// `limit`: `(id, slug, title, published_at)`.
pub fn news(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<(i64, String, String, NaiveDateTime)>> {
    let rows: Vec<(i64, String, String, Option<NaiveDateTime>)> = listed(now)
        .filter(articles::published_at.ge(since))
        .filter(articles::published_at.le(now))
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .select((articles::id, articles::slug, articles::title, articles::published_at))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, slug, title, at)| Some((id, slug, title, at?))).collect())
}
