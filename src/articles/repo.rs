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
    article_authors, article_categories, article_slug_history, article_tags, article_update_notes, articles, authors,
    categories, comments, series, tags,
};
use crate::db::DbConnection;
use crate::media::model::MediaRow;
use crate::pagination::PageParams;
use crate::slugs::IdOrSlug;
use diesel::dsl::sql;
use diesel::sql_types::{Bool, Double, Text};

type Backend = <DbConnection as diesel::Connection>::Backend;

/// Who is reading: decides which articles a query can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Anonymous callers and content keys: public articles only.
    Public,
    /// Contributors and authors: public articles plus their own.
    PublicAndOwn(i64),
    /// Editors, admins and keys with `articles:write`: everything.
    All,
}

/// A status filter (`status=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Drafts.
    Draft,
    /// Scheduled and still in the future.
    Scheduled,
    /// Published, or scheduled whose time has come.
    Published,
    /// Archived.
    Archived,
    /// Every status the caller may see.
    Any,
}

/// Sort orders (`sort=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// Newest publication first (default); unpublished last.
    PublishedDesc,
    /// Oldest publication first; unpublished last.
    PublishedAsc,
    /// Most recently updated first.
    UpdatedDesc,
    /// By title.
    Title,
    /// Best full-text match first (needs `q`).
    Relevance,
}

/// Filters of the article list.
#[derive(Clone, Debug, Default)]
pub struct ArticleFilter {
    /// Only articles with this author (slug) in their byline.
    pub author: Option<String>,
    /// Only articles in these categories (a category and its descendants).
    pub categories: Option<Vec<i64>>,
    /// Only articles with any of these tags (slugs).
    pub tag: Option<Vec<String>>,
    /// Only articles in this series (id).
    pub series: Option<i64>,
    /// Published at or after.
    pub published_after: Option<NaiveDateTime>,
    /// Published at or before.
    pub published_before: Option<NaiveDateTime>,
    /// Full-text query.
    pub q: Option<String>,
    /// Status filter; `None` means published.
    pub status: Option<StatusFilter>,
}

/// Everything a list page or a detail view shows beside the article row,
/// loaded with one query per relation.
#[derive(Debug, Default)]
pub struct Relations {
    pub bylines: HashMap<i64, Vec<BylineRow>>,
    pub categories: HashMap<i64, Vec<TermRow>>,
    pub tags: HashMap<i64, Vec<TermRow>>,
    pub media: HashMap<i64, MediaRow>,
    /// `PUBLIC_BASE_URL`, for media URLs.
    pub base_url: String,
    pub comment_counts: HashMap<i64, i64>,
    pub series: HashMap<i64, SeriesRow>,
    /// (id, note, created_at) per article; loaded for detail views only.
    pub notes: HashMap<i64, Vec<(i64, String, NaiveDateTime)>>,
}

/// One `series` row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = series)]
pub struct SeriesRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The public predicate: published, or scheduled whose time has come.
fn public_articles<'a>(now: NaiveDateTime) -> articles::BoxedQuery<'a, Backend> {
    articles::table
        .filter(
            articles::status
                .eq(status::PUBLISHED)
                .or(articles::status.eq(status::SCHEDULED).and(articles::published_at.le(now))),
        )
        .into_boxed()
}

fn visible<'a>(vis: Visibility, now: NaiveDateTime) -> articles::BoxedQuery<'a, Backend> {
    match vis {
        Visibility::Public => public_articles(now),
        Visibility::All => articles::table.into_boxed(),
        Visibility::PublicAndOwn(user) => articles::table
            .filter(
                articles::status
                    .eq(status::PUBLISHED)
                    .or(articles::status.eq(status::SCHEDULED).and(articles::published_at.le(now)))
                    .or(articles::owner_id.eq(user)),
            )
            .into_boxed(),
    }
}

