//! Readers: people who comment without an account. A reader is an email
//! address (stored as entered, compared by `email_key`, the same
//! normalization as newsletter subscribers), an optional display name, and
//! `verified_at`, set by a magic link whose page POSTs the token.
//!
//! A verified reader proves who they are later (votes) with a signed,
//! reusable reader token: `{id}.{base64url(HMAC-SHA256(secret, context ‖ id))}`.
//!
//! Errors: `repo` returns `QueryResult`; `service` and `handlers` return
//! `ApiError` (bad tokens are 400s naming `token`).

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

/// Registers `/readers` routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::preview_verification)
        .service(handlers::verify_reader)
        .service(handlers::preview_unsubscribe)
        .service(handlers::unsubscribe_replies);
}
