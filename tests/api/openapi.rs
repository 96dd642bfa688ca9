//! The committed spec is the served spec is the generated spec.

use crate::helpers::{Backend, TestApp};

const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[test]
fn the_committed_spec_matches_the_generated_one() {
    let generated = broadsheet::openapi::spec_json();
    let committed = std::fs::read_to_string(SPEC_PATH).unwrap_or_default();
    assert!(
        generated == committed,
        "openapi/openapi.json is out of date; regenerate it with:\n    cargo run -- openapi > openapi/openapi.json"
    );
}

#[test]
fn every_ref_names_a_component_that_exists() {
    let spec: serde_json::Value = serde_json::from_str(&broadsheet::openapi::spec_json()).unwrap();
    let mut refs = Vec::new();
    crate::helpers::find_keys(&spec, "$ref", &mut refs);
    assert!(!refs.is_empty(), "the spec has no $ref at all");
    let dangling: Vec<&str> = refs
        .iter()
        .filter_map(|r| r.as_str())
        .filter(|r| {
            let pointer = r.strip_prefix('#').unwrap_or("not a local reference");
            spec.pointer(pointer).is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "$refs that name nothing: {dangling:?}");
}

#[test]
fn every_route_documents_its_errors_as_problem_json() {
    let spec: serde_json::Value = serde_json::from_str(&broadsheet::openapi::spec_json()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for expected in [
        "/health",
        "/openapi.json",
        "/api/v1/articles",
        "/api/v1/articles/{article}",
        "/api/v1/articles/{article}/comments",
        "/api/v1/articles/{article}/revisions",
        "/api/v1/articles/{article}/revisions/{rev}/restore",
        "/api/v1/articles/{article}/related",
        "/api/v1/articles/{article}/preview",
        "/api/v1/previews/{token}",
        "/api/v1/series",
        "/api/v1/series/{series}",
        "/api/v1/authors",
        "/api/v1/authors/{author}",
        "/api/v1/authors/me",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/auth/password",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/api-keys",
        "/api/v1/api-keys/{id}",
        "/api/v1/categories",
        "/api/v1/tags",
        "/api/v1/media",
        "/api/v1/media/{id}",
        "/api/v1/media/{id}/file",
        "/api/v1/media/{id}/file/{size}",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not in the spec");
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            for (status, res) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    // `Problem`, or a schema extending it (`allOf: [Problem, …]`).
                    let schema_ref =
                        res["content"]["application/problem+json"]["schema"]["$ref"].as_str().unwrap_or("");
                    let name = schema_ref.trim_start_matches("#/components/schemas/");
                    let extends_problem = spec["components"]["schemas"][name]["allOf"]
                        .as_array()
                        .is_some_and(|all| all.iter().any(|s| s["$ref"] == "#/components/schemas/Problem"));
                    assert!(
                        name == "Problem" || extends_problem,
                        "{method} {path} {status} is not documented as a Problem"
                    );
                }
            }
            // Avatars are computed from their key and read no database.
            if path.starts_with("/api/v1") && path != "/api/v1/avatars/{key}.svg" {
                assert!(op["responses"].get("503").is_some(), "{method} {path} does not document 503");
            }
            // Anything that takes credentials documents 401, and 403 when it can refuse them.
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(op["responses"].get("401").is_some(), "{method} {path} takes credentials but lacks 401");
            }
            if op["security"].as_array().is_some_and(|s| !s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())))
                && secured
            {
                assert!(op["responses"].get("403").is_some(), "{method} {path} requires credentials but lacks 403");
            }
        }
    }
}

