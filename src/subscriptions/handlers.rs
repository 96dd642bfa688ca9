//! HTTP handlers for `/api/v1/subscriptions` (readers: no login; tokens
//! in the links prove the address).

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::Connection;

use super::dto::{
    BounceOutcomeEnvelope, BounceReport, ConfirmRequest, ConfirmationPreview, ConfirmationPreviewEnvelope, Confirmed,
    ConfirmedEnvelope, ConsentRecord, ExportFormat, ExportQuery, ExportedSubscriber, ImportQuery, ImportReportEnvelope,
    PreferencesPatch, SubscribeRequest, Subscriber, SubscriberExport, SubscriberList, SubscriberQuery, Subscription,
    SubscriptionEnvelope, TokenQuery,
};
use super::model::{self, SubscriberEmail, SubscriberRow};
use super::{repo, service};
use crate::auth::dto::{Accepted, AcceptedEnvelope};
use crate::auth::{Action, AuthUser};
use crate::error::{ApiError, Problem};
use crate::http::{client_ip, AppState, Id, Key, Policy};
use crate::pagination::{self, PageParams};

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
        (status = 429, description = "Too many subscribe requests from this address or for this email; see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:too_many_requests", "title": "Too Many Requests", "status": 429, "detail": "too many attempts; retry in 60 s", "code": "too_many_requests", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
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
        (status = 200, description = "The pending subscription the token would confirm", body = ConfirmationPreviewEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`: the answer is for the token's holder only"))),
        (status = 400, description = "Unknown, expired or used token, or a bad query (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
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
        (status = 200, description = "Confirmed", body = ConfirmedEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`: the answer is for the token's holder only"))),
        (status = 400, description = "Unknown, expired or used token (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
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
        (status = 200, description = "Unsubscribed (or already)", body = SubscriptionEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`: the answer is for the token's holder only"))),
        (status = 400, description = "Forged, altered or unknown token, or a bad query (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
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
        (status = 200, description = "The subscription", body = SubscriptionEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`: the answer is for the token's holder only"))),
        (status = 400, description = "Forged, altered or unknown token, or a bad query (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
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
        (status = 200, description = "The changed subscription", body = SubscriptionEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`: the answer is for the token's holder only"))),
        (status = 400, description = "Forged, altered or unknown token, or a bad field (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A topic names no category, series or author (`errors[].field` is `topics`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
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

fn rfc3339(field: &str, v: Option<&str>) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    v.map(|s| {
        chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.naive_utc())
            .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z"))
    })
    .transpose()
}

impl TryFrom<&SubscriberQuery> for (repo::SubscriberFilter, PageParams) {
    type Error = ApiError;

    fn try_from(q: &SubscriberQuery) -> Result<Self, ApiError> {
        let page = PageParams::parse(q.page.as_deref(), q.per_page.as_deref())?;
        let status = q
            .status
            .as_deref()
            .map(|s| {
                model::SubscriberStatus::parse(s).ok_or_else(|| {
                    ApiError::invalid("status", "must be one of pending, confirmed, unsubscribed, bounced, complained")
                })
            })
            .transpose()?;
        let topic = match q.topic.as_deref().map(str::trim) {
            Some(t) if t.is_empty() || t.chars().count() > service::MAX_TOPIC => {
                return Err(ApiError::invalid("topic", "is not a topic slug"))
            }
            t => t.map(str::to_lowercase),
        };
        let filter = repo::SubscriberFilter {
            status,
            topic,
            created_after: rfc3339("created_after", q.created_after.as_deref())?,
            created_before: rfc3339("created_before", q.created_before.as_deref())?,
        };
        Ok((filter, page))
    }
}

fn group<T>(ids: &[i64], pairs: Vec<(i64, T)>) -> std::collections::HashMap<i64, Vec<T>> {
    let mut map: std::collections::HashMap<i64, Vec<T>> = ids.iter().map(|id| (*id, Vec::new())).collect();
    for (id, v) in pairs {
        map.entry(id).or_default().push(v);
    }
    map
}

/// List newsletter subscribers, newest first (editors and admins; never keys).
///
/// Filters: `status`, `topic`, `created_after`/`created_before`. Shows
/// addresses, names, topics and dates; never tokens or secrets. A page costs
/// three queries (count, page, topics).
#[utoipa::path(
    tag = "subscriptions",
    security(("bearer" = [])),
    params(SubscriberQuery),
    responses(
        (status = 200, description = "A page of subscribers", body = SubscriberList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[get("/subscriptions")]
pub async fn list_subscriptions(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    query: web::Query<SubscriberQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let (filter, page) = <(repo::SubscriberFilter, PageParams)>::try_from(&*query)?;
    let (data, total) = crate::db::run(&state.pool, move |c| {
        let (rows, total) = repo::list(c, &filter, &page)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut topics = group(&ids, repo::topics_of(c, &ids)?);
        let data: Vec<Subscriber> =
            rows.iter().map(|r| Subscriber::from_row(r, topics.remove(&r.id).unwrap_or_default())).collect();
        Ok((data, total))
    })
    .await?;
    let meta = page.meta(total);
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &SubscriberList { data, meta }))
}

/// Whether the request's `Authorization: Bearer …` is `BOUNCE_WEBHOOK_SECRET`
/// (compared in constant time over SHA-256 digests, so lengths leak nothing).
fn is_bounce_webhook(state: &AppState, req: &HttpRequest) -> bool {
    let Some(secret) = &state.settings.mailings.bounce_webhook_secret else { return false };
    let Some(given) = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (crate::auth::tokens::digest(given.trim()), crate::auth::tokens::digest(secret.expose()));
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Report bounces and complaints (a mail provider's webhook, or an editor).
///
/// The provider-neutral shape: `{"events": [{email, type, reason?}]}`. A
/// `hard_bounce` makes the address `bounced`, a `complaint` `complained`:
/// either stops every mailing to it (deliveries still queued are skipped)
/// and a later subscribe request changes nothing. A `soft_bounce` changes
/// nothing. All events apply or none. Authenticate as an editor, or with
/// `Authorization: Bearer <BOUNCE_WEBHOOK_SECRET>` when that is set.
#[utoipa::path(
    tag = "subscriptions",
    security(("bearer" = [])),
    request_body = BounceReport,
    responses(
        (status = 200, description = "Applied: counts of what changed", body = BounceOutcomeEnvelope),
        (status = 400, description = "A malformed body, event, address or type (`errors[].field` names it, e.g. `events[2].email`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Neither the webhook secret nor valid credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[post("/subscriptions/bounces")]
pub async fn report_bounces(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Result<AuthUser, ApiError>,
    body: crate::json::Json<BounceReport>,
) -> Result<HttpResponse, ApiError> {
    if !is_bounce_webhook(&state, &req) {
        auth?.0.require(Action::ManageSubscribers)?;
    }
    let events = body.into_inner().events;
    let data = crate::db::write(&state.pool, move |c| c.transaction(|c| service::record_bounces(c, &events))).await?;
    Ok(HttpResponse::Ok().json(BounceOutcomeEnvelope { data }))
}

/// Subscribers per export chunk: one query each for rows, topics and consents.
const EXPORT_CHUNK: i64 = 500;

fn export_csv_header() -> &'static str {
    "id,email,name,status,topics,source,created_at,updated_at,confirmed_at,unsubscribed_at,consents\r\n"
}

fn export_csv_row(s: &ExportedSubscriber) -> String {
    let t = |v: Option<chrono::DateTime<chrono::Utc>>| v.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let sub = &s.subscriber;
    let fields = [
        sub.id.to_string(),
        sub.email.clone(),
        sub.name.clone().unwrap_or_default(),
        sub.status_str().to_owned(),
        sub.topics.join(" "),
        sub.source.clone().unwrap_or_default(),
        t(Some(sub.created_at)).unwrap_or_default(),
        t(Some(sub.updated_at)).unwrap_or_default(),
        t(sub.confirmed_at).unwrap_or_default(),
        t(sub.unsubscribed_at).unwrap_or_default(),
        serde_json::to_string(&s.consents).unwrap_or_else(|_| "[]".into()),
    ];
    let mut line = fields.iter().map(|f| service::csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// Export every subscriber with their consent records, streamed.
///
/// `format=csv` (default; RFC 4180, UTF-8, header row, `topics`
/// space-separated, `consents` a JSON array, formula-like fields prefixed
/// with `'`) or `format=json` (`{"data": [...]}`). Read in chunks of 500
/// subscribers, oldest first, so memory stays flat whatever the list's size;
/// rows written while the export runs may or may not appear.
#[utoipa::path(
    tag = "subscriptions",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "Every subscriber with consent records", content(
            (String = "text/csv"),
            (SubscriberExport = "application/json"),
        )),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[get("/subscriptions/export")]
pub async fn export_subscriptions(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let format = match query.format.as_deref().map(str::trim) {
        None | Some("csv") => ExportFormat::Csv,
        Some("json") => ExportFormat::Json,
        Some(_) => return Err(ApiError::invalid("format", "must be csv or json")),
    };
    // The first chunk is read before answering, so an unavailable database
    // is a 503 rather than a cut-off 200.
    let pool = state.pool.clone();
    let first = export_chunk(&pool, 0).await?;
    let stream = futures_util::stream::unfold(
        (Some(first), false, pool),
        move |(chunk, started, pool): (Option<Vec<ExportedSubscriber>>, bool, crate::db::Pool)| async move {
            let chunk = match chunk {
                Some(c) => c,
                None => return None,
            };
            let mut out = String::new();
            if !started {
                out.push_str(match format {
                    ExportFormat::Csv => export_csv_header(),
                    ExportFormat::Json => "{\"data\":[",
                });
            }
            let last = chunk.last().map(|s| s.subscriber.id);
            for (i, s) in chunk.iter().enumerate() {
                match format {
                    ExportFormat::Csv => out.push_str(&export_csv_row(s)),
                    ExportFormat::Json => {
                        if started || i > 0 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::to_string(s).unwrap_or_default());
                    }
                }
            }
            let next = match last {
                Some(after) if chunk.len() as i64 == EXPORT_CHUNK => match export_chunk(&pool, after).await {
                    Ok(next) => Some(next).filter(|n| !n.is_empty()),
                    Err(e) => return Some((Err(e), (None, true, pool))),
                },
                _ => None,
            };
            if next.is_none() && format == ExportFormat::Json {
                out.push_str("]}");
            }
            Some((Ok::<_, ApiError>(web::Bytes::from(out)), (next, true, pool)))
        },
    );
    let (content_type, name) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "subscribers.csv"),
        ExportFormat::Json => ("application/json", "subscribers.json"),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("content-disposition", format!("attachment; filename=\"{name}\"")))
        .streaming(stream))
}

async fn export_chunk(pool: &crate::db::Pool, after: i64) -> Result<Vec<ExportedSubscriber>, ApiError> {
    crate::db::run(pool, move |c| {
        let rows = repo::chunk_after(c, after, EXPORT_CHUNK)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut topics = group(&ids, repo::topics_of(c, &ids)?);
        let mut consents = group(
            &ids,
            repo::consents_of(c, &ids)?.into_iter().map(|r| (r.subscriber_id, ConsentRecord::from(r))).collect(),
        );
        Ok(rows
            .iter()
            .map(|r| ExportedSubscriber {
                subscriber: Subscriber::from_row(r, topics.remove(&r.id).unwrap_or_default()),
                consents: consents.remove(&r.id).unwrap_or_default(),
            })
            .collect())
    })
    .await
}

/// Reads the request body up to `max` bytes (a 413 naming `body` past it,
/// before anything is parsed or written).
async fn read_body(req: &HttpRequest, mut payload: web::Payload, max: usize) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let too_large = || ApiError::PayloadTooLargeField {
        detail: format!("the file is larger than {} MiB; split it into several imports", max / (1024 * 1024)),
        field: "body".into(),
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid("body", format!("could not be read: {e}")))?;
        if buf.len() + chunk.len() > max {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Import subscribers from a CSV file (editors and admins).
///
/// The body is the file itself, `Content-Type: text/csv` (not multipart),
/// UTF-8, at most 64 MiB. The shape is recognized from the header: a
/// Mailchimp audience export (`Email Address`, `First Name`, `Last Name`,
/// `OPTIN_TIME`, `OPTIN_IP`, `CONFIRM_TIME`, `CONFIRM_IP`, `UNSUB_TIME`,
/// `CLEAN_TIME`; other columns ignored), a Ghost members export (`email`,
/// `name`, `subscribed_to_emails`, `created_at`, `deleted_at`, …), a
/// listmonk file (`email`, `name`, `attributes`, `status`, …) or
/// broadsheet's own CSV export. A column the format does not have is a 422
/// naming it; bytes that are not UTF-8 are a 400 naming the line.
///
/// Rows with a problem (bad address, duplicate within the file, …) are
/// skipped and listed with their line, column and message; the rest are
/// imported in one transaction. An address that already exists is never
/// changed, and one that unsubscribed, bounced, complained or was erased is
/// never brought back. Imported rows keep the file's consent data (consent
/// basis `imported`) or are marked `imported_without_consent`. With
/// `dry_run=true` everything is checked and reported and nothing written.
#[utoipa::path(
    tag = "subscriptions",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file, UTF-8, header row first",
        example = json!("Email Address,First Name,Last Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP\r\nana@example.com,Ana,Lopez,2025-03-01 09:00:00,203.0.113.7,2025-03-01 09:05:00,203.0.113.7\r\n")),
    responses(
        (status = 200, description = "Imported (or, for a dry run, what would be): counts and each skipped row", body = ImportReportEnvelope),
        (status = 400, description = "A bad query, an empty body, bytes that are not UTF-8, or CSV that cannot be parsed (`errors[].field` is `body` or `dry_run`)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:invalid_parameter", "title": "Bad Request", "status": 400, "detail": "body is not UTF-8 text (first bad bytes on line 3); export or save the file as CSV UTF-8", "code": "invalid_parameter", "errors": [{"field": "body", "message": "is not UTF-8 text (first bad bytes on line 3); export or save the file as CSV UTF-8"}]})),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 413, description = "The file is larger than 64 MiB (`errors[].field` is `body`)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:payload_too_large", "title": "Payload Too Large", "status": 413, "detail": "the file is larger than 64 MiB; split it into several imports", "code": "payload_too_large", "errors": [{"field": "body", "message": "is too large"}]})),
        (status = 415, description = "The body is not `text/csv`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unsupported_media_type", "title": "Unsupported Media Type", "status": 415, "detail": "send the CSV file itself as the body, with Content-Type: text/csv", "code": "unsupported_media_type", "errors": [{"field": "content-type", "message": "must be text/csv"}]})),
        (status = 422, description = "A column is missing, unknown to the format, unnamed or repeated (`errors[].field` names it)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unprocessable", "title": "Unprocessable Entity", "status": 422, "detail": "column shoe_size is not a column of a listmonk export (expected some of: uuid, email, name, attributes, status, created_at, updated_at)", "code": "unprocessable", "errors": [{"field": "shoe_size", "message": "is not a column of a listmonk export (expected some of: uuid, email, name, attributes, status, created_at, updated_at)"}]})),
        (status = 503, description = "The database is unavailable; nothing was written. See `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[post("/subscriptions/import")]
pub async fn import_subscriptions(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let dry_run = match query.dry_run.as_deref().map(str::trim) {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(ApiError::invalid("dry_run", "must be true or false")),
    };
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    if !matches!(content_type.as_deref(), Some("text/csv" | "application/csv")) {
        return Err(ApiError::UnsupportedMediaType {
            detail: "send the CSV file itself as the body, with Content-Type: text/csv".into(),
            errors: vec![crate::error::FieldError { field: "content-type".into(), message: "must be text/csv".into() }],
        });
    }
    let body = read_body(&req, payload, super::import::MAX_BYTES).await?;
    let settings = state.settings.clone();
    let data = crate::db::write(&state.pool, move |c| {
        Ok(super::import::import(c, &settings, std::io::Cursor::new(body), dry_run)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ImportReportEnvelope { data }))
}

/// Keeps `DELETE /subscriptions/confirm` (and the other named paths) from
/// reaching [`delete_subscription`]: actix puts method guards on resources,
/// so a method no named route takes would fall through to `{id}` (a 401 or
/// 400) instead of the 405 with `Allow` that `http::middleware::not_routed`
/// gives.
fn not_a_named_route(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    let last = ctx.head().uri.path().trim_end_matches('/').rsplit('/').next().unwrap_or("");
    !matches!(last, "confirm" | "unsubscribe" | "preferences" | "export" | "bounces" | "import")
}

/// Erase a subscriber and their personal data (GDPR).
///
/// Deletes the subscriber with their topics, tokens, consent records,
/// confirmation mails and queued subscribe requests. What remains is an
/// anonymous count and a one-way hash of the address, so an import cannot
/// bring it back. The reader may still subscribe again themselves (double
/// opt-in).
#[utoipa::path(
    tag = "subscriptions",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Subscriber id", minimum = 1)),
    responses(
        (status = 204, description = "Erased"),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or expired credentials", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "missing credentials: send Authorization: Bearer <token>", "code": "unauthorized", "errors": []})),
        (status = 403, description = "Not an editor or admin, or an API key", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "this needs the editor or admin role", "code": "forbidden", "errors": []})),
        (status = 404, description = "No such subscriber", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:not_found", "title": "Not Found", "status": 404, "detail": "no mailing 42", "code": "not_found", "errors": []})),
        (status = 503, description = "The database is unavailable (nothing was changed); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503, "detail": "the service is temporarily unavailable; retry later", "code": "unavailable", "errors": []})),
    )
)]
#[delete("/subscriptions/{id}", guard = "not_a_named_route")]
pub async fn delete_subscription(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSubscribers)?;
    let id = id.get();
    crate::db::write(&state.pool, move |c| c.transaction(|c| service::erase(c, id))).await?;
    Ok(HttpResponse::NoContent().finish())
}
