//! HTTP handlers for `/api/v1/tags`.

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::dto::{Tag, TagList};
use super::repo;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::pagination::{self, PageQuery};

/// List tags, ordered by name.
#[utoipa::path(
    tag = "taxonomy",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of tags; `Link` header has first/prev/next/last", body = TagList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tags")]
pub async fn list_tags(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.params()?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &page)?)).await?;
    let meta = page.meta(total);
    let body = TagList { data: rows.into_iter().map(Tag::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}
