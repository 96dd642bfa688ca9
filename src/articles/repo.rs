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
use crate::db::cached::{any_of, fixed_sql, FixedSql};
use crate::db::schema::{
    article_authors, article_categories, article_slug_history, article_tags, article_update_notes, articles, authors,
    categories, comments, series, tags,
};
use crate::db::DbConnection;
use crate::media::model::MediaRow;
use crate::pagination::PageParams;
use crate::slugs::IdOrSlug;
use diesel::dsl::sql;
use diesel::sql_types::{BigInt, Bool, Double, Text};

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
    /// Sticky articles first, then newest publication first
    /// (`sticky_first=true`), on `articles_sticky_list_idx`.
    StickyPublishedDesc,
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
pub(crate) fn public_articles<'a>(now: NaiveDateTime) -> articles::BoxedQuery<'a, Backend> {
    articles::table
        .filter(
            articles::status
                .eq(status::PUBLISHED)
                .or(articles::status.eq(status::SCHEDULED).and(articles::published_at.le(now))),
        )
        .into_boxed()
}

/// The public predicate for list queries. On SQLite the status terms carry a
/// unary `+` so the planner never drives the query from the status index
/// (which would sort the whole archive in a temporary B-tree): it walks the
/// index matching the sort instead and reads `status`/`published_at` from it.
fn public_sql(pg: bool, now: NaiveDateTime) -> FixedSql<Bool> {
    fixed_sql::<Bool>(public_head(pg)).time(now).sql("))")
}

/// The text of the public predicate up to its time parameter (one of two
/// fixed strings, so the statement is prepared once per connection).
fn public_head(pg: bool) -> &'static str {
    static HEADS: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    let heads = HEADS.get_or_init(|| {
        ["+articles.status", "articles.status"].map(|col| {
            format!(
                "({col} = '{}' OR ({col} = '{}' AND articles.published_at <= ",
                status::PUBLISHED,
                status::SCHEDULED
            )
        })
    });
    &heads[usize::from(pg)]
}

fn visible<'a>(pg: bool, vis: Visibility, now: NaiveDateTime) -> articles::BoxedQuery<'a, Backend> {
    match vis {
        Visibility::Public => articles::table.filter(public_sql(pg, now)).into_boxed(),
        Visibility::All => articles::table.into_boxed(),
        Visibility::PublicAndOwn(user) => articles::table
            .filter(fixed_sql::<Bool>(public_head(pg)).time(now).sql(") OR articles.owner_id = ").int(user).sql(")"))
            .into_boxed(),
    }
}

/// An FTS5 query that matches every word of `q` literally (each word quoted).
fn fts5_query(q: &str) -> String {
    q.split_whitespace().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

/// On SQLite the author and tag filters compare `articles.id + 0` with their
/// subquery's ids, so the planner keeps walking the sort's index and probes
/// the list instead of driving from the subquery and sorting in a temporary
/// B-tree. The category filter, whose ids are known, is a correlated
/// `EXISTS` probe of `article_categories`' primary key for each article
/// walked: the `IN` list was built on every query as large as the
/// category (5,000 ids for one on 5 % of 100,000 articles: 1.75 ms of CPU
/// per page, 0.83 ms with `EXISTS`, measured 2026-12-02 with wrk). The same
/// change made a tag page slower in back-to-back runs (0.99 ms with `IN`,
/// 1.46 ms with `EXISTS`), so tags and authors keep `IN`. PostgreSQL gets
/// `IN` and plans by statistics.
fn filtered<'a>(
    pg: bool,
    vis: Visibility,
    filter: &ArticleFilter,
    now: NaiveDateTime,
) -> articles::BoxedQuery<'a, Backend> {
    let mut q = visible(pg, vis, now);
    q = match filter.status.unwrap_or(StatusFilter::Published) {
        StatusFilter::Published => q.filter(public_sql(pg, now)),
        StatusFilter::Scheduled => {
            q.filter(articles::status.eq(status::SCHEDULED)).filter(articles::published_at.gt(now))
        }
        StatusFilter::Draft => q.filter(articles::status.eq(status::DRAFT)),
        StatusFilter::Archived => q.filter(articles::status.eq(status::ARCHIVED)),
        StatusFilter::Any => q,
    };
    if let Some(slug) = filter.author.clone() {
        q = if pg {
            q.filter(
                articles::id.eq_any(
                    article_authors::table
                        .inner_join(authors::table)
                        .filter(authors::slug.eq(slug))
                        .select(article_authors::article_id),
                ),
            )
        } else {
            q.filter(
                (articles::id + 0i64).eq_any(
                    article_authors::table
                        .inner_join(authors::table)
                        .filter(authors::slug.eq(slug))
                        .select(article_authors::article_id),
                ),
            )
        };
    }
    if let Some(ids) = filter.categories.clone() {
        q = if pg {
            q.filter(
                articles::id.eq_any(
                    article_categories::table
                        .filter(any_of(article_categories::category_id, &ids))
                        .select(article_categories::article_id),
                ),
            )
        } else {
            q.filter(diesel::dsl::exists(
                article_categories::table
                    .filter(article_categories::article_id.eq(articles::id))
                    .filter(any_of(article_categories::category_id, &ids)),
            ))
        };
    }
    if let Some(slug) = filter.tag.clone() {
        q = if pg {
            // The tags' ids first, once (`ARRAY(…)` is an init plan), so the
            // planner probes `article_tags`' primary key (article_id,
            // tag_id) per article, or drives from the tag's index, instead
            // of joining `tags` for every article it walks: 7.7 ms for a
            // page of a tag on 1.5 % of 100,000 articles before.
            let slugs = serde_json::to_string(&slug).unwrap_or_else(|_| "[]".to_owned());
            q.filter(
                fixed_sql::<Bool>(
                    "articles.id IN (SELECT article_id FROM article_tags WHERE tag_id = ANY(ARRAY(\
                     SELECT id FROM tags WHERE slug IN (SELECT jsonb_array_elements_text(CAST(",
                )
                .text(slugs)
                .sql(" AS jsonb))))))"),
            )
        } else {
            q.filter(
                (articles::id + 0i64).eq_any(
                    article_tags::table
                        .inner_join(tags::table)
                        .filter(any_of(tags::slug, &slug))
                        .select(article_tags::article_id),
                ),
            )
        };
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

/// Where a keyset page starts: the sort key and id of the last row of the
/// previous page (see [`Cursor`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CursorKey {
    /// `published_at` or `updated_at`; `None` for an unpublished article.
    Time(Option<NaiveDateTime>),
    /// `title`.
    Text(String),
    /// `is_sticky`, then `published_at` (`None` for an unpublished article).
    Sticky(bool, Option<NaiveDateTime>),
}

/// A keyset position: the sort it belongs to, the last row's sort key and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The sort the cursor was issued for; a cursor is refused under another.
    pub sort: Sort,
    /// The last row's sort key.
    pub key: CursorKey,
    /// The last row's id (the tie-breaker of every sort).
    pub id: i64,
}

impl Cursor {
    /// The cursor that continues after `row` under `sort`; `None` for
    /// `relevance`, which has no keyset.
    pub fn after(sort: Sort, row: &ArticleRow) -> Option<Self> {
        let key = match sort {
            Sort::PublishedDesc | Sort::PublishedAsc => CursorKey::Time(row.published_at),
            Sort::UpdatedDesc => CursorKey::Time(Some(row.updated_at)),
            Sort::Title => CursorKey::Text(row.title.clone()),
            Sort::StickyPublishedDesc => CursorKey::Sticky(row.is_sticky, row.published_at),
            Sort::Relevance => return None,
        };
        Some(Self { sort, key, id: row.id })
    }
}

/// How a list page is chosen.
#[derive(Clone, Debug)]
pub enum PageAt {
    /// `page`/`per_page`: `OFFSET`.
    Offset(PageParams),
    /// `after`: the `per_page` rows after a cursor, or from the top
    /// (`after=start`, `None`).
    After(Option<Cursor>, i64),
}

