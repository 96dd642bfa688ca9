//! HTTP handlers for `/api/v1/articles` and `/api/v1/previews`.
//!
//! `{article}` in a path is an id when it is all digits, else a slug; slugs
//! are never all digits, so the two cannot collide. An old slug answers 301
//! with the current URL.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::Connection;
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{
    Article, ArticleEnvelope, ArticleList, ArticleSummary, CreateArticle, Preview, PreviewEnvelope, RelatedList,
    Revision, RevisionDetailEnvelope, RevisionList, UnlockArticle, UnlockedArticle, UnlockedArticleEnvelope,
    UpdateArticle,
};
use super::model::ArticleRow;
use super::repo::{self, ArticleFilter, Cursor, PageAt, Relations, Sort, StatusFilter};
use super::service;
use crate::auth::{AuthUser, MaybeAuthUser, Principal};
use crate::error::{ApiError, Problem};
use crate::http::extract::RevSegment;
use crate::http::{AppState, Id};
use crate::pagination::{self, PageMeta, PageParams, PageQuery};
use crate::slugs::IdOrSlug;

/// Fields that `fields=` may name (besides `id`, always present).
pub const SPARSE_FIELDS: &[&str] = &[
    "slug",
    "title",
    "subtitle",
    "excerpt",
    "excerpt_auto",
    "status",
    "published_at",
    "updated_at",
    "sticky",
    "password_protected",
    "comment_status",
    "bylines",
    "categories",
    "tags",
    "featured_media",
    "comment_count",
    "word_count",
    "reading_time_minutes",
    "series",
    "body_html",
];

/// Query parameters of `GET /articles`. Unknown parameters are a 400.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListArticlesQuery {
    /// 1-based page number; default 1.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items per page, 1–100; default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// Keyset cursor: `start` for the first page, then the opaque value of
    /// `after` in the `next` link. Returns the `per_page` articles that follow
    /// it in the same sort, stable under inserts, at the same cost whatever
    /// the depth. Not with `page`, nor with `sort=relevance`.
    #[param(min_length = 1, max_length = 600, pattern = "^[A-Za-z0-9_-]+$")]
    pub after: Option<String>,
    /// Only articles bylined to the author with this slug.
    #[param(
        pattern = "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[^\\u0000]*$"
    )]
    pub author: Option<String>,
    /// Only articles in the category with this slug, or any of its descendants.
    #[param(
        pattern = "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[^\\u0000]*$"
    )]
    pub category: Option<String>,
    /// Only articles with any of these tags (comma-separated slugs). Each
    /// article is counted once, however many of the tags it has.
    #[param(
        pattern = "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[^\\u0000]*$"
    )]
    pub tag: Option<String>,
    /// Only articles in this series (id or slug).
    #[param(
        pattern = "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[^\\u0000]*$"
    )]
    pub series: Option<String>,
    /// Only articles published at or after this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub published_after: Option<String>,
    /// Only articles published at or before this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub published_before: Option<String>,
    /// Full-text search over title, excerpt and body (words are ANDed; stemmed,
    /// English). PostgreSQL `tsvector`/SQLite FTS5. Not blank; at most 200
    /// characters.
    #[param(
        pattern = "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[^\\u0000]*$",
        max_length = 200
    )]
    pub q: Option<String>,
    /// `-published_at` (default), `published_at`, `-updated_at`, `title`, or
    /// `relevance` (only with `q`).
    #[param(pattern = "^(-published_at|published_at|-updated_at|title|relevance)$")]
    pub sort: Option<String>,
    /// `true`: sticky articles first, then the rest, each newest first (as
    /// WordPress front pages). Only with the default sort (`-published_at`);
    /// works with `page` and with `after` cursors. Default `false`.
    #[param(value_type = Option<bool>)]
    pub sticky_first: Option<String>,
    /// `published` (default), `draft`, `scheduled`, `archived` or `any`. Anything
    /// but `published` needs credentials and shows only what the caller may
    /// see: contributors and authors their own, editors everything.
    #[param(pattern = "^(published|draft|scheduled|archived|any)$")]
    pub status: Option<String>,
    /// Comma-separated fields to return (plus `id`); see the `ArticleSummary` schema.
    /// Items then carry only those keys. Not blank; empty items are ignored.
    #[param(
        pattern = "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*(id|slug|title|subtitle|excerpt|excerpt_auto|status|published_at|updated_at|sticky|password_protected|comment_status|bylines|categories|tags|featured_media|comment_count|word_count|reading_time_minutes|series|body_html)?[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*(,[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*(id|slug|title|subtitle|excerpt|excerpt_auto|status|published_at|updated_at|sticky|password_protected|comment_status|bylines|categories|tags|featured_media|comment_count|word_count|reading_time_minutes|series|body_html)?[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*)*$"
    )]
    pub fields: Option<String>,
    /// Comma-separated: `body` adds `body_html` to each item; `authors`
    /// embeds each byline's bio, website and social links. Neither costs an
    /// extra query.
    #[param(pattern = "^(body|authors)(,(body|authors))*$")]
    pub include: Option<String>,
}

fn non_empty(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    match v {
        Some(s) if s.trim().is_empty() => Err(ApiError::invalid(field, "must not be empty")),
        other => Ok(other),
    }
}

fn rfc3339(field: &str, v: Option<String>) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    v.map(|s| {
        chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.naive_utc())
            .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z"))
    })
    .transpose()
}