/// The schema a JSON pointer (`/data/0/id`) reaches from `schema`, following
/// `$ref`, `allOf`, `oneOf`/`anyOf` branches, properties and array items.
fn schema_at<'a>(
    spec: &'a serde_json::Value,
    schema: &'a serde_json::Value,
    pointer: &[&str],
) -> Option<&'a serde_json::Value> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return schema_at(spec, &spec["components"]["schemas"][name], pointer);
    }
    let Some((first, rest)) = pointer.split_first() else { return Some(schema) };
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(found) = schema[key].as_array().into_iter().flatten().find_map(|s| schema_at(spec, s, pointer)) {
            return Some(found);
        }
    }
    let next = if first.bytes().all(|b| b.is_ascii_digit()) { &schema["items"] } else { &schema["properties"][*first] };
    (!next.is_null()).then(|| schema_at(spec, next, rest)).flatten()
}

#[test]
fn every_link_names_an_operation_parameters_it_takes_and_values_the_response_has() {
    let spec: serde_json::Value = serde_json::from_str(&broadsheet::openapi::spec_json()).unwrap();
    let ops: Vec<(&str, &serde_json::Value)> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| (op["operationId"].as_str().expect("every operation has an operationId"), op))
        .collect();
    let find = |id: &str| ops.iter().find(|(o, _)| *o == id).map(|(_, op)| *op);
    let takes = |op: &serde_json::Value, name: &str, location: Option<&str>| {
        op["parameters"].as_array().into_iter().flatten().any(|p| {
            p["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)) && location.is_none_or(|l| p["in"] == l)
        })
    };
    let mut links = 0;
    for (source_id, source) in &ops {
        for (status, response) in source["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let at = format!("{source_id} {status} link {name}");
                let target_id = link["operationId"].as_str().unwrap_or_else(|| panic!("{at} has no operationId"));
                let target = find(target_id).unwrap_or_else(|| panic!("{at} names no operation `{target_id}`"));
                for (param, value) in link["parameters"].as_object().into_iter().flatten() {
                    assert!(takes(target, param, None), "{at}: {target_id} takes no parameter `{param}`");
                    let expr = value.as_str().unwrap_or_default();
                    if let Some(p) = expr.strip_prefix("$request.path.") {
                        assert!(takes(source, p, Some("path")), "{at}: {source_id} has no path parameter `{p}`");
                    } else if let Some(pointer) = expr.strip_prefix("$response.body#/") {
                        let body = &response["content"]["application/json"]["schema"];
                        let segments: Vec<&str> = pointer.split('/').collect();
                        assert!(schema_at(&spec, body, &segments).is_some(), "{at}: the response has no `{pointer}`");
                    }
                }
                links += 1;
            }
        }
    }
    assert!(links >= 20, "only {links} links");
}

#[actix_web::test]
async fn the_server_serves_the_committed_spec_byte_for_byte() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else { return };

    let res = app.get("/openapi.json").await;

    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.content_type(), "application/json");
    assert!(res.body == broadsheet::openapi::spec_json().into_bytes(), "served spec differs from generated");
}

#[actix_web::test]
async fn the_docs_ui_is_served_from_the_binary_and_points_at_the_spec() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else { return };

    let redirect = app.get("/docs").await;
    let page = app.get("/docs/index.html").await;
    let init = app.get("/docs/swagger-initializer.js").await;

    assert_eq!(redirect.status.as_u16(), 302);
    assert_eq!(redirect.header("location"), Some("/docs/index.html"));
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.content_type().starts_with("text/html"));
    let html = String::from_utf8_lossy(&page.body);
    assert!(!html.contains("https://") && !html.contains("http://"), "no CDN assets: {html}");
    assert!(String::from_utf8_lossy(&init.body).contains("\"url\": \"/openapi.json\""));
}

crate::helpers::backend_tests!(every_operation_answers_only_documented_statuses_and_undocumented_methods_are_405);

