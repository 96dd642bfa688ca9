//! The OpenAPI 3.1 document, built by utoipa from the same route table the
//! server uses (`startup::configure_api`), and serialized deterministically.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Adds the `bearer` (JWT or API key) and `api_key` (`X-Api-Key`) schemes.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // By default an operation needs no credentials (`{}`); operations that
        // take or need them say so themselves.
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::default()]);
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /api/v1/auth/login` (HS256 JWT, 15 min), or an API key (`bsk_…`).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "An API key (`bsk_content_…` read-only, or `bsk_admin_…` with scopes) from `POST /api/v1/api-keys`.",
            ))),
        );
    }
}

/// Top-level document metadata; paths and schemas come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "broadsheet",
        description = "Headless CMS REST API for news publications: articles, authors, media, comments and taxonomy as JSON. Every error is `application/problem+json` (RFC 9457). Lists use `page`/`per_page` and return `{data, meta}` with an RFC 8288 `Link` header.",
        license(name = "MIT", identifier = "MIT"),
        contact(name = "broadsheet maintainers")
    ),
    servers((url = "/", description = "This server")),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Login, token refresh, logout, password change"),
        (name = "users", description = "Accounts and roles (admins)"),
        (name = "api-keys", description = "Integrator keys: read-only content keys and scoped admin keys (admins)"),
        (name = "articles", description = "Published articles, with bylines, taxonomy and featured media"),
        (name = "series", description = "Ordered collections of articles"),
        (name = "comments", description = "Approved reader comments, threaded by `parent_id`"),
        (name = "authors", description = "Author profiles (never with emails); editors write them"),
        (name = "taxonomy", description = "Categories (a tree) and tags"),
        (name = "media", description = "Images and files with alt text, caption and credit"),
        (name = "health", description = "Liveness and readiness"),
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError))
)]
pub struct ApiDoc;

/// The spec as pretty JSON with a trailing newline: the exact bytes of
/// `openapi/openapi.json`, `broadsheet openapi` and `GET /openapi.json`.
pub fn spec_json() -> String {
    to_json(&crate::startup::openapi_spec())
}

/// Serializes an already built spec the same way as [`spec_json`].
pub fn to_json(spec: &utoipa::openapi::OpenApi) -> String {
    let mut s = serde_json::to_string_pretty(spec).expect("the OpenAPI document serializes");
    s.push('\n');
    s
}
