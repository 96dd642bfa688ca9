//! `GET /health`: liveness plus a database round trip.

use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::AppState;

/// Health report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when this body is returned.
    #[schema(example = "ok")]
    pub status: String,
    /// The database backend in use: `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: String,
}

/// Liveness and database check.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The service and its database are up", body = Health),
    )
)]
#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let database = crate::db::run(&state.pool, |c| {
        c.batch_execute("SELECT 1").map_err(|e| ApiError::Unavailable(e.to_string()))?;
        Ok(match c {
            DbConnection::Postgresql(_) => "postgres",
            DbConnection::Sqlite(_) => "sqlite",
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok".into(), database: database.into() }))
}
