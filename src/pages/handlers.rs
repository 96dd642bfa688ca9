//! HTTP handlers for `/api/v1/pages`.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use super::dto::{CreatePage, Page, PageEnvelope, PageList, UpdatePage};
use super::{repo, service};
use crate::auth::{Action, AuthUser, MaybeAuthUser};
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::pagination::{self, PageQuery};
use crate::slugs::IdOrSlug;

/// Whether the caller may see drafts.
fn sees_drafts(auth: &MaybeAuthUser) -> bool {
    auth.0.as_ref().is_some_and(|p| p.can(Action::ManagePages))
}

/// List pages by menu order, then title. Published pages only, except for
/// editors (and admin keys with `articles:write`), who see drafts too.
#[utoipa::path(
    tag = "pages",
    params(PageQuery),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "A page of pages", body = PageList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/pages")]
pub async fn list_pages(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.params()?;
    let drafts = sees_drafts(&auth);
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &page, drafts)?)).await?;
    let meta = page.meta(total);
    let body = PageList { data: rows.into_iter().map(Page::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Get a page by id or slug. A draft is a 404 except for editors.
#[utoipa::path(
    tag = "pages",
    params(("page" = String, Path, description = "Page id (all digits) or slug", min_length = 1, max_length = 200)),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The page", body = PageEnvelope, links(
            ("UpdatePage" = (operation_id = "update_page", parameters(("page" = "$response.body#/data/id")))),
            ("DeletePage" = (operation_id = "delete_page", parameters(("page" = "$response.body#/data/id")))),
        )),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/pages/{page}")]
pub async fn get_page(
    state: web::Data<AppState>,
    auth: MaybeAuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = key.into_inner();
    let lookup = IdOrSlug::parse(&raw);
    let drafts = sees_drafts(&auth);
    let row = crate::db::run(&state.pool, move |c| Ok(repo::find_by_key(c, &lookup, drafts)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no page `{}`", raw.chars().take(200).collect::<String>())))?;
    Ok(HttpResponse::Ok().json(PageEnvelope { data: row.into() }))
}

/// Create a page (editors and up, or an admin key with `articles:write`).
#[utoipa::path(
    tag = "pages",
    security(("bearer" = []), ("api_key" = [])),
    request_body = CreatePage,
    responses(
        (status = 201, description = "Created; `Location` set", body = PageEnvelope, headers(("Location" = String, description = "The new page's URL")), links(
            ("GetPage" = (operation_id = "get_page", parameters(("page" = "$response.body#/data/id")))),
            ("UpdatePage" = (operation_id = "update_page", parameters(("page" = "$response.body#/data/id")))),
            ("DeletePage" = (operation_id = "delete_page", parameters(("page" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field (named in `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`parent_id` names no page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pages")]
pub async fn create_page(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<CreatePage>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManagePages)?;
    let b = body.into_inner();
    let html = service::render_body(&b.body)?;
    let tries = if b.slug.is_none() { 3 } else { 1 };
    let row =
        crate::db::write_retrying_conflicts(&state.pool, tries, move |c| service::create(c, &b, html.clone())).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/pages/{}", row.id)))
        .json(PageEnvelope { data: row.into() }))
}

/// Edit a page (editors and up): only the fields given change.
#[utoipa::path(
    tag = "pages",
    security(("bearer" = []), ("api_key" = [])),
    params(("page" = String, Path, description = "Page id (all digits) or slug", min_length = 1, max_length = 200)),
    request_body = UpdatePage,
    responses(
        (status = 200, description = "Updated", body = PageEnvelope, links(
            ("GetPage" = (operation_id = "get_page", parameters(("page" = "$response.body#/data/id")))),
            ("DeletePage" = (operation_id = "delete_page", parameters(("page" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field (named in `errors`), or a parent loop", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`parent_id` names no page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/pages/{page}")]
pub async fn update_page(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
    body: crate::json::Json<UpdatePage>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManagePages)?;
    let b = body.into_inner();
    let html = b.body.as_deref().map(service::render_body).transpose()?;
    let lookup = IdOrSlug::parse(&key.into_inner());
    let row = crate::db::write(&state.pool, move |c| service::update(c, &lookup, &b, html)).await?;
    Ok(HttpResponse::Ok().json(PageEnvelope { data: row.into() }))
}

/// Delete a page (editors and up); its children move to the top level.
#[utoipa::path(
    tag = "pages",
    security(("bearer" = []), ("api_key" = [])),
    params(("page" = String, Path, description = "Page id (all digits) or slug", min_length = 1, max_length = 200)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/pages/{page}")]
pub async fn delete_page(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManagePages)?;
    let lookup = IdOrSlug::parse(&key.into_inner());
    crate::db::write(&state.pool, move |c| {
        let row = repo::find_by_key(c, &lookup, true)?.ok_or_else(|| ApiError::NotFound("no such page".into()))?;
        Ok(repo::delete(c, row.id)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
