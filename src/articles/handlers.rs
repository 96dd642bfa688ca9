//! HTTP handlers for `/api/v1/articles`.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{Article, ArticleEnvelope, ArticleList, ArticleSummary};
use super::repo::{self, ArticleFilter};
use crate::error::{ApiError, Problem};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

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
    /// Only articles bylined to the author with this slug.
    pub author: Option<String>,
    /// Only articles in the category with this slug.
    pub category: Option<String>,
    /// Only articles with the tag with this slug.
    pub tag: Option<String>,
}

/// List published articles, newest first.
///
/// Bodies are left out; each item carries bylines, categories, tags, featured
/// media and the approved comment count. Filters match slugs exactly; an
/// unknown slug yields an empty page.
#[utoipa::path(
    tag = "articles",
    params(ListArticlesQuery),
    responses(
        (status = 200, description = "A page of articles; `Link` header has first/prev/next/last", body = ArticleList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles")]
pub async fn list_articles(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListArticlesQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = PageParams::parse(query.page.as_deref(), query.per_page.as_deref())?;
    let filter = ArticleFilter {
        author: non_empty("author", query.author)?,
        category: non_empty("category", query.category)?,
        tag: non_empty("tag", query.tag)?,
    };
    let now = crate::db::now();
    let (rows, rel, total) = crate::db::run(&state.pool, move |c| {
        let (rows, total) = repo::list_public(c, &filter, &page, now)?;
        let rel = repo::load_relations(c, &rows)?;
        Ok((rows, rel, total))
    })
    .await?;
    let meta = page.meta(total);
    let body = ArticleList { data: rows.iter().map(|r| ArticleSummary::build(r, &rel)).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

fn non_empty(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    match v {
        Some(s) if s.trim().is_empty() => Err(ApiError::invalid(field, "must not be empty")),
        other => Ok(other),
    }
}

/// Get one published article by slug, with its body.
///
/// Drafts, scheduled articles whose time has not come, archived articles and
/// unknown slugs are all 404. A password-protected article has `body_html` and
/// `excerpt` set to `null`.
#[utoipa::path(
    tag = "articles",
    params(("slug" = String, Path, description = "Article slug")),
    responses(
        (status = 200, description = "The article", body = ArticleEnvelope),
        (status = 404, description = "No published article with this slug", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{slug}")]
pub async fn get_article(state: web::Data<AppState>, slug: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let lookup = slug.clone();
    let now = crate::db::now();
    let (row, rel) = crate::db::run(&state.pool, move |c| {
        let row = repo::find_public_by_slug(c, &lookup, now)?;
        let rel = repo::load_relations(c, std::slice::from_ref(&row))?;
        Ok((row, rel))
    })
    .await
    .map_err(|e| e.with_not_found(format!("no published article with slug `{slug}`")))?;
    Ok(HttpResponse::Ok().json(ArticleEnvelope { data: Article::build(row, &rel) }))
}
