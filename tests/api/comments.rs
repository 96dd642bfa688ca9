//! `GET /api/v1/articles/{slug}/comments`.

use crate::helpers::{backend_tests, find_keys, Backend, TestApp};

backend_tests!(approved_comments_come_oldest_first_with_parents_and_no_emails, pingbacks_and_trackbacks_are_not_listed,);

async fn approved_comments_come_oldest_first_with_parents_and_no_emails(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    let body = app.get_ok("/api/v1/articles/template-comments/comments?per_page=100").await;

    let items = body["data"].as_array().unwrap();
    assert_eq!(items.len(), 19, "19 approved of 20");
    assert_eq!(body["meta"]["total"], 19);
    let dates: Vec<&str> = items.iter().map(|c| c["created_at"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "not oldest first: {dates:?}");
    let ids: Vec<i64> = items.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let replies: Vec<&serde_json::Value> = items.iter().filter(|c| !c["parent_id"].is_null()).collect();
    assert!(!replies.is_empty(), "threaded replies keep parent_id");
    assert!(replies.iter().all(|c| ids.contains(&c["parent_id"].as_i64().unwrap())), "parents are on the same article");
    assert!(items.iter().all(|c| c.get("parent_id").is_some()), "parent_id is always present");
    let mut emails = Vec::new();
    find_keys(&body, "email", &mut emails);
    assert!(emails.is_empty(), "emails leaked: {emails:?}");
    assert!(!String::from_utf8_lossy(&app.get("/api/v1/articles/template-comments/comments").await.body)
        .contains("@example"));
}

async fn pingbacks_and_trackbacks_are_not_listed(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    let body = app.get_ok("/api/v1/articles/template-pingbacks-an-trackbacks/comments").await;

    let items = body["data"].as_array().unwrap();
    assert_eq!(items.len(), 1, "5 entries, 4 of them pings: {body}");
    assert!(!items[0]["author_name"].as_str().unwrap().starts_with("Ping"));
}
