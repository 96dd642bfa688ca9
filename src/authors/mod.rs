//! Authors: the people in bylines.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;

/// Registers the author routes under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_authors).service(handlers::get_author);
}
