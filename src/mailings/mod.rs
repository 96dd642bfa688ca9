//! New-article mailings: when an article is published (or a scheduled one
//! reaches its time) one mailing goes to the confirmed subscribers whose
//! topics match, once per article. One delivery record per (mailing,
//! subscriber) is checked before every send, so a crash or restart neither
//! repeats nor skips anyone (within the single-message window of the mail
//! outbox, see ARCHITECTURE.md "Mailings").
//!
//! Errors: `repo` returns `QueryResult`; `service` and `handlers` return
//! `ApiError` (releasing or cancelling a mailing in the wrong state is a 409).

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

pub use service::on_article_published;

/// Registers `/mailings` and `/articles/{id}/newsletter` routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_mailings)
        .service(handlers::get_mailing)
        .service(handlers::release_mailing)
        .service(handlers::cancel_mailing)
        .service(handlers::retry_mailing)
        .service(handlers::get_article_newsletter)
        .service(handlers::set_article_newsletter);
}
