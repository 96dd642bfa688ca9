//! HTTP handlers for `/api/v1/api-keys` (admin users only; keys cannot manage keys).

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};

use super::dto::{ApiKey, ApiKeyKind, ApiKeyList, CreateApiKey, CreatedApiKey, CreatedApiKeyEnvelope};
use super::repo;
use crate::auth::extractors::API_KEY_PREFIX;
use crate::auth::permissions::SCOPES;
use crate::auth::{tokens, Action, AuthUser};
use crate::error::{ApiError, Problem};
use crate::http::{AppState, Id};
use crate::pagination::{self, PageQuery};

/// List API keys (metadata only).
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of keys", body = ApiKeyList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageApiKeys)?;
    let page = query.params()?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &page)?)).await?;
    let meta = page.meta(total);
    let body = ApiKeyList { data: rows.into_iter().map(ApiKey::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Create an API key. The key is in this response only.
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = [])),
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; store `key` now", body = CreatedApiKeyEnvelope, links(
            ("RevokeApiKey" = (operation_id = "revoke_api_key", parameters(("id" = "$response.body#/data/api_key/id")))),
        )),
        (status = 400, description = "Invalid field (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageApiKeys)?;
    let creator = auth.0.user()?.id;
    let body = body.into_inner();
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name", "must be 1 to 100 characters"));
    }
    let mut scopes = body.scopes.clone();
    scopes.sort();
    scopes.dedup();
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ApiError::invalid("scopes", format!("`{bad}` is not one of {}", SCOPES.join(", "))));
    }
    if body.kind == ApiKeyKind::Admin && scopes.is_empty() {
        return Err(ApiError::invalid("scopes", "an admin key needs at least one scope"));
    }
    if body.kind == ApiKeyKind::Content && !scopes.is_empty() {
        return Err(ApiError::invalid("scopes", "must be empty for content keys, which are read-only"));
    }
    let expires_at = body.expires_at.map(|t| t.naive_utc());
    if expires_at.is_some_and(|t| t <= crate::db::now()) {
        return Err(ApiError::invalid("expires_at", "must be in the future"));
    }
    if expires_at.is_some_and(|t| chrono::Datelike::year(&t) > 9999) {
        return Err(ApiError::invalid("expires_at", "must be before the year 10000"));
    }
    let kind = if body.kind == ApiKeyKind::Admin { "admin" } else { "content" };
    let key = format!("{API_KEY_PREFIX}{kind}_{}", tokens::random_secret());
    let prefix: String = key.chars().take(API_KEY_PREFIX.len() + kind.len() + 5).collect();
    let digest = tokens::digest(&key);
    let row = crate::db::write(&state.pool, move |c| {
        Ok(repo::insert(c, &name, kind, &scopes.join(","), &prefix, &digest, Some(creator), expires_at)?)
    })
    .await?;
    let id = row.id;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/api-keys/{id}")))
        .json(CreatedApiKeyEnvelope { data: CreatedApiKey { key, api_key: ApiKey::from(row) } }))
}

/// Revoke an API key; it stops working at once.
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Key id", minimum = 1)),
    responses(
        (status = 204, description = "Revoked (also when it already was)"),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api-keys/{id}")]
pub async fn revoke_api_key(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageApiKeys)?;
    let id = id.get();
    crate::db::write(&state.pool, move |c| Ok(repo::revoke(c, id, crate::db::now())?))
        .await
        .map_err(|e| e.with_not_found(format!("no API key with id {id}")))?;
    Ok(HttpResponse::NoContent().finish())
}
