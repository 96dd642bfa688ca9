//! HTTP handlers for `/api/v1/pages`.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use super::dto::{
    CreatePage, Page, PageEnvelope, PageList, PageRevision, PageRevisionDetail, PageRevisionEnvelope, PageRevisionList,
    PageSnapshot, UpdatePage,
};
use super::{repo, service};
use crate::auth::{Action, AuthUser, MaybeAuthUser, Principal};
use crate::error::{ApiError, Problem};
use crate::http::extract::RevSegment;
use crate::http::{AppState, Id};
use crate::pagination::{self, PageQuery};
use crate::slugs::IdOrSlug;

/// The user a revision is credited to (`None` for an API key).
fn revision_user(p: &Principal) -> Option<i64> {
    match p {
        Principal::User(u) => Some(u.id),
        Principal::Key(_) => None,
    }
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A page response with its `ETag` (for signed-in callers, who may write).
fn respond(status: actix_web::http::StatusCode, row: super::model::PageRow, with_etag: bool) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    if with_etag {
        res.insert_header((header::ETAG, row.etag()));
    }
    res.json(PageEnvelope { data: row.into() })
}

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

/// Get a page by id or slug. A draft is a 404 except for editors. Signed-in
/// callers get a strong `ETag` to send back in `If-Match`.
#[utoipa::path(
    tag = "pages",
    params(("page" = String, Path, description = "Page id (all digits) or slug", min_length = 1, max_length = 200)),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The page; `ETag` when signed in", body = PageEnvelope,
            headers(("ETag" = String, description = "`\"p{id}-v{version}\"`, for `If-Match`; only for signed-in callers")),
            links(
            ("UpdatePage" = (operation_id = "update_page", parameters(("page" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("DeletePage" = (operation_id = "delete_page", parameters(("page" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("ListPageRevisions" = (operation_id = "list_page_revisions", parameters(("page" = "$response.body#/data/id")))),
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
    Ok(respond(actix_web::http::StatusCode::OK, row, auth.0.is_some()))
}

/// Create a page (editors and up, or an admin key with `articles:write`).
#[utoipa::path(
    tag = "pages",
    security(("bearer" = []), ("api_key" = [])),
    request_body = CreatePage,
    responses(
        (status = 201, description = "Created; `Location` and `ETag` set", body = PageEnvelope,
            headers(("Location" = String, description = "The new page's URL"), ("ETag" = String, description = "The page's version, for `If-Match`")),
            links(
            ("GetPage" = (operation_id = "get_page", parameters(("page" = "$response.body#/data/id")))),
            ("UpdatePage" = (operation_id = "update_page", parameters(("page" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
            ("DeletePage" = (operation_id = "delete_page", parameters(("page" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
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
    let user = revision_user(&auth.0);
    let row =
        crate::db::write_retrying_conflicts(&state.pool, tries, move |c| service::create(c, &b, html.clone(), user))
            .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/pages/{}", row.id)))
        .insert_header((header::ETAG, row.etag()))
        .json(PageEnvelope { data: row.into() }))
}

/// Edit a page (editors and up): only the fields given change. Needs
/// `If-Match` with the current `ETag`; every change is stored as a revision.
#[utoipa::path(
    tag = "pages",
    security(("bearer" = []), ("api_key" = [])),
    params(("page" = String, Path, description = "Page id (all digits) or slug", min_length = 1, max_length = 200),
           ("If-Match" = String, Header, description = "The page's current ETag")),
    request_body = UpdatePage,
    responses(
        (status = 200, description = "Updated; new `ETag`", body = PageEnvelope,
            headers(("ETag" = String, description = "The page's new version, for `If-Match`")),
            links(
            ("GetPage" = (operation_id = "get_page", parameters(("page" = "$response.body#/data/id")))),
            ("DeletePage" = (operation_id = "delete_page", parameters(("page" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
        )),
        (status = 400, description = "Invalid field (named in `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale: someone saved first", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`parent_id` names no page, or would make the page its own ancestor (as for categories)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/pages/{page}")]
pub async fn update_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    key: web::Path<String>,
    body: crate::json::Json<UpdatePage>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManagePages)?;
    let b = body.into_inner();
    let html = b.body.as_deref().map(service::render_body).transpose()?;
    let lookup = IdOrSlug::parse(&key.into_inner());
    let user = revision_user(&auth.0);
    let if_match = if_match(&req);
    let row = crate::db::write(&state.pool, move |c| service::update(c, &lookup, &b, html, if_match.as_deref(), user))
        .await?;
    Ok(respond(actix_web::http::StatusCode::OK, row, true))
}

/// Delete a page (editors and up); its children move to the top level.
/// Needs `If-Match` with the current `ETag`.
#[utoipa::path(
    tag = "pages",
    security(("bearer" = []), ("api_key" = [])),
    params(("page" = String, Path, description = "Page id (all digits) or slug", min_length = 1, max_length = 200),
           ("If-Match" = String, Header, description = "The page's current ETag")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/pages/{page}")]
pub async fn delete_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManagePages)?;
    let lookup = IdOrSlug::parse(&key.into_inner());
    let if_match = if_match(&req);
    crate::db::write(&state.pool, move |c| service::delete(c, &lookup, if_match.as_deref())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The page named by `raw` for an editor (drafts included); 404 otherwise.
async fn editable(state: &AppState, auth: &AuthUser, raw: String) -> Result<super::model::PageRow, ApiError> {
    auth.0.require(Action::ManagePages)?;
    let lookup = IdOrSlug::parse(&raw);
    crate::db::run(&state.pool, move |c| Ok(repo::find_by_key(c, &lookup, true)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no page `{}`", raw.chars().take(200).collect::<String>())))
}

/// List a page's revisions, newest first (editors and up).
#[utoipa::path(
    tag = "pages",
    security(("bearer" = []), ("api_key" = [])),
    params(("page" = String, Path, description = "Page id (all digits) or slug", min_length = 1, max_length = 200), PageQuery),
    responses(
        (status = 200, description = "A page of revisions", body = PageRevisionList, links(
            ("GetPageRevision" = (operation_id = "get_page_revision", parameters(("page" = "$request.path.page"), ("rev" = "$response.body#/data/0/id")))),
        )),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/pages/{page}/revisions")]
pub async fn list_page_revisions(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    key: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.params()?;
    let row = editable(&state, &auth, key.into_inner()).await?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list_revisions(c, row.id, &page)?)).await?;
    let meta = page.meta(total);
    let body = PageRevisionList { data: rows.into_iter().map(PageRevision::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Read one page revision in full, with a field-by-field diff against the
/// current version (editors and up).
#[utoipa::path(
    tag = "pages",
    security(("bearer" = []), ("api_key" = [])),
    params(("page" = String, Path, description = "Page id (all digits) or slug", min_length = 1, max_length = 200),
           ("rev" = i64, Path, description = "Revision id", minimum = 1)),
    responses(
        (status = 200, description = "The revision and its diff", body = PageRevisionEnvelope,
            headers(("ETag" = String, description = "The page's current ETag, to send in `If-Match` when restoring")),
            links(
            ("RestorePageRevision" = (operation_id = "restore_page_revision", parameters(("page" = "$request.path.page"), ("rev" = "$response.body#/data/id"), ("If-Match" = "$response.header.ETag")))),
        )),
        (status = 400, description = "Bad revision id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page or revision", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/pages/{page}/revisions/{rev}")]
pub async fn get_page_revision(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, String)>,
    rev: Id<RevSegment>,
) -> Result<HttpResponse, ApiError> {
    let rev = rev.get();
    let row = editable(&state, &auth, path.into_inner().0).await?;
    let etag = row.etag();
    let detail = crate::db::run(&state.pool, move |c| {
        let (meta, st) = service::revision_state(c, row.id, rev)?;
        let snapshot = PageSnapshot::from(&st);
        let current = PageSnapshot::from(&service::PageState::of(&row));
        Ok(PageRevisionDetail {
            revision: meta.into(),
            diff: PageRevisionDetail::diff(&snapshot, &current),
            snapshot,
            current_version: row.version,
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(PageRevisionEnvelope { data: detail }))
}

/// Restore a page revision's content (editors and up; a new revision
/// records it). The status is kept. Needs `If-Match` with the current `ETag`.
#[utoipa::path(
    tag = "pages",
    security(("bearer" = []), ("api_key" = [])),
    params(("page" = String, Path, description = "Page id (all digits) or slug", min_length = 1, max_length = 200),
           ("rev" = i64, Path, description = "Revision id", minimum = 1),
           ("If-Match" = String, Header, description = "The page's current ETag")),
    responses(
        (status = 200, description = "Restored; new `ETag`", body = PageEnvelope,
            headers(("ETag" = String, description = "The page's new version"))),
        (status = 400, description = "Bad revision id, or its body no longer renders", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page or revision", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pages/{page}/revisions/{rev}/restore")]
pub async fn restore_page_revision(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    path: web::Path<(String, String)>,
    rev: Id<RevSegment>,
) -> Result<HttpResponse, ApiError> {
    let rev = rev.get();
    let raw = path.into_inner().0;
    let row = editable(&state, &auth, raw).await?;
    // Fail early on a stale ETag; the write checks it again under its lock.
    service::check_if_match(if_match(&req).as_deref(), &row)?;
    let id = row.id;
    let (_, st) = crate::db::run(&state.pool, move |c| service::revision_state(c, id, rev)).await?;
    let html = service::render_body(&st.body_source)?;
    let user = revision_user(&auth.0);
    let if_match = if_match(&req);
    let lookup = IdOrSlug::Id(id);
    let row =
        crate::db::write(&state.pool, move |c| service::restore(c, &lookup, rev, html, if_match.as_deref(), user))
            .await?;
    Ok(respond(actix_web::http::StatusCode::OK, row, true))
}
