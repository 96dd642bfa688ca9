//! The one error type, [`ApiError`], and its wire form, [`Problem`]
//! (RFC 9457 `application/problem+json`).
//!
//! Handlers return `Result<_, ApiError>`. Repositories return diesel's
//! `QueryResult`, converted here: not found → 404, unique violation → 409,
//! foreign-key violation → 422, an outage (`crate::db::outage`) → 503,
//! anything else → 500. actix's own errors
//! (bad query strings, bad JSON, unknown routes, wrong methods, oversized
//! bodies) are converted by the handlers at the bottom of this module, so no
//! response ever leaves as plain text. A 5xx logs its cause chain and tells the
//! client nothing internal.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every error body (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// `Retry-After` (seconds) on a 503 `unavailable`: the pool's checkout
/// timeout, long enough for a restarted server or a freed disk to be noticed.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// One invalid input, named by its query parameter, path segment or body field.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The parameter or field, e.g. `per_page`.
    pub field: String,
    /// What is wrong with it, in plain English.
    pub message: String,
}

/// An RFC 9457 problem document; the body of every 4xx and 5xx response.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:broadsheet:problem:invalid_parameter",
    "title": "Bad Request",
    "status": 400,
    "detail": "per_page must be a whole number from 1 to 100",
    "code": "invalid_parameter",
    "errors": [{"field": "per_page", "message": "must be a whole number from 1 to 100"}]
}))]
pub struct Problem {
    /// A URI naming the problem type: `urn:broadsheet:problem:{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The HTTP reason phrase for `status`.
    pub title: String,
    /// The HTTP status code, repeated from the response.
    pub status: u16,
    /// A human-readable explanation of this occurrence.
    pub detail: String,
    /// A stable snake_case code clients can switch on, e.g. `not_found`.
    pub code: String,
    /// Per-field validation errors; empty unless the input was invalid.
    pub errors: Vec<FieldError>,
}

