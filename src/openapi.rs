//! The OpenAPI 3.1 document, built by utoipa from the same route table the
//! server uses (`routes::configure_api`), and serialized deterministically.

use actix_web::{get, web, App, HttpResponse};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt};

use crate::http::AppState;

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
        (name = "auth", description = "Login, token refresh, logout, password change and reset"),
        (name = "users", description = "Accounts and roles (admins)"),
        (name = "api-keys", description = "Integrator keys: read-only content keys and scoped admin keys (admins)"),
        (name = "articles", description = "Published articles, with bylines, taxonomy and featured media"),
        (name = "series", description = "Ordered collections of articles"),
        (name = "pages", description = "Pages (About, Contact…), apart from articles, lists, feeds and search; editors write them"),
        (name = "comments", description = "Reader comments: threaded public lists, posting with verified reader identities, moderation with recorded reasons, spam checks and votes"),
        (name = "authors", description = "Author profiles (never with emails); editors write them"),
        (name = "taxonomy", description = "Categories (a tree) and tags"),
        (name = "media", description = "Images and files with alt text, caption and credit"),
        (name = "jobs", description = "The background job queue: mail and other deferred work (admins)"),
        (name = "subscriptions", description = "Newsletter subscriptions: double opt-in, preferences and one-click unsubscribe"),
        (name = "mailings", description = "New-article mailings to subscribers: progress, holding, releasing and cancelling (editors)"),
        (name = "webhooks", description = "Signed (Standard Webhooks) event deliveries to your endpoints, with a delivery log (admins)"),
        (name = "feeds", description = "RSS 2.0, Atom 1.0 and JSON Feed 1.1 of published articles, site-wide or per category, tag, author and series"),
        (name = "sitemaps", description = "Sitemap index, Google News sitemap and robots.txt"),
        (name = "health", description = "Liveness and readiness"),
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError))
)]
pub struct ApiDoc;

/// The spec as pretty JSON with a trailing newline: the exact bytes of
/// `openapi/openapi.json`, `broadsheet openapi` and `GET /openapi.json`.
pub fn spec_json() -> String {
    to_json(&openapi_spec())
}

/// Serializes an already built spec the same way as [`spec_json`].
pub fn to_json(spec: &utoipa::openapi::OpenApi) -> String {
    let mut s = serde_json::to_string_pretty(spec).expect("the OpenAPI document serializes");
    s.push('\n');
    s
}

/// Serves the OpenAPI 3.1 document (byte-identical to `openapi/openapi.json`).
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
pub async fn get_openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.api.json().await.to_owned())
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
        .configure(|cfg| crate::routes::configure_root(cfg))
        .service(crate::http::metrics::get_metrics)
        .service(scope::scope("/api/v1").configure(|cfg| crate::routes::configure_api(cfg)))
        .split_for_parts();
    let mut api = api;
    mark_every_property_required(&mut api);
    describe_sparse_fields(&mut api);
    name_link_operations(&mut api);
    add_common_responses(&mut api);
    declare_nul_refusal(&mut api);
    declare_response_headers(&mut api);
    api
}

/// `GET /articles?fields=…` narrows each item to the fields asked for (plus
/// `id`), so an item is either a whole `ArticleSummary` or an
/// `ArticleFields`: the same properties, of which only `id` is sure to be
/// there. Say so in `ArticleList`, rather than promise keys that a `fields=`
/// answer leaves out.
fn describe_sparse_fields(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, Schema};
    use utoipa::openapi::{Ref, RefOr};
    let Some(components) = api.components.as_mut() else { return };
    let Some(RefOr::T(Schema::Object(summary))) = components.schemas.get("ArticleSummary") else { return };
    let mut sparse = summary.clone();
    sparse.required = vec!["id".to_owned()];
    sparse.description = Some(
        "An article in a `fields=` list: only `id` and the fields named there (`ArticleSummary` describes each)."
            .to_owned(),
    );
    sparse.example = None;
    components.schemas.insert("ArticleFields".to_owned(), RefOr::T(Schema::Object(sparse)));
    if let Some(RefOr::T(Schema::Object(list))) = components.schemas.get_mut("ArticleList") {
        if let Some(data) = list.properties.get_mut("data") {
            *data = RefOr::T(Schema::Array(
                ArrayBuilder::new()
                    .items(
                        AnyOfBuilder::new()
                            .item(Ref::from_schema_name("ArticleSummary"))
                            .item(Ref::from_schema_name("ArticleFields")),
                    )
                    .description(Some(
                        "The items on this page: whole summaries, or with `fields=` only the fields asked for.",
                    ))
                    .build(),
            ));
        }
    }
}

