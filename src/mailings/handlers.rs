//! HTTP handlers for `/api/v1/mailings` and `/api/v1/articles/{id}/newsletter`
//! (editors and admins, signed in as users: `Action::ManageSubscribers`).

use std::collections::HashMap;

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use diesel::Connection;

use super::dto::{
    ArticleNewsletter, ArticleNewsletterEnvelope, DeliveryCounts, Mailing, MailingEnvelope, MailingList, MailingQuery,
    MailingRetry, MailingRetryEnvelope, SetArticleNewsletter,
};
use super::model::{MailingRow, MailingState, NewsletterMode};
use super::{repo, service};
use crate::auth::{Action, AuthUser};
use crate::error::{ApiError, Problem};
use crate::http::{AppState, Id};
use crate::pagination::{self, PageParams};

fn with_counts(c: &mut crate::db::DbConnection, rows: &[MailingRow]) -> Result<Vec<Mailing>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut counts: HashMap<i64, DeliveryCounts> = HashMap::new();
    for (id, state, n) in repo::counts(c, &ids)? {
        counts.entry(id).or_default().add(&state, n);
    }
    Ok(rows.iter().map(|r| Mailing::from_row(r, counts.remove(&r.id).unwrap_or_default())).collect())
}

fn one(c: &mut crate::db::DbConnection, row: MailingRow) -> Result<Mailing, ApiError> {
    Ok(with_counts(c, std::slice::from_ref(&row))?.remove(0))
}

/// List mailings (editors).
///
/// Newest first, each with its per-state delivery counts. A page costs
/// three queries (count, page, counts).
#[utoipa::path(
    tag = "mailings",
    security(("bearer" = [])),
    params(MailingQuery),
    responses(
        (status = 200, description = "A page of mailings", body = MailingList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[get("/mailings")]
pub async fn list_mailings(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    query: web::Query<MailingQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let page = PageParams::parse(query.page.as_deref(), query.per_page.as_deref())?;
    let filter = query
        .state
        .as_deref()
        .map(|s| {
            MailingState::parse(s)
                .ok_or_else(|| ApiError::invalid("state", "must be one of scheduled, held, sending, sent, cancelled"))
        })
        .transpose()?;
    let (data, total) = crate::db::run(&state.pool, move |c| {
        let (rows, total) = repo::list(c, filter, &page)?;
        Ok((with_counts(c, &rows)?, total))
    })
    .await?;
    let meta = page.meta(total);
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &MailingList { data, meta }))
}