/// Every failure a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid_parameter`: bad query parameters, path segments or body fields.
    #[error("{detail}")]
    BadRequest {
        /// Summary for `detail`.
        detail: String,
        /// Each invalid field.
        errors: Vec<FieldError>,
    },
    /// 401 `unauthorized`: missing, malformed, expired or revoked credentials.
    /// Sent with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 `forbidden`: authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `not_found`: no such resource, or not visible to the caller.
    #[error("{0}")]
    NotFound(String),
    /// 405 `method_not_allowed`; `allowed` fills the `Allow` header.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// Methods the path does support.
        allowed: Vec<String>,
    },
    /// 409 `conflict`: a unique field is already taken.
    #[error("{0}")]
    Conflict(String),
    /// 412 `precondition_failed`: `If-Match` names an older version.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 428 `precondition_required`: a write that needs `If-Match` came without it.
    #[error("{0}")]
    PreconditionRequired(String),
    /// 413 `payload_too_large`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 413 `payload_too_large`, naming the field that was too large.
    #[error("{detail}")]
    PayloadTooLargeField {
        /// Summary for `detail`.
        detail: String,
        /// The field, e.g. `file`.
        field: String,
    },
    /// 408 `request_timeout`: the request body stalled or took too long.
    #[error("{0}")]
    RequestTimeout(String),
    /// 429 `too_many_requests`; `retry_after_secs` fills `Retry-After`.
    #[error("too many requests; retry in {retry_after_secs} s")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 429 `too_many_requests` from the rate limiter (`http::limit`):
    /// `Retry-After` plus the `RateLimit-Policy` and `RateLimit` header values
    /// (draft-ietf-httpapi-ratelimit-headers, structured-field form).
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
        /// `RateLimit-Policy` value, e.g. `"login-client";q=20;w=900`.
        policy: String,
        /// `RateLimit` value, e.g. `"login-client";r=0;t=42`.
        limit: String,
    },
    /// 422 `unprocessable`: well-formed input that refers to something missing.
    #[error("{0}")]
    Unprocessable(String),
    /// 422 `unprocessable`, naming the fields.
    #[error("{detail}")]
    UnprocessableFields {
        /// Summary for `detail`.
        detail: String,
        /// Each field that refers to something missing.
        errors: Vec<FieldError>,
    },
    /// 415 `unsupported_media_type`: an upload whose type (detected from its
    /// bytes) is not accepted, or disagrees with its name or declared type.
    #[error("{detail}")]
    UnsupportedMediaType {
        /// Summary for `detail`.
        detail: String,
        /// The field (`file`) and why.
        errors: Vec<FieldError>,
    },
    /// 416 `range_not_satisfiable`: a `Range` outside the file; `Content-Range:
    /// bytes */{size}` is set.
    #[error("the requested range is outside the file ({size} bytes)")]
    RangeNotSatisfiable {
        /// The file's length in bytes.
        size: u64,
    },
    /// 409 `in_use`: the resource is referenced elsewhere; the body is the
    /// problem plus a `references` member (the resource's DTO, already
    /// serialized, so this module depends on no resource).
    #[error("{detail}")]
    InUse {
        /// Summary for `detail`.
        detail: String,
        /// What refers to it, as JSON.
        references: serde_json::Value,
    },
    /// 503 `busy`: every slot for this kind of work stayed taken; `Retry-After` set.
    #[error("the server is busy with other uploads; retry in {retry_after_secs} s")]
    Busy {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 503 `storage_unavailable`: the media store cannot be reached.
    #[error("media storage unavailable: {0}")]
    StorageUnavailable(String),
    /// 503 `unavailable`: the database cannot serve the request now (pool
    /// timeout, lost connection, disk full, read-only, locked: see
    /// `crate::db::outage`). The string is the logged cause; the client gets
    /// a generic detail and `Retry-After`.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500 `internal`: logged with its cause; the client sees a generic message.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 for one named field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self::BadRequest { detail: format!("{field} {message}"), errors: vec![FieldError { field, message }] }
    }

    /// A 422 for one named field.
    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self::UnprocessableFields { detail: format!("{field} {message}"), errors: vec![FieldError { field, message }] }
    }

    /// Replaces the generic detail of a 404 with `detail` (cut to 200
    /// characters, since it may echo a client's path); other errors pass through.
    pub fn with_not_found(self, detail: String) -> Self {
        match self {
            Self::NotFound(_) => Self::NotFound(if detail.chars().count() > 200 {
                format!("{}…", detail.chars().take(200).collect::<String>())
            } else {
                detail
            }),
            other => other,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "invalid_parameter",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::TooManyRequests { .. } | Self::RateLimited { .. } => "too_many_requests",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) | Self::PayloadTooLargeField { .. } => "payload_too_large",
            Self::RequestTimeout(_) => "request_timeout",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::PreconditionRequired(_) => "precondition_required",
            Self::Unprocessable(_) | Self::UnprocessableFields { .. } => "unprocessable",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            Self::InUse { .. } => "in_use",
            Self::Unavailable(_) => "unavailable",
            Self::StorageUnavailable(_) => "storage_unavailable",
            Self::Busy { .. } => "busy",
            Self::Internal(_) => "internal",
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let (detail, errors) = match self {
            Self::BadRequest { detail, errors }
            | Self::UnprocessableFields { detail, errors }
            | Self::UnsupportedMediaType { detail, errors } => (detail.clone(), errors.clone()),
            Self::MethodNotAllowed { allowed } => (format!("this path supports only {}", allowed.join(", ")), vec![]),
            Self::PayloadTooLargeField { detail, field } => {
                (detail.clone(), vec![FieldError { field: field.clone(), message: "is larger than the limit".into() }])
            }
            Self::Unavailable(_) => ("the database is unavailable; try again shortly".to_owned(), vec![]),
            Self::StorageUnavailable(_) => ("media storage is unavailable; try again shortly".to_owned(), vec![]),
            Self::Internal(_) => ("an unexpected error occurred; it has been logged".into(), vec![]),
            Self::Conflict(detail) => (detail.clone(), conflict_field(detail).into_iter().collect()),
            other => (other.to_string(), vec![]),
        };
        Problem::new(status, self.code(), detail, errors)
    }
}

