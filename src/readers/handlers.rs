//! HTTP handlers for `/api/v1/readers` (no login; the mailed token proves the address).

use actix_web::{get, post, web, HttpResponse};
use diesel::Connection;

use super::dto::{
    NotificationState, NotificationStateEnvelope, UnsubscribeQuery, VerificationPreview, VerificationPreviewEnvelope,
    Verified, VerifiedEnvelope, VerifyQuery, VerifyRequest,
};
use super::service;
use crate::error::{ApiError, Problem};
use crate::http::AppState;

/// Show what a reader verification link would verify.
///
/// Changes nothing: mail scanners and link previews fetch links, so the
/// page behind `COMMENT_VERIFY_URL` shows this and POSTs to verify.
#[utoipa::path(
    tag = "comments",
    params(VerifyQuery),
    responses(
        (status = 200, description = "The reader the token would verify", body = VerificationPreviewEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "Unknown, expired or used token, or a bad query (see `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readers/verify")]
pub async fn preview_verification(
    state: web::Data<AppState>,
    query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let data = crate::db::run(&state.pool, move |c| {
        let (r, expires_at) = service::preview(c, &token)?;
        Ok(VerificationPreview {
            name: r.name,
            email: r.email,
            verified: r.verified_at.is_some(),
            expires_at: expires_at.and_utc(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(VerificationPreviewEnvelope { data }))
}

/// Verify a reader's address with the token from the verification mail.
///
/// The token works once. The answer carries the reader's signed token for
/// voting (`X-Reader-Token`).
#[utoipa::path(
    tag = "comments",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "Verified", body = VerifiedEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "Unknown, expired or used token (see `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/readers/verify")]
pub async fn verify_reader(
    state: web::Data<AppState>,
    body: crate::json::Json<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.into_inner().token;
    let data = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let (r, reader_token) = service::verify(c, &token)?;
            Ok::<_, ApiError>(Verified {
                reader_id: r.id,
                name: r.name,
                verified_at: r.verified_at.unwrap_or(r.updated_at).and_utc(),
                reader_token,
            })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(VerifiedEnvelope { data }))
}

fn parse_thread(raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|t| crate::http::extract::parse_id("thread", t)).transpose()
}

/// Show what an unsubscribe link would turn off (changes nothing).
///
/// Mail scanners fetch links, so the page behind `COMMENT_UNSUBSCRIBE_URL`
/// shows this and POSTs to act.
#[utoipa::path(
    tag = "comments",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "The current state for this scope", body = NotificationStateEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "A forged or altered token, or a bad `thread` (see `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readers/unsubscribe")]
pub async fn preview_unsubscribe(
    state: web::Data<AppState>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let thread = parse_thread(q.thread.as_deref())?;
    let data = crate::db::run(&state.pool, move |c| {
        let r = service::by_unsubscribe_token(c, &q.token, thread)?;
        let on = service::notifications_on(c, &r, thread)?;
        Ok(NotificationState { name: r.name, thread, notifications: on })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(NotificationStateEnvelope { data }))
}

/// Stop reply notifications for one comment (`thread`) or all (no login;
/// RFC 8058 one-click).
///
/// Idempotent. Mail clients POST `List-Unsubscribe=One-Click` as a form to
/// the `List-Unsubscribe` URL; any body (or none) is accepted and ignored.
#[utoipa::path(
    tag = "comments",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "Unsubscribed (or already)", body = NotificationStateEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "A forged or altered token, or a bad `thread` (see `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/readers/unsubscribe")]
pub async fn unsubscribe_replies(
    state: web::Data<AppState>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let thread = parse_thread(q.thread.as_deref())?;
    let data = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let r = service::by_unsubscribe_token(c, &q.token, thread)?;
            service::unsubscribe(c, &r, thread)?;
            Ok::<_, ApiError>(NotificationState { name: r.name, thread, notifications: false })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(NotificationStateEnvelope { data }))
}
