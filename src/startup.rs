//! Builds the actix application: shared state, the route table, error
//! conversion, and the listening server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, NormalizePath, TrailingSlash};
use actix_web::{get, web, App, HttpRequest, HttpResponse, HttpServer, ResponseError};
use utoipa::OpenApi;
use utoipa_actix_web::{scope, AppExt};

use crate::config::Settings;
use crate::db::Pool;
use crate::error::{self, ApiError};

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
    /// Token keys, lifetimes and the login throttle.
    pub auth: Arc<crate::auth::AuthState>,
    /// Media store, upload policy and limits.
    pub media: crate::media::MediaState,
}

/// Largest accepted JSON body, in bytes (1 MiB).
pub const JSON_LIMIT: usize = 1024 * 1024;

/// Registers every `/api/v1` route. The server, the tests and
/// `broadsheet openapi` all build from this one table.
pub fn configure_api(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    crate::auth::configure(cfg);
    crate::users::configure(cfg);
    crate::api_keys::configure(cfg);
    crate::articles::configure(cfg);
    crate::series::configure(cfg);
    crate::authors::configure(cfg);
    crate::categories::configure(cfg);
    crate::tags::configure(cfg);
    crate::media::configure(cfg);
}

/// Serves the OpenAPI 3.1 document (byte-identical to `openapi/openapi.json`).
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
pub async fn get_openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.spec_json.as_str().to_owned())
}

/// Interactive API docs (Swagger UI, served from assets embedded in the
/// binary; nothing is fetched from a CDN). Redirects to the UI's page.
#[utoipa::path(
    tag = "health",
    responses((status = 302, description = "Redirect to `/docs/index.html`, the Swagger UI for `/openapi.json`"))
)]
#[get("/docs")]
pub async fn docs() -> HttpResponse {
    HttpResponse::Found().insert_header((actix_web::http::header::LOCATION, "/docs/index.html")).finish()
}

/// Builds the OpenAPI document from the route table without starting a server.
pub fn openapi_spec() -> utoipa::openapi::OpenApi {
    let (_app, api) = App::new()
        .into_utoipa_app()
        .openapi(crate::openapi::ApiDoc::openapi())
        .service(crate::health::health)
        .service(get_openapi)
        .service(docs)
        .service(scope::scope("/api/v1").configure(configure_api))
        .split_for_parts();
    let mut api = api;
    mark_every_property_required(&mut api);
    name_link_operations(&mut api);
    api
}

/// utoipa 5.5 serializes a response link's `operation_id` under that name
/// rather than the `operationId` the OpenAPI Link Object defines
/// (juhaku/utoipa#1326), so no tool would follow our links. Move the id into
/// the link's extensions, which serialize verbatim beside its other fields.
fn name_link_operations(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in api.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            for response in op.responses.responses.values_mut() {
                let RefOr::T(response) = response else { continue };
                for link in response.links.values_mut() {
                    if let RefOr::T(link) = link {
                        if !link.operation_id.is_empty() {
                            let id = std::mem::take(&mut link.operation_id);
                            link.extensions
                                .get_or_insert_with(Default::default)
                                .insert("operationId".into(), id.into());
                        }
                    }
                }
            }
        }
    }
}

/// Our DTOs serialize every field, writing `null` for absent values (see
/// ARCHITECTURE.md, "Envelope"), but utoipa marks `Option` fields as not
/// required. Mark them all required so the spec tells clients the truth:
/// the key is always there, and its type says whether it may be `null`.
fn mark_every_property_required(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    // Request bodies keep utoipa's marking: their `Option` fields really are optional.
    let spec = serde_json::to_value(&*api).unwrap_or_default();
    let mut request_schemas = std::collections::HashSet::new();
    if let Some(paths) = spec["paths"].as_object() {
        for item in paths.values() {
            for op in item.as_object().into_iter().flat_map(|o| o.values()) {
                for media in op["requestBody"]["content"].as_object().into_iter().flat_map(|c| c.values()) {
                    if let Some(r) = media["schema"]["$ref"].as_str() {
                        request_schemas.insert(r.trim_start_matches("#/components/schemas/").to_owned());
                    }
                }
            }
        }
    }
    // Keys a response may leave out: `body_html` in list items appears only with
    // `include=body` (and `fields=` narrows list items to the fields asked for).
    const OMITTABLE: &[&str] = &["body_html"];
    fn fix(schema: &mut RefOr<Schema>) {
        match schema {
            RefOr::T(Schema::Object(obj)) => {
                obj.required = obj.properties.keys().filter(|k| !OMITTABLE.contains(&k.as_str())).cloned().collect();
            }
            RefOr::T(Schema::AllOf(all)) => all.items.iter_mut().for_each(fix),
            _ => {}
        }
    }
    if let Some(components) = api.components.as_mut() {
        for (name, schema) in components.schemas.iter_mut() {
            if !request_schemas.contains(name) {
                fix(schema);
            }
        }
    }
}

