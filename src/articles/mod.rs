//! Articles: the journalism, with bylines, taxonomy, series, featured media,
//! revisions and the editorial workflow.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod render;
pub mod repo;
pub mod service;

/// Registers the article routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_articles)
        .service(handlers::create_article)
        .service(handlers::get_article)
        .service(handlers::update_article)
        .service(handlers::delete_article)
        .service(handlers::list_revisions)
        .service(handlers::get_revision)
        .service(handlers::restore_revision)
        .service(handlers::related_articles)
        .service(handlers::unlock_article)
        .service(handlers::create_preview)
        .service(handlers::delete_previews)
        .service(handlers::get_preview)
        .service(crate::comments::handlers::list_article_comments);
}
