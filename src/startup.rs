//! Wires the application together: state, middleware, the route table
//! (`routes`), the spec (`openapi`) and the listening server. Nothing imports
//! this module but `cli`.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpServer};

use crate::config::Settings;
use crate::db::Pool;
use crate::error;
use crate::http::middleware::{cors, head_as_get, http_cache, not_routed, reject_nul, route_table};
use crate::http::state::{ApiDescription, RouteTable};
use crate::http::{AppState, JSON_LIMIT};
use crate::openapi::{docs, get_openapi, openapi_spec};

/// A running server, the port it bound, and its job runner (unless
/// `JOBS_IN_SERVER=false`).
pub struct Application {
    port: u16,
    server: Server,
    runner: Option<crate::jobs::Runner>,
    cache: Arc<crate::http::cache::ResponseCache>,
    pool: Pool,
}

impl Application {
    /// Binds `settings.bind_addr` (port 0 picks a free port, for tests) and
    /// prepares the server over `pool`. Migrations must already have run.
    pub fn build(settings: Settings, pool: Pool) -> anyhow::Result<Self> {
        let mailer = crate::mail::from_settings(&settings)?;
        Self::build_with_mailer(settings, pool, mailer)
    }

    /// [`Self::build`] with a given mailer (tests pass an in-memory one).
    pub fn build_with_mailer(
        settings: Settings,
        pool: Pool,
        mailer: Arc<dyn crate::mail::Mailer>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind_addr)
            .map_err(|e| anyhow::anyhow!("cannot bind BIND_ADDR {}: {e}", settings.bind_addr))?;
        Self::from_listener(listener, settings, pool, mailer)
    }

    /// Prepares the server on an already bound `listener`.
    pub fn from_listener(
        listener: TcpListener,
        settings: Settings,
        pool: Pool,
        mailer: Arc<dyn crate::mail::Mailer>,
    ) -> anyhow::Result<Self> {
        let runner = settings.jobs.in_server.then(|| crate::jobs::Runner::new(pool.clone(), &settings, mailer.clone()));
        let port = listener.local_addr()?.port();
        let auth = Arc::new(crate::auth::AuthState::from_settings(&settings, &pool)?);
        let limits = crate::http::Limits::from_settings(&settings)?;
        let media = crate::media::MediaState::from_settings(&settings)?;
        let cache = Arc::new(crate::http::cache::ResponseCache::new(&settings.cache));
        if cache.enabled() {
            // One poll before the first request, so the cache serves from the start.
            let mut conn = pool.get()?;
            cache.poll(&mut conn)?;
        }
        let metrics = Arc::new(crate::http::metrics::Metrics::default());
        let poll = (cache.clone(), pool.clone());
        let workers = settings.http_workers;
        let state = web::Data::new(AppState {
            pool,
            settings,
            api: ApiDescription::new(describe_api),
            auth,
            limits,
            media,
            cache,
            metrics,
        });
        let cors_settings = state.settings.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .app_data(web::JsonConfig::default().limit(JSON_LIMIT).error_handler(error::json_error))
                .app_data(web::PayloadConfig::default().limit(JSON_LIMIT))
                .wrap_fn(http_cache)
                .wrap(crate::http::cache::ResponseCacheLayer)
                .wrap_fn(reject_nul)
                // CORS inside the error handlers, so its refusals are problem+json too.
                .wrap(actix_web::middleware::Condition::new(
                    !cors_settings.cors_allowed_origins.is_empty(),
                    cors(&cors_settings),
                ))
                .wrap(ErrorHandlers::new().default_handler(error::problem_for_any_error))
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                // Responses the cache did not encode (it stores gzip and br
                // itself and sets Content-Encoding, which Compress leaves alone).
                .wrap(actix_web::middleware::Compress::default())
                .wrap_fn(head_as_get)
                .wrap(crate::http::metrics::MetricsLayer)
                .service(crate::http::metrics::get_metrics)
                .service(crate::health::health)
                .service(get_openapi)
                .service(docs)
                .service(
                    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                        .config(utoipa_swagger_ui::Config::new(["/openapi.json"]).try_it_out_enabled(true)),
                )
                // actix's own ServiceConfig: the spec's paths are not collected here.
                .configure(crate::routes::configure_root)
                .service(web::scope("/api/v1").configure(crate::routes::configure_api))
                .default_service(web::to(not_routed))
        })
        // Nagle's algorithm holds the tail of a response larger than the
        // socket buffer until the client's delayed ACK (~40 ms): that was the
        // cached `include=body` list's p99 (see README, "Benchmark").
        .tcp_nodelay(true)
        .workers(workers)
        .listen(listener)?
        .run();
        Ok(Self { port, server, runner, cache: poll.0, pool: poll.1 })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until stopped. On SIGTERM or SIGINT the job runner stops
    /// claiming at once while actix drains in-flight requests; once the
    /// server has stopped, the runner is told to stop and awaited (it finishes
    /// or releases what it holds, see `jobs::runner`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let jobs = self.runner.map(crate::jobs::runner::spawn);
        let poller = crate::http::cache::spawn_poller(self.cache, self.pool);
        if let Some((stop, _)) = &jobs {
            let stop = stop.clone();
            actix_web::rt::spawn(async move {
                crate::jobs::runner::shutdown_signal().await;
                let _ = stop.send(true);
            });
        }
        let served = self.server.await;
        if let Some(poller) = poller {
            poller.abort();
        }
        if let Some((stop, handle)) = jobs {
            let _ = stop.send(true);
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "the job runner ended abnormally");
            }
        }
        served
    }
}

/// The served OpenAPI document and its route table (see [`ApiDescription`]).
fn describe_api() -> (String, RouteTable) {
    let spec = openapi_spec();
    (crate::openapi::to_json(&spec), route_table(&spec))
}