/// Whether the status filter guarantees `published_at IS NOT NULL`
/// (published and scheduled articles always carry their time), so the plain
/// `published_at` order matches the index; otherwise unpublished articles are
/// ordered last explicitly.
fn dated(filter: &ArticleFilter) -> bool {
    matches!(filter.status.unwrap_or(StatusFilter::Published), StatusFilter::Published | StatusFilter::Scheduled)
}

fn keyset<'a>(q: articles::BoxedQuery<'a, Backend>, dated: bool, cursor: &Cursor) -> articles::BoxedQuery<'a, Backend> {
    let id = cursor.id;
    match (cursor.sort, &cursor.key) {
        (Sort::PublishedDesc | Sort::PublishedAsc, CursorKey::Time(Some(t))) => {
            let op = if cursor.sort == Sort::PublishedDesc { "<" } else { ">" };
            let tail = if dated { ")" } else { " OR articles.published_at IS NULL)" };
            q.filter(
                fixed_sql::<Bool>(if op == "<" {
                    "((articles.published_at, articles.id) < ("
                } else {
                    "((articles.published_at, articles.id) > ("
                })
                .time(*t)
                .sql(", ")
                .int(id)
                .sql(")")
                .sql(tail),
            )
        }
        (Sort::PublishedDesc, CursorKey::Time(None)) => {
            q.filter(articles::published_at.is_null()).filter(articles::id.lt(id))
        }
        (Sort::PublishedAsc, CursorKey::Time(None)) => {
            q.filter(articles::published_at.is_null()).filter(articles::id.gt(id))
        }
        (Sort::UpdatedDesc, CursorKey::Time(Some(t))) => {
            q.filter(fixed_sql::<Bool>("(articles.updated_at, articles.id) < (").time(*t).sql(", ").int(id).sql(")"))
        }
        // Later rows are less sticky, or as sticky and after the cursor in
        // the `-published_at` order (unpublished last).
        (Sort::StickyPublishedDesc, CursorKey::Sticky(sticky, Some(t))) => {
            let tail = if dated { ")" } else { " OR articles.published_at IS NULL)" };
            q.filter(
                articles::is_sticky.lt(*sticky).or(articles::is_sticky.eq(*sticky).and(
                    fixed_sql::<Bool>("((articles.published_at, articles.id) < (")
                        .time(*t)
                        .sql(", ")
                        .int(id)
                        .sql(")")
                        .sql(tail),
                )),
            )
        }
        (Sort::StickyPublishedDesc, CursorKey::Sticky(sticky, None)) => q.filter(
            articles::is_sticky
                .lt(*sticky)
                .or(articles::is_sticky.eq(*sticky).and(articles::published_at.is_null()).and(articles::id.lt(id))),
        ),
        (Sort::Title, CursorKey::Text(t)) => {
            q.filter(fixed_sql::<Bool>("(articles.title, articles.id) > (").text(t.clone()).sql(", ").int(id).sql(")"))
        }
        // Cursors are checked against the sort when parsed; anything else
        // matches nothing rather than everything.
        _ => q.filter(sql::<Bool>("1 = 0")),
    }
}

/// The ids query of a list page: filters, keyset, the order of `sort` (on
/// the index matching it) and `LIMIT per_page + 1` (the extra id tells
/// whether a next page exists).
fn ids_query<'a>(
    pg: bool,
    vis: Visibility,
    filter: &ArticleFilter,
    sort: Sort,
    at: &PageAt,
    now: NaiveDateTime,
) -> articles::BoxedQuery<'a, Backend, BigInt> {
    let dated = dated(filter);
    let mut q = filtered(pg, vis, filter, now);
    let (per_page, offset) = match at {
        PageAt::Offset(p) => (p.per_page, p.offset()),
        PageAt::After(cursor, per_page) => {
            if let Some(cursor) = cursor {
                q = keyset(q, dated, cursor);
            }
            (*per_page, 0)
        }
    };
    // One row past the page says whether there is a next one, except where
    // the total already says so (`PageAt::Offset` on PostgreSQL: see `list`).
    let extra = i64::from(!(pg && matches!(at, PageAt::Offset(_))));
    ordered(q, pg, filter, sort).limit(per_page + extra).offset(offset).select(articles::id)
}

/// `q` in the list order of `sort`: the order an index serves (see the plan
/// tests), with the id as the last key so the order is total.
fn ordered<'a>(
    q: articles::BoxedQuery<'a, Backend>,
    pg: bool,
    filter: &ArticleFilter,
    sort: Sort,
) -> articles::BoxedQuery<'a, Backend> {
    let dated = dated(filter);
    match sort {
        Sort::PublishedDesc if dated => q.order((articles::published_at.desc(), articles::id.desc())),
        Sort::PublishedAsc if dated => {
            q.filter(articles::published_at.is_not_null()).order((articles::published_at.asc(), articles::id.asc()))
        }
        Sort::PublishedDesc => {
            q.order((articles::published_at.is_null().asc(), articles::published_at.desc(), articles::id.desc()))
        }
        Sort::PublishedAsc => {
            q.order((articles::published_at.is_null().asc(), articles::published_at.asc(), articles::id.asc()))
        }
        Sort::StickyPublishedDesc if dated => {
            q.order((articles::is_sticky.desc(), articles::published_at.desc(), articles::id.desc()))
        }
        Sort::StickyPublishedDesc => q.order((
            articles::is_sticky.desc(),
            articles::published_at.is_null().asc(),
            articles::published_at.desc(),
            articles::id.desc(),
        )),
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
    }
}

/// One tag or one category whose public list pages through its own links'
/// index (`article_tags_list_idx`, `article_categories_list_idx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LinkList<'f> {
    /// A tag, by slug.
    Tag(&'f str),
    /// A category with no subcategories, by id.
    Category(i64),
}

/// The tag or category of a list that pages through its links' index: a
/// public list (status filter `published`, whatever the caller may see
/// otherwise) of exactly one tag, or of one category with no
/// subcategories, and no other filter, newest first, by page number or by a
/// cursor with a time. Such a page reads its rows off the term's slice of
/// the index in order and looks each article up by id for the public
/// predicate, so it costs its own rows whatever the size of the archive or
/// of the term. [`ids_query`] walks every article newest first and probes
/// each against the term's links instead: 0.4 ms for a tag on 1,500 of
/// 100,000 articles against 0.04 ms this way (sqlite3 shell, 2026-12-03);
/// PostgreSQL's planner did the same walk, 1,317 probes and 3.2 ms there
/// (migration `2026-12-03-000230_postgres_tag_list`); a category on 1 in 20
/// articles took a fifth of its list's CPU in that walk (perf, 2026-12-06,
/// migration `2026-12-06-000250_category_list_index`). A category with
/// subcategories (several ids, whose links may name one article twice)
/// keeps the walk. `None` sends the list to [`ids_query`].
fn link_list<'f>(filter: &'f ArticleFilter, sort: Sort, at: &PageAt) -> Option<LinkList<'f>> {
    if sort != Sort::PublishedDesc {
        return None;
    }
    if let PageAt::After(Some(cursor), _) = at {
        if !matches!(cursor.key, CursorKey::Time(Some(_))) {
            return None;
        }
    }
    let ArticleFilter {
        author: None,
        categories,
        tag,
        series: None,
        published_after: None,
        published_before: None,
        q: None,
        status: None | Some(StatusFilter::Published),
    } = filter
    else {
        return None;
    };
    match (categories.as_deref(), tag.as_deref()) {
        (None, Some([one])) => Some(LinkList::Tag(one)),
        (Some([one]), None) => Some(LinkList::Category(*one)),
        _ => None,
    }
}

/// The ids query of a page of [`link_list`]'s term.
fn link_ids_load(
    conn: &mut DbConnection,
    pg: bool,
    link: LinkList<'_>,
    at: &PageAt,
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    match link {
        LinkList::Tag(slug) => tag_ids_query(pg, slug, at, now).load(conn),
        LinkList::Category(id) => category_ids_query(pg, id, at, now).load(conn),
    }
}

/// Where a page of [`link_list`]'s term starts: `(per_page, offset, the
/// cursor's (time, id) to read below)`.
fn link_window(at: &PageAt) -> (i64, i64, Option<(NaiveDateTime, i64)>) {
    match at {
        PageAt::Offset(p) => (p.per_page, p.offset(), None),
        PageAt::After(cursor, per_page) => {
            let after = match cursor {
                Some(Cursor { key: CursorKey::Time(Some(t)), id, .. }) => Some((*t, *id)),
                _ => None,
            };
            (*per_page, 0, after)
        }
    }
}

