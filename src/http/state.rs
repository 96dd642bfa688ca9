//! [`AppState`]: what every handler shares.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Pool;

/// State shared by every handler.
pub struct AppState {
    /// The database pool.
    pub pool: Pool,
    /// Runtime settings.
    pub settings: Settings,
    /// The serialized OpenAPI document (served at `/openapi.json`).
    pub spec_json: Arc<String>,
    /// `(path template, methods)` from the spec, used to answer 405 with `Allow`.
    pub routes: Arc<Vec<(String, Vec<String>)>>,
    /// Token keys and lifetimes.
    pub auth: Arc<crate::auth::AuthState>,
    /// The rate limiter (in process, or shared through Redis).
    pub limits: super::limit::Limits,
    /// Media store, upload policy and limits.
    pub media: crate::media::MediaState,
    /// The shared response cache for public reads.
    pub cache: Arc<super::cache::ResponseCache>,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<super::metrics::Metrics>,
}

/// Largest accepted JSON body, in bytes (1 MiB).
pub const JSON_LIMIT: usize = 1024 * 1024;
