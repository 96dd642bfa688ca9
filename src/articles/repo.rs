//! Queries on `articles` and its relations.
//!
//! Public visibility lives in one place, [`public_articles`]: an article is
//! public when `published`, or `scheduled` with `published_at` in the past, so
//! reads never depend on a background job having flipped the status.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::model::{status, ArticleForm, ArticleRow, BylineRow, TermRow};
use crate::db::schema::{
    article_authors, article_categories, article_tags, articles, authors, categories, comments, tags,
};
use crate::db::DbConnection;
use crate::media::model::MediaRow;
use crate::pagination::PageParams;

type Backend = <DbConnection as diesel::Connection>::Backend;

/// Filters of the public article list; each is a slug.
#[derive(Clone, Debug, Default)]
pub struct ArticleFilter {
    /// Only articles with this author in their byline.
    pub author: Option<String>,
    /// Only articles in this category.
    pub category: Option<String>,
    /// Only articles with this tag.
    pub tag: Option<String>,
}

/// Everything a list page or a detail view shows beside the article row,
/// loaded with one query per relation.
#[derive(Debug, Default)]
pub struct Relations {
    pub bylines: HashMap<i64, Vec<BylineRow>>,
    pub categories: HashMap<i64, Vec<TermRow>>,
    pub tags: HashMap<i64, Vec<TermRow>>,
    pub media: HashMap<i64, MediaRow>,
    pub comment_counts: HashMap<i64, i64>,
}

/// Articles the public may read at `now`.
fn public_articles<'a>(now: NaiveDateTime) -> articles::BoxedQuery<'a, Backend> {
    articles::table
        .filter(
            articles::status
                .eq(status::PUBLISHED)
                .or(articles::status.eq(status::SCHEDULED).and(articles::published_at.le(now))),
        )
        .into_boxed()
}

fn filtered<'a>(filter: &ArticleFilter, now: NaiveDateTime) -> articles::BoxedQuery<'a, Backend> {
    let mut q = public_articles(now);
    if let Some(slug) = filter.author.clone() {
        q = q.filter(
            articles::id.eq_any(
                article_authors::table
                    .inner_join(authors::table)
                    .filter(authors::slug.eq(slug))
                    .select(article_authors::article_id),
            ),
        );
    }
    if let Some(slug) = filter.category.clone() {
        q = q.filter(
            articles::id.eq_any(
                article_categories::table
                    .inner_join(categories::table)
                    .filter(categories::slug.eq(slug))
                    .select(article_categories::article_id),
            ),
        );
    }
    if let Some(slug) = filter.tag.clone() {
        q = q.filter(articles::id.eq_any(
            article_tags::table.inner_join(tags::table).filter(tags::slug.eq(slug)).select(article_tags::article_id),
        ));
    }
    q
}

