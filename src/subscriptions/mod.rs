//! Newsletter subscriptions: double opt-in with a hashed single-use
//! confirmation token, an append-only consent log, and a signed reusable
//! per-subscriber token for one-click unsubscribe and preferences.
//!
//! Errors: `repo` returns `QueryResult`; `service` and `handlers` return
//! `ApiError` (bad tokens are 400s naming `token`, unknown topics 422s
//! naming `topics`).

pub mod dto;
pub mod handlers;
pub mod import;
pub mod model;
pub mod repo;
pub mod service;

/// Registers `/subscriptions` routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_subscriptions)
        .service(handlers::export_subscriptions)
        .service(handlers::import_subscriptions)
        .service(handlers::report_bounces)
        .service(handlers::subscribe)
        .service(handlers::preview_confirmation)
        .service(handlers::confirm_subscription)
        .service(handlers::unsubscribe)
        .service(handlers::get_preferences)
        .service(handlers::update_preferences)
        .service(handlers::delete_subscription);
}
