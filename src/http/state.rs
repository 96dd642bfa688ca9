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
    /// The OpenAPI document and the route table, built on first use.
    pub api: Arc<ApiDescription>,
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

/// `(path template, methods)` for every path of the spec.
pub type RouteTable = Vec<(String, Vec<String>)>;

/// The OpenAPI document as served at `/openapi.json`, and the route table
/// taken from it (405 answers and their `Allow` header), built by the
/// function given to [`ApiDescription::new`] when a request first needs
/// either. Building the document is about 60 million instructions
/// (callgrind, 2026-12-05), which used to run before the server took its
/// first request; a cached article never needs it.
pub struct ApiDescription {
    build: fn() -> (String, RouteTable),
    built: std::sync::OnceLock<(String, RouteTable)>,
}

impl ApiDescription {
    /// `build` returns the serialized document and its route table.
    pub fn new(build: fn() -> (String, RouteTable)) -> Arc<Self> {
        Arc::new(Self { build, built: std::sync::OnceLock::new() })
    }

    /// The serialized document (the bytes of `openapi/openapi.json`).
    pub async fn json(self: &Arc<Self>) -> &str {
        &self.ready().await.0
    }

    /// `(path template, methods)` for every documented path.
    pub async fn routes(self: &Arc<Self>) -> &[(String, Vec<String>)] {
        &self.ready().await.1
    }

    /// The first caller builds it on a blocking thread (the ~60 million
    /// instructions above stay off the async worker); concurrent callers
    /// wait for that build.
    async fn ready(self: &Arc<Self>) -> &(String, RouteTable) {
        if self.built.get().is_none() {
            let me = Arc::clone(self);
            // If the build panicked there, `get` below tries again and the
            // panic surfaces in this request.
            let _ = actix_web::rt::task::spawn_blocking(move || {
                me.get();
            })
            .await;
        }
        self.get()
    }

    fn get(&self) -> &(String, RouteTable) {
        self.built.get_or_init(self.build)
    }
}
