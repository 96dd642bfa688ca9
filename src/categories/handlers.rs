//! HTTP handlers for `/api/v1/categories`.

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::dto::{Category, CategoryList};
use super::repo;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::pagination::{self, PageQuery};

/// List categories, ordered by name.
#[utoipa::path(
    tag = "taxonomy",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of categories; `Link` header has first/prev/next/last", body = CategoryList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/categories")]
pub async fn list_categories(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.params()?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &page)?)).await?;
    let meta = page.meta(total);
    let body = CategoryList { data: rows.into_iter().map(Category::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}