/// Get a mailing with its progress (editors).
#[utoipa::path(
    tag = "mailings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Mailing id", minimum = 1)),
    responses(
        (status = 200, description = "The mailing", body = MailingEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 404, description = "No such mailing", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:not_found", "title": "Not Found", "status": 404, "detail": "no mailing 42", "code": "not_found", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[get("/mailings/{id}")]
pub async fn get_mailing(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let id = id.get();
    let data = crate::db::run(&state.pool, move |c| {
        let row = repo::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no mailing {id}")))?;
        one(c, row)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MailingEnvelope { data }))
}

/// Release a held mailing (editors).
///
/// It becomes `scheduled` for now (or for its article's publication time if
/// that is still ahead) and starts through the job queue.
#[utoipa::path(
    tag = "mailings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Mailing id", minimum = 1)),
    responses(
        (status = 200, description = "Released: now `scheduled`", body = MailingEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 404, description = "No such mailing", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:not_found", "title": "Not Found", "status": 404, "detail": "no mailing 42", "code": "not_found", "errors": []})),
        (status = 409, description = "The mailing is not held", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:conflict", "title": "Conflict", "status": 409, "detail": "mailing 42 is sending; only a held mailing can be released", "code": "conflict", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[post("/mailings/{id}/release")]
pub async fn release_mailing(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let id = id.get();
    let data = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let row = service::release(c, id)?;
            one(c, row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(MailingEnvelope { data }))
}

/// Cancel a held or scheduled mailing (editors). It never sends.
#[utoipa::path(
    tag = "mailings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Mailing id", minimum = 1)),
    responses(
        (status = 200, description = "Cancelled", body = MailingEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 404, description = "No such mailing", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:not_found", "title": "Not Found", "status": 404, "detail": "no mailing 42", "code": "not_found", "errors": []})),
        (status = 409, description = "The mailing already started, ended or was cancelled", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:conflict", "title": "Conflict", "status": 409, "detail": "mailing 42 is sending; only a held mailing can be released", "code": "conflict", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[post("/mailings/{id}/cancel")]
pub async fn cancel_mailing(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let id = id.get();
    let data = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let row = service::cancel(c, id)?;
            one(c, row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(MailingEnvelope { data }))
}

/// Re-queue a sent mailing's failed deliveries (editors).
///
/// Failed delivery records (tries used up, or refused by the mail server)
/// go back to `queued` with fresh tries and the mailing to `sending`; a new
/// round sends them through the job queue. Delivered and skipped records
/// are never touched, so nobody gets a second copy. Idempotent: calling it
/// again (or on a mailing with no failures) re-queues nothing and answers
/// `requeued: 0`.
#[utoipa::path(
    tag = "mailings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Mailing id", minimum = 1)),
    responses(
        (status = 200, description = "Re-queued (`requeued` may be 0)", body = MailingRetryEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 404, description = "No such mailing", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:not_found", "title": "Not Found", "status": 404, "detail": "no mailing 42", "code": "not_found", "errors": []})),
        (status = 409, description = "The mailing has not been sent (scheduled, held, cancelled), or is still sending with failures pending", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:conflict", "title": "Conflict", "status": 409, "detail": "mailing 42 is sending; only a held mailing can be released", "code": "conflict", "errors": []})),
        (status = 503, description = "The database is unavailable; see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[post("/mailings/{id}/retry")]
pub async fn retry_mailing(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let id = id.get();
    let data = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let (row, done) = service::retry_failed(c, id)?;
            Ok::<_, ApiError>(MailingRetry { requeued: done.requeued, mailing: one(c, row)? })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(MailingRetryEnvelope { data }))
}

/// An article's newsletter mode (editors).
#[utoipa::path(
    tag = "mailings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Article id", minimum = 1)),
    responses(
        (status = 200, description = "The mode (`send` unless set)", body = ArticleNewsletterEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:not_found", "title": "Not Found", "status": 404, "detail": "no mailing 42", "code": "not_found", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[get("/articles/{id}/newsletter")]
pub async fn get_article_newsletter(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: Id,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let article_id = id.get();
    let mode = crate::db::run(&state.pool, move |c| {
        if repo::article(c, article_id)?.is_none() {
            return Err(ApiError::NotFound(format!("no article {article_id}")));
        }
        Ok(repo::newsletter_mode(c, article_id)?.and_then(|m| NewsletterMode::parse(&m)))
    })
    .await?;
    let data = ArticleNewsletter { article_id, mode: mode.unwrap_or(NewsletterMode::Send) };
    Ok(HttpResponse::Ok().json(ArticleNewsletterEnvelope { data }))
}

/// Set an article's newsletter mode (editors): `send`, `hold` or `off`.
///
/// It decides what the article's publication does, so set it before
/// publishing; a mailing that already exists is released or cancelled
/// under `/mailings/{id}`.
#[utoipa::path(
    tag = "mailings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Article id", minimum = 1)),
    request_body = SetArticleNewsletter,
    responses(
        (status = 200, description = "The mode now", body = ArticleNewsletterEnvelope),
        (status = 400, description = "A bad body or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:not_found", "title": "Not Found", "status": 404, "detail": "no mailing 42", "code": "not_found", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[put("/articles/{id}/newsletter")]
pub async fn set_article_newsletter(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: Id,
    body: crate::json::Json<SetArticleNewsletter>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let article_id = id.get();
    let mode = body.into_inner().mode;
    crate::db::write(&state.pool, move |c| c.transaction(|c| service::set_mode(c, article_id, mode))).await?;
    Ok(HttpResponse::Ok().json(ArticleNewsletterEnvelope { data: ArticleNewsletter { article_id, mode } }))
}