type TagIdsQuery<'a> = diesel::dsl::IntoBoxed<
    'a,
    diesel::dsl::Select<diesel::dsl::InnerJoin<article_tags::table, articles::table>, article_tags::article_id>,
    Backend,
>;

/// The ids of a page of one tag's public articles, newest first, read off
/// `article_tags_list_idx` (see [`link_list`]). The index holds a copy of
/// each article's `published_at`, kept by triggers (migrations
/// `2026-12-03-000210_tag_list_index` for SQLite,
/// `2026-12-03-000230_postgres_tag_list` for PostgreSQL), so it sorts exactly as
/// `articles.published_at DESC, articles.id DESC`.
fn tag_ids_query<'a>(pg: bool, slug: &str, at: &PageAt, now: NaiveDateTime) -> TagIdsQuery<'a> {
    let mut q = article_tags::table
        .inner_join(articles::table)
        .select(article_tags::article_id)
        .into_boxed()
        .filter(fixed_sql::<Bool>("article_tags.tag_id = (SELECT id FROM tags WHERE slug = ").text(slug).sql(")"))
        .filter(public_sql(pg, now));
    let (per_page, offset, after) = link_window(at);
    if let Some((t, id)) = after {
        q = q.filter(
            fixed_sql::<Bool>("(article_tags.published_at, article_tags.article_id) < (")
                .time(t)
                .sql(", ")
                .int(id)
                .sql(")"),
        );
    }
    q.order((
        fixed_sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamp>>("article_tags.published_at").desc(),
        article_tags::article_id.desc(),
    ))
    .limit(per_page + 1)
    .offset(offset)
}

type CategoryIdsQuery<'a> = diesel::dsl::IntoBoxed<
    'a,
    diesel::dsl::Select<
        diesel::dsl::InnerJoin<article_categories::table, articles::table>,
        article_categories::article_id,
    >,
    Backend,
>;

/// The ids of a page of one category's public articles, newest first, read
/// off `article_categories_list_idx` (see [`link_list`]), as
/// [`tag_ids_query`] reads a tag's (migration
/// `2026-12-06-000250_category_list_index` on both backends).
fn category_ids_query<'a>(pg: bool, id: i64, at: &PageAt, now: NaiveDateTime) -> CategoryIdsQuery<'a> {
    let mut q = article_categories::table
        .inner_join(articles::table)
        .select(article_categories::article_id)
        .into_boxed()
        .filter(article_categories::category_id.eq(id))
        .filter(public_sql(pg, now));
    let (per_page, offset, after) = link_window(at);
    if let Some((t, id)) = after {
        q = q.filter(
            fixed_sql::<Bool>("(article_categories.published_at, article_categories.article_id) < (")
                .time(t)
                .sql(", ")
                .int(id)
                .sql(")"),
        );
    }
    q.order((
        fixed_sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamp>>("article_categories.published_at")
            .desc(),
        article_categories::article_id.desc(),
    ))
    .limit(per_page + 1)
    .offset(offset)
}

/// A list total read from `article_tallies` (kept by triggers in every
/// writing transaction) instead of counted: its cost is a primary-key lookup
/// whatever the archive's size. Covers the lists front ends page through:
/// everything, one category, one tag or one author, with no other filter.
#[derive(Clone, Debug)]
pub struct Tally {
    scope: TallyScope,
    /// Which statuses count, and whether this is the public predicate
    /// (published, or scheduled and due).
    statuses: TallyStatuses,
}

#[derive(Clone, Debug)]
enum TallyScope {
    All,
    Category(i64),
    Tag(String),
    Author(String),
}

#[derive(Clone, Copy, Debug)]
enum TallyStatuses {
    /// Published, plus scheduled whose time has come (counted).
    Public,
    /// Scheduled and not yet due: the scheduled tally less the due ones.
    Upcoming,
    /// These statuses, as stored.
    Stored(&'static [&'static str]),
}

impl Tally {
    /// The tally that gives the total of `filter` as `vis` sees it, if one
    /// does: at most one of author, category (a single id: a category and
    /// its descendants may share articles) and tag (a single slug), and no
    /// series, dates or search. `None` means count.
    pub fn of(vis: Visibility, filter: &ArticleFilter) -> Option<Self> {
        if filter.series.is_some()
            || filter.published_after.is_some()
            || filter.published_before.is_some()
            || filter.q.is_some()
        {
            return None;
        }
        let scope = match (&filter.author, filter.categories.as_deref(), filter.tag.as_deref()) {
            (None, None, None) => TallyScope::All,
            (Some(a), None, None) => TallyScope::Author(a.clone()),
            (None, Some([c]), None) => TallyScope::Category(*c),
            (None, None, Some([t])) => TallyScope::Tag(t.clone()),
            _ => return None,
        };
        let status = filter.status.unwrap_or(StatusFilter::Published);
        let statuses = match (vis, status) {
            (Visibility::Public | Visibility::All, StatusFilter::Published) => TallyStatuses::Public,
            (Visibility::All, StatusFilter::Scheduled) => TallyStatuses::Upcoming,
            (Visibility::All, StatusFilter::Draft) => TallyStatuses::Stored(&[status::DRAFT]),
            (Visibility::All, StatusFilter::Archived) => TallyStatuses::Stored(&[status::ARCHIVED]),
            (Visibility::All, StatusFilter::Any) => {
                TallyStatuses::Stored(&[status::DRAFT, status::SCHEDULED, status::PUBLISHED, status::ARCHIVED])
            }
            _ => return None,
        };
        Some(Self { scope, statuses })
    }

    /// The total at `now`: one lookup, and a count of the scope's due
    /// scheduled articles (on the status index) only if it has any
    /// scheduled article at all.
    pub fn total(&self, conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
        let rows: Vec<(String, i64)> = self.lookup().load(conn)?;
        let of = |s: &str| rows.iter().filter(|(st, _)| st == s).map(|(_, n)| *n).sum::<i64>();
        let scheduled = of(status::SCHEDULED);
        let mut due = || if scheduled > 0 { self.due(now).count().get_result::<i64>(conn) } else { Ok(0) };
        Ok(match self.statuses {
            TallyStatuses::Stored(_) => rows.iter().map(|(_, n)| *n).sum(),
            TallyStatuses::Public => of(status::PUBLISHED) + due()?,
            TallyStatuses::Upcoming => scheduled - due()?,
        })
    }

    /// `(status, n)` of the scope's tallies that [`Tally::total`] reads.
    fn lookup<'a>(&self) -> crate::db::schema::article_tallies::BoxedQuery<'a, Backend, (Text, BigInt)> {
        use crate::db::schema::article_tallies as t;
        let wanted: &'static [&'static str] = match self.statuses {
            TallyStatuses::Public => &[status::PUBLISHED, status::SCHEDULED],
            TallyStatuses::Upcoming => &[status::SCHEDULED],
            TallyStatuses::Stored(s) => s,
        };
        let q = t::table.filter(any_of(t::status, wanted)).select((t::status, t::n)).into_boxed();
        match &self.scope {
            TallyScope::All => q.filter(t::kind.eq("all")).filter(t::ref_id.eq(0)),
            TallyScope::Category(id) => q.filter(t::kind.eq("category")).filter(t::ref_id.eq(*id)),
            TallyScope::Tag(slug) => q.filter(t::kind.eq("tag")).filter(
                t::ref_id
                    .nullable()
                    .eq(tags::table.filter(tags::slug.eq(slug.clone())).select(tags::id).single_value()),
            ),
            TallyScope::Author(slug) => q.filter(t::kind.eq("author")).filter(
                t::ref_id
                    .nullable()
                    .eq(authors::table.filter(authors::slug.eq(slug.clone())).select(authors::id).single_value()),
            ),
        }
    }

    /// Scheduled articles of the scope whose time has come (public, yet
    /// still stored as scheduled): driven from the status index, each
    /// checked against the scope by primary key.
    fn due<'a>(&self, now: NaiveDateTime) -> articles::BoxedQuery<'a, Backend> {
        use diesel::dsl::exists;
        let q = articles::table
            .filter(articles::status.eq(status::SCHEDULED))
            .filter(articles::published_at.le(now))
            .into_boxed();
        match &self.scope {
            TallyScope::All => q,
            TallyScope::Category(id) => q.filter(exists(
                article_categories::table
                    .filter(article_categories::article_id.eq(articles::id))
                    .filter(article_categories::category_id.eq(*id)),
            )),
            TallyScope::Tag(slug) => q.filter(exists(
                article_tags::table
                    .inner_join(tags::table)
                    .filter(article_tags::article_id.eq(articles::id))
                    .filter(tags::slug.eq(slug.clone())),
            )),
            TallyScope::Author(slug) => q.filter(exists(
                article_authors::table
                    .inner_join(authors::table)
                    .filter(article_authors::article_id.eq(articles::id))
                    .filter(authors::slug.eq(slug.clone())),
            )),
        }
    }
}

