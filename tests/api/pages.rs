//! Pages (issue 15 §2): imported from WordPress, served apart from articles,
//! and managed by editors at `/api/v1/pages`.

use crate::helpers::{backend_tests, Backend, TestApp};
use broadsheet::db::schema::*;
use diesel::prelude::*;
use serde_json::json;

backend_tests!(
    fixture_pages_are_served_as_pages_and_kept_out_of_articles,
    editors_create_edit_and_delete_pages,
    page_writes_refuse_bad_input_naming_the_field,
    page_writes_need_an_editor,
    drafts_are_hidden_from_the_public,
    an_edited_page_survives_a_reimport,
    page_writes_need_a_current_etag,
    page_revisions_are_listed_read_with_a_diff_and_restored,
    page_revisions_need_an_editor,
);

async fn fixture_pages_are_served_as_pages_and_kept_out_of_articles(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    let list = app.get_ok("/api/v1/pages?per_page=100").await;
    let about = app.get_ok("/api/v1/pages/about").await;
    let articles = app.get_ok("/api/v1/articles?per_page=100").await;
    let search = app.get("/api/v1/articles?q=about&per_page=100").await;

    assert_eq!(list["meta"]["total"], 21, "{list}");
    let data = list["data"].as_array().unwrap();
    let with_parent = data.iter().filter(|p| !p["parent_id"].is_null()).count();
    assert_eq!(with_parent, 13, "page parents are linked");
    let orders: Vec<i64> = data.iter().map(|p| p["menu_order"].as_i64().unwrap()).collect();
    assert!(orders.windows(2).all(|w| w[0] <= w[1]), "ordered by menu_order: {orders:?}");
    assert_eq!(about["data"]["title"], "About The Tests");
    assert_eq!(about["data"]["status"], "published");
    assert!(!about["data"]["body_html"].as_str().unwrap().is_empty());
    let slugs: Vec<&str> = articles["data"].as_array().unwrap().iter().map(|a| a["slug"].as_str().unwrap()).collect();
    assert!(!slugs.contains(&"about"), "pages are not articles: {slugs:?}");
    assert_eq!(search.status.as_u16(), 200);
    let found: Vec<String> = search.json()["data"].as_array().unwrap().iter().map(|a| a["slug"].to_string()).collect();
    assert!(!found.iter().any(|s| s.contains("about-the-tests")), "{found:?}");
}

async fn editors_create_edit_and_delete_pages(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;

    let created = app
        .authed(
            "POST",
            "/api/v1/pages",
            &editor,
            Some(&json!({"title": "About us", "body": "<p>Hi<script>x()</script></p>", "status": "published"})),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", String::from_utf8_lossy(&created.body));
    let page = created.json()["data"].clone();
    let etag = created.header("etag").expect("an ETag on create").to_owned();
    assert_eq!(created.header("location"), Some(format!("/api/v1/pages/{}", page["id"]).as_str()));
    assert_eq!(page["slug"], "about-us");
    assert!(!page["body_html"].as_str().unwrap().contains("script"), "the body is sanitized: {page}");
    assert!(!page["published_at"].is_null());
    let child = app
        .authed(
            "POST",
            "/api/v1/pages",
            &editor,
            Some(&json!({"title": "Team", "parent_id": page["id"], "menu_order": 3})),
        )
        .await
        .json()["data"]
        .clone();
    assert_eq!(child["status"], "draft");
    let path = format!("/api/v1/pages/{}", page["id"]);

    let edited = app
        .authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"title": "About", "slug": "about"})))
        .await;
    let etag = edited.header("etag").expect("a new ETag").to_owned();
    let public = app.get("/api/v1/pages/about").await;
    let loop_ = app
        .authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"parent_id": child["id"]})))
        .await;
    let deleted = app.authed_with("DELETE", &path, &editor, &[("if-match", &etag)], None).await;
    let gone = app.get(&path).await;
    let orphan = app.get_ok_as(&format!("/api/v1/pages/{}", child["id"]), &editor).await.0;

    assert_eq!(edited.status.as_u16(), 200, "{}", String::from_utf8_lossy(&edited.body));
    assert_eq!(edited.json()["data"]["slug"], "about");
    assert_eq!(public.status.as_u16(), 200);
    assert_eq!(public.json()["data"]["title"], "About");
    assert_eq!(loop_.assert_problem(422)["errors"][0]["field"], "parent_id");
    assert_eq!(deleted.status.as_u16(), 204);
    gone.assert_problem(404);
    assert!(orphan["data"]["parent_id"].is_null(), "children move to the top level: {orphan}");
}

