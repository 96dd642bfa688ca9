//! HTTP handlers for `/api/v1/authors`.

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::dto::{Author, AuthorEnvelope, AuthorList};
use super::repo;
use crate::error::{ApiError, Problem};
use crate::pagination::{self, PageQuery};
use crate::startup::AppState;

/// List authors, ordered by name.
#[utoipa::path(
    tag = "authors",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of authors; `Link` header has first/prev/next/last", body = AuthorList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors")]
pub async fn list_authors(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.params()?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &page)?)).await?;
    let meta = page.meta(total);
    let body = AuthorList { data: rows.into_iter().map(Author::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Get one author by slug.
#[utoipa::path(
    tag = "authors",
    params(("slug" = String, Path, description = "Author slug")),
    responses(
        (status = 200, description = "The author", body = AuthorEnvelope),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors/{slug}")]
pub async fn get_author(state: web::Data<AppState>, slug: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let lookup = slug.clone();
    let row = crate::db::run(&state.pool, move |c| Ok(repo::find_by_slug(c, &lookup)?))
        .await
        .map_err(|e| e.with_not_found(format!("no author with slug `{slug}`")))?;
    Ok(HttpResponse::Ok().json(AuthorEnvelope { data: Author::from(row) }))
}
