//! HTTP handlers for `/api/v1/series`.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo::{self, SeriesChanges, SeriesRow};
use crate::articles::dto::ArticleSummary;
use crate::articles::repo::{ArticleFilter, Sort, Visibility};
use crate::auth::{Action, AuthUser, MaybeAuthUser};
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::pagination::{self, PageParams, PageQuery};
use crate::slugs::{self, IdOrSlug};

/// A series.
#[derive(Debug, Serialize, ToSchema)]
pub struct Series {
    /// Numeric id.
    pub id: i64,
    /// Unique slug; never all digits.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Description, plain text.
    pub description: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
}

impl From<SeriesRow> for Series {
    fn from(r: SeriesRow) -> Self {
        Self {
            id: r.id,
            slug: r.slug,
            title: r.title,
            description: r.description,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A series with its published articles in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesDetail {
    /// The series.
    #[serde(flatten)]
    pub series: Series,
    /// Published articles by `series.position` (unpositioned last), at most 100.
    pub articles: Vec<ArticleSummary>,
}

/// `POST /series` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "The water crisis", "description": "A five-part investigation."}))]
pub struct CreateSeries {
    /// 1–200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: String,
    /// Derived from the title when omitted.
    #[serde(default)]
    #[schema(pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
}

/// `PATCH /series/{series}` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "A six-part investigation."}))]
pub struct UpdateSeries {
    /// 1–200 characters.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: Option<String>,
    /// New slug.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// Description, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
}

crate::list_envelope!(SeriesList, Series, "A page of series.");
crate::data_envelope!(SeriesEnvelope, Series, "`{\"data\": Series}`");
crate::data_envelope!(SeriesDetailEnvelope, SeriesDetail, "`{\"data\": SeriesDetail}`");

fn check(title: Option<&str>, slug: Option<&str>, description: Option<&str>) -> Result<(), ApiError> {
    if title.is_some_and(|t| t.trim().is_empty() || t.chars().count() > 200) {
        return Err(ApiError::invalid("title", "must be 1 to 200 characters"));
    }
    if slug.is_some_and(|s| !slugs::is_valid(s)) {
        return Err(ApiError::invalid("slug", "must be lowercase letters, digits and single hyphens, not all digits"));
    }
    if description.is_some_and(|d| d.chars().count() > 2000) {
        return Err(ApiError::invalid("description", "must be at most 2000 characters"));
    }
    Ok(())
}

/// List series by title.
#[utoipa::path(
    tag = "series",
    params(PageQuery),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "A page of series", body = SeriesList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/series")]
pub async fn list_series(
    state: web::Data<AppState>,
    req: HttpRequest,
    _auth: MaybeAuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.params()?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &page)?)).await?;
    let meta = page.meta(total);
    let body = SeriesList { data: rows.into_iter().map(Series::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Get a series (id or slug) with its published articles in order.
#[utoipa::path(
    tag = "series",
    params(("series" = String, Path, description = "Series id (all digits) or slug")),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The series", body = SeriesDetailEnvelope, links(
            ("UpdateSeries" = (operation_id = "update_series", parameters(("series" = "$response.body#/data/id")))),
            ("DeleteSeries" = (operation_id = "delete_series", parameters(("series" = "$response.body#/data/id")))),
        )),
        (status = 404, description = "No such series", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/series/{series}")]
pub async fn get_series(
    state: web::Data<AppState>,
    _auth: MaybeAuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let base_url = state.settings.public_base_url.clone();
    let raw = key.into_inner();
    let lookup = IdOrSlug::parse(&raw);
    let now = crate::db::now();
    let (series, rows, rel) = crate::db::run(&state.pool, move |c| {
        let s = repo::find_by_key(c, &lookup)?.ok_or(diesel::result::Error::NotFound)?;
        let filter = ArticleFilter { series: Some(s.id), ..Default::default() };
        let page = PageParams { page: 1, per_page: 100 };
        let at = crate::articles::repo::PageAt::Offset(page);
        let (mut rows, _, _) =
            crate::articles::repo::list(c, Visibility::Public, &filter, Sort::PublishedAsc, &at, now, false)?;
        rows.sort_by_key(|r| (r.series_position.is_none(), r.series_position, r.published_at, r.id));
        let rel = crate::articles::repo::load_relations(c, &rows, false, &base_url)?;
        Ok((s, rows, rel))
    })
    .await
    .map_err(|e| e.with_not_found(format!("no series `{raw}`")))?;
    let articles = rows.iter().map(|r| ArticleSummary::build(r, &rel, now)).collect();
    Ok(HttpResponse::Ok().json(SeriesDetailEnvelope { data: SeriesDetail { series: series.into(), articles } }))
}

/// Create a series (editors and up, or a key with `articles:write`).
#[utoipa::path(
    tag = "series",
    security(("bearer" = []), ("api_key" = [])),
    request_body = CreateSeries,
    responses(
        (status = 201, description = "Created", body = SeriesEnvelope, links(
            ("GetSeries" = (operation_id = "get_series", parameters(("series" = "$response.body#/data/id")))),
            ("UpdateSeries" = (operation_id = "update_series", parameters(("series" = "$response.body#/data/id")))),
            ("DeleteSeries" = (operation_id = "delete_series", parameters(("series" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/series")]
pub async fn create_series(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<CreateSeries>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSeries)?;
    let b = body.into_inner();
    check(Some(&b.title), b.slug.as_deref(), b.description.as_deref())?;
    let tries = if b.slug.is_none() { 3 } else { 1 };
    let row = crate::db::write_retrying_conflicts(&state.pool, tries, move |c| {
        c.transaction(|c| {
            slugs::lock_for(c, "series")?;
            let slug = match &b.slug {
                Some(s) if repo::slug_taken(c, s, None)? => {
                    return Err(ApiError::Conflict(format!("slug `{s}` is taken")))
                }
                Some(s) => s.clone(),
                None => {
                    let base =
                        Some(slugs::slugify(&b.title)).filter(|s| !s.is_empty()).unwrap_or_else(|| "series".into());
                    slugs::unique(&base, |s| repo::slug_taken(c, s, None))?
                }
            };
            Ok(repo::insert(c, &slug, b.title.trim(), b.description.as_deref())?)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/series/{}", row.id)))
        .json(SeriesEnvelope { data: row.into() }))
}

/// Edit a series (editors and up).
#[utoipa::path(
    tag = "series",
    security(("bearer" = []), ("api_key" = [])),
    params(("series" = String, Path, description = "Series id (all digits) or slug")),
    request_body = UpdateSeries,
    responses(
        (status = 200, description = "Updated", body = SeriesEnvelope, links(
            ("GetSeries" = (operation_id = "get_series", parameters(("series" = "$response.body#/data/id")))),
            ("DeleteSeries" = (operation_id = "delete_series", parameters(("series" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such series", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/series/{series}")]
pub async fn update_series(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
    body: crate::json::Json<UpdateSeries>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSeries)?;
    let b = body.into_inner();
    check(b.title.as_deref(), b.slug.as_deref(), b.description.clone().flatten().as_deref())?;
    let raw = key.into_inner();
    let lookup = IdOrSlug::parse(&raw);
    let row = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let s = repo::find_by_key(c, &lookup)?.ok_or_else(|| ApiError::NotFound(format!("no series `{raw}`")))?;
            if let Some(slug) = &b.slug {
                if repo::slug_taken(c, slug, Some(s.id))? {
                    return Err(ApiError::Conflict(format!("slug `{slug}` is taken")));
                }
            }
            let changes = SeriesChanges {
                slug: b.slug,
                title: b.title.map(|t| t.trim().to_owned()),
                description: b.description,
                updated_at: Some(crate::db::now()),
            };
            Ok(repo::update(c, s.id, &changes)?)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(SeriesEnvelope { data: row.into() }))
}

/// Delete a series; its articles stay, detached (editors and up).
#[utoipa::path(
    tag = "series",
    security(("bearer" = []), ("api_key" = [])),
    params(("series" = String, Path, description = "Series id (all digits) or slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such series", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/series/{series}")]
pub async fn delete_series(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageSeries)?;
    let raw = key.into_inner();
    let lookup = IdOrSlug::parse(&raw);
    crate::db::write(&state.pool, move |c| {
        let s = repo::find_by_key(c, &lookup)?.ok_or_else(|| ApiError::NotFound(format!("no series `{raw}`")))?;
        Ok(repo::delete(c, s.id)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