/// List articles, newest first.
///
/// Without credentials (or with a content key) only published articles are
/// listed. Each item carries bylines, categories, tags, featured media, series
/// and the approved comment count; the body only with `include=body`. A list
/// costs a fixed number of queries whatever its size.
#[utoipa::path(
    tag = "articles",
    params(ListArticlesQuery),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "A page of articles. With `page`, `meta` counts pages; with `after`, `meta.page` is 0.", body = ArticleList,
            headers(("Link" = String, description = "RFC 8288 links: `first`, `prev`, `next`, `last` by page number; a keyset page (and a page whose successor is deeper than `LIST_MAX_OFFSET`) has `next` carrying the `after` cursor"))),
        (status = 400, description = "A bad or unknown query parameter; a malformed `after` cursor or one issued for another sort; a page deeper than `LIST_MAX_OFFSET` (use `after`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad credentials, or `status` other than `published` without credentials", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles")]
pub async fn list_articles(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthUser,
    query: web::Query<ListArticlesQuery>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let query = query.into_inner();
    let page = PageParams::parse(query.page.as_deref(), query.per_page.as_deref())?;
    let max_offset = state.settings.list_max_offset;
    if query.after.is_none() && page.offset() > max_offset {
        return Err(ApiError::invalid(
            "page",
            format!(
                "offsets deeper than {max_offset} rows are refused: follow the `next` link, which continues \
                 with the `after` cursor"
            ),
        ));
    }
    let principal = auth.0;
    let q = non_empty("q", query.q)?;
    // Counted as sent, before trimming, as the spec's `maxLength` counts it.
    if q.as_deref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::invalid("q", "must be at most 200 characters"));
    }
    let q = q.map(|s| s.trim().to_owned());
    let sort = match query.sort.as_deref() {
        None | Some("-published_at") => Sort::PublishedDesc,
        Some("published_at") => Sort::PublishedAsc,
        Some("-updated_at") => Sort::UpdatedDesc,
        Some("title") => Sort::Title,
        Some("relevance") if q.is_some() => Sort::Relevance,
        Some("relevance") => return Err(ApiError::invalid("sort", "`relevance` needs a `q` search")),
        Some(other) => {
            return Err(ApiError::invalid(
                "sort",
                format!("`{other}` is not one of -published_at, published_at, -updated_at, title, relevance"),
            ))
        }
    };
    let sort = match query.sticky_first.as_deref() {
        None | Some("false") => sort,
        Some("true") if sort == Sort::PublishedDesc => Sort::StickyPublishedDesc,
        Some("true") => {
            return Err(ApiError::invalid("sticky_first", "works only with the default sort, `-published_at`"))
        }
        Some(_) => return Err(ApiError::invalid("sticky_first", "must be `true` or `false`")),
    };
    let at = match query.after.as_deref() {
        None => PageAt::Offset(page),
        Some(_) if query.page.is_some() => {
            return Err(ApiError::invalid("after", "use either `page` or `after`, not both"))
        }
        Some(raw) => PageAt::After(cursor::decode(raw, sort)?, page.per_page),
    };
    let status = match query.status.as_deref() {
        None | Some("published") => None,
        Some(s) => {
            let f = match s {
                "draft" => StatusFilter::Draft,
                "scheduled" => StatusFilter::Scheduled,
                "archived" => StatusFilter::Archived,
                "any" => StatusFilter::Any,
                other => {
                    return Err(ApiError::invalid(
                        "status",
                        format!("`{other}` is not one of published, draft, scheduled, archived, any"),
                    ))
                }
            };
            if principal.is_none() {
                return Err(ApiError::Unauthorized(format!("status={s} needs credentials")));
            }
            Some(f)
        }
    };
    let fields: Option<Vec<String>> = match non_empty("fields", query.fields)? {
        None => None,
        Some(f) => {
            let list: Vec<String> = f.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
            if let Some(bad) = list.iter().find(|f| f.as_str() != "id" && !SPARSE_FIELDS.contains(&f.as_str())) {
                return Err(ApiError::invalid("fields", format!("`{bad}` is not an article field")));
            }
            Some(list)
        }
    };
    let mut include_body = fields.as_ref().is_some_and(|f| f.iter().any(|x| x == "body_html"));
    let mut include_authors = false;
    if let Some(list) = non_empty("include", query.include)? {
        for part in list.split(',').map(str::trim) {
            match part {
                "body" => include_body = true,
                "authors" => include_authors = true,
                other => {
                    let shown: String = other.chars().take(50).collect();
                    return Err(ApiError::invalid("include", format!("`{shown}` is not `body` or `authors`")));
                }
            }
        }
    }
    let author = non_empty("author", query.author)?;
    let category = non_empty("category", query.category)?;
    let tag = non_empty("tag", query.tag)?
        .map(|t| t.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect::<Vec<_>>());
    let series = non_empty("series", query.series)?;
    let published_after = rfc3339("published_after", query.published_after)?;
    let published_before = rfc3339("published_before", query.published_before)?;
    let vis = service::visibility(principal.as_ref());
    let now = crate::db::now();
    let page_at = at.clone();
    let cursor_page = matches!(at, PageAt::After(..));
    // Past the offset limit the next page is reached by cursor.
    let deep = matches!(at, PageAt::Offset(p) if p.page * p.per_page > max_offset);
    let query = move |c: &mut crate::db::DbConnection| {
        let categories = match &category {
            Some(slug) => Some(repo::category_and_descendants(c, slug)?),
            None => None,
        };
        let series = match &series {
            Some(key) => Some(crate::series::repo::find_by_key(c, &IdOrSlug::parse(key))?.map(|s| s.id).unwrap_or(-1)),
            None => None,
        };
        let filter = ArticleFilter { author, categories, tag, series, published_after, published_before, q, status };
        let (rows, more, total) = repo::list(c, vis, &filter, sort, &page_at, now, include_body)?;
        let rel = repo::load_relations(c, &rows, false, &base_url)?;
        Ok((rows, more, rel, total))
    };
    // The page becomes JSON on the blocking thread that loaded it (see
    // `db::run_then`); only the `Link` header needs the request.
    let render = move |(rows, more, rel, total): (Vec<super::model::ArticleRow>, bool, _, i64)| {
        let next_after = match rows.last() {
            Some(last) if more => Cursor::after(sort, last).map(|c| cursor::encode(&c)),
            _ => None,
        };
        let meta = if cursor_page {
            // A keyset page has no page number: `page` is 0.
            PageMeta { page: 0, ..PageParams { page: 1, per_page: page.per_page }.meta(total) }
        } else {
            page.meta(total)
        };
        // The bodies' bytes, to size the JSON buffer once (a list with bodies
        // is ~140 KB, grown by doubling it was copied ~17 times).
        let body_bytes: usize = if include_body { rows.iter().map(|r| r.body_html.len()).sum() } else { 0 };
        // sonic-rs reserves room for a string escaped at worst (six bytes a
        // byte) before it writes it: without that slack, the buffer was
        // reallocated and copied near the end of a list with bodies
        // (`_int_realloc` under `serialize_str`, 1 % of that request).
        let longest_body = if include_body { rows.iter().map(|r| r.body_html.len()).max().unwrap_or(0) } else { 0 };
        let data: Vec<ArticleSummary> = rows
            .into_iter()
            .map(|mut r| {
                let mut s = ArticleSummary::build(&r, &rel, now);
                if include_authors {
                    s.embed_authors(&rel);
                }
                if include_body {
                    s.body_html =
                        Some(if r.password_protected { None } else { Some(std::mem::take(&mut r.body_html)) });
                }
                s
            })
            .collect();
        let body = ArticleList { data, meta };
        let json = match fields {
            None => {
                let mut buf = Vec::with_capacity(body_bytes + longest_body * 6 + body.data.len() * 2048 + 512);
                // Byte for byte what serde_json writes, with SIMD string
                // escaping: serde_json's byte-at-a-time escaping of the
                // bodies' HTML was 9-10 % of an uncached list with bodies
                // (perf, 2026-12-04).
                sonic_rs::to_writer(&mut buf, &body).map_err(anyhow::Error::from)?;
                buf
            }
            Some(fields) => {
                let mut v = serde_json::to_value(&body).map_err(anyhow::Error::from)?;
                if let Some(items) = v["data"].as_array_mut() {
                    for item in items {
                        if let Some(obj) = item.as_object_mut() {
                            obj.retain(|k, _| k == "id" || fields.iter().any(|f| f == k));
                        }
                    }
                }
                serde_json::to_vec(&v).map_err(anyhow::Error::from)?
            }
        };
        Ok((json, meta, next_after))
    };
    let (json, meta, next_after) = crate::db::run_then(&state.pool, query, render).await?;
    let base = &state.settings.public_base_url;
    let link = if cursor_page {
        Some(pagination::cursor_link_header(base, &req, next_after.as_deref()))
    } else {
        pagination::link_header_with(base, &req, &meta, if deep { next_after.as_deref() } else { None })
    };
    Ok(pagination::respond_json_bytes(link, json))
}

