//! HTTP handlers for `/api/v1/categories` and `/api/v1/tags`. Each route is
//! a thin, documented wrapper over one kind-generic body below; reads are
//! public, writes need an editor (or an admin key with `articles:write`).

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::Connection;

use super::dto::{
    Category, CategoryEnvelope, CategoryList, CreateCategory, CreateTag, DeletedCategory, DeletedCategoryEnvelope,
    DeletedTag, DeletedTagEnvelope, MergeTag, MergedTag, MergedTagEnvelope, Tag, TagEnvelope, TagList, UpdateCategory,
    UpdateTag,
};
use super::model::Term;
use super::service::{self, TermInput};
use super::{repo, Kind};
use crate::auth::{Action, AuthUser};
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::pagination::{self, PageMeta, PageQuery};
use crate::slugs::IdOrSlug;

async fn list(state: &AppState, kind: Kind, query: &PageQuery) -> Result<(Vec<Term>, PageMeta), ApiError> {
    let page = query.params()?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, kind, &page)?)).await?;
    Ok((rows, page.meta(total)))
}

enum Found {
    Term(Term),
    /// An old slug: the current one.
    Moved(String),
}

async fn find(state: &AppState, kind: Kind, raw: String) -> Result<Found, ApiError> {
    crate::db::run(&state.pool, move |c| {
        let key = IdOrSlug::parse(&raw);
        if let Some(t) = repo::find_by_key(c, kind, &key)? {
            return Ok(Found::Term(t));
        }
        if let IdOrSlug::Slug(s) = &key {
            if let Some(t) = repo::redirect_for(c, kind, s)? {
                return Ok(Found::Moved(t.slug));
            }
        }
        service::find(c, kind, &raw).map(Found::Term)
    })
    .await
}

fn moved(kind: Kind, current: &str) -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, format!("/api/v1/{}/{current}", kind.plural())))
        .finish()
}

async fn create(state: &AppState, auth: &AuthUser, kind: Kind, input: TermInput) -> Result<Term, ApiError> {
    auth.0.require(Action::ManageTaxonomy)?;
    service::check(&input)?;
    let tries = if input.slug.is_none() { 3 } else { 1 };
    crate::db::write_retrying_conflicts(&state.pool, tries, move |c| {
        c.transaction(|c| service::create(c, kind, input.clone()))
    })
    .await
}

fn created(kind: Kind, id: i64) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/{}/{id}", kind.plural())));
    res
}

async fn update(
    state: &AppState,
    auth: &AuthUser,
    kind: Kind,
    raw: String,
    input: TermInput,
) -> Result<Term, ApiError> {
    auth.0.require(Action::ManageTaxonomy)?;
    service::check(&input)?;
    crate::db::write(&state.pool, move |c| c.transaction(|c| service::update(c, kind, &raw, input))).await
}