async fn page_writes_refuse_bad_input_naming_the_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let taken = app.authed("POST", "/api/v1/pages", &editor, Some(&json!({"title": "Taken"}))).await.json();
    let path = format!("/api/v1/pages/{}", taken["data"]["id"]);
    let cases: Vec<(&str, &str, serde_json::Value, u16, &str)> = vec![
        ("POST", "/api/v1/pages", json!({"title": ""}), 400, "title"),
        ("POST", "/api/v1/pages", json!({"title": "x".repeat(201)}), 400, "title"),
        ("POST", "/api/v1/pages", json!({"title": "a\u{0}b"}), 400, "title"),
        ("POST", "/api/v1/pages", json!({"title": "x", "slug": "Bad Slug"}), 400, "slug"),
        ("POST", "/api/v1/pages", json!({"title": "x", "slug": "123"}), 400, "slug"),
        ("POST", "/api/v1/pages", json!({"title": "x", "menu_order": -1}), 400, "menu_order"),
        ("POST", "/api/v1/pages", json!({"title": "x", "parent_id": 999999}), 422, "parent_id"),
        ("POST", "/api/v1/pages", json!({"title": "x", "status": "scheduled"}), 400, ""),
        ("POST", "/api/v1/pages", json!({"title": "x", "role": "admin"}), 400, ""),
        ("POST", "/api/v1/pages", json!({"title": "x", "body": "<div>".repeat(2000)}), 400, "body"),
        ("POST", "/api/v1/pages", json!({"title": "x", "slug": "taken"}), 409, ""),
        ("PATCH", &path, json!({"title": null}), 400, ""),
        ("PATCH", &path, json!({"parent_id": taken["data"]["id"]}), 422, "parent_id"),
        ("PATCH", "/api/v1/pages/999999", json!({"title": "x"}), 404, ""),
    ];
    for (method, path, body, status, field) in cases {
        let res = app.authed_with(method, path, &editor, &[("if-match", "*")], Some(&body)).await;
        let problem = res.assert_problem(status);
        if !field.is_empty() {
            assert_eq!(problem["errors"][0]["field"], field, "{method} {path} {body}: {problem}");
        }
    }
    let count: i64 = pages::table.count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(count, 1, "nothing half-written");
}

async fn page_writes_need_an_editor(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let page = app.authed("POST", "/api/v1/pages", &editor, Some(&json!({"title": "Kept"}))).await.json();
    let path = format!("/api/v1/pages/{}", page["data"]["id"]);
    let body = json!({"title": "x"});

    for role in ["author", "contributor"] {
        let token = app.token_for(role).await;
        app.authed("POST", "/api/v1/pages", &token, Some(&body)).await.assert_problem(403);
        app.authed("PATCH", &path, &token, Some(&body)).await.assert_problem(403);
        app.authed("DELETE", &path, &token, None).await.assert_problem(403);
    }
    app.send("POST", "/api/v1/pages", &[], Some(&body)).await.assert_problem(401);
    app.send("PATCH", &path, &[], Some(&body)).await.assert_problem(401);
    app.send("DELETE", &path, &[], None).await.assert_problem(401);
    app.send("DELETE", &path, &[("authorization", "Bearer not-a-token")], None).await.assert_problem(401);

    let admin = app.token_for("admin").await;
    let (now, _) = app.get_ok_as(&path, &admin).await;
    assert_eq!(now["data"]["title"], "Kept", "no refused write changed the page");
}

async fn drafts_are_hidden_from_the_public(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let author = app.token_for("author").await;
    app.authed("POST", "/api/v1/pages", &editor, Some(&json!({"title": "Draft page", "slug": "draft-page"}))).await;
    app.authed("POST", "/api/v1/pages", &editor, Some(&json!({"title": "Live", "status": "published"}))).await;

    let public = app.get_ok("/api/v1/pages").await;
    let as_author = app.get_ok_as("/api/v1/pages", &author).await.0;
    let as_editor = app.get_ok_as("/api/v1/pages", &editor).await.0;

    assert_eq!(public["meta"]["total"], 1, "{public}");
    assert_eq!(as_author["meta"]["total"], 1, "{as_author}");
    assert_eq!(as_editor["meta"]["total"], 2, "{as_editor}");
    app.get("/api/v1/pages/draft-page").await.assert_problem(404);
    app.get_ok_as("/api/v1/pages/draft-page", &editor).await;
}

