//! `GET /sitemap.xml`, `/sitemaps/{file}`, `/sitemap-news.xml` and `/robots.txt`.
//! Anonymous 200s get an `ETag` and 304s from `http::middleware::http_cache`.

use actix_web::{get, web, HttpResponse};

use super::service;
use crate::error::{ApiError, Problem};
use crate::http::AppState;

const XML: &str = "application/xml; charset=utf-8";

/// The sitemap index.
///
/// Lists one sitemap file per `SITEMAP_MAX_URLS` URLs of each source:
/// articles (with `lastmod`), authors, categories and tags. Only public,
/// unprotected articles (and the people and terms they carry) appear.
#[utoipa::path(
    tag = "sitemaps",
    responses(
        (status = 200, description = "A sitemaps.org 0.9 `<sitemapindex>`", content_type = "application/xml", body = String),
        (status = 304, description = "Not modified (`If-None-Match`)"),
    )
)]
#[get("/sitemap.xml")]
pub async fn get_sitemap_index(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let xml = crate::db::run(&state.pool, move |c| service::index(c, &st.settings, crate::db::now())).await?;
    Ok(HttpResponse::Ok().content_type(XML).body(xml))
}

/// One sitemap file named by the index.
#[utoipa::path(
    tag = "sitemaps",
    params(("file" = String, Path, description = "`{source}-{n}.xml`, e.g. `articles-1.xml`",
        pattern = "^(articles|authors|categories|tags)-[1-9][0-9]{0,8}\\.xml$")),
    responses(
        (status = 200, description = "A sitemaps.org 0.9 `<urlset>`", content_type = "application/xml", body = String),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "No such file", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sitemaps/{file}")]
pub async fn get_sitemap(state: web::Data<AppState>, file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let name = file.into_inner();
    let xml = crate::db::run(&state.pool, move |c| service::file(c, &st.settings, &name, crate::db::now())).await?;
    Ok(HttpResponse::Ok().content_type(XML).body(xml))
}

/// The Google News sitemap.
///
/// Public, unprotected articles published in the last 48 hours, newest
/// first, at most 1,000, each with the publication's name (`SITE_TITLE`) and
/// language (`SITE_LANGUAGE`), the publication date and the title.
#[utoipa::path(
    tag = "sitemaps",
    responses(
        (status = 200, description = "A `<urlset>` with Google News 0.9 `<news:news>` entries", content_type = "application/xml", body = String),
        (status = 304, description = "Not modified (`If-None-Match`)"),
    )
)]
#[get("/sitemap-news.xml")]
pub async fn get_news_sitemap(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let xml = crate::db::run(&state.pool, move |c| service::news(c, &st.settings, crate::db::now())).await?;
    Ok(HttpResponse::Ok().content_type(XML).body(xml))
}

/// `robots.txt`, naming the sitemap index and the news sitemap.
#[utoipa::path(
    tag = "sitemaps",
    responses(
        (status = 200, description = "Robots exclusion rules (RFC 9309)", content_type = "text/plain", body = String),
        (status = 304, description = "Not modified (`If-None-Match`)"),
    )
)]
#[get("/robots.txt")]
pub async fn get_robots(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(service::robots(&state.settings))
}
