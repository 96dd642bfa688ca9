//! Request metrics, the request log line, and `GET /metrics` (Prometheus
//! text exposition format 0.0.4).
//!
//! Hand-written rather than the `prometheus` or `metrics` crates: the
//! figures are a handful of counters and one histogram family, the text
//! format is a few lines of `write!`, and a hit on the response cache should
//! pay for one short mutex section and no registry look-ups or label
//! allocations (see ARCHITECTURE.md, "Metrics").
//!
//! [`MetricsLayer`] is also the request logger: a 4xx is one short line at
//! `debug`, a 5xx one line at `error` (its cause was logged where it arose).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{get, web, HttpRequest, HttpResponse};

use super::cache::CachedRoute;
use super::AppState;
use crate::error::ApiError;

/// Upper bounds of the latency histogram buckets, in seconds.
pub const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct MethodStats {
    statuses: Vec<(u16, u64)>,
    buckets: [u64; BUCKETS.len()],
    sum_secs: f64,
    count: u64,
}

/// Per route pattern: the figures of each method seen on it.
type ByRoute = HashMap<Arc<str>, Vec<(&'static str, MethodStats)>>;

/// Request counts by route pattern, method and status, and latencies.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<ByRoute>,
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    /// Counts one request.
    pub fn record(&self, route: Route<'_>, method: &'static str, status: u16, secs: f64) {
        let Ok(mut routes) = self.routes.lock() else { return };
        let per_route = match routes.get_mut(route.as_str()) {
            Some(r) => r,
            None => routes.entry(route.into_arc()).or_default(),
        };
        let stats = match per_route.iter().position(|(m, _)| *m == method) {
            Some(i) => &mut per_route[i].1,
            None => {
                per_route.push((method, MethodStats::default()));
                &mut per_route.last_mut().expect("just pushed").1
            }
        };
        match stats.statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => stats.statuses.push((status, 1)),
        }
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                stats.buckets[i] += 1;
            }
        }
        stats.sum_secs += secs;
        stats.count += 1;
    }

    fn render(&self, out: &mut String) {
        let Ok(routes) = self.routes.lock() else { return };
        let mut sorted: Vec<_> = routes.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        out.push_str("# HELP broadsheet_http_requests_total HTTP requests by route pattern, method and status.\n");
        out.push_str("# TYPE broadsheet_http_requests_total counter\n");
        for (route, methods) in &sorted {
            for (method, stats) in methods.iter() {
                for (status, n) in &stats.statuses {
                    let route = escape(route);
                    let _ = writeln!(
                        out,
                        "broadsheet_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        out.push_str("# HELP broadsheet_http_request_duration_seconds Time from request to response head.\n");
        out.push_str("# TYPE broadsheet_http_request_duration_seconds histogram\n");
        for (route, methods) in &sorted {
            let route = escape(route);
            for (method, stats) in methods.iter() {
                let labels = format!("route=\"{route}\",method=\"{method}\"");
                for (i, le) in BUCKETS.iter().enumerate() {
                    let n = stats.buckets[i];
                    let _ =
                        writeln!(out, "broadsheet_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}");
                }
                let _ = writeln!(
                    out,
                    "broadsheet_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    stats.count
                );
                let _ = writeln!(out, "broadsheet_http_request_duration_seconds_sum{{{labels}}} {}", stats.sum_secs);
                let _ = writeln!(out, "broadsheet_http_request_duration_seconds_count{{{labels}}} {}", stats.count);
            }
        }
    }
}

/// A route label, borrowed when the map already holds it.
pub enum Route<'a> {
    /// Shared (a cache entry's route).
    Shared(Arc<str>),
    /// Owned (from the router).
    Owned(String),
    /// A fixed label.
    Static(&'a str),
}

impl Route<'_> {
    fn as_str(&self) -> &str {
        match self {
            Self::Shared(s) => s,
            Self::Owned(s) => s,
            Self::Static(s) => s,
        }
    }

    fn into_arc(self) -> Arc<str> {
        match self {
            Self::Shared(s) => s,
            Self::Owned(s) => Arc::from(s),
            Self::Static(s) => Arc::from(s),
        }
    }
}

/// Prometheus label-value escaping: backslash, double quote, newline.
fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['\\', '"', '\n']) {
        std::borrow::Cow::Owned(s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Records every request in [`Metrics`] and logs 4xx/5xx (see module docs).
pub struct MetricsLayer;

impl<S, B> actix_web::dev::Transform<S, ServiceRequest> for MetricsLayer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = MetricsService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(MetricsService { service }))
    }
}

