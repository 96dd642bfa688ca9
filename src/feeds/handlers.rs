//! `GET /feeds/{format}` and `GET /feeds/{format}/{kind}/{slug}`.
//!
//! Caching: anonymous 200s get a strong `ETag` from the body and 304 on
//! `If-None-Match` (`http::middleware::http_cache`); the handler adds
//! `Last-Modified` (the newest entry's update time) and answers
//! `If-Modified-Since` with 304 when no `If-None-Match` was sent (RFC 9110 §13.1.3).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};

use super::service::{self, FeedFormat, FeedKind};
use crate::error::{ApiError, Problem};
use crate::http::AppState;

async fn serve(
    state: web::Data<AppState>,
    req: HttpRequest,
    format: &str,
    scope: Option<(&str, &str)>,
) -> Result<HttpResponse, ApiError> {
    let format = FeedFormat::parse(format)?;
    let scope = match scope {
        None => None,
        Some((kind, slug)) => Some((FeedKind::parse(kind)?, slug.to_owned())),
    };
    let st = state.clone();
    let feed = crate::db::run(&state.pool, move |c| {
        match service::load(c, &st.settings, format, scope.as_ref().map(|(k, s)| (*k, s.as_str())), crate::db::now()) {
            // A renamed category or a renamed or merged tag keeps its feed
            // readers: its former slug answers 301, as the term itself does.
            Err(ApiError::NotFound(m)) => match scope.as_ref().and_then(|(k, s)| Some((k.taxonomy()?, *k, s))) {
                Some((term, kind, slug)) => match crate::taxonomy::repo::redirect_for(c, term, slug)? {
                    Some(t) => Ok(Err((kind, t.slug))),
                    None => Err(ApiError::NotFound(m)),
                },
                None => Err(ApiError::NotFound(m)),
            },
            other => other.map(Ok),
        }
    })
    .await?;
    let feed = match feed {
        Ok(feed) => feed,
        Err((kind, slug)) => {
            let to = format!("/feeds/{}/{}/{}", format.as_str(), kind.as_str(), service::encode_segment(&slug));
            return Ok(HttpResponse::MovedPermanently().insert_header((header::LOCATION, to)).finish());
        }
    };
    let last_modified = feed.updated.map(|t| header::HttpDate::from(std::time::SystemTime::from(t.and_utc())));
    if let (Some(lm), None, Some(since)) = (
        last_modified,
        req.headers().get(header::IF_NONE_MATCH),
        req.headers().get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()?.parse::<header::HttpDate>().ok()),
    ) {
        if std::time::SystemTime::from(lm) <= std::time::SystemTime::from(since) {
            return Ok(HttpResponse::NotModified().insert_header((header::LAST_MODIFIED, lm)).finish());
        }
    }
    let body = super::write::render(&feed, format)?;
    let mut res = HttpResponse::Ok();
    res.content_type(format.content_type());
    if let Some(lm) = last_modified {
        res.insert_header((header::LAST_MODIFIED, lm));
    }
    Ok(res.body(body))
}

/// The whole site's feed.
///
/// The newest `FEED_ITEMS` public articles (never drafts, scheduled articles
/// before their time, or password-protected ones), each with its body
/// (`FEED_CONTENT=full`) or excerpt, bylines, categories and tags, featured
/// image (enclosure, with credit) and update time. RSS 2.0, Atom 1.0
/// (RFC 4287) or JSON Feed 1.1.
#[utoipa::path(
    tag = "feeds",
    params(("format" = String, Path, description = "`rss`, `atom` or `json`", pattern = "^(rss|atom|json)$")),
    responses(
        (status = 200, description = "The feed; `ETag` and `Last-Modified` set", content(
            (String = "application/rss+xml"),
            (String = "application/atom+xml"),
            (serde_json::Value = "application/feed+json"),
        )),
        (status = 304, description = "Not modified (`If-None-Match` or `If-Modified-Since`)"),
        (status = 400, description = "Unknown format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/{format}")]
pub async fn get_site_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    format: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    serve(state, req, &format, None).await
}

/// The feed of one category (with its descendants), tag, author or series.
///
/// The same entries as the site feed, limited to that term. An unknown slug
/// is a 404.
#[utoipa::path(
    tag = "feeds",
    params(
        ("format" = String, Path, description = "`rss`, `atom` or `json`", pattern = "^(rss|atom|json)$"),
        ("kind" = String, Path, description = "`category`, `tag`, `author` or `series`", pattern = "^(category|tag|author|series)$"),
        ("slug" = String, Path, description = "The term's slug", min_length = 1, max_length = 200),
    ),
    responses(
        (status = 200, description = "The feed; `ETag` and `Last-Modified` set", content(
            (String = "application/rss+xml"),
            (String = "application/atom+xml"),
            (serde_json::Value = "application/feed+json"),
        )),
        (status = 304, description = "Not modified (`If-None-Match` or `If-Modified-Since`)"),
        (status = 301, description = "A former slug of a category or tag (renamed, or a tag merged away): `Location` has the current feed"),
        (status = 400, description = "Unknown format or kind", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category, tag, author or series", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/{format}/{kind}/{slug}")]
pub async fn get_scoped_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (format, kind, slug) = path.into_inner();
    serve(state, req, &format, Some((&kind, &slug))).await
}
