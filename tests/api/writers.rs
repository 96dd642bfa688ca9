//! Writers can write from the start: every new user gets an author profile
//! unless one is named, and a user without one is told how to get one.

use serde_json::json;

use crate::helpers::{backend_tests, Backend, TestApp, PASSWORD};

backend_tests!(
    a_user_created_through_the_api_gets_a_linked_author_profile,
    a_user_without_a_profile_gets_a_422_that_says_how_to_link_one,
);

const README_ARTICLE: &str =
    r#"{"title":"Council approves budget","body":"The vote was **7-2**.","body_format":"markdown"}"#;

async fn a_user_created_through_the_api_gets_a_linked_author_profile(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    let existing = app.create_author("existing-profile");
    let create = |body: serde_json::Value| {
        let (app, admin) = (&app, &admin);
        async move { app.authed("POST", "/api/v1/users", admin, Some(&body)).await }
    };

    let named =
        create(json!({"email": "ana@example.com", "password": PASSWORD, "role": "author", "name": "Ana Díaz"})).await;
    let twin = create(
        json!({"email": "ana@example.org", "password": PASSWORD, "role": "contributor", "display_name": "Ana Díaz"}),
    )
    .await;
    let unnamed = create(json!({"email": "bo.li@example.com", "password": PASSWORD, "role": "editor"})).await;
    let linked =
        create(json!({"email": "cy@example.com", "password": PASSWORD, "role": "author", "author_id": existing})).await;
    let bad = create(json!({"email": "dee@example.com", "password": PASSWORD, "role": "author", "name": " "})).await;

    let profile = |res: &crate::helpers::Response| {
        assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
        res.json()["data"]["author_id"].as_i64().expect("an author profile is linked")
    };
    let author = app.get_ok(&format!("/api/v1/authors/{}", profile(&named))).await;
    assert_eq!(
        (author["data"]["name"].as_str(), author["data"]["slug"].as_str()),
        (Some("Ana Díaz"), Some("ana-diaz"))
    );
    let author = app.get_ok(&format!("/api/v1/authors/{}", profile(&twin))).await;
    assert_eq!(author["data"]["slug"], "ana-diaz-2", "slugs stay unique");
    let author = app.get_ok(&format!("/api/v1/authors/{}", profile(&unnamed))).await;
    assert_eq!(author["data"]["name"], "bo.li", "the email's local part names it");
    assert_eq!(profile(&linked), existing, "author_id links the named profile instead");
    assert_eq!(bad.assert_problem(400)["errors"][0]["field"], "name");
    let token = app.login("ana@example.com").await["access_token"].as_str().unwrap().to_owned();
    let body: serde_json::Value = serde_json::from_str(README_ARTICLE).unwrap();
    let (article, _) = app.create_article(&token, body).await;
    assert_eq!(article["bylines"][0]["name"], "Ana Díaz");
}

async fn a_user_without_a_profile_gets_a_422_that_says_how_to_link_one(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let id = app.create_user_without_profile("solo@example.com", "author");
    let token = app.login("solo@example.com").await["access_token"].as_str().unwrap().to_owned();
    let body: serde_json::Value = serde_json::from_str(README_ARTICLE).unwrap();

    let res = app.authed("POST", "/api/v1/articles", &token, Some(&body)).await;

    let problem = res.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "bylines");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(&format!("PATCH /api/v1/users/{id}")) && message.contains("author_id"), "{message}");
}