const WXR: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://pages.test</wp:base_blog_url>
<item><title>Contact</title><dc:creator>ed</dc:creator><content:encoded><![CDATA[Write to us.]]></content:encoded>
<wp:post_id>5</wp:post_id><wp:post_name>contact</wp:post_name><wp:status>publish</wp:status><wp:post_type>page</wp:post_type>
<wp:menu_order>2</wp:menu_order></item>
<item><title>Directions</title><dc:creator>ed</dc:creator><content:encoded><![CDATA[Turn left.]]></content:encoded>
<wp:post_id>6</wp:post_id><wp:post_parent>5</wp:post_parent><wp:status>publish</wp:status><wp:post_type>page</wp:post_type></item>
</channel></rss>"#;

async fn an_edited_page_survives_a_reimport(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let import = |overwrite| {
        broadsheet::import::wordpress::import_with(
            &mut app.db.conn(),
            WXR.as_bytes(),
            broadsheet::import::Options { dry_run: false, overwrite },
        )
        .expect("import succeeds")
    };
    let first = import(false);
    let editor = app.token_for("editor").await;
    let edited = app
        .authed_with(
            "PATCH",
            "/api/v1/pages/contact",
            &editor,
            &[("if-match", "*")],
            Some(&json!({"title": "Reach us"})),
        )
        .await;
    assert_eq!(edited.status.as_u16(), 200);

    let again = import(false);
    let kept = app.get_ok("/api/v1/pages/contact").await;
    let directions = app.get_ok("/api/v1/pages/directions").await;
    let overwritten = import(true);
    let replaced = app.get_ok("/api/v1/pages/contact").await;

    assert_eq!(first.created.get("pages"), Some(&2), "{first}");
    assert_eq!(again.conflicts.len(), 1, "{again}");
    assert_eq!(again.unchanged.get("pages"), Some(&1), "{again}");
    assert_eq!(kept["data"]["title"], "Reach us");
    assert_eq!(directions["data"]["parent_id"], kept["data"]["id"], "the child keeps its conflicting parent");
    assert_eq!(kept["data"]["menu_order"], 2);
    assert_eq!(overwritten.updated.get("pages"), Some(&1), "{overwritten}");
    assert_eq!(replaced["data"]["title"], "Contact");
}

async fn page_writes_need_a_current_etag(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let created =
        app.authed("POST", "/api/v1/pages", &editor, Some(&json!({"title": "Kept", "status": "published"}))).await;
    let old = created.header("etag").unwrap().to_owned();
    let path = format!("/api/v1/pages/{}", created.json()["data"]["id"]);
    let (_, fetched) = app.get_ok_as(&path, &editor).await;
    let public = app.get(&path).await;
    let saved = app.authed_with("PATCH", &path, &editor, &[("if-match", &old)], Some(&json!({"title": "New"}))).await;
    let noop = app
        .authed_with(
            "PATCH",
            &path,
            &editor,
            &[("if-match", saved.header("etag").unwrap())],
            Some(&json!({"title": "New"})),
        )
        .await;

    // Act
    let stale = app.authed_with("PATCH", &path, &editor, &[("if-match", &old)], Some(&json!({"title": "Lost"}))).await;
    let missing = app.authed("PATCH", &path, &editor, Some(&json!({"title": "Lost"}))).await;
    let stale_delete = app.authed_with("DELETE", &path, &editor, &[("if-match", &old)], None).await;
    let missing_delete = app.authed("DELETE", &path, &editor, None).await;

    // Assert
    assert_eq!(fetched, old, "GET gives editors the same ETag");
    assert!(public.header("etag").is_none_or(|e| !e.starts_with("\"p")), "no version ETag for the public");
    assert_eq!(saved.status.as_u16(), 200);
    assert_ne!(saved.header("etag"), Some(old.as_str()), "a save is a new version");
    assert_eq!(noop.header("etag"), saved.header("etag"), "a save that changes nothing is no new version");
    stale.assert_problem(412);
    missing.assert_problem(428);
    stale_delete.assert_problem(412);
    missing_delete.assert_problem(428);
    assert_eq!(app.get_ok(&path).await["data"]["title"], "New", "no refused write changed the page");
}

