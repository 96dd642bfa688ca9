//! User accounts (admin-managed).

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;

/// Registers the user routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_users)
        .service(handlers::get_user)
        .service(handlers::create_user)
        .service(handlers::update_user);
}