/// An FTS5 query that matches every word of `q` literally (each word quoted).
fn fts5_query(q: &str) -> String {
    q.split_whitespace().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

fn filtered<'a>(
    pg: bool,
    vis: Visibility,
    filter: &ArticleFilter,
    now: NaiveDateTime,
) -> articles::BoxedQuery<'a, Backend> {
    let mut q = visible(vis, now);
    q = match filter.status.unwrap_or(StatusFilter::Published) {
        StatusFilter::Published => q.filter(
            articles::status
                .eq(status::PUBLISHED)
                .or(articles::status.eq(status::SCHEDULED).and(articles::published_at.le(now))),
        ),
        StatusFilter::Scheduled => {
            q.filter(articles::status.eq(status::SCHEDULED)).filter(articles::published_at.gt(now))
        }
        StatusFilter::Draft => q.filter(articles::status.eq(status::DRAFT)),
        StatusFilter::Archived => q.filter(articles::status.eq(status::ARCHIVED)),
        StatusFilter::Any => q,
    };
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
    if let Some(ids) = filter.categories.clone() {
        q = q.filter(
            articles::id.eq_any(
                article_categories::table
                    .filter(article_categories::category_id.eq_any(ids))
                    .select(article_categories::article_id),
            ),
        );
    }
    if let Some(slug) = filter.tag.clone() {
        q = q.filter(
            articles::id.eq_any(
                article_tags::table
                    .inner_join(tags::table)
                    .filter(tags::slug.eq_any(slug))
                    .select(article_tags::article_id),
            ),
        );
    }
    if let Some(id) = filter.series {
        q = q.filter(articles::series_id.eq(id));
    }
    if let Some(t) = filter.published_after {
        q = q.filter(articles::published_at.ge(t));
    }
    if let Some(t) = filter.published_before {
        q = q.filter(articles::published_at.le(t));
    }
    if let Some(text) = filter.q.clone() {
        q = if pg {
            q.filter(sql::<Bool>("articles.search @@ plainto_tsquery('english', ").bind::<Text, _>(text).sql(")"))
        } else {
            q.filter(
                sql::<Bool>("articles.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ")
                    .bind::<Text, _>(fts5_query(&text))
                    .sql(")"),
            )
        };
    }
    q
}

/// A page of articles and the total matching count: two queries, whatever
/// the page size. Each article counts once, however many filters match it.
pub fn list(
    conn: &mut DbConnection,
    vis: Visibility,
    filter: &ArticleFilter,
    sort: Sort,
    page: &PageParams,
    now: NaiveDateTime,
) -> QueryResult<(Vec<ArticleRow>, i64)> {
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let total = filtered(pg, vis, filter, now).count().get_result(conn)?;
    let q = filtered(pg, vis, filter, now);
    let q = match sort {
        Sort::PublishedDesc => {
            q.order((articles::published_at.is_null().asc(), articles::published_at.desc(), articles::id.desc()))
        }
        Sort::PublishedAsc => {
            q.order((articles::published_at.is_null().asc(), articles::published_at.asc(), articles::id.asc()))
        }
        Sort::UpdatedDesc => q.order((articles::updated_at.desc(), articles::id.desc())),
        Sort::Title => q.order((articles::title.asc(), articles::id.asc())),
        Sort::Relevance => {
            let text = filter.q.clone().unwrap_or_default();
            if pg {
                q.order(
                    sql::<Double>("ts_rank(articles.search, plainto_tsquery('english', ")
                        .bind::<Text, _>(text)
                        .sql("))")
                        .desc(),
                )
                .then_order_by(articles::id.desc())
            } else {
                q.order(
                    sql::<Double>(
                        "(SELECT bm25(articles_fts, 10.0, 5.0, 1.0) FROM articles_fts \
                         WHERE articles_fts MATCH ",
                    )
                    .bind::<Text, _>(fts5_query(&text))
                    .sql(" AND articles_fts.rowid = articles.id)")
                    .asc(),
                )
                .then_order_by(articles::id.desc())
            }
        }
    };
    let rows = q.limit(page.per_page).offset(page.offset()).select(ArticleRow::as_select()).load(conn)?;
    Ok((rows, total))
}

/// The article named by an id or a slug, whatever its status.
pub fn find_by_key(conn: &mut DbConnection, key: &IdOrSlug) -> QueryResult<Option<ArticleRow>> {
    match key {
        IdOrSlug::Id(id) => articles::table.find(*id).select(ArticleRow::as_select()).first(conn).optional(),
        IdOrSlug::Slug(s) => {
            articles::table.filter(articles::slug.eq(s)).select(ArticleRow::as_select()).first(conn).optional()
        }
    }
}

/// The current slug of the article that used to be called `old`.
pub fn redirect_for(conn: &mut DbConnection, old: &str) -> QueryResult<Option<(String, ArticleRow)>> {
    let row: Option<ArticleRow> = article_slug_history::table
        .inner_join(articles::table)
        .filter(article_slug_history::slug.eq(old))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|r| (r.slug.clone(), r)))
}

