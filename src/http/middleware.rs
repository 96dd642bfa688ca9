//! Middleware and the fallback service: `HEAD` as `GET`, NUL refusal, HTTP
//! caching, CORS, and 404/405 for requests no route took.

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use super::AppState;
use crate::config::Settings;
use crate::error::ApiError;

/// `(path template, methods)` for every path of `spec`; `HEAD` wherever `GET`.
pub fn route_table(spec: &utoipa::openapi::OpenApi) -> Vec<(String, Vec<String>)> {
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
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| segment_matches(t, p))
}

/// One template segment against one path segment: literal, `{param}`, or
/// `{param}suffix` (`{key}.svg`), where the parameter part must not be empty.
fn segment_matches(t: &str, p: &str) -> bool {
    match t.strip_prefix('{').and_then(|rest| rest.split_once('}')) {
        Some((_, suffix)) => p.len() > suffix.len() && p.ends_with(suffix),
        None => t == p,
    }
}

/// Fallback for requests no route took: 405 with `Allow` when the path exists
/// under another method, otherwise 404.
pub async fn not_routed(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    match state.api.routes().await.iter().find(|(t, _)| template_matches(t, path)) {
        Some((_, methods)) => Err(ApiError::MethodNotAllowed { allowed: methods.clone() }),
        None => Err(ApiError::NotFound(format!("no resource at {path}"))),
    }
}

/// Answers `HEAD` wherever `GET` works (RFC 9110 §9.3.2): the request is
/// routed as `GET` and the body dropped.
pub fn head_as_get<S, B>(
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
pub fn reject_nul<S>(
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
    // "%00" has no letters, so no case to fold (and no allocation per request).
    let has_nul = |s: &str| s.contains('\0') || s.contains("%00");
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
/// - Anonymous (or a content key the response cache checked): a strong
///   `ETag` from the body's BLAKE3 hash (128 bits, hex), `If-None-Match`
///   answered with 304, and `Cache-Control: public, max-age=PUBLIC_CACHE_MAX_AGE`
///   (unless the handler set one, as previews do with `no-store`).
///
/// Either way `Vary: Authorization, X-Api-Key`.
pub fn http_cache<S>(
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
    // A content key the response cache checked reads what anonymous readers
    // read (see `http::cache::ContentKeyRead`), so it is treated as anonymous.
    let credentialed = (req.headers().contains_key(header::AUTHORIZATION) || req.headers().contains_key("x-api-key"))
        && !req.extensions().contains::<super::cache::ContentKeyRead>();
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
        let bytes = body_bytes(res.into_body()).await?;
        // BLAKE3, not SHA-256: as collision-resistant, and several times
        // faster here (SHA-256 was 6 % of the CPU of an uncached list with
        // bodies, 2026-12-03). 128 bits of it, in hex.
        let digest = blake3::hash(&bytes).to_hex();
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

/// A response body as one `Bytes`: the handler's own buffer when the body
/// is already whole (a JSON body is), collected otherwise. Collecting always
/// copied, in 32 KiB steps: 4.5 % of an uncached PostgreSQL list with
/// bodies (143 KB; callgrind, 2026-12-06).
pub(crate) async fn body_bytes(body: actix_web::body::BoxBody) -> Result<actix_web::web::Bytes, actix_web::Error> {
    use actix_web::body::MessageBody;
    match body.try_into_bytes() {
        Ok(bytes) => Ok(bytes),
        Err(body) => actix_web::body::to_bytes(body)
            .await
            .map_err(|_| actix_web::error::ErrorInternalServerError("response body")),
    }
}

pub fn cors(settings: &Settings) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::IF_MATCH,
            actix_web::http::header::IF_NONE_MATCH,
            actix_web::http::header::HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([
            "ETag",
            "Link",
            "Location",
            "RateLimit",
            "RateLimit-Policy",
            "Retry-After",
            "WWW-Authenticate",
        ])
        .max_age(3600);
    for origin in &settings.cors_allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

#[cfg(test)]
mod tests {
    use super::template_matches;

    #[test]
    fn templates_match_by_segment() {
        assert!(template_matches("/api/v1/articles/{slug}", "/api/v1/articles/hello"));
        assert!(!template_matches("/api/v1/articles/{slug}", "/api/v1/articles/a/b"));
        assert!(!template_matches("/api/v1/articles/{slug}", "/api/v1/authors/a"));
        assert!(template_matches("/api/v1/avatars/{key}.svg", "/api/v1/avatars/ab.svg"));
        assert!(!template_matches("/api/v1/avatars/{key}.svg", "/api/v1/avatars/ab.png"));
        assert!(!template_matches("/api/v1/avatars/{key}.svg", "/api/v1/avatars/.svg"));
    }
}
