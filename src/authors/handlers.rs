//! HTTP handlers for `/api/v1/authors`.

use std::collections::HashMap;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::Connection;
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{Author, AuthorEnvelope, AuthorList, CreateAuthor, ProfileCheck, UpdateAuthor};
use super::model::{AuthorChanges, AuthorRow, NewAuthor};
use super::repo;
use crate::auth::{Action, AuthUser, MaybeAuthUser, Principal};
use crate::db::DbConnection;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::pagination::{self, PageQuery};
use crate::slugs::{self, IdOrSlug};

fn with_avatars(c: &mut DbConnection, rows: Vec<AuthorRow>, base_url: &str) -> Result<Vec<Author>, ApiError> {
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.avatar_media_id).collect();
    let media: HashMap<_, _> = if ids.is_empty() {
        HashMap::new()
    } else {
        crate::media::repo::find_many(c, &ids)?.into_iter().map(|m| (m.id, m)).collect()
    };
    Ok(rows.into_iter().map(|r| Author::build(r, &media, base_url)).collect())
}

fn one(c: &mut DbConnection, row: AuthorRow, base_url: &str) -> Result<Author, ApiError> {
    Ok(with_avatars(c, vec![row], base_url)?.remove(0))
}

/// List authors, ordered by name.
#[utoipa::path(
    tag = "authors",
    params(PageQuery),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "A page of authors; `Link` header has first/prev/next/last", body = AuthorList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors")]
pub async fn list_authors(
    state: web::Data<AppState>,
    req: HttpRequest,
    _auth: MaybeAuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let page = query.params()?;
    let (data, total) = crate::db::run(&state.pool, move |c| {
        let (rows, total) = repo::list(c, &page)?;
        Ok((with_avatars(c, rows, &base_url)?, total))
    })
    .await?;
    let meta = page.meta(total);
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &AuthorList { data, meta }))
}

/// Get one author by id or slug (an all-digit segment is an id).
#[utoipa::path(
    tag = "authors",
    params(("author" = String, Path, description = "Author id (digits) or slug")),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The author", body = AuthorEnvelope, links(
            ("UpdateAuthor" = (operation_id = "update_author", parameters(("author" = "$response.body#/data/id")))),
        )),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors/{author}")]
pub async fn get_author(
    state: web::Data<AppState>,
    _auth: MaybeAuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let raw = key.into_inner();
    let key = IdOrSlug::parse(&raw);
    let author = crate::db::run(&state.pool, move |c| {
        let row = repo::find_by_key(c, &key)?;
        one(c, row, &base_url)
    })
    .await
    .map_err(|e| e.with_not_found(format!("no author `{raw}`")))?;
    Ok(HttpResponse::Ok().json(AuthorEnvelope { data: author }))
}

