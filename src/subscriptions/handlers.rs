//! HTTP handlers for `/api/v1/subscriptions` (readers: no login; tokens
//! in the links prove the address).

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use diesel::Connection;

use super::dto::{
    ConfirmRequest, ConfirmationPreview, ConfirmationPreviewEnvelope, Confirmed, ConfirmedEnvelope, PreferencesPatch,
    SubscribeRequest, Subscription, SubscriptionEnvelope, TokenQuery,
};
use super::model::{self, SubscriberEmail, SubscriberRow};
use super::{repo, service};
use crate::auth::dto::{Accepted, AcceptedEnvelope};
use crate::error::{ApiError, Problem};
use crate::http::{client_ip, AppState, Key, Policy};

/// The answer to every well-formed subscribe request.
const SUBSCRIBE_ACCEPTED: &str =
    "Thank you. If this address still needs confirming, a link to confirm it is on its way.";

fn view(c: &mut crate::db::DbConnection, row: &SubscriberRow) -> Result<Subscription, ApiError> {
    Ok(Subscription::from_row(row, repo::topics(c, row.id)?))
}

/// Subscribe to the newsletter (double opt-in).
///
/// Always 202 with the same body, whether the address is new, pending,
/// confirmed or unsubscribed, so the answer reveals nothing and nobody can
/// reset someone else's subscription. A new or unsubscribed address gets a
/// confirmation mail with a link valid for `SUBSCRIPTION_CONFIRM_TTL_HOURS`
/// (48); a pending one at most one new mail per
/// `SUBSCRIPTION_RESEND_COOLDOWN_MINUTES` (60); a confirmed one nothing. A
/// filled honeypot (`website`) gets the same 202 and stores nothing.
#[utoipa::path(
    tag = "subscriptions",
    request_body = SubscribeRequest,
    responses(
        (status = 202, description = "Accepted (whatever the address's state)", body = AcceptedEnvelope),
        (status = 400, description = "Malformed body, email, name, source or topics (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A topic names no category, series or author (`errors[].field` is `topics`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many subscribe requests from this address or for this email; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/subscriptions")]
pub async fn subscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::json::Json<SubscribeRequest>,
) -> Result<HttpResponse, ApiError> {
    let accepted =
        || HttpResponse::Accepted().json(AcceptedEnvelope { data: Accepted { message: SUBSCRIBE_ACCEPTED.into() } });
    let SubscribeRequest { email, name, topics, source, website } = body.into_inner();
    let email = SubscriberEmail::parse(&email).map_err(|m| ApiError::invalid("email", m))?;
    let name = service::optional_text("name", name, service::MAX_NAME)?;
    let source = service::optional_text("source", source, service::MAX_SOURCE)?;
    let topics = service::parse_topics(topics)?;
    if website.is_some_and(|w| !w.trim().is_empty()) {
        return Ok(accepted());
    }
    let ip = client_ip(&req, &state.settings);
    // Every request counts (never given back), per address and per email.
    state.limits.check(Policy::Subscribe, &[Key::Client(ip), Key::Account(&email.key)]).await?;
    let request = service::Request { email: email.address, name, topics, source };
    let job = crate::jobs::NewJob::new(
        crate::jobs::JobKind::Subscribe,
        serde_json::to_value(&request).map_err(anyhow::Error::from)?,
    );
    // The topic check reads only taxonomy; the address is looked up in the
    // job, so this answer costs the same whatever the address's state.
    crate::db::write(&state.pool, move |c| {
        service::check_topics(c, &request.topics)?;
        crate::jobs::enqueue(c, &job)?;
        Ok(())
    })
    .await?;
    Ok(accepted())
}

/// Show what confirming a subscription token would do.
///
/// Changes nothing: mail scanners and link previews fetch links, so the
/// front-end page behind `SUBSCRIPTION_CONFIRM_URL` shows this and POSTs to
/// confirm. Unknown, expired and used tokens get a 400 naming `token` that
/// says which.
#[utoipa::path(
    tag = "subscriptions",
    params(TokenQuery),
    responses(
        (status = 200, description = "The pending subscription the token would confirm", body = ConfirmationPreviewEnvelope),
        (status = 400, description = "Unknown, expired or used token, or a bad query (see `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/subscriptions/confirm")]