/// Parses a positive integer id from a path segment; anything else is a 400
/// naming `field`.
pub fn parse_id(field: &str, raw: &str) -> Result<i64, ApiError> {
    Some(raw)
        .filter(|r| !r.is_empty() && r.len() <= 18 && r.bytes().all(|b| b.is_ascii_digit()) && !r.starts_with('0'))
        .and_then(|r| r.parse::<i64>().ok())
        .ok_or_else(|| ApiError::invalid(field, "must be a positive integer without sign or leading zeros"))
}

fn route_table(spec: &utoipa::openapi::OpenApi) -> Vec<(String, Vec<String>)> {
    spec.paths
        .paths
        .iter()
        .map(|(path, item)| {
            let mut methods = Vec::new();
            let ops = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ];
            for (m, op) in ops {
                if op.is_some() {
                    methods.push(m.to_owned());
                }
            }
            if item.get.is_some() {
                methods.push("HEAD".into());
            }
            (path.clone(), methods)
        })
        .collect()
}

fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// Fallback for requests no route took: 405 with `Allow` when the path exists
/// under another method, otherwise 404.
async fn not_routed(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    match state.routes.iter().find(|(t, _)| template_matches(t, path)) {
        Some((_, methods)) => Err(ApiError::MethodNotAllowed { allowed: methods.clone() }),
        None => Err(ApiError::NotFound(format!("no resource at {path}"))),
    }
}

/// Answers `HEAD` wherever `GET` works (RFC 9110 §9.3.2): the request is
/// routed as `GET` and the body dropped.
fn head_as_get<S, B>(
    mut req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<
    Output = Result<actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error>,
>
where
    S: actix_web::dev::Service<
        actix_web::dev::ServiceRequest,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody + 'static,
{
    let head = req.method() == actix_web::http::Method::HEAD;
    if head {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        Ok(if head {
            // Keep the GET's length so `Content-Length` is the same (RFC 9110
            // §9.3.2); actix-http sends no body bytes for a HEAD request.
            let size = actix_web::body::MessageBody::size(res.response().body());
            res.map_body(move |_, _| actix_web::body::EitherBody::right(actix_web::body::BoxBody::new(HeadBody(size))))
        } else {
            res.map_into_left_body()
        })
    }
}

/// The body of a HEAD response: the GET's size, no bytes.
struct HeadBody(actix_web::body::BodySize);

impl actix_web::body::MessageBody for HeadBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> actix_web::body::BodySize {
        self.0
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<actix_web::web::Bytes, Self::Error>>> {
        std::task::Poll::Ready(None)
    }
}

/// Refuses a path or query string holding NUL (`%00`), which PostgreSQL
/// cannot store or compare in text: 400 naming `path` or `query`.
fn reject_nul<S>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> futures_util::future::Either<
    futures_util::future::Ready<Result<actix_web::dev::ServiceResponse, actix_web::Error>>,
    S::Future,
>
where
    S: actix_web::dev::Service<
        actix_web::dev::ServiceRequest,
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
    >,
{
    let has_nul = |s: &str| s.contains('\0') || s.to_ascii_lowercase().contains("%00");
    let bad = if has_nul(req.path()) || has_nul(req.uri().path()) {
        Some("path")
    } else if has_nul(req.query_string()) {
        Some("query")
    } else {
        None
    };
    match bad {
        Some(field) => {
            let res = ApiError::invalid(field, "must not contain NUL (%00) characters").error_response();
            futures_util::future::Either::Left(futures_util::future::ready(Ok(req.into_response(res))))
        }
        None => futures_util::future::Either::Right(srv.call(req)),
    }
}

/// HTTP caching for `GET`/`HEAD` 200s.
///
/// - With credentials: `Cache-Control: private, no-store` (unless the handler
///   set one), and `If-None-Match` against the handler's `ETag` gives 304.
/// - Anonymous: a strong `ETag` from the body's SHA-256, `If-None-Match`
///   answered with 304, and `Cache-Control: public, max-age=PUBLIC_CACHE_MAX_AGE`
///   (unless the handler set one, as previews do with `no-store`).
///
/// Either way `Vary: Authorization, X-Api-Key`.
fn http_cache<S>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse, actix_web::Error>>
where
    S: actix_web::dev::Service<
        actix_web::dev::ServiceRequest,
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
    >,
{
    use actix_web::http::header::{self, HeaderValue};
    let cacheable = matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
    let credentialed = req.headers().contains_key(header::AUTHORIZATION) || req.headers().contains_key("x-api-key");
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let max_age = req.app_data::<web::Data<AppState>>().map(|s| s.settings.public_cache_max_age).unwrap_or(0);
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        if !cacheable || res.status() != actix_web::http::StatusCode::OK {
            return Ok(res);
        }
        let matches = |etag: &str| {
            if_none_match.as_deref().is_some_and(|inm| {
                inm.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == etag || t == "*")
            })
        };
        let (req, mut res) = res.into_parts();
        res.headers_mut().insert(header::VARY, HeaderValue::from_static("Authorization, X-Api-Key"));
        if credentialed || res.headers().contains_key(header::CACHE_CONTROL) {
            if !res.headers().contains_key(header::CACHE_CONTROL) {
                res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            }
            let etag = res.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
            if etag.as_deref().is_some_and(matches) {
                let mut not_modified = HttpResponse::NotModified();
                for (k, v) in res.headers() {
                    not_modified.insert_header((k.clone(), v.clone()));
                }
                return Ok(actix_web::dev::ServiceResponse::new(req, not_modified.finish()));
            }
            return Ok(actix_web::dev::ServiceResponse::new(req, res));
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = actix_web::body::to_bytes(res.into_body())
            .await
            .map_err(|_| actix_web::error::ErrorInternalServerError("response body"))?;
        let digest = crate::auth::tokens::digest_bytes(&bytes);
        let etag = format!("\"{}\"", &digest[..32]);
        let mut out = if matches(&etag) { HttpResponse::NotModified() } else { HttpResponse::build(status) };
        for (k, v) in &headers {
            if k != header::CONTENT_LENGTH {
                out.insert_header((k.clone(), v.clone()));
            }
        }
        out.insert_header((header::ETAG, etag.clone()));
        out.insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")));
        let res = if matches(&etag) { out.finish() } else { out.body(bytes) };
        Ok(actix_web::dev::ServiceResponse::new(req, res))
    }
}