impl Problem {
    /// Builds a problem for `status` with a stable `code`.
    pub fn new(status: StatusCode, code: &str, detail: String, errors: Vec<FieldError>) -> Self {
        Self {
            type_: format!("urn:broadsheet:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors,
        }
    }

    /// The response: this problem as `application/problem+json` with its status.
    pub fn into_response(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        HttpResponse::build(status).content_type(PROBLEM_JSON).json(self)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } | Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) | Self::PayloadTooLargeField { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            Self::Unprocessable(_) | Self::UnprocessableFields { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::InUse { .. } => StatusCode::CONFLICT,
            Self::Unavailable(_) | Self::StorageUnavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(e) => tracing::error!(error = ?e, "internal error"),
            Self::Unavailable(e) => tracing::error!(error = %e, "database unavailable"),
            Self::StorageUnavailable(e) => tracing::error!(error = %e, "media storage unavailable"),
            _ => {}
        }
        let mut res = match self {
            Self::InUse { references, .. } => {
                let mut body = serde_json::to_value(self.problem()).unwrap_or_default();
                body["references"] = references.clone();
                HttpResponse::Conflict().content_type(PROBLEM_JSON).json(body)
            }
            _ => self.problem().into_response(),
        };
        match self {
            Self::RangeNotSatisfiable { size } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    res.headers_mut().insert(header::CONTENT_RANGE, v);
                }
            }
            Self::MethodNotAllowed { allowed } => {
                if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                    res.headers_mut().insert(header::ALLOW, v);
                }
            }
            Self::Unauthorized(_) => {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests { retry_after_secs } | Self::Busy { retry_after_secs } => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            Self::Unavailable(_) | Self::StorageUnavailable(_) => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS));
            }
            Self::RateLimited { retry_after_secs, policy, limit } => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
                for (name, value) in [("ratelimit-policy", policy), ("ratelimit", limit)] {
                    if let Ok(v) = HeaderValue::from_str(value) {
                        res.headers_mut().insert(header::HeaderName::from_static(name), v);
                    }
                }
            }
            // The rest of an over-long or stalled body is not read: close the connection.
            Self::PayloadTooLargeField { .. } | Self::RequestTimeout(_) => {
                res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        res
    }
}

impl From<DieselError> for ApiError {
    fn from(e: DieselError) -> Self {
        // Noted for `db::run` before diesel's ROLLBACK can replace it (SQLite's
        // RETURNING path does not report errors to the instrumentation).
        crate::db::outage::record(&e);
        if crate::db::outage::cause(&e).is_some() {
            // The whole error is kept for the log: for a failed commit it
            // names both the commit's and the rollback's failure.
            return Self::Unavailable(e.to_string());
        }
        match e {
            DieselError::NotFound => Self::NotFound("resource not found".into()),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                // PostgreSQL names the constraint (`authors_slug_key`), SQLite the
                // column (`authors.slug`): report just the field.
                let raw = info.column_name().or(info.constraint_name()).unwrap_or("");
                let field = raw.rsplit('.').next().unwrap_or(raw).trim_end_matches("_key");
                let field = field
                    .split('_')
                    .skip_while(|p| !["slug", "email", "key", "name"].contains(p))
                    .collect::<Vec<_>>()
                    .join("_");
                let what = if field.is_empty() { "a unique field".to_owned() } else { field };
                Self::Conflict(format!("{what} is already taken"))
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Self::Unprocessable("a referenced resource does not exist".into())
            }
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Unique fields a 409's `detail` may start with.
const UNIQUE_FIELDS: &[&str] = &["slug", "email", "key", "name", "author_id"];

/// The field a 409 is about, when its detail starts with one (`slug `x` is
/// taken`, `email is already taken`), so `errors[].field` names it as a 400's
/// does. Conflicts of state (`mailing 3 is sent; …`) name no field.
fn conflict_field(detail: &str) -> Option<FieldError> {
    let (first, rest) = detail.split_once(' ')?;
    UNIQUE_FIELDS.contains(&first).then(|| FieldError { field: first.to_owned(), message: rest.to_owned() })
}

/// Extracts the field from serde's "unknown field `x`" / "missing field `x`" messages.
pub(crate) fn field_from_serde_message(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_owned())
}

/// `QueryConfig` error handler: a malformed query string is a 400 naming the parameter.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let msg = err.to_string();
    let field = field_from_serde_message(&msg).unwrap_or_else(|| "query".into());
    let message = msg.trim_start_matches("Query deserialize error: ").to_owned();
    ApiError::BadRequest {
        detail: format!("invalid query string: {message}"),
        errors: vec![FieldError { field, message }],
    }
    .into()
}