async fn page_revisions_are_listed_read_with_a_diff_and_restored(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let created = app
        .authed(
            "POST",
            "/api/v1/pages",
            &editor,
            Some(&json!({"title": "About", "body": "<p>One</p>", "menu_order": 1})),
        )
        .await;
    let path = format!("/api/v1/pages/{}", created.json()["data"]["id"]);
    let etag = created.header("etag").unwrap().to_owned();
    let body = json!({"title": "About us", "body": "<p>Two</p>", "status": "published"});
    let saved = app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&body)).await;
    assert_eq!(saved.status.as_u16(), 200);

    // Act
    let (list, _) = app.get_ok_as(&format!("{path}/revisions"), &editor).await;
    let first = list["data"][1]["id"].as_i64().unwrap();
    let detail = app.authed("GET", &format!("{path}/revisions/{first}"), &editor, None).await;
    let current = detail.header("etag").unwrap().to_owned();
    let restored = app
        .authed_with("POST", &format!("{path}/revisions/{first}/restore"), &editor, &[("if-match", &current)], None)
        .await;
    let stale = app
        .authed_with("POST", &format!("{path}/revisions/{first}/restore"), &editor, &[("if-match", &current)], None)
        .await;
    let (after, _) = app.get_ok_as(&format!("{path}/revisions"), &editor).await;
    let missing = app.authed("GET", &format!("{path}/revisions/999999"), &editor, None).await;

    // Assert
    assert_eq!(list["meta"]["total"], 2, "{list}");
    assert_eq!(list["data"][1]["changed_fields"], json!(["created"]));
    let mut changed: Vec<String> =
        list["data"][0]["changed_fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect();
    changed.sort();
    assert_eq!(changed, ["body_source", "status", "title"]);
    assert_eq!(detail.status.as_u16(), 200, "{}", String::from_utf8_lossy(&detail.body));
    let d = detail.json()["data"].clone();
    assert_eq!(d["snapshot"]["title"], "About");
    assert_eq!(d["snapshot"]["body_source"], "<p>One</p>");
    let fields: Vec<&str> = d["diff"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["body_source", "status", "title"], "{d}");
    assert_eq!(d["diff"][2]["revision"], "About");
    assert_eq!(d["diff"][2]["current"], "About us");
    assert_eq!(restored.status.as_u16(), 200, "{}", String::from_utf8_lossy(&restored.body));
    let page = restored.json()["data"].clone();
    assert_eq!(page["title"], "About");
    assert!(page["body_html"].as_str().unwrap().contains("One"));
    assert_eq!(page["status"], "published", "a restore keeps the status");
    stale.assert_problem(412);
    assert_eq!(after["meta"]["total"], 3, "the restore is a revision too");
    missing.assert_problem(404);
}

async fn page_revisions_need_an_editor(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let created =
        app.authed("POST", "/api/v1/pages", &editor, Some(&json!({"title": "P", "status": "published"}))).await;
    let path = format!("/api/v1/pages/{}", created.json()["data"]["id"]);
    let rev = app.get_ok_as(&format!("{path}/revisions"), &editor).await.0["data"][0]["id"].as_i64().unwrap();

    for p in [format!("{path}/revisions"), format!("{path}/revisions/{rev}")] {
        app.get(&p).await.assert_problem(401);
        for role in ["author", "contributor"] {
            let token = app.token_for(role).await;
            app.authed("GET", &p, &token, None).await.assert_problem(403);
        }
    }
    let author = app.token_for("author").await;
    let restore = format!("{path}/revisions/{rev}/restore");
    app.authed_with("POST", &restore, &author, &[("if-match", "*")], None).await.assert_problem(403);
    app.send("POST", &restore, &[("if-match", "*")], None).await.assert_problem(401);
    for bad in ["0", "01", "x"] {
        let p = app.authed("GET", &format!("{path}/revisions/{bad}"), &editor, None).await.assert_problem(400);
        assert_eq!(p["errors"][0]["field"], "rev", "{bad}: {p}");
    }
}