/// Create an author profile (editors and up, or an admin key with `authors:write`).
#[utoipa::path(
    tag = "authors",
    security(("bearer" = []), ("api_key" = [])),
    request_body = CreateAuthor,
    responses(
        (status = 201, description = "Created; `Location` names it", body = AuthorEnvelope, links(
            ("GetAuthor" = (operation_id = "get_author", parameters(("author" = "$response.body#/data/id")))),
            ("UpdateAuthor" = (operation_id = "update_author", parameters(("author" = "$response.body#/data/id")))),
            ("DeleteAuthor" = (operation_id = "delete_author", parameters(("author" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid fields (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or key scope does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`avatar_media_id` names no media", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/authors")]
pub async fn create_author(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<CreateAuthor>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    auth.0.require(Action::ManageAuthors)?;
    let b = body.into_inner();
    let mut check = ProfileCheck::new();
    check.name(&b.name);
    if let Some(s) = &b.slug {
        check.slug(s);
    }
    if let Some(e) = &b.email {
        check.email(e);
    }
    if let Some(bio) = &b.bio {
        check.bio(bio);
    }
    if let Some(w) = &b.website {
        check.website(w);
    }
    if let Some(l) = &b.social_links {
        check.social_links(l);
    }
    check.finish()?;
    let tries = if b.slug.is_none() { 3 } else { 1 };
    let principal = auth.0.clone();
    let author = crate::db::write_retrying_conflicts(&state.pool, tries, move |c| {
        let b = b.clone();
        c.transaction(|c| {
            slugs::lock_for(c, "authors")?;
            let slug = match &b.slug {
                Some(s) if repo::slug_taken(c, s, None)? => {
                    return Err(ApiError::Conflict(format!("slug `{s}` is taken")))
                }
                Some(s) => s.clone(),
                None => {
                    let base = Some(slugs::slugify(&b.name))
                        .filter(|s| !s.is_empty() && s != "me")
                        .unwrap_or_else(|| "author".into());
                    slugs::unique(&base, |s| repo::slug_taken(c, s, None))?
                }
            };
            check_avatar(c, &principal, b.avatar_media_id, None)?;
            let now = crate::db::now();
            let id = repo::insert(
                c,
                &NewAuthor {
                    slug,
                    display_name: b.name.trim().to_owned(),
                    email: b.email.map(|e| e.trim().to_lowercase()),
                    bio: b.bio,
                    website: b.website,
                    import_source: None,
                    import_key: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let changes = AuthorChanges {
                avatar_media_id: Some(b.avatar_media_id),
                social_links: Some(
                    serde_json::to_string(&b.social_links.unwrap_or_default()).map_err(anyhow::Error::from)?,
                ),
                ..Default::default()
            };
            let row = repo::update(c, id, &changes)?;
            let author = one(c, row, &base_url)?;
            let data = serde_json::to_value(&author).map_err(anyhow::Error::from)?;
            crate::webhooks::emit(c, crate::webhooks::Event::AuthorCreated, data)?;
            Ok(author)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/authors/{}", author.id)))
        .json(AuthorEnvelope { data: author }))
}

/// A newly set avatar must exist (422) and be media `principal` may use:
/// their own, or shared (403; see `media::service::may_use`).
fn check_avatar(
    c: &mut DbConnection,
    principal: &Principal,
    media_id: Option<i64>,
    current: Option<i64>,
) -> Result<(), ApiError> {
    let Some(id) = media_id.filter(|id| Some(*id) != current) else { return Ok(()) };
    let row = match crate::media::repo::find(c, id) {
        Err(diesel::result::Error::NotFound) => {
            return Err(ApiError::unprocessable("avatar_media_id", format!("names media {id}, which does not exist")))
        }
        other => other?,
    };
    if !crate::media::service::may_use(principal, &row) {
        return Err(ApiError::Forbidden(format!(
            "avatar_media_id: media {id} belongs to someone else and is not shared; its owner or an editor can share it"
        )));
    }
    Ok(())
}

/// Validates a PATCH body and turns it into column changes (slug uniqueness is checked by the caller).
fn changes_from(b: UpdateAuthor, allow_slug: bool) -> Result<AuthorChanges, ApiError> {
    let mut check = ProfileCheck::new();
    if let Some(n) = &b.name {
        check.name(n);
    }
    if let Some(s) = &b.slug {
        if allow_slug {
            check.slug(s);
        }
    }
    if let Some(Some(e)) = &b.email {
        check.email(e);
    }
    if let Some(Some(bio)) = &b.bio {
        check.bio(bio);
    }
    if let Some(Some(w)) = &b.website {
        check.website(w);
    }
    if let Some(l) = &b.social_links {
        check.social_links(l);
    }
    check.finish()?;
    if b.slug.is_some() && !allow_slug {
        return Err(ApiError::Forbidden("only editors may change an author's slug".into()));
    }
    Ok(AuthorChanges {
        slug: b.slug,
        display_name: b.name.map(|n| n.trim().to_owned()),
        email: b.email.map(|e| e.map(|e| e.trim().to_lowercase())),
        bio: b.bio,
        avatar_media_id: b.avatar_media_id,
        website: b.website,
        social_links: b.social_links.map(|l| serde_json::to_string(&l).unwrap_or_else(|_| "{}".into())),
        updated_at: Some(crate::db::now()),
    })
}

fn apply(
    c: &mut DbConnection,
    principal: &Principal,
    id: i64,
    changes: AuthorChanges,
    base_url: &str,
) -> Result<Author, ApiError> {
    c.transaction(|c| {
        if let Some(s) = &changes.slug {
            if repo::slug_taken(c, s, Some(id))? {
                return Err(ApiError::Conflict(format!("slug `{s}` is taken")));
            }
        }
        if let Some(Some(avatar)) = changes.avatar_media_id {
            let current = repo::find(c, id)?.avatar_media_id;
            check_avatar(c, principal, Some(avatar), current)?;
        }
        let row = repo::update(c, id, &changes)?;
        let author = one(c, row, base_url)?;
        let data = serde_json::to_value(&author).map_err(anyhow::Error::from)?;
        crate::webhooks::emit(c, crate::webhooks::Event::AuthorUpdated, data)?;
        Ok(author)
    })
}

/// The author profile linked to your account.
#[utoipa::path(
    tag = "authors",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your author profile", body = AuthorEnvelope),
        (status = 403, description = "API keys have no profile", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Your account has no author profile", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors/me")]
pub async fn get_my_author(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let id = auth.0.user()?.author_id.ok_or_else(|| ApiError::NotFound("your account has no author profile".into()))?;
    let author = crate::db::run(&state.pool, move |c| {
        let row = repo::find(c, id)?;
        one(c, row, &base_url)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AuthorEnvelope { data: author }))
}

/// Edit the author profile linked to your account.
#[utoipa::path(
    tag = "authors",
    security(("bearer" = [])),
    request_body = UpdateAuthor,
    responses(
        (status = 200, description = "Updated", body = AuthorEnvelope),
        (status = 400, description = "Invalid fields (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API keys have no profile; only editors change slugs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Your account has no author profile", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`avatar_media_id` names no media", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/authors/me")]
pub async fn update_my_author(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<UpdateAuthor>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    auth.0.require(Action::EditOwnAuthorProfile)?;
    let user = auth.0.user()?;
    let id = user.author_id.ok_or_else(|| ApiError::NotFound("your account has no author profile".into()))?;
    let changes = changes_from(body.into_inner(), auth.0.can(Action::ManageAuthors))?;
    let principal = auth.0.clone();
    let author = crate::db::write(&state.pool, move |c| apply(c, &principal, id, changes, &base_url)).await?;
    Ok(HttpResponse::Ok().json(AuthorEnvelope { data: author }))
}

/// Edit any author (editors and up, or an admin key with `authors:write`).
#[utoipa::path(
    tag = "authors",
    security(("bearer" = []), ("api_key" = [])),
    params(("author" = String, Path, description = "Author id (digits) or slug")),
    request_body = UpdateAuthor,
    responses(
        (status = 200, description = "Updated", body = AuthorEnvelope, links(
            ("GetAuthor" = (operation_id = "get_author", parameters(("author" = "$response.body#/data/id")))),
            ("DeleteAuthor" = (operation_id = "delete_author", parameters(("author" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid fields (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or key scope does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`avatar_media_id` names no media", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/authors/{author}")]
pub async fn update_author(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
    body: crate::json::Json<UpdateAuthor>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    auth.0.require(Action::ManageAuthors)?;
    let raw = key.into_inner();
    let key = IdOrSlug::parse(&raw);
    let changes = changes_from(body.into_inner(), true)?;
    let principal = auth.0.clone();
    let author = crate::db::write(&state.pool, move |c| {
        let id =
            repo::find_by_key(c, &key).map_err(|e| ApiError::from(e).with_not_found(format!("no author `{raw}`")))?.id;
        apply(c, &principal, id, changes, &base_url)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AuthorEnvelope { data: author }))
}

/// Query parameters of `DELETE /authors/{author}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteAuthorQuery {
    /// Id of the author who takes over this author's bylines.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub reassign_to: Option<String>,
}

/// Delete an author (editors and up, or an admin key with `authors:write`).
///
/// An author who still has bylines is a 409 unless `reassign_to` names
/// another author, who then takes over those bylines.
#[utoipa::path(
    tag = "authors",
    security(("bearer" = []), ("api_key" = [])),
    params(("author" = String, Path, description = "Author id (digits) or slug"), DeleteAuthorQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad `reassign_to`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or key scope does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The author still has bylines", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`reassign_to` names no author", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/authors/{author}")]
pub async fn delete_author(
    state: web::Data<AppState>,
    auth: MaybeAuthUser,
    key: web::Path<String>,
    query: web::Query<DeleteAuthorQuery>,
) -> Result<HttpResponse, ApiError> {
    let raw = key.into_inner();
    if raw == "me" {
        // `/authors/me` is its own resource (GET, PATCH); `me` is never a slug.
        return Err(ApiError::MethodNotAllowed { allowed: vec!["GET".into(), "PATCH".into(), "HEAD".into()] });
    }
    let principal =
        auth.0.ok_or_else(|| ApiError::Unauthorized("sign in: send `Authorization: Bearer <token>`".into()))?;
    principal.require(Action::ManageAuthors)?;
    let key = IdOrSlug::parse(&raw);
    let reassign_to = match query.into_inner().reassign_to {
        None => None,
        Some(v) => Some(crate::http::extract::parse_id("reassign_to", &v)?),
    };
    crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let gone = repo::find_by_key(c, &key)
                .map_err(|e| ApiError::from(e).with_not_found(format!("no author `{raw}`")))?;
            let id = gone.id;
            let bylines = repo::byline_count(c, id)?;
            match reassign_to {
                Some(to) if to == id => return Err(ApiError::invalid("reassign_to", "must name a different author")),
                Some(to) => {
                    repo::find(c, to).map_err(|e| match ApiError::from(e) {
                        ApiError::NotFound(_) => ApiError::Unprocessable(format!("reassign_to {to} names no author")),
                        e => e,
                    })?;
                    repo::reassign_bylines(c, id, to)?;
                }
                None if bylines > 0 => {
                    return Err(ApiError::Conflict(format!(
                        "this author has {bylines} byline(s); pass reassign_to=<author id> to move them"
                    )))
                }
                None => {}
            }
            repo::delete(c, id)?;
            let data = serde_json::json!({"id": id, "slug": gone.slug, "name": gone.display_name});
            crate::webhooks::emit(c, crate::webhooks::Event::AuthorDeleted, data)?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