/// A page of articles, whether more follow, and the total matching count.
///
/// At most four queries whatever the page size: the total (a [`Tally`]
/// lookup, plus a count of past-due scheduled articles when the scope has
/// any scheduled at all; a `count(*)` for filters no tally covers); the
/// page's ids, ordered and limited on the index that matches the sort (never
/// moving bodies through a sort); and the rows of those ids (on PostgreSQL
/// the ids and the rows are one query: [`rows_of_page`]). Each article
/// counts once, however many filters match it.
pub fn list(
    conn: &mut DbConnection,
    vis: Visibility,
    filter: &ArticleFilter,
    sort: Sort,
    at: &PageAt,
    now: NaiveDateTime,
    with_body: bool,
) -> QueryResult<(Vec<ArticleRow>, bool, i64)> {
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let total = match Tally::of(vis, filter) {
        Some(tally) => tally.total(conn, now)?,
        None => filtered(pg, vis, filter, now).count().get_result(conn)?,
    };
    let per_page = match at {
        PageAt::Offset(p) => p.per_page,
        PageAt::After(_, n) => *n,
    };
    if pg {
        // One round trip for the page's rows: the ids query as a subquery,
        // the rows in the same order. (On SQLite a query costs no round trip,
        // and its planner keeps the two apart better.)
        let mut rows = match link_list(filter, sort, at) {
            Some(LinkList::Tag(slug)) => {
                rows_of_page(conn, tag_ids_query(pg, slug, at, now), pg, filter, sort, with_body)?
            }
            Some(LinkList::Category(id)) => {
                rows_of_page(conn, category_ids_query(pg, id, at, now), pg, filter, sort, with_body)?
            }
            None => rows_of_page(conn, ids_query(pg, vis, filter, sort, at, now), pg, filter, sort, with_body)?,
        };
        // A page by number may have asked for exactly its rows (see
        // `ids_query`); the total says whether more follow.
        let more = rows.len() as i64 > per_page || matches!(at, PageAt::Offset(p) if p.offset() + per_page < total);
        rows.truncate(per_page as usize);
        return Ok((rows, more, total));
    }
    let mut ids: Vec<i64> = match link_list(filter, sort, at) {
        Some(link) => link_ids_load(conn, pg, link, at, now)?,
        None => ids_query(pg, vis, filter, sort, at, now).load(conn)?,
    };
    let more = ids.len() as i64 > per_page;
    ids.truncate(per_page as usize);
    if ids.is_empty() {
        return Ok((Vec::new(), false, total));
    }
    let mut rows = rows_by_ids(conn, &ids, with_body)?;
    // Each row's place looked up once, by a scan of at most a page of ids:
    // sorting with a `HashMap` lookup in every comparison was 2.8 % of an
    // uncached SQLite list (callgrind, 2026-12-06).
    rows.sort_by_cached_key(|r| ids.iter().position(|id| *id == r.id).unwrap_or(usize::MAX));
    Ok((rows, more, total))
}

/// Characters of `body_text` a list row carries when the body is not asked
/// for: enough for the automatic excerpt ([`AUTO_EXCERPT_WORDS`] words, 9
/// characters a word with its space and punctuation; English averages
/// under 6) unless the words are longer, when [`rows_by_ids`] loads those
/// rows' whole text in one more query. SQLite's `substr` walks the text
/// character by character: at 2,048 it was 11 % of an uncached SQLite list
/// page's CPU (callgrind, 2026-12-06).
///
/// [`AUTO_EXCERPT_WORDS`]: super::dto::AUTO_EXCERPT_WORDS
pub const LIST_TEXT_PREFIX_CHARS: i32 = 512;

diesel::define_sql_function!(fn substr(x: Text, start: diesel::sql_types::Integer, len: diesel::sql_types::Integer) -> Text);

/// The select list of an article row, in `ArticleRow`'s field order, with
/// the three body columns given.
macro_rules! article_row_with {
    ($html:expr, $source:expr, $text:expr) => {
        (
            articles::id,
            articles::slug,
            articles::title,
            articles::subtitle,
            articles::excerpt,
            $html,
            articles::status,
            articles::published_at,
            articles::featured_media_id,
            articles::comment_status,
            articles::is_sticky,
            articles::password_protected,
            articles::import_source,
            articles::import_key,
            articles::created_at,
            articles::updated_at,
            articles::body_format,
            $source,
            $text,
            articles::word_count,
            articles::reading_time_minutes,
            articles::series_id,
            articles::series_position,
            articles::featured_caption,
            articles::featured_credit,
            articles::meta_title,
            articles::meta_description,
            articles::canonical_url,
            articles::og_image_media_id,
            articles::owner_id,
            articles::version,
        )
    };
}

/// The rows of `ids` (in no order), for a list: `body_source` comes back
/// empty, `body_text` cut to [`LIST_TEXT_PREFIX_CHARS`] (the automatic
/// excerpt's source), and `body_html` empty unless `with_body`. The bodies
/// (three copies of each article's text, in SQLite's overflow pages) were a
/// quarter of an uncached list request's CPU. One more query only for a row
/// whose cut text is too short for its excerpt.
fn rows_by_ids(conn: &mut DbConnection, ids: &[i64], with_body: bool) -> QueryResult<Vec<ArticleRow>> {
    use diesel::IntoSql;
    // Loaded directly (`db::load_direct`): the type of this query fixes its
    // text, 31 quoted columns that would otherwise be written out again on
    // every request.
    let q = articles::table.filter(any_of(articles::id, ids));
    let text = substr(articles::body_text, 1, LIST_TEXT_PREFIX_CHARS);
    let mut rows = if with_body {
        let body = articles::body_html;
        crate::db::load_direct(conn, q.select(article_row_with!(body, "".into_sql::<Text>(), text)))?
    } else {
        crate::db::load_direct(conn, q.select(article_row_with!("".into_sql::<Text>(), "".into_sql::<Text>(), text)))?
    };
    fill_short_texts(conn, &mut rows)?;
    Ok(rows)
}

/// The rows [`rows_by_ids`] loads, for the ids `ids` selects, in the order
/// of `sort`: a page in one query.
fn rows_of_page<Q: diesel::query_builder::QueryFragment<Backend> + Send>(
    conn: &mut DbConnection,
    ids: Q,
    pg: bool,
    filter: &ArticleFilter,
    sort: Sort,
    with_body: bool,
) -> QueryResult<Vec<ArticleRow>> {
    let q = ordered(articles::table.into_boxed().filter(IdIn(ids)), pg, filter, sort);
    let mut rows = load_list_rows(conn, q, with_body)?;
    fill_short_texts(conn, &mut rows)?;
    Ok(rows)
}

/// `articles.id = ANY(ARRAY(<ids>))` for a boxed query of ids (diesel's
/// `eq_any` cannot take one over a `MultiConnection` backend). PostgreSQL
/// only. The array makes the ids an init plan, so the rows are read by
/// primary key; `id IN (<ids>)` let the planner hash-join the page's 20 ids
/// against a sequential scan of every article (`EXPLAIN ANALYZE`, 1,000
/// articles, 2026-12-03).
struct IdIn<Q>(Q);

