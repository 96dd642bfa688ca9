//! Authors, categories, tags, media and health.

use crate::helpers::{backend_tests, find_keys, Backend, TestApp};

backend_tests!(
    authors_are_listed_and_fetched_without_emails,
    categories_form_a_tree_and_tags_are_listed,
    media_is_fetched_by_id_with_alt_caption_and_source,
    health_reports_the_database,
);

async fn authors_are_listed_and_fetched_without_emails(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    let list = app.get_ok("/api/v1/authors").await;
    let one = app.get_ok("/api/v1/authors/themedemos").await;
    let missing = app.get("/api/v1/authors/nobody").await;

    let names: Vec<&str> = list["data"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Theme Buster", "Theme Reviewer"]);
    assert_eq!(one["data"]["name"], "Theme Buster");
    let mut emails = Vec::new();
    find_keys(&list, "email", &mut emails);
    find_keys(&one, "email", &mut emails);
    assert!(emails.is_empty(), "emails leaked: {emails:?}");
    assert!(!String::from_utf8_lossy(&app.get("/api/v1/authors").await.body).contains("@gmail.com"));
    missing.assert_problem(404);
}

async fn categories_form_a_tree_and_tags_are_listed(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    let cats = app.get_ok("/api/v1/categories?per_page=100").await;
    let tags = app.get_ok("/api/v1/tags?per_page=100&page=2").await;

    let items = cats["data"].as_array().unwrap();
    assert_eq!(cats["meta"]["total"], 68);
    let ids: Vec<i64> = items.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let children: Vec<_> = items.iter().filter(|c| !c["parent_id"].is_null()).collect();
    assert_eq!(children.len(), 10);
    assert!(children.iter().all(|c| ids.contains(&c["parent_id"].as_i64().unwrap())));
    let grandchild = items.iter().find(|c| c["slug"] == "child-category-01").expect("child-category-01");
    let parent = items.iter().find(|c| c["id"] == grandchild["parent_id"]).unwrap();
    assert_eq!(parent["slug"], "parent-category");
    assert_eq!(tags["meta"]["total"], 114, "109 declared + 5 used but undeclared");
    assert_eq!(tags["data"].as_array().unwrap().len(), 14);
}

async fn media_is_fetched_by_id_with_alt_caption_and_source(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let list = app.get_ok("/api/v1/articles?per_page=100").await;
    let featured =
        list["data"].as_array().unwrap().iter().find(|a| a["slug"] == "template-featured-image-horizontal").unwrap()
            ["featured_media"]["id"]
            .as_i64()
            .unwrap();

    let body = app.get_ok(&format!("/api/v1/media/{featured}")).await;

    let m = &body["data"];
    assert_eq!(m["mime_type"], "image/jpeg");
    assert!(m["source_url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(m["url"], m["source_url"], "imported media serves from its source URL");
    assert!(m["byte_size"].is_null(), "no file was imported");
    app.get("/api/v1/media/999999").await.assert_problem(404);
    for bad in ["abc", "0", "-1", "1.5", "+1", "01", "99999999999999999999"] {
        let body = app.get(&format!("/api/v1/media/{bad}")).await.assert_problem(400);
        assert_eq!(body["errors"][0]["field"], "id", "{bad}");
    }
}

async fn health_reports_the_database(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };

    let body = app.get_ok("/health").await;

    let expected = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(body, serde_json::json!({"status": "ok", "database": expected}));
}
