//! HTTP handlers for `/api/v1/webhooks` (admins signed in as users; never API keys).

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use super::dto::{
    CreateWebhook, CreatedWebhook, Delivery, DeliveryEnvelope, DeliveryList, PageQuery, UpdateWebhook, Webhook,
    WebhookEnvelope, WebhookList,
};
use super::{repo, service};
use crate::auth::{Action, AuthUser, Principal};
use crate::error::{ApiError, Problem};
use crate::http::{AppState, Id};
use crate::pagination::{self, PageParams};

fn not_found(id: i64) -> impl Fn(ApiError) -> ApiError {
    move |e| e.with_not_found(format!("no webhook with id {id}"))
}

fn check_description(d: Option<&str>) -> Result<(), ApiError> {
    if d.is_some_and(|d| d.chars().count() > 500) {
        return Err(ApiError::unprocessable("description", "must be at most 500 characters"));
    }
    Ok(())
}

/// List webhook endpoints (never their secrets).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of endpoints", body = WebhookList),
        (status = 400, description = "A bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageWebhooks)?;
    let page = PageParams::parse(query.page.as_deref(), query.per_page.as_deref())?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &page)?)).await?;
    let meta = page.meta(total);
    let body = WebhookList { data: rows.into_iter().map(Webhook::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Create a webhook endpoint.
///
/// The answer holds the signing `secret` (`whsec_…`), shown only here.
/// Deliveries carry `webhook-id`, `webhook-timestamp` and `webhook-signature`
/// (Standard Webhooks). The URL must be `http(s)`, at most 2,000 characters,
/// and resolve only to public addresses.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created; `Location` names it", body = CreatedWebhook),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `url` (scheme, length, private or unresolvable address) or `events`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageWebhooks)?;
    let body = body.into_inner();
    let events = service::parse_events(&body.events)?;
    check_description(body.description.as_deref())?;
    let url = service::check_url(&body.url, state.settings.distribution.webhook_allow_loopback).await?;
    let secret = super::sign::new_secret();
    let created_by = match &auth.0 {
        Principal::User(u) => Some(u.id),
        Principal::Key(_) => None,
    };
    let s = secret.clone();
    let row = crate::db::write(&state.pool, move |c| {
        Ok(repo::insert(
            c,
            &url,
            body.description.as_deref(),
            &events,
            &s,
            body.active.unwrap_or(true),
            created_by,
            crate::db::now(),
        )?)
    })
    .await?;
    let location = format!("{}/api/v1/webhooks/{}", state.settings.public_base_url, row.id);
    Ok(HttpResponse::Created().insert_header(("location", location)).json(CreatedWebhook { data: row.into(), secret }))
}

/// Get one webhook endpoint.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id", minimum = 1)),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageWebhooks)?;
    let id = id.get();
    let row =
        crate::db::run(&state.pool, move |c| repo::find(c, id).map_err(ApiError::from).map_err(not_found(id))).await?;
    Ok(HttpResponse::Ok().json(WebhookEnvelope { data: row.into() }))
}

