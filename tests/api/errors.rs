//! The error contract: every failure is RFC 9457 problem+json naming its cause.

use crate::helpers::{backend_tests, Backend, TestApp};

backend_tests!(bad_paging_parameters_are_400_naming_the_parameter, unknown_routes_and_wrong_methods_are_problems,);

async fn bad_paging_parameters_are_400_naming_the_parameter(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let cases = [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=", "page"),
        ("page=99999999999999999999", "page"),
        ("per_page=1000", "per_page"),
        ("per_page=0", "per_page"),
        ("per_page=ten", "per_page"),
        ("sort=nope", "sort"),
        ("author=", "author"),
    ];
    for path in ["/api/v1/articles", "/api/v1/authors", "/api/v1/tags", "/api/v1/categories"] {
        for (query, field) in cases {
            if path != "/api/v1/articles" && field == "author" {
                continue;
            }
            let res = app.get(&format!("{path}?{query}")).await;
            let body = res.assert_problem(400);
            assert_eq!(body["code"], "invalid_parameter", "{path}?{query}");
            assert_eq!(body["errors"][0]["field"], field, "{path}?{query}: {body}");
        }
    }
    let both = app.get("/api/v1/articles?page=0&per_page=0").await.assert_problem(400);
    let fields: Vec<&str> = both["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["page", "per_page"], "every bad parameter is reported");
    let res = app.get("/api/v1/articles/template-comments/comments?per_page=101").await;
    assert_eq!(res.assert_problem(400)["errors"][0]["field"], "per_page");
}

async fn unknown_routes_and_wrong_methods_are_problems(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };

    let unknown = app.get("/api/v1/nothing-here").await;
    let root_unknown = app.get("/wp-admin").await;
    let wrong_method = app.request("PUT", "/api/v1/articles/some-slug", None).await;
    let put_list = app.request("PUT", "/api/v1/articles", Some(b"{\"title\":\"x\"}")).await;

    assert_eq!(unknown.assert_problem(404)["code"], "not_found");
    root_unknown.assert_problem(404);
    assert_eq!(wrong_method.assert_problem(405)["code"], "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("GET, PATCH, DELETE, HEAD"));
    assert_eq!(put_list.assert_problem(405)["code"], "method_not_allowed");
    assert_eq!(put_list.header("allow"), Some("GET, POST, HEAD"));
}