pub async fn preview_confirmation(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let data = crate::db::run(&state.pool, move |c| {
        let (row, expires_at) = service::preview(c, &token)?;
        Ok(ConfirmationPreview { subscription: view(c, &row)?, expires_at: expires_at.and_utc() })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(ConfirmationPreviewEnvelope { data }))
}

/// Confirm a subscription with the token from the confirmation mail.
///
/// The subscriber becomes `confirmed` and a consent record is appended
/// (time, source, `PRIVACY_NOTICE_VERSION`, the client address as
/// `CONSENT_IP` allows). The token works once. The answer carries the
/// subscriber's own reusable token for preferences and unsubscribing.
#[utoipa::path(
    tag = "subscriptions",
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "Confirmed", body = ConfirmedEnvelope),
        (status = 400, description = "Unknown, expired or used token (see `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/subscriptions/confirm")]
pub async fn confirm_subscription(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::json::Json<ConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.into_inner().token;
    let ip = client_ip(&req, &state.settings);
    let settings = state.settings.clone();
    let data = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let row = service::confirm(c, &settings, &token, ip)?;
            let token = model::sign(row.id, &row.secret);
            let preferences_url = crate::auth::recovery::link(&settings.subscriptions.preferences_url, &token);
            Ok::<_, ApiError>(Confirmed { subscription: view(c, &row)?, token, preferences_url })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(ConfirmedEnvelope { data }))
}

/// Unsubscribe with a subscriber's token (no login; RFC 8058 one-click).
///
/// Idempotent: unsubscribing twice answers the same. Mail clients POST
/// `List-Unsubscribe=One-Click` as `application/x-www-form-urlencoded` or
/// `multipart/form-data` to the `List-Unsubscribe` URL; any body (or none)
/// is accepted and ignored, the token in the query decides. A forged or
/// altered token is a 400 naming `token`.
#[utoipa::path(
    tag = "subscriptions",
    params(TokenQuery),
    responses(
        (status = 200, description = "Unsubscribed (or already)", body = SubscriptionEnvelope),
        (status = 400, description = "Forged, altered or unknown token, or a bad query (see `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/subscriptions/unsubscribe")]
pub async fn unsubscribe(state: web::Data<AppState>, query: web::Query<TokenQuery>) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let data = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let row = service::unsubscribe(c, &token)?;
            view(c, &row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(SubscriptionEnvelope { data }))
}

/// Show a subscriber's preferences (their signed token; no login).
#[utoipa::path(
    tag = "subscriptions",
    params(TokenQuery),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionEnvelope),
        (status = 400, description = "Forged, altered or unknown token, or a bad query (see `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/subscriptions/preferences")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let data = crate::db::run(&state.pool, move |c| {
        let row = service::by_signed_token(c, &token)?;
        view(c, &row)
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(SubscriptionEnvelope { data }))
}

/// Change a subscriber's topics or name, or unsubscribe (their signed token; no login).
#[utoipa::path(
    tag = "subscriptions",
    params(TokenQuery),
    request_body = PreferencesPatch,
    responses(
        (status = 200, description = "The changed subscription", body = SubscriptionEnvelope),
        (status = 400, description = "Forged, altered or unknown token, or a bad field (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A topic names no category, series or author (`errors[].field` is `topics`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/subscriptions/preferences")]
pub async fn update_preferences(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    body: crate::json::Json<PreferencesPatch>,
) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let PreferencesPatch { topics, name, unsubscribe: leave } = body.into_inner();
    let changes = service::PreferenceChanges {
        topics: topics.map(Some).map(service::parse_topics).transpose()?,
        name: name.map(|n| service::optional_text("name", n, service::MAX_NAME)).transpose()?,
        unsubscribe: leave.unwrap_or(false),
    };
    let data = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let row = service::update_preferences(c, &token, &changes)?;
            view(c, &row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(SubscriptionEnvelope { data }))
}
