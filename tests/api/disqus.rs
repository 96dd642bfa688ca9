//! `broadsheet import disqus`: a real Disqus export (Isso's test data, see
//! `tests/fixtures/disqus/README.md`) imported onto an article.

use std::io::BufReader;

use serde_json::json;

use crate::helpers::{backend_tests, find_keys, Backend, TestApp};

backend_tests!(
    a_disqus_export_becomes_threaded_comments_and_reimporting_updates,
    spam_and_deleted_disqus_posts_are_kept_out_of_public_lists,
    a_broken_disqus_file_writes_nothing,
);

fn fixture() -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/disqus/isso-disqus.xml", env!("CARGO_MANIFEST_DIR")))
        .expect("Disqus fixture")
}

fn import(app: &TestApp, xml: &str) -> Result<broadsheet::import::Summary, broadsheet::import::disqus::DisqusError> {
    broadsheet::import::disqus::import(&mut app.db.conn(), BufReader::new(xml.as_bytes()))
}

/// An article whose slug is the fixture thread's identifier (`some-id`).
async fn thread_article(app: &TestApp) -> i64 {
    let editor = app.token_for("editor").await;
    let (a, _) = app
        .create_article(
            &editor,
            json!({"title": "Some id", "body": "Text", "status": "published", "comment_status": "open"}),
        )
        .await;
    assert_eq!(a["slug"], "some-id");
    a["id"].as_i64().unwrap()
}

async fn a_disqus_export_becomes_threaded_comments_and_reimporting_updates(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    thread_article(&app).await;

    // Act
    let first = import(&app, &fixture()).expect("import");
    let again = import(&app, &fixture()).expect("re-import");

    // Assert
    assert_eq!(first.created.get("comments"), Some(&2), "{first}");
    assert_eq!(first.skipped.get("posts of unmatched threads"), Some(&1), "{first}");
    assert_eq!(first.skipped.get("threads with no matching article"), Some(&1), "{first}");
    assert_eq!(again.created.get("comments"), None, "re-import created rows: {again}");
    assert_eq!(again.updated.get("comments"), Some(&2), "{again}");
    let body = app.get_ok("/api/v1/articles/some-id/comments?per_page=100").await;
    let items = body["data"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{body}");
    let peter = items.iter().find(|c| c["author_name"] == "peter").expect("peter's post");
    let reply = items.iter().find(|c| c["author_name"] == "user").expect("user's reply");
    assert_eq!(reply["parent_id"], peter["id"], "the reply keeps its parent");
    assert_eq!(peter["parent_id"], serde_json::Value::Null);
    assert_eq!(reply["body_html"], "<p>Hello, World.</p>");
    assert_eq!(peter["created_at"], "2013-10-10T19:20:29Z");
    let mut emails = Vec::new();
    find_keys(&body, "author_email", &mut emails);
    find_keys(&body, "email", &mut emails);
    assert!(emails.is_empty(), "emails leaked: {emails:?}");
    assert!(!body.to_string().contains("foo@bar.com"), "an address leaked");
    let article = app.get_ok("/api/v1/articles/some-id").await;
    assert_eq!(article["data"]["comment_count"], 2);
}

async fn spam_and_deleted_disqus_posts_are_kept_out_of_public_lists(backend: Backend) {
    // Arrange: the same export after Disqus marked post 4 spam and post 5 deleted.
    let Some(app) = TestApp::spawn(backend).await else { return };
    let article = thread_article(&app).await;
    import(&app, &fixture()).expect("import");
    let flagged = fixture()
        .replacen("<isSpam>false</isSpam>", "<isSpam>true</isSpam>", 1)
        .replacen("<isDeleted>false</isDeleted>\n        <isSpam>false</isSpam>\n        <author>\n            <email>foo@bar.com</email>\n            <name>user</name>",
                  "<isDeleted>true</isDeleted>\n        <isSpam>false</isSpam>\n        <author>\n            <email>foo@bar.com</email>\n            <name>user</name>", 1);
    assert_ne!(flagged, fixture(), "the flags were flipped");

    // Act
    let summary = import(&app, &flagged).expect("re-import");

    // Assert
    assert_eq!(summary.updated.get("comments"), Some(&2), "{summary}");
    let body = app.get_ok("/api/v1/articles/some-id/comments").await;
    assert_eq!(body["data"], json!([]), "spam and deleted posts are not public");
    use broadsheet::db::schema::comments;
    use diesel::prelude::*;
    let mut states: Vec<(String, String)> = comments::table
        .filter(comments::article_id.eq(article))
        .select((comments::author_name, comments::status))
        .load(&mut *app.db.conn())
        .unwrap();
    states.sort();
    assert_eq!(states, vec![("peter".into(), "spam".into()), ("user".into(), "trash".into())]);
}

async fn a_broken_disqus_file_writes_nothing(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    thread_article(&app).await;
    let xml = fixture();
    let truncated = &xml[..xml.find("<!-- orphan").unwrap()];

    // Act
    let cut = import(&app, truncated);
    let wrong = import(&app, "<rss><channel/></rss>");

    // Assert
    assert!(cut.is_err(), "a truncated file was accepted");
    assert!(wrong.is_err(), "a non-Disqus file was accepted");
    let body = app.get_ok("/api/v1/articles/some-id/comments").await;
    assert_eq!(body["data"], json!([]), "a failed import wrote comments");
}