/// Declares the headers the middleware and handlers add by rule, so clients
/// and contract checkers know them: `ETag` and `Cache-Control` on the 200 of
/// every `GET` that anonymous callers may make (the conditional-GET
/// middleware, `http::middleware`, unless the handler sets its own
/// `Cache-Control`, which it then declares), `Link` on every paged list
/// (RFC 8288) and `Location` on every 201. (`Retry-After` on 429 and 503 is
/// `add_common_responses`' job; `RateLimit-Policy`/`RateLimit` are declared by
/// the handlers whose limiter sends them: a concurrency cap's 429 has none.)
/// A handler's own declaration of a header wins.
fn declare_response_headers(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::{Header, HeaderBuilder};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::RefOr;
    let string = |description: &str| -> Header {
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(description))
            .build()
    };
    for item in api.paths.paths.values_mut() {
        if let Some(op) = item.get.as_mut() {
            let paged = op.parameters.iter().flatten().any(|p| p.name == "per_page");
            let security = serde_json::to_value(&op.security).unwrap_or_default();
            let anonymous =
                security.as_array().is_none_or(|s| s.iter().any(|s| s.as_object().is_some_and(|o| o.is_empty())));
            if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
                if anonymous && !ok.headers.contains_key("Cache-Control") {
                    ok.headers.entry("ETag".into()).or_insert_with(|| {
                        string("Entity tag of this representation; send it back in `If-None-Match` for a 304 (RFC 9110 §8.8.3)")
                    });
                    ok.headers.entry("Cache-Control".into()).or_insert_with(|| {
                        string("`public, max-age=…` for anonymous reads; `private, no-store` for credentialed ones")
                    });
                }
                if paged {
                    ok.headers.entry("Link".into()).or_insert_with(|| {
                        string("RFC 8288 links to the `first`, `prev`, `next` and `last` pages, as present")
                    });
                }
            }
        }
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            if let Some(RefOr::T(created)) = op.responses.responses.get_mut("201") {
                created.headers.entry("Location".into()).or_insert_with(|| string("URL of the created resource"));
            }
        }
    }
}

/// The pattern that says "no U+0000", which the server refuses in every JSON
/// string (`json::parse`) and in the path and query (`http::middleware`).
pub const NO_NUL: &str = "^[^\\u0000]*$";

/// Declares the NUL refusal on every string a client sends: parameters, and
/// the properties of request-body schemas (followed through `$ref`s, arrays
/// and compositions). Schemas that a response also uses are left alone, since
/// imported content is not held to input rules. A string that already has a
/// `pattern` keeps it: every pattern we declare excludes NUL by itself.
fn declare_nul_refusal(api: &mut utoipa::openapi::OpenApi) {
    use std::collections::HashSet;
    use utoipa::openapi::schema::{ArrayItems, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;

    fn is_string(t: &SchemaType) -> bool {
        match t {
            SchemaType::Type(t) => *t == Type::String,
            SchemaType::Array(ts) => ts.contains(&Type::String),
            SchemaType::AnyValue => false,
        }
    }
    /// Adds the pattern to `schema`'s strings; collects the `$ref` names it meets.
    fn visit(schema: &mut RefOr<Schema>, refs: &mut Vec<String>, patch: bool) {
        match schema {
            RefOr::Ref(r) => refs.push(r.ref_location.trim_start_matches("#/components/schemas/").to_owned()),
            RefOr::T(Schema::Object(obj)) => {
                if patch && is_string(&obj.schema_type) && obj.pattern.is_none() && obj.enum_values.is_none() {
                    obj.pattern = Some(NO_NUL.to_owned());
                }
                obj.properties.values_mut().for_each(|p| visit(p, refs, patch));
            }
            RefOr::T(Schema::Array(arr)) => {
                if let ArrayItems::RefOrSchema(items) = &mut arr.items {
                    visit(items, refs, patch);
                }
            }
            RefOr::T(Schema::OneOf(o)) => o.items.iter_mut().for_each(|i| visit(i, refs, patch)),
            RefOr::T(Schema::AllOf(o)) => o.items.iter_mut().for_each(|i| visit(i, refs, patch)),
            RefOr::T(Schema::AnyOf(o)) => o.items.iter_mut().for_each(|i| visit(i, refs, patch)),
            _ => {}
        }
    }
    /// Every component reachable from `start`.
    fn closure(
        components: &mut std::collections::BTreeMap<String, RefOr<Schema>>,
        start: Vec<String>,
    ) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut todo = start;
        while let Some(name) = todo.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if let Some(schema) = components.get_mut(&name) {
                visit(schema, &mut todo, false);
            }
        }
        seen
    }

    let (mut request_roots, mut response_roots) = (Vec::new(), Vec::new());
    for item in api.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            for param in op.parameters.iter_mut().flatten() {
                if let Some(schema) = param.schema.as_mut() {
                    visit(schema, &mut request_roots, true);
                }
            }
            for media in op.request_body.iter_mut().flat_map(|b| b.content.values_mut()) {
                if let Some(schema) = media.schema.as_mut() {
                    visit(schema, &mut request_roots, true);
                }
            }
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    for media in response.content.values_mut() {
                        if let Some(schema) = media.schema.as_mut() {
                            visit(schema, &mut response_roots, false);
                        }
                    }
                }
            }
        }
    }
    let Some(components) = api.components.as_mut() else { return };
    let requests = closure(&mut components.schemas, request_roots);
    let responses = closure(&mut components.schemas, response_roots);
    for name in requests.difference(&responses) {
        if let Some(schema) = components.schemas.get_mut(name) {
            visit(schema, &mut Vec::new(), true);
        }
    }
}