fn cors(settings: &Settings) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::IF_MATCH,
            actix_web::http::header::IF_NONE_MATCH,
            actix_web::http::header::HeaderName::from_static("x-api-key"),
        ])
        .expose_headers(["ETag", "Link", "Location", "Retry-After", "WWW-Authenticate"])
        .max_age(3600);
    for origin in &settings.cors_allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// A running server and the port it bound.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `settings.bind_addr` (port 0 picks a free port, for tests) and
    /// prepares the server over `pool`. Migrations must already have run.
    pub fn build(settings: Settings, pool: Pool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind_addr)
            .map_err(|e| anyhow::anyhow!("cannot bind BIND_ADDR {}: {e}", settings.bind_addr))?;
        Self::from_listener(listener, settings, pool)
    }

    /// Prepares the server on an already bound `listener`.
    pub fn from_listener(listener: TcpListener, settings: Settings, pool: Pool) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let spec = openapi_spec();
        let routes = Arc::new(route_table(&spec));
        let spec_json = Arc::new(crate::openapi::to_json(&spec));
        let auth = Arc::new(crate::auth::AuthState::from_settings(&settings)?);
        let media = crate::media::MediaState::from_settings(&settings)?;
        let state = web::Data::new(AppState { pool, settings, spec_json, routes, auth, media });
        let cors_settings = state.settings.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .app_data(web::JsonConfig::default().limit(JSON_LIMIT).error_handler(error::json_error))
                .app_data(web::PayloadConfig::default().limit(JSON_LIMIT))
                .wrap_fn(http_cache)
                .wrap_fn(reject_nul)
                // CORS inside the error handlers, so its refusals are problem+json too.
                .wrap(actix_web::middleware::Condition::new(
                    !cors_settings.cors_allowed_origins.is_empty(),
                    cors(&cors_settings),
                ))
                .wrap(ErrorHandlers::new().default_handler(error::problem_for_any_error))
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                .wrap_fn(head_as_get)
                .wrap(tracing_actix_web::TracingLogger::default())
                .service(crate::health::health)
                .service(get_openapi)
                .service(docs)
                .service(
                    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                        .config(utoipa_swagger_ui::Config::new(["/openapi.json"]).try_it_out_enabled(true)),
                )
                .service(web::scope("/api/v1").configure(|cfg| {
                    let mut wrapped = utoipa_actix_web::service_config::ServiceConfig::new(cfg);
                    configure_api(&mut wrapped);
                }))
                .default_service(web::to(not_routed))
        })
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

#[cfg(test)]
mod tests {
    use super::template_matches;

    #[test]
    fn templates_match_by_segment() {
        assert!(template_matches("/api/v1/articles/{slug}", "/api/v1/articles/hello"));
        assert!(!template_matches("/api/v1/articles/{slug}", "/api/v1/articles/a/b"));
        assert!(!template_matches("/api/v1/articles/{slug}", "/api/v1/authors/a"));
    }
}