async fn remove(state: &AppState, auth: &AuthUser, kind: Kind, raw: String) -> Result<(Term, repo::Deleted), ApiError> {
    auth.0.require(Action::ManageTaxonomy)?;
    crate::db::write(&state.pool, move |c| c.transaction(|c| service::delete(c, kind, &raw))).await
}

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
    let (rows, meta) = list(&state, Kind::Category, &query).await?;
    let body = CategoryList { data: rows.into_iter().map(Category::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Get a category by id or slug; a former slug answers 301 with the current URL.
#[utoipa::path(
    tag = "taxonomy",
    params(("category" = String, Path, description = "Category id (all digits) or slug")),
    responses(
        (status = 200, description = "The category", body = CategoryEnvelope, links(
            ("UpdateCategory" = (operation_id = "update_category", parameters(("category" = "$response.body#/data/id")))),
            ("DeleteCategory" = (operation_id = "delete_category", parameters(("category" = "$response.body#/data/id")))),
        )),
        (status = 301, description = "A former slug: `Location` has the current URL"),
        (status = 400, description = "A bad path segment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/categories/{category}")]
pub async fn get_category(state: web::Data<AppState>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match find(&state, Kind::Category, key.into_inner()).await? {
        Found::Term(t) => Ok(HttpResponse::Ok().json(CategoryEnvelope { data: t.into() })),
        Found::Moved(slug) => Ok(moved(Kind::Category, &slug)),
    }
}

/// Create a category (editors and up, or a key with `articles:write`).
#[utoipa::path(
    tag = "taxonomy",
    security(("bearer" = []), ("api_key" = [])),
    request_body = CreateCategory,
    responses(
        (status = 201, description = "Created; `Location` has its URL", body = CategoryEnvelope, links(
            ("GetCategory" = (operation_id = "get_category", parameters(("category" = "$response.body#/data/id")))),
            ("UpdateCategory" = (operation_id = "update_category", parameters(("category" = "$response.body#/data/id")))),
            ("DeleteCategory" = (operation_id = "delete_category", parameters(("category" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken (now or as a former slug)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`parent_id` names no category", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/categories")]
pub async fn create_category(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<CreateCategory>,
) -> Result<HttpResponse, ApiError> {
    let t = create(&state, &auth, Kind::Category, body.into_inner().into()).await?;
    Ok(created(Kind::Category, t.id).json(CategoryEnvelope { data: t.into() }))
}

/// Edit a category (editors and up). A new slug keeps the old one answering 301.
#[utoipa::path(
    tag = "taxonomy",
    security(("bearer" = []), ("api_key" = [])),
    params(("category" = String, Path, description = "Category id (all digits) or slug")),
    request_body = UpdateCategory,
    responses(
        (status = 200, description = "Updated", body = CategoryEnvelope, links(
            ("GetCategory" = (operation_id = "get_category", parameters(("category" = "$response.body#/data/id")))),
            ("DeleteCategory" = (operation_id = "delete_category", parameters(("category" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`parent_id` names no category, the category itself or one of its descendants", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/categories/{category}")]
pub async fn update_category(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
    body: crate::json::Json<UpdateCategory>,
) -> Result<HttpResponse, ApiError> {
    let t = update(&state, &auth, Kind::Category, key.into_inner(), body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(CategoryEnvelope { data: t.into() }))
}

/// Delete a category (editors and up): its children move up to its parent,
/// its articles stay without it; the answer counts both.
#[utoipa::path(
    tag = "taxonomy",
    security(("bearer" = []), ("api_key" = [])),
    params(("category" = String, Path, description = "Category id (all digits) or slug")),
    responses(
        (status = 200, description = "Deleted", body = DeletedCategoryEnvelope),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/categories/{category}")]
pub async fn delete_category(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (t, d) = remove(&state, &auth, Kind::Category, key.into_inner()).await?;
    let data = DeletedCategory { id: t.id, articles_detached: d.articles_detached, children_moved: d.children_moved };
    Ok(HttpResponse::Ok().json(DeletedCategoryEnvelope { data }))
}

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
    let (rows, meta) = list(&state, Kind::Tag, &query).await?;
    let body = TagList { data: rows.into_iter().map(Tag::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Get a tag by id or slug; a former slug (renamed or merged away) answers
/// 301 with the current URL.
#[utoipa::path(
    tag = "taxonomy",
    params(("tag" = String, Path, description = "Tag id (all digits) or slug")),
    responses(
        (status = 200, description = "The tag", body = TagEnvelope, links(
            ("UpdateTag" = (operation_id = "update_tag", parameters(("tag" = "$response.body#/data/id")))),
            ("DeleteTag" = (operation_id = "delete_tag", parameters(("tag" = "$response.body#/data/id")))),
        )),
        (status = 301, description = "A former slug: `Location` has the current URL"),
        (status = 400, description = "A bad path segment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tags/{tag}")]
pub async fn get_tag(state: web::Data<AppState>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match find(&state, Kind::Tag, key.into_inner()).await? {
        Found::Term(t) => Ok(HttpResponse::Ok().json(TagEnvelope { data: t.into() })),
        Found::Moved(slug) => Ok(moved(Kind::Tag, &slug)),
    }
}

/// Create a tag (editors and up, or a key with `articles:write`).
#[utoipa::path(
    tag = "taxonomy",
    security(("bearer" = []), ("api_key" = [])),
    request_body = CreateTag,
    responses(
        (status = 201, description = "Created; `Location` has its URL", body = TagEnvelope, links(
            ("GetTag" = (operation_id = "get_tag", parameters(("tag" = "$response.body#/data/id")))),
            ("UpdateTag" = (operation_id = "update_tag", parameters(("tag" = "$response.body#/data/id")))),
            ("DeleteTag" = (operation_id = "delete_tag", parameters(("tag" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken (now or as a former slug)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tags")]
pub async fn create_tag(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<CreateTag>,
) -> Result<HttpResponse, ApiError> {
    let t = create(&state, &auth, Kind::Tag, body.into_inner().into()).await?;
    Ok(created(Kind::Tag, t.id).json(TagEnvelope { data: t.into() }))
}

/// Edit a tag (editors and up). A new slug keeps the old one answering 301.
#[utoipa::path(
    tag = "taxonomy",
    security(("bearer" = []), ("api_key" = [])),
    params(("tag" = String, Path, description = "Tag id (all digits) or slug")),
    request_body = UpdateTag,
    responses(
        (status = 200, description = "Updated", body = TagEnvelope, links(
            ("GetTag" = (operation_id = "get_tag", parameters(("tag" = "$response.body#/data/id")))),
            ("DeleteTag" = (operation_id = "delete_tag", parameters(("tag" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/tags/{tag}")]
pub async fn update_tag(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
    body: crate::json::Json<UpdateTag>,
) -> Result<HttpResponse, ApiError> {
    let t = update(&state, &auth, Kind::Tag, key.into_inner(), body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(TagEnvelope { data: t.into() }))
}

/// Delete a tag (editors and up): its articles stay without it; the answer
/// counts them.
#[utoipa::path(
    tag = "taxonomy",
    security(("bearer" = []), ("api_key" = [])),
    params(("tag" = String, Path, description = "Tag id (all digits) or slug")),
    responses(
        (status = 200, description = "Deleted", body = DeletedTagEnvelope),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tags/{tag}")]
pub async fn delete_tag(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (t, d) = remove(&state, &auth, Kind::Tag, key.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .json(DeletedTagEnvelope { data: DeletedTag { id: t.id, articles_detached: d.articles_detached } }))
}

/// Merge a tag into another (editors and up): its articles are filed under
/// `into`, it is deleted, and its slug (and former slugs) answer 301 to `into`.
#[utoipa::path(
    tag = "taxonomy",
    security(("bearer" = []), ("api_key" = [])),
    params(("tag" = String, Path, description = "The tag to merge away: id (all digits) or slug")),
    request_body = MergeTag,
    responses(
        (status = 200, description = "Merged", body = MergedTagEnvelope, links(
            ("GetTag" = (operation_id = "get_tag", parameters(("tag" = "$response.body#/data/into/id")))),
        )),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`into` names no tag, or the tag itself", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tags/{tag}/merge")]
pub async fn merge_tag(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
    body: crate::json::Json<MergeTag>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageTaxonomy)?;
    let raw = key.into_inner();
    let into = body.into_inner().into;
    let (from, target, moved) =
        crate::db::write(&state.pool, move |c| c.transaction(|c| service::merge_tags(c, &raw, &into))).await?;
    let data = MergedTag { into: target.into(), merged_id: from.id, merged_slug: from.slug, articles_moved: moved };
    Ok(HttpResponse::Ok().json(MergedTagEnvelope { data }))
}
