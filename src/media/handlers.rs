//! HTTP handlers for `/api/v1/media`.

use actix_web::{get, web, HttpResponse};

use super::dto::{Media, MediaEnvelope};
use super::repo;
use crate::error::{ApiError, Problem};
use crate::startup::AppState;

/// Get one media record by numeric id.
#[utoipa::path(
    tag = "media",
    params(("id" = i64, Path, description = "Media id", minimum = 1)),
    responses(
        (status = 200, description = "The media record", body = MediaEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{id}")]
pub async fn get_media(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = crate::startup::parse_id("id", &id)?;
    let row = crate::db::run(&state.pool, move |c| Ok(repo::find(c, id)?))
        .await
        .map_err(|e| e.with_not_found(format!("no media with id {id}")))?;
    Ok(HttpResponse::Ok().json(MediaEnvelope { data: Media::from(row) }))
}