impl<Q> diesel::expression::Expression for IdIn<Q> {
    type SqlType = Bool;
}

impl<Q> diesel::expression::AppearsOnTable<articles::table> for IdIn<Q> {}

impl<Q> diesel::expression::SelectableExpression<articles::table> for IdIn<Q> {}

impl<Q> diesel::expression::ValidGrouping<()> for IdIn<Q> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<Q> diesel::query_builder::QueryId for IdIn<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::QueryFragment<Backend>> diesel::query_builder::QueryFragment<Backend> for IdIn<Q> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        out.push_sql("articles.id = ANY(ARRAY(");
        diesel::query_builder::QueryFragment::<Backend>::walk_ast(&self.0, out.reborrow())?;
        out.push_sql("))");
        Ok(())
    }
}

/// `q`'s rows with a list's columns (see [`rows_by_ids`]).
fn load_list_rows<'a>(
    conn: &mut DbConnection,
    q: articles::BoxedQuery<'a, Backend>,
    with_body: bool,
) -> QueryResult<Vec<ArticleRow>> {
    use diesel::IntoSql;
    let text = substr(articles::body_text, 1, LIST_TEXT_PREFIX_CHARS);
    if with_body {
        q.select(article_row_with!(articles::body_html, "".into_sql::<Text>(), text)).load(conn)
    } else {
        q.select(article_row_with!("".into_sql::<Text>(), "".into_sql::<Text>(), text)).load(conn)
    }
}

/// Loads the whole `body_text` of rows whose cut text is too short for
/// their automatic excerpt (one query, only when some row needs it). Rows
/// with an excerpt of their own are not looked at: counting the words of
/// every row's text was 4.5 % of an uncached PostgreSQL list with bodies
/// whose articles all had one (callgrind, 2026-12-06).
fn fill_short_texts(conn: &mut DbConnection, rows: &mut [ArticleRow]) -> QueryResult<()> {
    let cut = LIST_TEXT_PREFIX_CHARS as usize;
    let short: Vec<i64> = rows
        .iter()
        .filter(|r| {
            super::dto::uses_auto_excerpt(r)
                && r.body_text.split_whitespace().nth(super::dto::AUTO_EXCERPT_WORDS).is_none()
                && r.body_text.chars().count() >= cut
        })
        .map(|r| r.id)
        .collect();
    if !short.is_empty() {
        let full: HashMap<i64, String> = articles::table
            .filter(any_of(articles::id, &short))
            .select((articles::id, articles::body_text))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        for r in rows.iter_mut() {
            if let Some(text) = full.get(&r.id) {
                r.body_text.clone_from(text);
            }
        }
    }
    Ok(())
}

/// The plan lines of the queries [`list`] runs before loading rows (the ids
/// query, then the total's: the tally lookup and the due scheduled count, or
/// the count): `EXPLAIN QUERY PLAN` details on SQLite,
/// `EXPLAIN` lines on PostgreSQL. For plan tests and the benchmark.
pub fn explain_list(
    conn: &mut DbConnection,
    vis: Visibility,
    filter: &ArticleFilter,
    sort: Sort,
    at: &PageAt,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let mut lines = match link_list(filter, sort, at) {
        Some(LinkList::Tag(slug)) => explain(conn, pg, tag_ids_query(pg, slug, at, now))?,
        Some(LinkList::Category(id)) => explain(conn, pg, category_ids_query(pg, id, at, now))?,
        None => explain(conn, pg, ids_query(pg, vis, filter, sort, at, now))?,
    };
    match Tally::of(vis, filter) {
        Some(tally) => {
            lines.extend(explain(conn, pg, tally.lookup())?);
            lines.extend(explain(conn, pg, tally.due(now).count())?);
        }
        None => lines.extend(explain(conn, pg, filtered(pg, vis, filter, now).count())?),
    }
    Ok(lines)
}

/// `EXPLAIN QUERY PLAN <query>` (SQLite) or `EXPLAIN <query>` (PostgreSQL),
/// with the query's own binds; `ST` is the shape of the plan rows.
struct Explain<Q, ST> {
    pg: bool,
    inner: Q,
    shape: std::marker::PhantomData<ST>,
}

impl<Q, ST> diesel::query_builder::QueryId for Explain<Q, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::QueryFragment<Backend>, ST> diesel::query_builder::QueryFragment<Backend>
    for Explain<Q, ST>
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        out.push_sql(if self.pg { "EXPLAIN " } else { "EXPLAIN QUERY PLAN " });
        self.inner.walk_ast(out.reborrow())
    }
}

impl<Q, ST> diesel::query_builder::Query for Explain<Q, ST> {
    type SqlType = ST;
}

impl<Q, ST> RunQueryDsl<DbConnection> for Explain<Q, ST> {}

type Nt = diesel::sql_types::Nullable<Text>;
type Ni = diesel::sql_types::Nullable<diesel::sql_types::Integer>;
/// One row of SQLite's `EXPLAIN QUERY PLAN`: (id, parent, notused, detail).
type SqlitePlanRow = (Option<i32>, Option<i32>, Option<i32>, Option<String>);

fn explain<Q>(conn: &mut DbConnection, pg: bool, inner: Q) -> QueryResult<Vec<String>>
where
    Q: diesel::query_builder::QueryFragment<Backend>,
{
    if pg {
        let rows: Vec<Option<String>> = Explain::<_, Nt> { pg, inner, shape: Default::default() }.load(conn)?;
        Ok(rows.into_iter().flatten().collect())
    } else {
        // SQLite's plan rows are (id, parent, notused, detail).
        let rows: Vec<SqlitePlanRow> =
            Explain::<_, (Ni, Ni, Ni, Nt)> { pg, inner, shape: Default::default() }.load(conn)?;
        Ok(rows.into_iter().filter_map(|r| r.3).collect())
    }
}