/// `PathConfig` error handler: a path segment of the wrong shape is a 400.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::invalid("path", format!("is malformed: {err}")).into()
}

/// `JsonConfig` error handler: bad or oversized JSON bodies become 400/413/415 problems.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => {
            ApiError::PayloadTooLarge("the request body is too large".into()).into()
        }
        J::ContentType => {
            let p = Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the request body must be application/json".into(),
                vec![],
            );
            actix_web::error::InternalError::from_response(err, p.into_response()).into()
        }
        J::Deserialize(e) => {
            let msg = e.to_string();
            let field = field_from_serde_message(&msg).unwrap_or_else(|| "body".into());
            ApiError::BadRequest {
                detail: format!("invalid JSON body: {msg}"),
                errors: vec![FieldError { field, message: msg }],
            }
            .into()
        }
        other => ApiError::invalid("body", format!("is not valid JSON: {other}")).into(),
    }
}

/// Catch-all for `middleware::ErrorHandlers`: any 4xx/5xx that is not yet
/// problem+json (actix's own plain-text errors) is rewritten as one, keeping
/// its status and headers such as `Allow`.
pub fn problem_for_any_error<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no resource at this path".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large".into()),
        s if s.is_server_error() => ("internal", "an unexpected error occurred; it has been logged".into()),
        s => ("http_error", s.canonical_reason().unwrap_or("error").to_lowercase()),
    };
    let (req, old) = res.into_parts();
    let mut new = Problem::new(status, code, detail, vec![]).into_response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let res: ServiceResponse<EitherBody<B, BoxBody>> = ServiceResponse::new(req, new).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_tell_the_client_nothing_internal() {
        let err = ApiError::Internal(anyhow::anyhow!("SELECT * FROM secret WHERE path = '/etc/passwd'"));

        let problem = err.problem();

        assert_eq!(problem.status, 500);
        assert_eq!(problem.code, "internal");
        assert!(!problem.detail.contains("SELECT") && !problem.detail.contains("/etc"), "{}", problem.detail);
    }

    #[test]
    fn diesel_errors_map_to_their_statuses() {
        assert_eq!(ApiError::from(DieselError::NotFound).status_code(), StatusCode::NOT_FOUND);
        assert_eq!(ApiError::from(DieselError::RollbackTransaction).status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_failed_commit_on_a_full_disk_is_a_503_that_logs_the_real_cause() {
        let db = |m: &str| Box::new(DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(m.to_owned())));
        let err = ApiError::from(DieselError::RollbackErrorOnCommit {
            rollback_error: db("cannot rollback - no transaction is active"),
            commit_error: db("database or disk is full"),
        });

        let res = err.error_response();

        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("5"));
        assert!(err.to_string().contains("database or disk is full"), "logged cause: {err}");
        let problem = err.problem();
        assert_eq!(problem.code, "unavailable");
        assert!(!problem.detail.contains("disk"), "{}", problem.detail);
    }
}
