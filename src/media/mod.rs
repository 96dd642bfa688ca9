//! Media library: images and files with alt text, caption and credit.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;

/// Registers the media routes under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::get_media);
}
