//! The HTTP layer below the resources: shared state, typed extractors and
//! middleware. Resources import from here (and from `db` and `error`), never
//! from `startup`, which only wires things together.

pub mod cache;
pub mod client;
pub mod extract;
pub mod limit;
pub mod metrics;
pub mod middleware;
pub mod state;

pub use client::client_ip;
pub use extract::Id;
pub use limit::{Key, Limits, Policy};
pub use state::AppState;

/// Largest accepted JSON body, in bytes (1 MiB).
pub const JSON_LIMIT: usize = 1024 * 1024;

/// Where a resource's `configure` registers its handlers. The one route
/// table serves two callers: the OpenAPI document, built through utoipa's
/// `ServiceConfig`, which also collects each handler's paths and schemas; and
/// the server's HTTP workers, which each build their own `App` and take
/// actix's plain `ServiceConfig`. Collecting the paths there was about a
/// fifth of the instructions a worker spent before it could serve
/// (callgrind, 2026-12-05): work thrown away once per worker.
pub trait RouteConfig {
    /// Registers one handler (a `#[utoipa::path]` actix service).
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: actix_web::dev::HttpServiceFactory + utoipa_actix_web::OpenApiFactory + 'static;
}

impl RouteConfig for actix_web::web::ServiceConfig {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: actix_web::dev::HttpServiceFactory + utoipa_actix_web::OpenApiFactory + 'static,
    {
        actix_web::web::ServiceConfig::service(self, factory)
    }
}

impl RouteConfig for utoipa_actix_web::service_config::ServiceConfig<'_> {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: actix_web::dev::HttpServiceFactory + utoipa_actix_web::OpenApiFactory + 'static,
    {
        utoipa_actix_web::service_config::ServiceConfig::service(self, factory)
    }
}