/// Ids of category `slug` and all its descendants (one query for the tree).
pub fn category_and_descendants(conn: &mut DbConnection, slug: &str) -> QueryResult<Vec<i64>> {
    let all: Vec<(i64, String, Option<i64>)> =
        categories::table.select((categories::id, categories::slug, categories::parent_id)).load(conn)?;
    let Some(root) = all.iter().find(|(_, s, _)| s == slug).map(|(id, _, _)| *id) else { return Ok(Vec::new()) };
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let current = out[i];
        for (id, _, parent) in &all {
            if *parent == Some(current) && !out.contains(id) {
                out.push(*id);
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Loads bylines, categories, tags, media (featured and OG), approved comment
/// counts and series for `rows` (plus update notes when `with_notes`): six or
/// seven queries, whatever their number (none when `rows` is empty).
pub fn load_relations(
    conn: &mut DbConnection,
    rows: &[ArticleRow],
    with_notes: bool,
    base_url: &str,
) -> QueryResult<Relations> {
    if rows.is_empty() {
        return Ok(Relations { base_url: base_url.to_owned(), ..Default::default() });
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let media_ids: Vec<i64> = rows.iter().flat_map(|r| [r.featured_media_id, r.og_image_media_id]).flatten().collect();
    let series_ids: Vec<i64> = rows.iter().filter_map(|r| r.series_id).collect();

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

    let series_rows: Vec<SeriesRow> =
        series::table.filter(series::id.eq_any(&series_ids)).select(SeriesRow::as_select()).load(conn)?;
    let notes: Vec<(i64, i64, String, NaiveDateTime)> = if with_notes {
        article_update_notes::table
            .filter(article_update_notes::article_id.eq_any(&ids))
            .order((article_update_notes::created_at.asc(), article_update_notes::id.asc()))
            .select((
                article_update_notes::article_id,
                article_update_notes::id,
                article_update_notes::note,
                article_update_notes::created_at,
            ))
            .load(conn)?
    } else {
        Vec::new()
    };

    let mut rel = Relations {
        series: series_rows.into_iter().map(|s| (s.id, s)).collect(),
        base_url: base_url.to_owned(),
        ..Default::default()
    };
    for (article, id, note, at) in notes {
        rel.notes.entry(article).or_default().push((id, note, at));
    }
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

/// Every column an editor writes, plus what is rendered from them.
#[derive(Clone, Debug, AsChangeset, Insertable)]
#[diesel(table_name = articles, treat_none_as_null = true)]
pub struct ArticleColumns {
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub excerpt: Option<String>,
    pub body_format: String,
    pub body_source: String,
    pub body_html: String,
    pub body_text: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
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
    pub is_sticky: bool,
    pub updated_at: NaiveDateTime,
}

/// Inserts a new article owned by `owner`; returns its id.
pub fn insert_article(conn: &mut DbConnection, cols: &ArticleColumns, owner: Option<i64>) -> QueryResult<i64> {
    diesel::insert_into(articles::table)
        .values((cols, articles::owner_id.eq(owner), articles::created_at.eq(cols.updated_at), articles::version.eq(1)))
        .returning(articles::id)
        .get_result(conn)
}

/// Overwrites article `id` if it is still at `version`, bumping the version.
/// Returns false when someone else saved first.
pub fn update_article(conn: &mut DbConnection, id: i64, version: i32, cols: &ArticleColumns) -> QueryResult<bool> {
    let n = diesel::update(articles::table.filter(articles::id.eq(id)).filter(articles::version.eq(version)))
        .set((cols, articles::version.eq(version + 1)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Deletes article `id` if it is still at `version`.
pub fn delete_article(conn: &mut DbConnection, id: i64, version: i32) -> QueryResult<bool> {
    let n = diesel::delete(articles::table.filter(articles::id.eq(id)).filter(articles::version.eq(version)))
        .execute(conn)?;
    Ok(n == 1)
}

/// The article `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<ArticleRow> {
    articles::table.find(id).select(ArticleRow::as_select()).first(conn)
}

/// `(bylines, categories, tags)` ids of article `id`, bylines in order.
pub fn relation_ids(conn: &mut DbConnection, id: i64) -> QueryResult<(Vec<i64>, Vec<i64>, Vec<i64>)> {
    let bylines = article_authors::table
        .filter(article_authors::article_id.eq(id))
        .order(article_authors::position)
        .select(article_authors::author_id)
        .load(conn)?;
    let mut cats: Vec<i64> = article_categories::table
        .filter(article_categories::article_id.eq(id))
        .select(article_categories::category_id)
        .load(conn)?;
    let mut tag_ids: Vec<i64> =
        article_tags::table.filter(article_tags::article_id.eq(id)).select(article_tags::tag_id).load(conn)?;
    cats.sort_unstable();
    tag_ids.sort_unstable();
    Ok((bylines, cats, tag_ids))
}

/// Whether `slug` names an article other than `except`, now or in its slug history.
pub fn slug_in_use(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    if slug_taken(conn, slug, except)? {
        return Ok(true);
    }
    let owner: Option<i64> = article_slug_history::table
        .filter(article_slug_history::slug.eq(slug))
        .select(article_slug_history::article_id)
        .first(conn)
        .optional()?;
    Ok(owner.is_some() && owner != except)
}

/// Records that article `id` used to be called `old` (and frees `new` from its own history).
pub fn record_slug_change(conn: &mut DbConnection, id: i64, old: &str, new: &str) -> QueryResult<()> {
    diesel::delete(
        article_slug_history::table
            .filter(article_slug_history::slug.eq(new))
            .filter(article_slug_history::article_id.eq(id)),
    )
    .execute(conn)?;
    let exists: bool =
        diesel::select(diesel::dsl::exists(article_slug_history::table.filter(article_slug_history::slug.eq(old))))
            .get_result(conn)?;
    if !exists {
        diesel::insert_into(article_slug_history::table)
            .values((
                article_slug_history::slug.eq(old),
                article_slug_history::article_id.eq(id),
                article_slug_history::created_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Appends a public update note to article `id`.
pub fn add_update_note(conn: &mut DbConnection, id: i64, note: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(article_update_notes::table)
        .values((
            article_update_notes::article_id.eq(id),
            article_update_notes::note.eq(note),
            article_update_notes::created_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Stores a revision of article `id`.
pub fn insert_revision(
    conn: &mut DbConnection,
    id: i64,
    user: Option<i64>,
    changed: &[String],
    snapshot: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    use crate::db::schema::article_revisions as r;
    diesel::insert_into(r::table)
        .values((
            r::article_id.eq(id),
            r::user_id.eq(user),
            r::changed_fields.eq(changed.join(",")),
            r::snapshot.eq(snapshot),
            r::created_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A page of revisions of article `id`, newest first: (id, user, changed, created_at).
#[allow(clippy::type_complexity)]
pub fn list_revisions(
    conn: &mut DbConnection,
    id: i64,
    page: &PageParams,
) -> QueryResult<(Vec<(i64, Option<i64>, String, NaiveDateTime)>, i64)> {
    use crate::db::schema::article_revisions as r;
    let total = r::table.filter(r::article_id.eq(id)).count().get_result(conn)?;
    let rows = r::table
        .filter(r::article_id.eq(id))
        .order(r::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select((r::id, r::user_id, r::changed_fields, r::created_at))
        .load(conn)?;
    Ok((rows, total))
}

/// The snapshot stored with revision `rev` of article `id`.
pub fn revision_snapshot(conn: &mut DbConnection, id: i64, rev: i64) -> QueryResult<String> {
    use crate::db::schema::article_revisions as r;
    r::table.filter(r::id.eq(rev)).filter(r::article_id.eq(id)).select(r::snapshot).first(conn)
}

/// Whether every id in `ids` exists in the table chosen by `kind`
/// (`authors`, `categories`, `tags`, `media`, `series`).
pub fn all_exist(conn: &mut DbConnection, kind: &str, ids: &[i64]) -> QueryResult<bool> {
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if unique.is_empty() {
        return Ok(true);
    }
    let found: i64 = match kind {
        "authors" => authors::table.filter(authors::id.eq_any(&unique)).count().get_result(conn)?,
        "categories" => categories::table.filter(categories::id.eq_any(&unique)).count().get_result(conn)?,
        "tags" => tags::table.filter(tags::id.eq_any(&unique)).count().get_result(conn)?,
        "series" => series::table.filter(series::id.eq_any(&unique)).count().get_result(conn)?,
        _ => {
            use crate::db::schema::media;
            media::table.filter(media::id.eq_any(&unique)).count().get_result(conn)?
        }
    };
    Ok(found == unique.len() as i64)
}

/// Public articles sharing tags (weight 2) or categories (weight 1) with
/// article `id`, best first, at most `limit`: five queries.
pub fn related(conn: &mut DbConnection, id: i64, limit: i64, now: NaiveDateTime) -> QueryResult<Vec<ArticleRow>> {
    let my_tags: Vec<i64> =
        article_tags::table.filter(article_tags::article_id.eq(id)).select(article_tags::tag_id).load(conn)?;
    let my_cats: Vec<i64> = article_categories::table
        .filter(article_categories::article_id.eq(id))
        .select(article_categories::category_id)
        .load(conn)?;
    let by_tag: Vec<(i64, i64)> = article_tags::table
        .filter(article_tags::tag_id.eq_any(&my_tags))
        .filter(article_tags::article_id.ne(id))
        .group_by(article_tags::article_id)
        .select((article_tags::article_id, count_star()))
        .load(conn)?;
    let by_cat: Vec<(i64, i64)> = article_categories::table
        .filter(article_categories::category_id.eq_any(&my_cats))
        .filter(article_categories::article_id.ne(id))
        .group_by(article_categories::article_id)
        .select((article_categories::article_id, count_star()))
        .load(conn)?;
    let mut score: HashMap<i64, i64> = HashMap::new();
    for (a, n) in by_tag {
        *score.entry(a).or_default() += 2 * n;
    }
    for (a, n) in by_cat {
        *score.entry(a).or_default() += n;
    }
    let candidates: Vec<i64> = score.keys().copied().collect();
    let mut rows: Vec<ArticleRow> =
        public_articles(now).filter(articles::id.eq_any(candidates)).select(ArticleRow::as_select()).load(conn)?;
    rows.sort_by(|a, b| {
        score[&b.id].cmp(&score[&a.id]).then(b.published_at.cmp(&a.published_at)).then(b.id.cmp(&a.id))
    });
    rows.truncate(limit as usize);
    Ok(rows)
}

/// Who minted a preview link: a user in a session family, or an API key.
#[derive(Clone, Debug)]
pub enum PreviewCreator {
    /// A signed-in user; the link dies with that session.
    User {
        /// User id.
        id: i64,
        /// Session family of the access token used.
        session_family: String,
    },
    /// An API key; the link dies with the key.
    Key(i64),
}

/// Stores a preview link for `article_id` under the SHA-256 of its token.
pub fn insert_preview(
    conn: &mut DbConnection,
    article_id: i64,
    token_hash: &str,
    creator: &PreviewCreator,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    use crate::db::schema::article_previews as p;
    let (user, family, key) = match creator {
        PreviewCreator::User { id, session_family } => (Some(*id), Some(session_family.clone()), None),
        PreviewCreator::Key(id) => (None, None, Some(*id)),
    };
    diesel::insert_into(p::table)
        .values((
            p::article_id.eq(article_id),
            p::token_hash.eq(token_hash),
            p::user_id.eq(user),
            p::session_family.eq(family),
            p::api_key_id.eq(key),
            p::expires_at.eq(expires_at),
            p::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The article and creator of an unexpired, unrevoked preview link.
pub fn live_preview(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, PreviewCreator)>> {
    use crate::db::schema::article_previews as p;
    type PreviewRow = (i64, Option<i64>, Option<String>, Option<i64>);
    let found: Option<PreviewRow> = p::table
        .filter(p::token_hash.eq(token_hash))
        .filter(p::revoked_at.is_null())
        .filter(p::expires_at.gt(now))
        .select((p::article_id, p::user_id, p::session_family, p::api_key_id))
        .first(conn)
        .optional()?;
    Ok(found.and_then(|(article, user, family, key)| {
        let creator = match (user, family, key) {
            (Some(id), Some(session_family), _) => PreviewCreator::User { id, session_family },
            (_, _, Some(key)) => PreviewCreator::Key(key),
            _ => return None,
        };
        Some((article, creator))
    }))
}

/// Revokes every live preview link of `article_id`; returns how many.
pub fn revoke_previews(conn: &mut DbConnection, article_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    use crate::db::schema::article_previews as p;
    diesel::update(p::table.filter(p::article_id.eq(article_id)).filter(p::revoked_at.is_null()))
        .set(p::revoked_at.eq(now))
        .execute(conn)
}
