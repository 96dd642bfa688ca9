//! Articles: the published journalism, with bylines, taxonomy and featured media.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;

/// Registers the article routes under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_articles)
        .service(handlers::get_article)
        .service(crate::comments::handlers::list_article_comments);
}