/// The wire form of a keyset [`Cursor`]: unpadded base64url of
/// `v1|<sort>|<key>|<id>`, where `<key>` is `t<microseconds>` (a time), `n`
/// (no publication time) or `s<base64url title>`. It is validated, not
/// signed: forging one only names another position in a public ordering,
/// and every filter and visibility rule still applies to what it returns.
pub mod cursor {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use crate::articles::repo::{Cursor, CursorKey, Sort};
    use crate::error::ApiError;

    fn code(sort: Sort) -> &'static str {
        match sort {
            Sort::PublishedDesc => "pd",
            Sort::PublishedAsc => "pa",
            Sort::UpdatedDesc => "ud",
            Sort::Title => "ti",
            Sort::Relevance => "re",
            Sort::StickyPublishedDesc => "sp",
        }
    }

    /// The opaque string for `c`.
    pub fn encode(c: &Cursor) -> String {
        let key = match &c.key {
            CursorKey::Time(Some(t)) => format!("t{}", t.and_utc().timestamp_micros()),
            CursorKey::Time(None) => "n".to_owned(),
            CursorKey::Text(s) => format!("s{}", URL_SAFE_NO_PAD.encode(s.as_bytes())),
            CursorKey::Sticky(sticky, t) => {
                let flag = if *sticky { "k1" } else { "k0" };
                match t {
                    Some(t) => format!("{flag}t{}", t.and_utc().timestamp_micros()),
                    None => format!("{flag}n"),
                }
            }
        };
        URL_SAFE_NO_PAD.encode(format!("v1|{}|{key}|{}", code(c.sort), c.id))
    }

    /// Parses `raw` as a cursor issued for `sort` (`start`: the top, `None`);
    /// anything else is a 400 naming `after`.
    pub fn decode(raw: &str, sort: Sort) -> Result<Option<Cursor>, ApiError> {
        let bad =
            |why: &str| ApiError::invalid("after", format!("{why}; use `start` or the `after` value of a `next` link"));
        if sort == Sort::Relevance {
            return Err(ApiError::invalid("after", "cursors are not available with `sort=relevance`; use `page`"));
        }
        if raw == "start" {
            return Ok(None);
        }
        if raw.len() > 600 {
            return Err(bad("is too long"));
        }
        let text = URL_SAFE_NO_PAD
            .decode(raw.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| bad("is not a cursor"))?;
        let mut parts = text.splitn(4, '|');
        let (Some("v1"), Some(s), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("is not a cursor"));
        };
        if s != code(sort) {
            return Err(bad("was issued for another `sort`"));
        }
        let id: i64 = id.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("is not a cursor"))?;
        let key = match (sort, key.split_at_checked(1)) {
            (Sort::PublishedDesc | Sort::PublishedAsc, Some(("n", ""))) => CursorKey::Time(None),
            (Sort::PublishedDesc | Sort::PublishedAsc | Sort::UpdatedDesc, Some(("t", micros))) => {
                let t = micros
                    .parse::<i64>()
                    .ok()
                    .and_then(chrono::DateTime::from_timestamp_micros)
                    .ok_or_else(|| bad("is not a cursor"))?;
                CursorKey::Time(Some(t.naive_utc()))
            }
            (Sort::StickyPublishedDesc, _) => {
                let (sticky, rest) = match key.split_at_checked(2) {
                    Some(("k1", rest)) => (true, rest),
                    Some(("k0", rest)) => (false, rest),
                    _ => return Err(bad("is not a cursor")),
                };
                let t = match rest.split_at_checked(1) {
                    Some(("n", "")) => None,
                    Some(("t", micros)) => Some(
                        micros
                            .parse::<i64>()
                            .ok()
                            .and_then(chrono::DateTime::from_timestamp_micros)
                            .ok_or_else(|| bad("is not a cursor"))?
                            .naive_utc(),
                    ),
                    _ => return Err(bad("is not a cursor")),
                };
                CursorKey::Sticky(sticky, t)
            }
            (Sort::Title, Some(("s", b64))) => CursorKey::Text(
                URL_SAFE_NO_PAD
                    .decode(b64.as_bytes())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| bad("is not a cursor"))?,
            ),
            _ => return Err(bad("is not a cursor")),
        };
        Ok(Some(Cursor { sort, key, id }))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn cursors_round_trip_and_refuse_other_sorts_and_garbage() {
            let t = chrono::DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap().naive_utc();
            for c in [
                Cursor { sort: Sort::PublishedDesc, key: CursorKey::Time(Some(t)), id: 7 },
                Cursor { sort: Sort::PublishedAsc, key: CursorKey::Time(None), id: 8 },
                Cursor { sort: Sort::UpdatedDesc, key: CursorKey::Time(Some(t)), id: 9 },
                Cursor { sort: Sort::Title, key: CursorKey::Text("Ça | va?".into()), id: 10 },
                Cursor { sort: Sort::StickyPublishedDesc, key: CursorKey::Sticky(true, Some(t)), id: 11 },
                Cursor { sort: Sort::StickyPublishedDesc, key: CursorKey::Sticky(false, None), id: 12 },
            ] {
                assert_eq!(decode(&encode(&c), c.sort).unwrap(), Some(c));
            }
            let pd = encode(&Cursor { sort: Sort::PublishedDesc, key: CursorKey::Time(Some(t)), id: 7 });
            for (raw, sort) in [
                (pd.as_str(), Sort::Title),
                (pd.as_str(), Sort::Relevance),
                ("not a cursor!", Sort::PublishedDesc),
                ("djF8cGR8eHw3", Sort::PublishedDesc),
                ("", Sort::PublishedDesc),
            ] {
                assert_eq!(decode("start", Sort::Title).unwrap(), None);
                match decode(raw, sort) {
                    Err(ApiError::BadRequest { errors, .. }) => assert_eq!(errors[0].field, "after", "{raw}"),
                    other => panic!("{raw:?} under {sort:?} gave {other:?}"),
                }
            }
        }
    }
}

