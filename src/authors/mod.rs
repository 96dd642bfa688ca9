//! Authors: the people in bylines.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;

/// Registers the author routes under `/api/v1`. `/authors/me` comes before
/// `/authors/{author}` so it is never read as a slug.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_authors)
        .service(handlers::create_author)
        .service(handlers::get_my_author)
        .service(handlers::update_my_author)
        .service(handlers::get_author)
        .service(handlers::update_author)
        .service(handlers::delete_author);
}