/// Fills up to `limit` of the search vectors an import left for later
/// (PostgreSQL: `articles.search IS NULL`, skipping rows another
/// transaction holds); returns how many. Always 0 on SQLite, whose FTS5
/// index is kept in every writing statement. Only `search` changes: no
/// version, no `updated_at`, no revision.
pub fn index_pending_search(conn: &mut DbConnection, limit: i64) -> QueryResult<usize> {
    if matches!(conn, DbConnection::Sqlite(_)) {
        return Ok(0);
    }
    diesel::sql_query(
        "UPDATE articles SET search = articles_search_vector(title, excerpt, body_text, password_protected) \
         WHERE id IN (SELECT id FROM articles WHERE search IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<BigInt, _>(limit)
    .execute(conn)
}

/// How many articles wait for their search vector (0 on SQLite).
pub fn pending_search(conn: &mut DbConnection) -> QueryResult<i64> {
    if matches!(conn, DbConnection::Sqlite(_)) {
        return Ok(0);
    }
    articles::table.filter(sql::<Bool>("articles.search IS NULL")).count().get_result(conn)
}

/// FTS5's own `automerge` default, which no migration changes; set back
/// after a bulk write (see [`defer_fts`]).
const FTS5_AUTOMERGE: i32 = 4;

/// The article FTS5 triggers (migration `2026-12-02-000030_ownership`)
/// that [`defer_fts`] replaces and [`index_deferred_fts`] puts back.
const FTS_TRIGGERS: [&str; 3] = ["articles_fts_delete", "articles_fts_insert", "articles_fts_update"];

/// What [`defer_fts`] changed in one SQLite transaction, for
/// [`index_deferred_fts`] to undo.
pub struct FtsDeferral {
    /// The largest article id when the deferral began: rows above it are
    /// indexed at the end.
    max_id: i64,
    /// The three triggers' own `CREATE TRIGGER` text, from `sqlite_master`.
    triggers: Vec<(String, String)>,
}

#[derive(QueryableByName)]
struct TriggerSql {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(QueryableByName)]
struct MaxId {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `create` (a `CREATE TRIGGER` statement without a `WHEN` clause) with
/// `WHEN <when>` before its `BEGIN` (the first whole word `BEGIN`, with
/// white space on both sides); `None` for any other shape.
fn guarded_trigger(create: &str, when: &str) -> Option<String> {
    let upper = create.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let begin = upper.match_indices("BEGIN").map(|(i, _)| i).find(|&i| {
        i > 0
            && bytes[i - 1].is_ascii_whitespace()
            && bytes.get(i + "BEGIN".len()).is_some_and(|b| b.is_ascii_whitespace())
    })?;
    if upper[..begin].split_ascii_whitespace().any(|w| w == "WHEN") {
        return None;
    }
    Some(format!("{}WHEN {when} {}", &create[..begin], &create[begin..]))
}

/// SQLite, inside a bulk write's transaction (the WordPress import): stops
/// FTS5 indexing each new article as it is inserted; [`index_deferred_fts`]
/// indexes them in one statement before the commit.
///
/// Every article insert fired `articles_fts_insert`, a statement with a
/// trigger: SQLite opened a statement journal and FTS5 wrote its pending
/// terms out as a tiny segment at each statement's end, then merged those
/// (2026-12-06: the trigger, the flushes and the statement journal were
/// 41 % of the import's writer thread). The three FTS triggers are replaced
/// for this transaction by copies guarded with the largest id at the start
/// (`WHEN new.id <= N`, `WHEN old.id <= N`): rows that were there keep
/// their index up to date through updates and deletes, as before; rows the
/// transaction inserts are left alone even when it updates or deletes them
/// again (FTS5 must never be told to delete terms it never indexed: an
/// external-content index would be corrupt). FTS5's `automerge` is off
/// meanwhile, so updates of older rows do not merge as they go.
///
/// A rollback (a failed or dry run) undoes all of it with the rest. `None`
/// when the triggers are not the ones this expects (nothing is changed
/// then but `automerge`, and the triggers index as usual).
pub fn defer_fts(conn: &mut DbConnection) -> QueryResult<Option<FtsDeferral>> {
    use diesel::connection::SimpleConnection;
    // First a write, so the transaction holds the write lock before it
    // reads the largest id.
    conn.batch_execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 0)")?;
    let triggers: Vec<TriggerSql> = diesel::sql_query(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ('{}') ORDER BY name",
        FTS_TRIGGERS.join("', '")
    ))
    .load(conn)?;
    let max_id = diesel::sql_query("SELECT coalesce(max(id), 0) AS n FROM articles").get_result::<MaxId>(conn)?.n;
    let guarded: Option<Vec<String>> = triggers
        .iter()
        .map(|t| {
            let row = if t.name == "articles_fts_insert" { "new" } else { "old" };
            guarded_trigger(&t.sql, &format!("{row}.id <= {max_id}"))
        })
        .collect();
    let Some(guarded) = guarded.filter(|g| g.len() == FTS_TRIGGERS.len()) else {
        tracing::warn!("the articles' FTS5 triggers are not the expected ones; the import indexes row by row");
        return Ok(None);
    };
    for (t, create) in triggers.iter().zip(&guarded) {
        conn.batch_execute(&format!("DROP TRIGGER {};\n{create};", t.name))?;
    }
    Ok(Some(FtsDeferral { max_id, triggers: triggers.into_iter().map(|t| (t.name, t.sql)).collect() }))
}

/// Ends what [`defer_fts`] began, in the same transaction: FTS5's
/// `automerge` back to its default, the rows inserted since indexed in one
/// statement (with the insert trigger's own columns: a protected article's
/// excerpt and body are not indexed), and the original triggers back.
/// With `None`, only `automerge`.
pub fn index_deferred_fts(conn: &mut DbConnection, deferral: Option<FtsDeferral>) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute(&format!(
        "INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', {FTS5_AUTOMERGE})"
    ))?;
    let Some(FtsDeferral { max_id, triggers }) = deferral else { return Ok(()) };
    diesel::sql_query(
        "INSERT INTO articles_fts (rowid, title, excerpt, body_text) \
         SELECT id, title, \
             CASE WHEN password_protected THEN '' ELSE coalesce(excerpt, '') END, \
             CASE WHEN password_protected THEN '' ELSE body_text END \
         FROM articles WHERE id > ?",
    )
    .bind::<BigInt, _>(max_id)
    .execute(conn)?;
    for (name, create) in &triggers {
        conn.batch_execute(&format!("DROP TRIGGER {name};\n{create};"))?;
    }
    Ok(())
}

/// The categories, tags and approved comment counts of a page's articles in
/// one round trip (a `UNION ALL`, which diesel's `MultiConnection` cannot
/// build): rows of `(part, article_id, id, slug, name)`, ordered by part, then
/// by article, name and id. Part [`TERM_CATEGORY`] and [`TERM_TAG`] rows are
/// terms; a [`TERM_COMMENTS`] row carries the article's count of approved,
/// not removed comments in `id` (slug and name empty). On PostgreSQL each
/// query is a round trip and two context switches, the largest share of an
/// uncached list's CPU (perf, 2026-12-03: the client's `send`/`recv` and the
/// switches were over a third of it).
struct TermsOf {
    categories: crate::db::cached::AnyOf<article_categories::article_id, i64>,
    tags: crate::db::cached::AnyOf<article_tags::article_id, i64>,
    comments: crate::db::cached::AnyOf<comments::article_id, i64>,
}

/// [`TermsOf`] rows: a category.
const TERM_CATEGORY: i32 = 0;
/// [`TermsOf`] rows: a tag.
const TERM_TAG: i32 = 1;
/// [`TermsOf`] rows: an article's approved comment count.
const TERM_COMMENTS: i32 = 2;

/// Its text never changes (the values are binds).
impl diesel::query_builder::QueryId for TermsOf {
    type QueryId = TermsOf;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for TermsOf
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<Bool>,
    bool: diesel::serialize::ToSql<Bool, DB>,
    crate::db::cached::AnyOf<article_categories::article_id, i64>: diesel::query_builder::QueryFragment<DB>,
    crate::db::cached::AnyOf<article_tags::article_id, i64>: diesel::query_builder::QueryFragment<DB>,
    crate::db::cached::AnyOf<comments::article_id, i64>: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let [categories, tags, comments, comment_filter] = &*TERMS_SQL;
        out.push_sql(categories);
        self.categories.walk_ast(out.reborrow())?;
        out.push_sql(tags);
        self.tags.walk_ast(out.reborrow())?;
        out.push_sql(comments);
        self.comments.walk_ast(out.reborrow())?;
        // The predicates of the public comment count (`comments_article_status_idx`
        // serves them); constants, so written into the SQL.
        out.push_sql(comment_filter);
        out.push_bind_param::<Bool, _>(&false)?;
        out.push_sql(" GROUP BY comments.article_id ORDER BY 1, 2, 5, 3");
        Ok(())
    }
}

/// [`TermsOf`]'s text around its three article filters and the comments'
/// `removed` bind, written once.
static TERMS_SQL: std::sync::LazyLock<[String; 4]> = std::sync::LazyLock::new(|| {
    [
        format!(
            "SELECT {TERM_CATEGORY}, article_categories.article_id, categories.id, categories.slug, categories.name \
             FROM article_categories INNER JOIN categories ON categories.id = article_categories.category_id WHERE "
        ),
        format!(
            " UNION ALL SELECT {TERM_TAG}, article_tags.article_id, tags.id, tags.slug, tags.name \
             FROM article_tags INNER JOIN tags ON tags.id = article_tags.tag_id WHERE "
        ),
        format!(" UNION ALL SELECT {TERM_COMMENTS}, comments.article_id, COUNT(*), '', '' FROM comments WHERE "),
        format!(
            " AND comments.status = '{}' AND comments.kind = '{}' AND comments.removed = ",
            crate::comments::model::status::APPROVED,
            crate::comments::model::kind::COMMENT,
        ),
    ]
});

impl diesel::query_builder::Query for TermsOf {
    type SqlType = (diesel::sql_types::Integer, BigInt, BigInt, Text, Text);
}

impl<C: diesel::Connection> RunQueryDsl<C> for TermsOf {}

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