/// Adds the responses any operation of a kind can give, so handlers list only
/// their own: 400 (two different credentials) and 401 wherever credentials
/// are accepted (when they are optional, only bad ones are refused), 403 where
/// they are required, 413 and 415 on JSON bodies, and 503 (database unavailable, `Retry-After`) on every
/// operation that touches the database (all but `/docs`, `/openapi.json` and the avatars).
/// A handler's own entry for a status wins. The contract test
/// (`tests/api/contract.rs`) still produces each of them for real.
fn add_common_responses(api: &mut utoipa::openapi::OpenApi) {
    /// `/api/` operations that read no database, so never answer 503.
    const NO_DATABASE: &[&str] = &["/api/v1/avatars/{key}.svg"];
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::error::PROBLEM_JSON,
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build(),
        )
    };
    for (path, item) in api.paths.paths.iter_mut() {
        // Avatars are computed from the key alone (`comments::avatar`).
        let uses_database = (path.starts_with("/api/") && !NO_DATABASE.contains(&path.as_str())) || path == "/health";
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            let security = serde_json::to_value(&op.security).unwrap_or_default();
            let schemes = security.as_array().map(Vec::as_slice).unwrap_or_default();
            let accepts_credentials = schemes.iter().any(|s| s.as_object().is_some_and(|o| !o.is_empty()));
            let anonymous_allowed = schemes.iter().any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            let json_body = op.request_body.as_ref().is_some_and(|b| b.content.contains_key("application/json"));
            let mut add = |status: &str, description: &str| {
                op.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
            };
            if accepts_credentials {
                add("400", "`Authorization` and `X-Api-Key` carry different credentials (both fields named)");
            }
            if accepts_credentials && anonymous_allowed {
                add("401", "Credentials were sent but are invalid, expired or revoked");
            } else if accepts_credentials {
                add("401", "Missing, invalid, expired or revoked credentials");
                add("403", "Authenticated, but the role or key scope does not allow it");
            }
            if json_body {
                add("413", "Body over 1 MiB");
                add("415", "Body is not `application/json`");
            }
            if uses_database && !op.responses.responses.contains_key("503") {
                let example = serde_json::json!({
                    "type": "urn:broadsheet:problem:unavailable", "title": "Service Unavailable", "status": 503,
                    "detail": "the database is not available right now; retry later", "code": "unavailable", "errors": []
                });
                let response = ResponseBuilder::new()
                    .description("Database unavailable (pool checkout timed out, or the database is down); retry after `Retry-After` seconds")
                    .content(
                        crate::error::PROBLEM_JSON,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .example(Some(example))
                            .build(),
                    )
                    .build();
                op.responses.responses.insert("503".to_owned(), RefOr::T(response));
            }
            // Every 429 and 503 says when to come back.
            for status in ["429", "503"] {
                if let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) {
                    response.headers.entry("Retry-After".into()).or_insert_with(|| {
                        HeaderBuilder::new()
                            .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
                            .description(Some("Seconds to wait before retrying (RFC 9110 §10.2.3)"))
                            .build()
                    });
                }
            }
        }
    }
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
    // `include=body`, a byline's `profile` only with `include=authors` (and
    // `fields=` narrows list items to the fields asked for).
    const OMITTABLE: &[&str] = &["body_html", "profile"];
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