enum Found {
    Article(Box<(ArticleRow, Relations)>),
    Moved(String),
}

async fn find_visible(
    state: &AppState,
    principal: Option<Principal>,
    raw: String,
    with_relations: bool,
) -> Result<Found, ApiError> {
    let key = IdOrSlug::parse(&raw);
    let now = crate::db::now();
    let base_url = state.settings.public_base_url.clone();
    crate::db::run(&state.pool, move |c| {
        if let Some(row) = repo::find_by_key(c, &key)? {
            if service::can_see(principal.as_ref(), &row, now) {
                let rel = if with_relations {
                    repo::load_relations(c, std::slice::from_ref(&row), true, &base_url)?
                } else {
                    Relations::default()
                };
                return Ok(Found::Article(Box::new((row, rel))));
            }
        } else if let IdOrSlug::Slug(s) = &key {
            if let Some((current, row)) = repo::redirect_for(c, s)? {
                if service::can_see(principal.as_ref(), &row, now) {
                    return Ok(Found::Moved(current));
                }
            }
        }
        let shown: String = raw.chars().take(100).collect();
        Err(ApiError::NotFound(format!("no article `{shown}` that you may read")))
    })
    .await
}

fn moved(current: &str) -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, format!("/api/v1/articles/{current}"))).finish()
}