/// Loads bylines (with their authors' avatars and profiles), categories,
/// tags and approved comment counts (one query: [`TermsOf`]), media
/// (featured, OG and avatars in one query) and series for `rows` (plus
/// update notes when `with_notes`): at most five queries, whatever their
/// number (none when `rows` is empty; the media and series queries only when
/// some row has one).
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
    let mut media_ids: Vec<i64> =
        rows.iter().flat_map(|r| [r.featured_media_id, r.og_image_media_id]).flatten().collect();
    let series_ids: Vec<i64> = rows.iter().filter_map(|r| r.series_id).collect();

    // This query and the next are loaded directly (`db::load_direct`):
    // their types fix their text.
    let bylines: Vec<BylineRow> = crate::db::load_direct(
        conn,
        article_authors::table
            .inner_join(authors::table)
            .filter(any_of(article_authors::article_id, &ids))
            .order((article_authors::article_id, article_authors::position, authors::id))
            .select((
                article_authors::article_id,
                authors::id,
                authors::slug,
                authors::display_name,
                authors::avatar_media_id,
                authors::avatar_url,
                authors::bio,
                authors::website,
                authors::social_links,
            )),
    )?;
    // Avatars come in the same media query as featured and OG images.
    media_ids.extend(bylines.iter().filter_map(|b| b.avatar_media_id));
    media_ids.sort_unstable();
    media_ids.dedup();
    let terms: Vec<(i32, i64, i64, String, String)> = crate::db::load_direct(
        conn,
        TermsOf {
            categories: any_of(article_categories::article_id, &ids),
            tags: any_of(article_tags::article_id, &ids),
            comments: any_of(comments::article_id, &ids),
        },
    )?;
    let (mut cats, mut tag_rows, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    for (part, article_id, id, slug, name) in terms {
        match part {
            TERM_CATEGORY => cats.push(TermRow { article_id, id, slug, name }),
            TERM_TAG => tag_rows.push(TermRow { article_id, id, slug, name }),
            _ => counts.push((article_id, id)),
        }
    }
    // Queries that cannot match are not sent: each is a round trip (about
    // 0.05 ms of this process's CPU on PostgreSQL), and most pages have no
    // series and many no images.
    let media = if media_ids.is_empty() { Vec::new() } else { crate::media::repo::find_many(conn, &media_ids)? };

    let series_rows: Vec<SeriesRow> = if series_ids.is_empty() {
        Vec::new()
    } else {
        series::table.filter(any_of(series::id, &series_ids)).select(SeriesRow::as_select()).load(conn)?
    };
    let notes: Vec<(i64, i64, String, NaiveDateTime)> = if with_notes {
        article_update_notes::table
            .filter(any_of(article_update_notes::article_id, &ids))
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

/// What a re-import needs to know about an article imported earlier.
#[derive(Clone, Debug, Queryable)]
pub struct ImportedArticle {
    /// The article's id.
    pub id: i64,
    /// Its current version (bumped by every edit).
    pub version: i32,
    /// The version its last import wrote; differs from `version` once edited here.
    pub import_version: Option<i32>,
    /// Hash of the WXR item its last import read.
    pub import_hash: Option<String>,
    /// Its current `updated_at`.
    pub updated_at: NaiveDateTime,
    /// Its current featured media.
    pub featured_media_id: Option<i64>,
}

impl ImportedArticle {
    /// Whether the article was edited in broadsheet since its last import.
    pub fn edited_since_import(&self) -> bool {
        self.import_version != Some(self.version)
    }
}

/// The article imported from `source` under `key`, with its import state.
pub fn find_imported_state(conn: &mut DbConnection, source: &str, key: &str) -> QueryResult<Option<ImportedArticle>> {
    use crate::db::schema::article_imports as ai;
    articles::table
        .left_join(ai::table)
        .filter(articles::import_source.eq(source))
        .filter(articles::import_key.eq(key))
        .select((
            articles::id,
            articles::version,
            ai::version.nullable(),
            ai::hash.nullable(),
            articles::updated_at,
            articles::featured_media_id,
        ))
        .first(conn)
        .optional()
}

/// Remembers that an import wrote article `id` at `version` from an item hashing to `hash`.
fn remember_import(conn: &mut DbConnection, id: i64, version: i32, hash: &str, fresh: bool) -> QueryResult<()> {
    use crate::db::schema::article_imports as ai;
    if !fresh {
        diesel::delete(ai::table.find(id)).execute(conn)?;
    }
    diesel::insert_into(ai::table)
        .values((ai::article_id.eq(id), ai::version.eq(version), ai::hash.eq(hash)))
        .execute(conn)
        .map(|_| ())
}

/// Inserts an imported article at version 1, remembering the item's `hash`; returns its id.
pub fn insert_imported(conn: &mut DbConnection, form: &ArticleForm, hash: &str) -> QueryResult<i64> {
    let id = diesel::insert_into(articles::table)
        .values((form, articles::version.eq(1)))
        .returning(articles::id)
        .get_result(conn)?;
    remember_import(conn, id, 1, hash, true)?;
    Ok(id)
}

/// Of `keys` (import keys from `source`), those that an article already carries.
pub fn imported_keys(
    conn: &mut DbConnection,
    source: &str,
    keys: &[&str],
) -> QueryResult<std::collections::HashSet<String>> {
    let found: Vec<Option<String>> = articles::table
        .filter(articles::import_source.eq(source))
        .filter(articles::import_key.eq_any(keys))
        .select(articles::import_key)
        .load(conn)?;
    Ok(found.into_iter().flatten().collect())
}

/// PostgreSQL: counts articles `ids` (inserted while the transaction's
/// `broadsheet.defer_tallies` was on, so uncounted) and their links into
/// `article_tallies`, in one statement: what the insert triggers would have
/// added (migration `2026-12-05-000240_import_tallies`). SQLite counts as it
/// inserts, and this does nothing there.
pub fn tally_new_articles(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<()> {
    use diesel::sql_types::{Array, BigInt};
    let DbConnection::Postgresql(pg) = conn else { return Ok(()) };
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO article_tallies (kind, ref_id, status, n) \
         SELECT kind, ref_id, status, count(*) FROM ( \
             SELECT 'all' AS kind, 0::bigint AS ref_id, a.status FROM articles a WHERE a.id = ANY($1) \
             UNION ALL SELECT 'category', r.category_id, a.status FROM article_categories r \
                 JOIN articles a ON a.id = r.article_id WHERE r.article_id = ANY($1) \
             UNION ALL SELECT 'tag', r.tag_id, a.status FROM article_tags r \
                 JOIN articles a ON a.id = r.article_id WHERE r.article_id = ANY($1) \
             UNION ALL SELECT 'author', r.author_id, a.status FROM article_authors r \
                 JOIN articles a ON a.id = r.article_id WHERE r.article_id = ANY($1) \
         ) t GROUP BY kind, ref_id, status \
         ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n",
    )
    .bind::<Array<BigInt>, _>(ids)
    .execute(pg)?;
    Ok(())
}

/// Sets `broadsheet.defer_tallies` for the rest of the transaction (or
/// savepoint) on PostgreSQL: see [`tally_new_articles`].
pub fn defer_tallies(conn: &mut DbConnection, on: bool) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Postgresql(pg) = conn {
        pg.batch_execute(match on {
            true => "SET LOCAL broadsheet.defer_tallies = 'on'",
            false => "SET LOCAL broadsheet.defer_tallies = 'off'",
        })?;
    }
    Ok(())
}

/// Whether any article was imported from `source`.
pub fn source_has_imports(conn: &mut DbConnection, source: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(articles::table.filter(articles::import_source.eq(source)))).get_result(conn)
}

/// Of `slugs`, those that an article already has.
pub fn taken_slugs(conn: &mut DbConnection, slugs: &[&str]) -> QueryResult<std::collections::HashSet<String>> {
    let found: Vec<String> = articles::table.filter(articles::slug.eq_any(slugs)).select(articles::slug).load(conn)?;
    Ok(found.into_iter().collect())
}

