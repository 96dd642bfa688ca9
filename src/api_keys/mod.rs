//! API keys for integrators: `content` keys read published content; `admin`
//! keys carry scopes (see `auth::permissions`). Keys are shown once, at
//! creation, and stored only as SHA-256 digests.

pub mod dto;
pub mod handlers;
pub mod repo;

/// Registers the API-key routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_api_keys).service(handlers::create_api_key).service(handlers::revoke_api_key);
}
