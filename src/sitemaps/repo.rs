//! Queries for sitemaps. Articles are the listed ones (`crate::feeds::repo::listed`:
//! public and not password-protected); pages the published ones; authors,
//! categories and tags appear once at least one listed article carries them,
//! with the newest `lastmod` of those articles (or their own `updated_at`,
//! if later) as theirs.

use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;

use crate::db::schema::{
    article_authors, article_categories, article_tags, articles, authors, categories, pages, tags,
};
use crate::db::DbConnection;
use crate::feeds::repo::listed;

/// What a sitemap file lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Listed articles (with `lastmod`).
    Articles,
    /// Published pages (with `lastmod`).
    Pages,
    /// Authors with a listed article.
    Authors,
    /// Categories with a listed article.
    Categories,
    /// Tags with a listed article.
    Tags,
}

impl Source {
    /// Every source, in index order.
    pub const ALL: [Source; 5] = [Source::Articles, Source::Pages, Source::Authors, Source::Categories, Source::Tags];

    /// The file-name stem (`articles` in `articles-1.xml`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Articles => "articles",
            Self::Pages => "pages",
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

/// The public predicate of `listed_ids!` on a joined `articles`.
macro_rules! listed_on_join {
    ($now:expr) => {
        articles::status
            .eq(crate::articles::model::status::PUBLISHED)
            .or(articles::status.eq(crate::articles::model::status::SCHEDULED).and(articles::published_at.le($now)))
    };
}

/// How many URLs `source` has at `now`.
pub fn count(conn: &mut DbConnection, source: Source, now: NaiveDateTime) -> QueryResult<i64> {
    match source {
        Source::Articles => listed(now).count().get_result(conn),
        Source::Pages => {
            pages::table.filter(pages::status.eq(crate::pages::model::status::PUBLISHED)).count().get_result(conn)
        }
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
        Source::Pages => Ok(pages::table
            .filter(pages::status.eq(crate::pages::model::status::PUBLISHED))
            .order(pages::id.asc())
            .offset(offset)
            .limit(per_page)
            .select((pages::id, pages::slug, pages::updated_at))
            .load::<(i64, String, NaiveDateTime)>(conn)?
            .into_iter()
            .map(|(id, slug, updated)| (id, slug, epoch, Some(updated)))
            .collect()),
        Source::Authors => {
            let rows: Vec<(i64, String, NaiveDateTime)> = authors::table
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
                .select((authors::id, authors::slug, authors::updated_at))
                .load(conn)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let latest: Vec<Latest> = article_authors::table
                .inner_join(articles::table)
                .filter(article_authors::author_id.eq_any(&ids))
                .filter(listed_on_join!(now))
                .filter(articles::password_protected.eq(false))
                .group_by(article_authors::author_id)
                .select((article_authors::author_id, max(articles::updated_at), max(articles::published_at)))
                .load(conn)?;
            Ok(with_latest(rows, &latest))
        }
        Source::Categories => {
            let rows: Vec<(i64, String, NaiveDateTime)> = categories::table
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
                .select((categories::id, categories::slug, categories::updated_at))
                .load(conn)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let latest: Vec<Latest> = article_categories::table
                .inner_join(articles::table)
                .filter(article_categories::category_id.eq_any(&ids))
                .filter(listed_on_join!(now))
                .filter(articles::password_protected.eq(false))
                .group_by(article_categories::category_id)
                .select((article_categories::category_id, max(articles::updated_at), max(articles::published_at)))
                .load(conn)?;
            Ok(with_latest(rows, &latest))
        }
        Source::Tags => {
            let rows: Vec<(i64, String, NaiveDateTime)> = tags::table
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
                .select((tags::id, tags::slug, tags::updated_at))
                .load(conn)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let latest: Vec<Latest> = article_tags::table
                .inner_join(articles::table)
                .filter(article_tags::tag_id.eq_any(&ids))
                .filter(listed_on_join!(now))
                .filter(articles::password_protected.eq(false))
                .group_by(article_tags::tag_id)
                .select((article_tags::tag_id, max(articles::updated_at), max(articles::published_at)))
                .load(conn)?;
            Ok(with_latest(rows, &latest))
        }
    }
}

/// Per author, category or tag: the newest `updated_at` and `published_at`
/// of its listed articles.
type Latest = (i64, Option<NaiveDateTime>, Option<NaiveDateTime>);

/// Rows with `lastmod`: the latest of their own `updated_at` and their
/// listed articles' `lastmod` (an article's is its `updated_at` or, if later,
/// its `published_at`, as in the articles' own files). Two queries a page,
/// whatever its size.
fn with_latest(rows: Vec<(i64, String, NaiveDateTime)>, latest: &[Latest]) -> Vec<Row> {
    let by_id: std::collections::HashMap<i64, Option<NaiveDateTime>> =
        latest.iter().map(|(id, updated, published)| (*id, (*updated).max(*published))).collect();
    rows.into_iter()
        .map(|(id, slug, own)| {
            let lastmod = by_id.get(&id).copied().flatten().map_or(own, |a| a.max(own));
            (id, slug, NaiveDateTime::default(), Some(lastmod))
        })
        .collect()
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