/// Inserts imported articles at version 1, each remembering its item's hash;
/// returns their ids in the order given. Every form must carry an
/// `import_key`, distinct within `rows`, and the same `import_source`.
///
/// PostgreSQL: one multi-row `INSERT … RETURNING` for the articles and one
/// for `article_imports` (a round trip per row made a 100,000-article import
/// take minutes). SQLite: one prepared `INSERT` per row, which in process
/// costs no round trip (diesel caches the statement).
pub fn insert_imported_batch(conn: &mut DbConnection, rows: &[(&ArticleForm, &str)]) -> QueryResult<Vec<i64>> {
    use crate::db::schema::article_imports as ai;
    let pg = match conn {
        DbConnection::Postgresql(pg) if !rows.is_empty() => pg,
        _ => return rows.iter().map(|(form, hash)| insert_imported(conn, form, hash)).collect(),
    };
    let values: Vec<_> = rows.iter().map(|(form, _)| (*form, articles::version.eq(1))).collect();
    let returned: Vec<(i64, Option<String>)> = diesel::insert_into(articles::table)
        .values(values)
        .returning((articles::id, articles::import_key))
        .get_results(pg)?;
    // RETURNING's order is not documented for a multi-row INSERT: match by key.
    let by_key: HashMap<String, i64> = returned.into_iter().filter_map(|(id, key)| Some((key?, id))).collect();
    let ids = rows
        .iter()
        .map(|(form, _)| form.import_key.as_ref().and_then(|k| by_key.get(k).copied()))
        .collect::<Option<Vec<i64>>>()
        .ok_or(diesel::result::Error::RollbackTransaction)?;
    let imports: Vec<_> = ids
        .iter()
        .zip(rows)
        .map(|(id, (_, hash))| (ai::article_id.eq(*id), ai::version.eq(1), ai::hash.eq(*hash)))
        .collect();
    diesel::insert_into(ai::table).values(imports).execute(pg)?;
    Ok(ids)
}

/// Overwrites article `id` (at `version`) with an import, bumping its version
/// (so its ETag changes) and remembering the item's `hash`. `false` when the
/// article changed meanwhile.
pub fn update_imported(
    conn: &mut DbConnection,
    id: i64,
    version: i32,
    form: &ArticleForm,
    hash: &str,
) -> QueryResult<bool> {
    let n = diesel::update(articles::table.filter(articles::id.eq(id)).filter(articles::version.eq(version)))
        .set((form, articles::version.eq(version + 1)))
        .execute(conn)?;
    if n == 1 {
        remember_import(conn, id, version + 1, hash, false)?;
    }
    Ok(n == 1)
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

/// Files a newly inserted article `article_id` under its bylines (in the
/// order given), categories and tags: one multi-row `INSERT` per table, as a
/// bulk import wants (a round trip per row is what made PostgreSQL imports
/// slow). The values are integers, so the statement is built as text.
pub fn insert_relations(
    conn: &mut DbConnection,
    article_id: i64,
    published_at: Option<NaiveDateTime>,
    author_ids: &[i64],
    category_ids: &[i64],
    tag_ids: &[i64],
) -> QueryResult<()> {
    insert_relations_batch(conn, &[(article_id, published_at, author_ids, category_ids, tag_ids)])
}

/// A new article's relations: `(article_id, its published_at, author_ids,
/// category_ids, tag_ids)`.
pub type NewRelations<'a> = (i64, Option<NaiveDateTime>, &'a [i64], &'a [i64], &'a [i64]);

/// [`insert_relations`] for many new articles at once: one multi-row
/// `INSERT` per table for the lot, as `(article_id, author_ids,
/// category_ids, tag_ids)`.
pub fn insert_relations_batch(conn: &mut DbConnection, rows: &[NewRelations<'_>]) -> QueryResult<()> {
    // Integers only, so the statement is built as text: MultiConnection has no
    // batch insert, and a row's worth of binds per row would be no faster.
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let (mut bylines, mut cats, mut tags) = (Vec::new(), Vec::new(), Vec::new());
    for &(article_id, published_at, author_ids, category_ids, tag_ids) in rows {
        for (pos, author) in dedup(author_ids).into_iter().enumerate() {
            bylines.push(format!("({article_id}, {author}, {pos})"));
        }
        // PostgreSQL: the time as a literal, to the microsecond it stores
        // (truncated, as diesel binds it). NULL (a draft) is filled by the
        // trigger, to NULL again.
        let time = match published_at {
            Some(t) if pg => format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f")),
            _ => "NULL".to_owned(),
        };
        let link = |term: i64| match pg {
            true => format!("({article_id}, {term}, {time})"),
            false => format!("({article_id}, {term})"),
        };
        cats.extend(dedup(category_ids).into_iter().map(link));
        tags.extend(dedup(tag_ids).into_iter().map(link));
    }
    for (table, columns, rows) in [
        ("article_authors", "article_id, author_id, position", bylines),
        ("article_categories", "article_id, category_id", cats),
        ("article_tags", "article_id, tag_id", tags),
    ] {
        if rows.is_empty() {
            continue;
        }
        let values = rows.join(", ");
        let linked = table == "article_tags" || table == "article_categories";
        let term = if table == "article_tags" { "tag_id" } else { "category_id" };
        let sql = if linked && pg {
            // Tag and category links carry a copy of the article's time (see
            // [`link_list`]); given here, the fill trigger has nothing to
            // do. (A scalar subquery per row kept a cursor open per row until
            // the statement ended, and opening each walked all the others: a
            // third of the import's CPU. A join on `articles` was planned as
            // a hash join over the whole table, read again for every batch:
            // 35 ms of each batch of 500 at 100,000 articles, 2026-12-05.)
            format!("INSERT INTO {table} (article_id, {term}, published_at) VALUES {values}")
        } else if linked {
            // SQLite looks each article up by its key.
            format!(
                "INSERT INTO {table} (article_id, {term}, published_at) SELECT v.column1, v.column2, \
                 a.published_at FROM (VALUES {values}) AS v JOIN articles a ON a.id = v.column1"
            )
        } else {
            format!("INSERT INTO {table} ({columns}) VALUES {values}")
        };
        diesel::sql_query(sql).execute(conn)?;
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

/// Sets (or with `None` removes) the post-password hash of article `id`,
/// and its `password_protected` flag with it.
pub fn set_password(conn: &mut DbConnection, id: i64, hash: Option<&str>) -> QueryResult<()> {
    diesel::update(articles::table.find(id))
        .set((articles::password_hash.eq(hash), articles::password_protected.eq(hash.is_some())))
        .execute(conn)
        .map(|_| ())
}

/// The post-password hash of article `id` (`None` when unprotected, or
/// protected by an import that kept no password).
pub fn password_hash(conn: &mut DbConnection, id: i64) -> QueryResult<Option<String>> {
    articles::table.find(id).select(articles::password_hash).first(conn)
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

/// `(user, changed_fields, created_at)` of revision `rev` of article `id`.
pub fn revision_meta(
    conn: &mut DbConnection,
    id: i64,
    rev: i64,
) -> QueryResult<Option<(Option<i64>, String, NaiveDateTime)>> {
    use crate::db::schema::article_revisions as r;
    r::table
        .filter(r::id.eq(rev))
        .filter(r::article_id.eq(id))
        .select((r::user_id, r::changed_fields, r::created_at))
        .first(conn)
        .optional()
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

#[cfg(test)]
mod tests {
    use super::guarded_trigger;

    #[test]
    fn a_trigger_gets_its_guard_before_its_own_begin() {
        let cases: [(&str, Option<&str>); 5] = [
            (
                "CREATE TRIGGER t AFTER UPDATE OF begin_date, title ON articles BEGIN\n    SELECT 1;\nEND",
                Some("CREATE TRIGGER t AFTER UPDATE OF begin_date, title ON articles WHEN old.id <= 7 BEGIN\n    SELECT 1;\nEND"),
            ),
            (
                "CREATE TRIGGER t AFTER DELETE ON articles\nbegin SELECT 1; END",
                Some("CREATE TRIGGER t AFTER DELETE ON articles\nWHEN old.id <= 7 begin SELECT 1; END"),
            ),
            ("CREATE TRIGGER t AFTER DELETE ON articles WHEN old.x BEGIN SELECT 1; END", None),
            ("CREATE TRIGGER t AFTER DELETE ON articles\tWHEN\told.x BEGIN SELECT 1; END", None),
            ("CREATE TRIGGER t AFTER DELETE ON articles", None),
        ];
        for (create, expected) in cases {
            assert_eq!(guarded_trigger(create, "old.id <= 7").as_deref(), expected, "{create}");
        }
    }
}