/// Walks every path of the spec: each documented operation, called without
/// credentials (and with an empty JSON object as body), must answer a status
/// its entry documents; each method the spec does not list must be 405 with
/// an `Allow` header naming exactly the documented ones.
async fn every_operation_answers_only_documented_statuses_and_undocumented_methods_are_405(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let spec: serde_json::Value = serde_json::from_str(&broadsheet::openapi::spec_json()).unwrap();
    let mut checked = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        let path = template
            .replace("{article}", "template-comments")
            .replace("{author}", "themedemos")
            .replace("{series}", "1")
            .replace("{token}", "not-a-token")
            .replace("{rev}", "1")
            .replace("{id}", "1");
        let documented: Vec<String> = item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let body = serde_json::json!({});
            let with_body = matches!(method, "POST" | "PUT" | "PATCH").then_some(&body);
            let res = app.send(method, &path, &[], with_body).await;
            let status = res.status.as_u16();
            if let Some(op) = item.get(method.to_lowercase()) {
                let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
                assert!(
                    statuses.iter().any(|s| s.as_str() == status.to_string()),
                    "{method} {template} answered {status}, documented {statuses:?}"
                );
                checked += 1;
            } else {
                assert_eq!(status, 405, "{method} {template} is not documented but answered {status}");
                let allow = res.header("allow").unwrap_or_default().to_owned();
                let mut expected = documented.clone();
                if documented.iter().any(|m| m == "GET") {
                    expected.push("HEAD".into());
                }
                let mut got: Vec<String> = allow.split(", ").map(str::to_owned).collect();
                got.sort();
                expected.sort();
                assert_eq!(got, expected, "Allow for {template}");
            }
        }
    }
    assert!(checked >= 40, "only {checked} operations were exercised");
}

/// utoipa keys components by schema name and silently keeps one of two
/// types with the same name (two different `CommentStatus` enums once
/// shared a component), so every `#[derive(ToSchema)]` type in `src/` must
/// have its own name (its identifier, or its `#[schema(as = …)]`).
#[test]
fn no_two_rust_types_register_the_same_schema_name() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let item = |t: &str| -> Option<String> {
        let t = t.strip_prefix("pub ").or_else(|| t.strip_prefix("pub(crate) ")).unwrap_or(t);
        let rest = t.strip_prefix("struct ").or_else(|| t.strip_prefix("enum "))?;
        Some(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
    };
    let mut files = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut names: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let ident =
        |s: &str| -> String { s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Types made by the envelope macros (`list_envelope!(Name, …)`) and
        // `text_enum! { /// doc  Name { … } }`; the macros' own `$name` is skipped below.
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            let named =
                ["list_envelope!(", "data_envelope!("].iter().find_map(|m| t.split_once(m).map(|(_, r)| ident(r)));
            let named = named.or_else(|| {
                t.starts_with("text_enum! {").then(|| {
                    lines[i + 1..]
                        .iter()
                        .map(|l| l.trim())
                        .find(|l| !l.starts_with("///") && !l.starts_with("#["))
                        .map(ident)
                })?
            });
            if let Some(n) = named.filter(|n| !n.is_empty()) {
                names.entry(n).or_default().push(format!("{}:{}", file.display(), i + 1));
            }
        }
        // The attributes (and doc comments) above the current line.
        let mut attrs: Vec<&str> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if let Some(ident) = item(t) {
                if attrs.iter().any(|a| a.contains("ToSchema")) {
                    let renamed = attrs.iter().filter(|a| a.contains("schema(")).find_map(|a| {
                        let at = a.find(" as = ").map(|i| i + 6).or_else(|| a.find("(as = ").map(|i| i + 6))?;
                        Some(a[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect())
                    });
                    let where_ = format!("{}:{}", file.display(), i + 1);
                    let name = renamed.unwrap_or(ident);
                    if !name.is_empty() {
                        names.entry(name).or_default().push(where_);
                    }
                }
                attrs.clear();
            } else if t.starts_with("#[")
                || t.starts_with("///")
                || (!attrs.is_empty() && !t.is_empty() && !t.ends_with(';') && !t.ends_with('{'))
            {
                attrs.push(t);
            } else {
                attrs.clear();
            }
        }
    }
    assert!(names.len() > 50, "found only {} ToSchema types; is the scan broken?", names.len());
    let clashes: Vec<_> = names.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(clashes.is_empty(), "schema names registered by more than one type: {clashes:?}");
}
