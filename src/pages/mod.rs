//! Pages: About, Contact and the like (issue 15 §2). Kept apart from
//! articles, so they never reach article lists, feeds or search; imported
//! from WordPress `page` items and managed by editors at `/api/v1/pages`.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

/// Registers the page routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_pages)
        .service(handlers::create_page)
        .service(handlers::get_page)
        .service(handlers::update_page)
        .service(handlers::delete_page)
        .service(handlers::list_page_revisions)
        .service(handlers::get_page_revision)
        .service(handlers::restore_page_revision);
}