/// The service [`MetricsLayer`] wraps around the app.
pub struct MetricsService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for MetricsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<ServiceResponse<B>, actix_web::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let method = method_label(req.method());
        let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
        let fut = self.service.call(req);
        Box::pin(async move {
            let res = fut.await?;
            let status = res.status();
            if status.is_client_error() {
                let error = res.response().error().map(|e| e.to_string()).unwrap_or_default();
                tracing::debug!(method, path = res.request().path(), status = status.as_u16(), %error, "client error");
            } else if status.is_server_error() {
                tracing::error!(method, path = res.request().path(), status = status.as_u16(), "server error");
            }
            if let Some(metrics) = metrics {
                let route = match res.response().extensions().get::<CachedRoute>() {
                    Some(CachedRoute(r)) => Route::Shared(r.clone()),
                    None => res.request().match_pattern().map_or(Route::Static("unmatched"), Route::Owned),
                };
                metrics.record(route, method, status.as_u16(), started.elapsed().as_secs_f64());
            }
            Ok(res)
        })
    }
}

/// Prometheus metrics (text format 0.0.4): requests by route pattern, method
/// and status; latency histograms; response-cache hits, misses, entries and
/// bytes; database pool connections; jobs by state. Off (401 to every
/// request) unless `METRICS_TOKEN` is set; then it needs
/// `Authorization: Bearer <METRICS_TOKEN>`.
///
/// The token is not one of the API's credentials, so the spec lists no
/// security scheme here.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4 (send `Authorization: Bearer <METRICS_TOKEN>`)", content_type = "text/plain", body = String,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "Missing or wrong `METRICS_TOKEN` bearer token, or metrics are off (`METRICS_TOKEN` unset)", content_type = "application/problem+json", body = crate::error::Problem),
    )
)]
#[get("/metrics")]
pub async fn get_metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(token) = &state.settings.metrics_token else {
        return Err(ApiError::Unauthorized("metrics are off: set METRICS_TOKEN to turn them on".into()));
    };
    let sent = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    let digest = crate::auth::tokens::digest;
    if sent.is_none_or(|t| digest(t) != digest(token.expose())) {
        return Err(ApiError::Unauthorized("send `Authorization: Bearer <METRICS_TOKEN>`".into()));
    }
    let jobs = crate::db::run(&state.pool, |c| {
        use crate::db::schema::jobs;
        use diesel::prelude::*;
        Ok(jobs::table
            .group_by(jobs::state)
            .select((jobs::state, diesel::dsl::count_star()))
            .load::<(String, i64)>(c)?)
    })
    .await;
    let mut out = String::with_capacity(4096);
    state.metrics.render(&mut out);
    let (hits, misses, entries, bytes) = state.cache.stats();
    let gauge = |out: &mut String, name: &str, kind: &str, help: &str, value: u64| {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
    };
    gauge(&mut out, "broadsheet_cache_hits_total", "counter", "Requests answered from the response cache.", hits);
    gauge(&mut out, "broadsheet_cache_misses_total", "counter", "Cacheable requests the handlers answered.", misses);
    gauge(
        &mut out,
        "broadsheet_cache_coalesced_total",
        "counter",
        "Hits that waited for another request's fill of the same key (counted in hits too).",
        state.cache.coalesced(),
    );
    gauge(&mut out, "broadsheet_cache_entries", "gauge", "Responses in the cache.", entries);
    gauge(&mut out, "broadsheet_cache_bytes", "gauge", "Approximate bytes the cached responses hold.", bytes);
    let pool = state.pool.state();
    out.push_str("# HELP broadsheet_db_pool_connections Database pool connections by state.\n");
    out.push_str("# TYPE broadsheet_db_pool_connections gauge\n");
    let _ = writeln!(out, "broadsheet_db_pool_connections{{state=\"idle\"}} {}", pool.idle_connections);
    let _ =
        writeln!(out, "broadsheet_db_pool_connections{{state=\"busy\"}} {}", pool.connections - pool.idle_connections);
    gauge(
        &mut out,
        "broadsheet_db_pool_max",
        "gauge",
        "Largest number of pool connections.",
        u64::from(state.settings.pool_size),
    );
    // The queue depth needs the database; without it the other figures still matter.
    if let Ok(jobs) = jobs {
        out.push_str("# HELP broadsheet_jobs Jobs in the durable queue by state.\n# TYPE broadsheet_jobs gauge\n");
        for (job_state, n) in jobs {
            let _ = writeln!(out, "broadsheet_jobs{{state=\"{}\"}} {n}", escape(&job_state));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}