fn respond_article(
    status: actix_web::http::StatusCode,
    row: ArticleRow,
    rel: &Relations,
    principal: Option<&Principal>,
) -> HttpResponse {
    let now = crate::db::now();
    let can_edit = principal.is_some_and(|p| service::can_edit(p, &row, now));
    let etag = row.etag();
    let id = row.id;
    let mut res = HttpResponse::build(status);
    if principal.is_some() {
        res.insert_header((header::ETAG, etag));
    }
    if status == actix_web::http::StatusCode::CREATED {
        res.insert_header((header::LOCATION, format!("/api/v1/articles/{id}")));
    }
    // sonic-rs writes the same bytes as serde_json, with SIMD string
    // escaping (see ARCHITECTURE.md, "Article lists").
    match sonic_rs::to_vec(&ArticleEnvelope { data: Article::build(row, rel, now, can_edit) }) {
        Ok(json) => res.content_type(header::ContentType::json()).body(json),
        Err(e) => actix_web::ResponseError::error_response(&ApiError::Internal(anyhow::Error::from(e))),
    }
}

/// Get one article by id or slug, with its body.
///
/// Without credentials only published articles are found. Signed-in callers
/// also read the drafts they may see (contributors and authors their own,
/// editors all), with a strong `ETag` to send back in `If-Match`. An old slug
/// answers 301 with the current URL. A password-protected article has
/// `body_html` and `excerpt` set to `null` for readers.
#[utoipa::path(
    tag = "articles",
    params(("article" = String, Path, description = "Article id (all digits) or slug")),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The article; `ETag` when signed in", body = ArticleEnvelope, links(
            ("UpdateArticle" = (operation_id = "update_article", parameters(("article" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("DeleteArticle" = (operation_id = "delete_article", parameters(("article" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("ListRevisions" = (operation_id = "list_revisions", parameters(("article" = "$response.body#/data/id")))),
        )),
        (status = 301, description = "An old slug: `Location` has the current URL"),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 400, description = "Bad path", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article you may read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{article}")]
pub async fn get_article(
    state: web::Data<AppState>,
    auth: MaybeAuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match find_visible(&state, auth.0.clone(), key.into_inner(), true).await? {
        Found::Moved(current) => Ok(moved(&current)),
        Found::Article(found) => {
            let (row, rel) = *found;
            Ok(respond_article(actix_web::http::StatusCode::OK, row, &rel, auth.0.as_ref()))
        }
    }
}

/// Create an article (contributors and up; contributors only drafts).
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("api_key" = [])),
    request_body = CreateArticle,
    responses(
        (status = 201, description = "Created; `Location` and `ETag` set", body = ArticleEnvelope, links(
            ("GetArticle" = (operation_id = "get_article", parameters(("article" = "$response.body#/data/id")))),
            ("UpdateArticle" = (operation_id = "update_article", parameters(("article" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("DeleteArticle" = (operation_id = "delete_article", parameters(("article" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("ListRevisions" = (operation_id = "list_revisions", parameters(("article" = "$response.body#/data/id")))),
            ("CreatePreview" = (operation_id = "create_preview", parameters(("article" = "$response.body#/data/id")))),
            ("ListComments" = (operation_id = "list_article_comments", parameters(("article" = "$response.body#/data/id")))),
            ("RelatedArticles" = (operation_id = "related_articles", parameters(("article" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid fields (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or key may not write, or may not publish", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A referenced author, term, series or media does not exist, a bad status, or no `bylines` and no author profile to default to (API keys have none)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles")]
pub async fn create_article(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<CreateArticle>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let policy = policy(&state);
    let principal = auth.0;
    let body = body.into_inner();
    let format = body.body_format.unwrap_or(super::dto::BodyFormat::Markdown).as_str().to_owned();
    let pre = service::Prerendered::prepare(format, body.body.clone().unwrap_or_default()).await?;
    let password = service::PasswordChange::prepare(body.password.clone().map(Some)).await?;
    let p = principal.clone();
    let tries = if body.slug.is_none() { 3 } else { 1 };
    let (row, rel) = crate::db::write_retrying_conflicts(&state.pool, tries, move |c| {
        c.transaction(|c| {
            let row = service::create(c, &p, policy, body.clone(), &pre, &password)?;
            let rel = repo::load_relations(c, std::slice::from_ref(&row), true, &base_url)?;
            Ok((row, rel))
        })
    })
    .await?;
    Ok(respond_article(actix_web::http::StatusCode::CREATED, row, &rel, Some(&principal)))
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Update an article (partial). Needs `If-Match` with the current `ETag`.
///
/// Status moves follow draft → scheduled (future `published_at`) → published →
/// archived, and back to draft. `published_at` is set on first publication and
/// kept afterwards. Every change is stored as a revision; a slug change keeps
/// the old slug answering with 301.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("api_key" = [])),
    params(("article" = String, Path, description = "Article id (all digits) or slug"),
           ("If-Match" = String, Header, description = "The article's current ETag")),
    request_body = UpdateArticle,
    responses(
        (status = 200, description = "Updated; new `ETag`", body = ArticleEnvelope, links(
            ("GetArticle" = (operation_id = "get_article", parameters(("article" = "$response.body#/data/id")))),
            ("UpdateArticle" = (operation_id = "update_article", parameters(("article" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("DeleteArticle" = (operation_id = "delete_article", parameters(("article" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("ListRevisions" = (operation_id = "list_revisions", parameters(("article" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid fields (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "You may not edit this article, or not publish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article you may read", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale: someone saved first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A referenced row does not exist, or the status move is not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/articles/{article}")]
pub async fn update_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    key: web::Path<String>,
    body: crate::json::Json<UpdateArticle>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let policy = policy(&state);
    let principal = auth.0;
    let Found::Article(found) = find_visible(&state, Some(principal.clone()), key.into_inner(), false).await? else {
        return Err(ApiError::NotFound("address the article by its current slug or id".into()));
    };
    let row = found.0;
    service::check_if_match(if_match(&req).as_deref(), &row)?;
    let mut body = body.into_inner();
    let password = service::PasswordChange::prepare(body.password.take()).await?;
    let pre = if body.body.is_some() || body.body_format.is_some() {
        let format = body.body_format.map(|f| f.as_str().to_owned()).unwrap_or_else(|| row.body_format.clone());
        let source = body.body.clone().unwrap_or_else(|| row.body_source.clone());
        Some(service::Prerendered::prepare(format, source).await?)
    } else {
        None
    };
    let p = principal.clone();
    let (row, rel) = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let row = service::update(c, &p, policy, row, body, pre.as_ref(), &password)?;
            let rel = repo::load_relations(c, std::slice::from_ref(&row), true, &base_url)?;
            Ok((row, rel))
        })
    })
    .await?;
    Ok(respond_article(actix_web::http::StatusCode::OK, row, &rel, Some(&principal)))
}

/// Delete an article. Needs `If-Match` with the current `ETag`.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("api_key" = [])),
    params(("article" = String, Path, description = "Article id (all digits) or slug"),
           ("If-Match" = String, Header, description = "The article's current ETag")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "You may not delete this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article you may read", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/articles/{article}")]
pub async fn delete_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let Found::Article(found) = find_visible(&state, Some(principal.clone()), key.into_inner(), false).await? else {
        return Err(ApiError::NotFound("address the article by its current slug or id".into()));
    };
    let row = found.0;
    service::check_if_match(if_match(&req).as_deref(), &row)?;
    crate::db::write(&state.pool, move |c| c.transaction(|c| service::delete(c, &principal, &row))).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn editable(state: &AppState, principal: &Principal, raw: String) -> Result<ArticleRow, ApiError> {
    let Found::Article(found) = find_visible(state, Some(principal.clone()), raw, false).await? else {
        return Err(ApiError::NotFound("address the article by its current slug or id".into()));
    };
    let row = found.0;
    if !service::can_edit(principal, &row, crate::db::now()) {
        return Err(ApiError::Forbidden("you may not edit this article".into()));
    }
    Ok(row)
}

/// List an article's revisions, newest first (for those who may edit it).
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("api_key" = [])),
    params(("article" = String, Path, description = "Article id (all digits) or slug"), PageQuery),
    responses(
        (status = 200, description = "A page of revisions", body = RevisionList, links(
            ("RestoreRevision" = (
                operation_id = "restore_revision",
                parameters(("article" = "$request.path.article"), ("rev" = "$response.body#/data/0/id"), ("If-Match" = "*")),
                description = "Restore the newest revision. `If-Match: *` skips the version check; send the article's `ETag` to keep it."
            )),
        )),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "You may not edit this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article you may read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{article}/revisions")]
pub async fn list_revisions(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    key: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.params()?;
    let row = editable(&state, &auth.0, key.into_inner()).await?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list_revisions(c, row.id, &page)?)).await?;
    let meta = page.meta(total);
    let data = rows
        .into_iter()
        .map(|(id, user_id, changed, at)| Revision {
            id,
            user_id,
            changed_fields: changed.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            created_at: at.and_utc(),
        })
        .collect();
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &RevisionList { data, meta }))
}

/// Read one revision in full: its snapshot and a field-by-field diff
/// against the current version (for those who may edit the article, as the
/// revision list). Read it before restoring it.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("api_key" = [])),
    params(("article" = String, Path, description = "Article id (all digits) or slug"),
           ("rev" = i64, Path, description = "Revision id", minimum = 1)),
    responses(
        (status = 200, description = "The revision, its snapshot and its diff against the current version", body = RevisionDetailEnvelope,
            headers(("ETag" = String, description = "The article's current ETag, to send in `If-Match` when restoring")),
            links(
            ("RestoreRevision" = (
                operation_id = "restore_revision",
                parameters(("article" = "$request.path.article"), ("rev" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")),
                description = "Restore this revision onto the version it was compared with."
            )),
        )),
        (status = 400, description = "Bad revision id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "You may not edit this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article you may read, or no such revision of it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{article}/revisions/{rev}")]
pub async fn get_revision(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, String)>,
    rev: Id<RevSegment>,
) -> Result<HttpResponse, ApiError> {
    let (raw, _) = path.into_inner();
    let rev = rev.get();
    let row = editable(&state, &auth.0, raw).await?;
    let etag = row.etag();
    let detail = crate::db::run(&state.pool, move |c| service::revision_detail(c, &row, rev)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(RevisionDetailEnvelope { data: detail }))
}

/// Restore the content of a revision (a new revision records it). Status and
/// publication time are kept. Needs `If-Match` with the current `ETag`.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("api_key" = [])),
    params(("article" = String, Path, description = "Article id (all digits) or slug"),
           ("rev" = i64, Path, description = "Revision id", minimum = 1),
           ("If-Match" = String, Header, description = "The article's current ETag")),
    responses(
        (status = 200, description = "Restored; new `ETag`", body = ArticleEnvelope, links(
            ("GetArticle" = (operation_id = "get_article", parameters(("article" = "$response.body#/data/id")))),
            ("UpdateArticle" = (operation_id = "update_article", parameters(("article" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("DeleteArticle" = (operation_id = "delete_article", parameters(("article" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
        )),
        (status = 400, description = "Bad revision id, or the revision no longer validates", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "You may not edit this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article or revision", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The revision references rows that are gone", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{article}/revisions/{rev}/restore")]
pub async fn restore_revision(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    path: web::Path<(String, String)>,
    rev: Id<RevSegment>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let policy = policy(&state);
    let (raw, _) = path.into_inner();
    let rev = rev.get();
    let principal = auth.0;
    let row = editable(&state, &principal, raw).await?;
    service::check_if_match(if_match(&req).as_deref(), &row)?;
    // Render the revision's body before taking the write lock.
    let id = row.id;
    let (format, source) = crate::db::run(&state.pool, move |c| service::revision_body(c, id, rev)).await?;
    let pre = service::Prerendered::prepare(format, source).await?;
    let p = principal.clone();
    let (row, rel) = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let row = service::restore(c, &p, policy, row, rev, &pre)?;
            let rel = repo::load_relations(c, std::slice::from_ref(&row), true, &base_url)?;
            Ok((row, rel))
        })
    })
    .await?;
    Ok(respond_article(actix_web::http::StatusCode::OK, row, &rel, Some(&principal)))
}

/// Read a password-protected article's body with its post password, as a
/// WordPress reader does through the post-password form.
///
/// Wrong passwords are limited per client address and per client address
/// and article (429 with `Retry-After`); a right one is not counted. The
/// article must be one the caller may read (published, for the public).
#[utoipa::path(
    tag = "articles",
    params(("article" = String, Path, description = "Article id (all digits) or slug")),
    security((), ("bearer" = []), ("api_key" = [])),
    request_body = UnlockArticle,
    responses(
        (status = 200, description = "The body", body = UnlockedArticleEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`"),
                    ("RateLimit-Policy" = String, description = "draft-ietf-httpapi-ratelimit-headers policies, e.g. `\"unlock-client\";q=30;w=900`"),
                    ("RateLimit" = String, description = "Remaining attempts per policy, e.g. `\"unlock-client\";r=30;t=0`"))),
        (status = 400, description = "A malformed body or `password` (named in `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong password (`errors` names `password`)", body = Problem, content_type = "application/problem+json",
            headers(("RateLimit-Policy" = String, description = "As on 200"), ("RateLimit" = String, description = "As on 200"))),
        (status = 404, description = "No article you may read", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The article is not password-protected: `GET` it instead", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords from this address (for this article or overall)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "Seconds to wait"),
                    ("RateLimit-Policy" = String, description = "As on 200"), ("RateLimit" = String, description = "As on 200"))),
    )
)]
#[post("/articles/{article}/unlock")]
pub async fn unlock_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthUser,
    key: web::Path<String>,
    body: crate::json::Json<UnlockArticle>,
) -> Result<HttpResponse, ApiError> {
    use crate::http::limit::{Key, Policy};
    let password = body.into_inner().password;
    super::dto::check_post_password(&password)?;
    let Found::Article(found) = find_visible(&state, auth.0, key.into_inner(), false).await? else {
        return Err(ApiError::NotFound("address the article by its current slug or id".into()));
    };
    let row = found.0;
    if !row.password_protected {
        return Err(ApiError::Conflict(format!(
            "article {} is not password-protected; its body is in GET /api/v1/articles/{}",
            row.id, row.id
        )));
    }
    let ip = crate::http::client_ip(&req, &state.settings);
    let article = format!("article:{}", row.id);
    let decision = state
        .limits
        .check(Policy::Unlock, &[Key::Client(ip), Key::ClientAccount(ip, &article), Key::Account(&article)])
        .await?;
    let id = row.id;
    let hash = crate::db::run(&state.pool, move |c| Ok(repo::password_hash(c, id)?)).await?;
    if !crate::auth::password::verify_async(password, hash).await? {
        let meters = decision.meters().clone();
        decision.failed().await;
        let mut res = Problem::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "wrong_password",
            "the password is wrong".into(),
            vec![crate::error::FieldError { field: "password".into(), message: "is wrong".into() }],
        )
        .into_response();
        for (name, value) in meters.header_values() {
            if let Ok(v) = header::HeaderValue::from_str(value) {
                res.headers_mut().insert(header::HeaderName::from_static(name), v);
            }
        }
        return Ok(res);
    }
    let meters = decision.succeeded().await;
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    meters.apply(&mut res);
    Ok(res.json(UnlockedArticleEnvelope { data: UnlockedArticle::of(&row) }))
}

/// Query parameters of `GET /articles/{article}/related`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RelatedQuery {
    /// How many, 1–20; default 5.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 20)]
    pub limit: Option<String>,
}

/// Published articles sharing tags (weighted double) or categories with this
/// one, best first.
#[utoipa::path(
    tag = "articles",
    params(("article" = String, Path, description = "Article id (all digits) or slug"), RelatedQuery),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Related articles (`meta.total` is the number returned)", body = RelatedList),
        (status = 400, description = "Bad `limit`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article here", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{article}/related")]
pub async fn related_articles(
    state: web::Data<AppState>,
    auth: MaybeAuthUser,
    key: web::Path<String>,
    query: web::Query<RelatedQuery>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let limit = match query.limit.as_deref() {
        None => 5,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=20).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", "must be a whole number from 1 to 20"))?,
    };
    let Found::Article(found) = find_visible(&state, auth.0, key.into_inner(), false).await? else {
        return Err(ApiError::NotFound("address the article by its current slug or id".into()));
    };
    let row = found.0;
    let now = crate::db::now();
    if !row.is_public(now) {
        return Err(ApiError::NotFound("related articles are listed for published articles only".into()));
    }
    let (rows, rel) = crate::db::run(&state.pool, move |c| {
        let rows = repo::related(c, row.id, limit, now)?;
        let rel = repo::load_relations(c, &rows, false, &base_url)?;
        Ok((rows, rel))
    })
    .await?;
    let n = rows.len() as i64;
    let data = rows.iter().map(|r| ArticleSummary::build(r, &rel, now)).collect();
    Ok(HttpResponse::Ok().json(RelatedList {
        data,
        meta: crate::pagination::PageMeta { page: 1, per_page: limit, total: n, total_pages: i64::from(n > 0) },
    }))
}

/// The editorial policy from settings.
fn policy(state: &AppState) -> service::Policy {
    service::Policy { authors_may_add_coauthors: state.settings.authors_may_add_coauthors }
}

/// Lifetime of preview links, in seconds.
pub const PREVIEW_TTL_SECS: i64 = 3600;

/// Mint a one-hour preview link for an article you may edit; anyone holding
/// it can read the article as it is now, whatever its status. The link dies
/// early when its creator's session ends (logout, password change, disabled
/// account), when the creator may no longer edit the article, when the API
/// key that made it is revoked, or when `DELETE /articles/{article}/preview`
/// revokes the article's links.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("api_key" = [])),
    params(("article" = String, Path, description = "Article id (all digits) or slug")),
    responses(
        (status = 201, description = "A preview link", body = PreviewEnvelope, links(
            ("GetPreview" = (operation_id = "get_preview", parameters(("token" = "$response.body#/data/token")))),
        )),
        (status = 403, description = "You may not edit this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article you may read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{article}/preview")]
pub async fn create_preview(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = editable(&state, &auth.0, key.into_inner()).await?;
    let creator = match &auth.0 {
        Principal::User(u) => repo::PreviewCreator::User { id: u.id, session_family: u.session_family.clone() },
        Principal::Key(k) => repo::PreviewCreator::Key(k.id),
    };
    let token = format!("{PREVIEW_TOKEN_PREFIX}{}", crate::auth::tokens::random_secret());
    let hash = crate::auth::tokens::digest(&token);
    let now = crate::db::now();
    let expires = now + chrono::Duration::seconds(PREVIEW_TTL_SECS);
    crate::db::write(&state.pool, move |c| Ok(repo::insert_preview(c, row.id, &hash, &creator, expires, now)?)).await?;
    let url = format!("{}/api/v1/previews/{token}", state.settings.public_base_url);
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, url.clone()))
        .json(PreviewEnvelope { data: Preview { token, url, expires_at: expires.and_utc() } }))
}

/// Prefix of preview tokens (so secret scanners and logs can tell them apart).
pub const PREVIEW_TOKEN_PREFIX: &str = "bsp_";

/// Revoke every preview link of an article (for those who may edit it).
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("api_key" = [])),
    params(("article" = String, Path, description = "Article id (all digits) or slug")),
    responses(
        (status = 204, description = "Every preview link of the article stopped working (none is fine)"),
        (status = 403, description = "You may not edit this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No article you may read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/articles/{article}/preview")]
pub async fn delete_previews(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = editable(&state, &auth.0, key.into_inner()).await?;
    crate::db::write(&state.pool, move |c| Ok(repo::revoke_previews(c, row.id, crate::db::now())?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Read an article through a preview link. Never cached.
#[utoipa::path(
    tag = "articles",
    params(("token" = String, Path, description = "Preview token from `POST /articles/{article}/preview`")),
    responses(
        (status = 200, description = "The article as it is now", body = ArticleEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`: a preview is never cached"))),
        (status = 404, description = "Unknown, expired or revoked link, its creator lost access, or the article is gone", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/previews/{token}")]
pub async fn get_preview(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let hash = crate::auth::tokens::digest(&token);
    let gone = || ApiError::NotFound("this preview link is invalid, expired or revoked".into());
    let now = crate::db::now();
    let (row, rel) = crate::db::run(&state.pool, move |c| {
        let (id, creator) = repo::live_preview(c, &hash, now)?.ok_or_else(gone)?;
        let row = repo::find(c, id)
            .map_err(|e| ApiError::from(e).with_not_found("the previewed article no longer exists".into()))?;
        if !service::creator_may_still_edit(c, &creator, &row, now)? {
            return Err(gone());
        }
        let rel = repo::load_relations(c, std::slice::from_ref(&row), true, &base_url)?;
        Ok((row, rel))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ArticleEnvelope { data: Article::build(row, &rel, now, false) }))
}