/// Change a webhook endpoint; `active: true` turns a disabled one back on.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id", minimum = 1)),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The endpoint as changed", body = WebhookEnvelope),
        (status = 400, description = "Malformed JSON, an unknown field or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `url` or `events`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: Id,
    body: crate::json::Json<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageWebhooks)?;
    let id = id.get();
    let body = body.into_inner();
    let events = body.events.as_deref().map(service::parse_events).transpose()?;
    check_description(body.description.as_ref().and_then(|d| d.as_deref()))?;
    let url = match &body.url {
        Some(u) => Some(service::check_url(u, state.settings.distribution.webhook_allow_loopback).await?),
        None => None,
    };
    let row = crate::db::write(&state.pool, move |c| {
        repo::find(c, id).map_err(ApiError::from).map_err(not_found(id))?;
        let reenable = body.active == Some(true);
        let changes = repo::WebhookChanges {
            url,
            description: body.description,
            events,
            active: body.active,
            failure_streak: reenable.then_some(0),
            disabled_at: reenable.then_some(None),
            updated_at: Some(crate::db::now()),
        };
        Ok(repo::update(c, id, &changes)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(WebhookEnvelope { data: row.into() }))
}

/// Delete a webhook endpoint and its delivery log; queued attempts are dropped.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id", minimum = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageWebhooks)?;
    let id = id.get();
    let deleted = crate::db::write(&state.pool, move |c| Ok(repo::delete(c, id)?)).await?;
    if !deleted {
        return Err(ApiError::NotFound(format!("no webhook with id {id}")));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The delivery log of an endpoint, newest first: the request body, status,
/// and every attempt (request headers, response status, timing, the first
/// 4 KiB of the response body).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id", minimum = 1), PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryList),
        (status = 400, description = "A bad id or query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    id: Id,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageWebhooks)?;
    let id = id.get();
    let page = PageParams::parse(query.page.as_deref(), query.per_page.as_deref())?;
    let (rows, total) = crate::db::run(&state.pool, move |c| {
        repo::find(c, id).map_err(ApiError::from).map_err(not_found(id))?;
        let (rows, total) = repo::list_deliveries(c, id, &page)?;
        let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
        let attempts = repo::attempts_of(c, &ids)?;
        Ok((rows.into_iter().map(|d| Delivery::with_attempts(d, &attempts)).collect::<Vec<_>>(), total))
    })
    .await?;
    let meta = page.meta(total);
    let body = DeliveryList { data: rows, meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Send a delivery again, now, with the same body and `webhook-id` and a
/// fresh round of retries. A delivery still pending is a 409.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Webhook id", minimum = 1),
        ("delivery" = i64, Path, description = "Delivery id", minimum = 1),
    ),
    responses(
        (status = 202, description = "Queued again", body = DeliveryEnvelope),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still pending", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery}/replay")]
pub async fn replay_delivery(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageWebhooks)?;
    let (raw_id, raw_delivery) = path.into_inner();
    let id = crate::http::extract::parse_id("id", &raw_id)?;
    let delivery = crate::http::extract::parse_id("delivery", &raw_delivery)?;
    let row = crate::db::write(&state.pool, move |c| {
        use diesel::Connection;
        c.transaction(|c| {
            let d = repo::find_delivery(c, delivery)
                .ok()
                .filter(|d| d.webhook_id == id)
                .ok_or_else(|| ApiError::NotFound(format!("no delivery {delivery} for webhook {id}")))?;
            if d.status == super::model::status::PENDING {
                return Err(ApiError::Conflict(format!("delivery {delivery} is still pending")));
            }
            repo::reset_delivery(c, delivery, crate::db::now())?;
            crate::jobs::enqueue(c, &service::attempt_job(delivery, 0))?;
            let attempts = repo::attempts_of(c, &[delivery])?;
            Ok(Delivery::with_attempts(repo::find_delivery(c, delivery)?, &attempts))
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(DeliveryEnvelope { data: row }))
}

/// Queue a `webhook.test` ping to this endpoint (whatever events it chose).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id", minimum = 1)),
    responses(
        (status = 202, description = "Queued", body = DeliveryEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The endpoint is not active", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageWebhooks)?;
    let id = id.get();
    let row = crate::db::write(&state.pool, move |c| {
        use diesel::Connection;
        c.transaction(|c| {
            let hook = repo::find(c, id).map_err(ApiError::from).map_err(not_found(id))?;
            if !hook.active {
                return Err(ApiError::Conflict(format!("webhook {id} is not active")));
            }
            let data = serde_json::json!({"webhook_id": id});
            service::emit(c, super::Event::WebhookTest, data, Some(id))?;
            let (rows, _) = repo::list_deliveries(c, id, &PageParams { page: 1, per_page: 1 })?;
            let row = rows
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the test delivery vanished")))?;
            Ok(Delivery::with_attempts(row, &[]))
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(DeliveryEnvelope { data: row }))
}