/// A page of public articles, newest first, and the total matching count.
/// Two queries, whatever the page size.
pub fn list_public(
    conn: &mut DbConnection,
    filter: &ArticleFilter,
    page: &PageParams,
    now: NaiveDateTime,
) -> QueryResult<(Vec<ArticleRow>, i64)> {
    let total = filtered(filter, now).count().get_result(conn)?;
    let rows = filtered(filter, now)
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(ArticleRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The public article with `slug`; `NotFound` for drafts, future scheduled,
/// archived and unknown slugs.
pub fn find_public_by_slug(conn: &mut DbConnection, slug: &str, now: NaiveDateTime) -> QueryResult<ArticleRow> {
    public_articles(now).filter(articles::slug.eq(slug.to_owned())).select(ArticleRow::as_select()).first(conn)
}

/// Loads bylines, categories, tags, featured media and approved comment counts
/// for `rows`: five queries, whatever their number (none when `rows` is empty).
pub fn load_relations(conn: &mut DbConnection, rows: &[ArticleRow]) -> QueryResult<Relations> {
    if rows.is_empty() {
        return Ok(Relations::default());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let media_ids: Vec<i64> = rows.iter().filter_map(|r| r.featured_media_id).collect();

    let bylines: Vec<BylineRow> = article_authors::table
        .inner_join(authors::table)
        .filter(article_authors::article_id.eq_any(&ids))
        .order((article_authors::article_id, article_authors::position, authors::id))
        .select((article_authors::article_id, authors::id, authors::slug, authors::display_name))
        .load(conn)?;
    let cats: Vec<TermRow> = article_categories::table
        .inner_join(categories::table)
        .filter(article_categories::article_id.eq_any(&ids))
        .order((article_categories::article_id, categories::name, categories::id))
        .select((article_categories::article_id, categories::id, categories::slug, categories::name))
        .load(conn)?;
    let tag_rows: Vec<TermRow> = article_tags::table
        .inner_join(tags::table)
        .filter(article_tags::article_id.eq_any(&ids))
        .order((article_tags::article_id, tags::name, tags::id))
        .select((article_tags::article_id, tags::id, tags::slug, tags::name))
        .load(conn)?;
    let media = crate::media::repo::find_many(conn, &media_ids)?;
    let counts: Vec<(i64, i64)> = comments::table
        .filter(comments::article_id.eq_any(&ids))
        .filter(comments::status.eq(crate::comments::model::status::APPROVED))
        .filter(comments::kind.eq(crate::comments::model::kind::COMMENT))
        .group_by(comments::article_id)
        .select((comments::article_id, count_star()))
        .load(conn)?;

    let mut rel = Relations::default();
    for b in bylines {
        rel.bylines.entry(b.article_id).or_default().push(b);
    }
    for c in cats {
        rel.categories.entry(c.article_id).or_default().push(c);
    }
    for t in tag_rows {
        rel.tags.entry(t.article_id).or_default().push(t);
    }
    rel.media = media.into_iter().map(|m| (m.id, m)).collect();
    rel.comment_counts = counts.into_iter().collect();
    Ok(rel)
}

/// Whether `slug` is used by an article other than `except`.
pub fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let id: Option<i64> =
        articles::table.filter(articles::slug.eq(slug)).select(articles::id).first(conn).optional()?;
    Ok(id.is_some() && id != except)
}

/// The article imported from `source` under `key`, if any.
pub fn find_imported(conn: &mut DbConnection, source: &str, key: &str) -> QueryResult<Option<i64>> {
    articles::table
        .filter(articles::import_source.eq(source))
        .filter(articles::import_key.eq(key))
        .select(articles::id)
        .first(conn)
        .optional()
}

/// Inserts an article, or overwrites article `existing`; returns its id.
pub fn save_imported(conn: &mut DbConnection, existing: Option<i64>, form: &ArticleForm) -> QueryResult<i64> {
    match existing {
        Some(id) => diesel::update(articles::table.find(id)).set(form).execute(conn).map(|_| id),
        None => diesel::insert_into(articles::table).values(form).returning(articles::id).get_result(conn),
    }
}

/// Replaces the bylines, categories and tags of `article_id`
/// (bylines in the order given).
pub fn replace_relations(
    conn: &mut DbConnection,
    article_id: i64,
    author_ids: &[i64],
    category_ids: &[i64],
    tag_ids: &[i64],
) -> QueryResult<()> {
    diesel::delete(article_authors::table.filter(article_authors::article_id.eq(article_id))).execute(conn)?;
    diesel::delete(article_categories::table.filter(article_categories::article_id.eq(article_id))).execute(conn)?;
    diesel::delete(article_tags::table.filter(article_tags::article_id.eq(article_id))).execute(conn)?;
    // One INSERT per row: diesel's MultiConnection has no batch insert.
    for (pos, author_id) in dedup(author_ids).into_iter().enumerate() {
        diesel::insert_into(article_authors::table)
            .values((
                article_authors::article_id.eq(article_id),
                article_authors::author_id.eq(author_id),
                article_authors::position.eq(pos as i32),
            ))
            .execute(conn)?;
    }
    for category_id in dedup(category_ids) {
        diesel::insert_into(article_categories::table)
            .values((article_categories::article_id.eq(article_id), article_categories::category_id.eq(category_id)))
            .execute(conn)?;
    }
    for tag_id in dedup(tag_ids) {
        diesel::insert_into(article_tags::table)
            .values((article_tags::article_id.eq(article_id), article_tags::tag_id.eq(tag_id)))
            .execute(conn)?;
    }
    Ok(())
}

/// Sets the featured media of `article_id`.
pub fn set_featured_media(conn: &mut DbConnection, article_id: i64, media_id: Option<i64>) -> QueryResult<()> {
    diesel::update(articles::table.find(article_id))
        .set(articles::featured_media_id.eq(media_id))
        .execute(conn)
        .map(|_| ())
}

fn dedup(ids: &[i64]) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// `(created_at, updated_at, published_at)` of article `id`.
pub fn times_of(
    conn: &mut DbConnection,
    id: i64,
) -> QueryResult<(NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>)> {
    articles::table.find(id).select((articles::created_at, articles::updated_at, articles::published_at)).first(conn)
}
