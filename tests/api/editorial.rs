//! The editorial workflow: writes, statuses and scheduling, concurrency,
//! slugs and redirects, revisions, reads with credentials, search and filters,
//! related articles, previews and HTTP caching.

use crate::helpers::{backend_tests, Backend, TestApp};
use serde_json::{json, Value};

backend_tests!(
    a_draft_is_written_in_markdown_rendered_safely_and_measured,
    statuses_follow_the_workflow_and_scheduled_articles_go_public_on_time,
    if_match_stops_two_editors_overwriting_each_other,
    changed_slugs_redirect_and_new_slugs_are_transliterated,
    revisions_record_changes_and_restore_content,
    who_sees_and_edits_which_drafts_follows_the_roles,
    article_writes_reject_bad_input,
    search_filters_sorts_and_sparse_fieldsets_work,
    related_articles_share_terms_and_previews_show_drafts,
    public_reads_are_cacheable_and_private_ones_are_not,
    cors_answers_only_allowed_origins,
    series_seo_featured_overrides_and_the_search_index_stay_current,
);

async fn series_seo_featured_overrides_and_the_search_index_stay_current(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;
    let series = app
        .authed(
            "POST",
            "/api/v1/series",
            &editor,
            Some(&json!({"title": "Water crisis", "description": "Five parts."})),
        )
        .await;
    assert_eq!(series.status.as_u16(), 201);
    let sid = series.json()["data"]["id"].as_i64().unwrap();
    let media =
        app.get_ok("/api/v1/articles/template-featured-image-horizontal").await["data"]["featured_media"]["id"].clone();
    let (two, _) = app
        .create_article(&editor, json!({"title": "Part two: zanzibarite pipes", "status": "published", "series_id": sid, "series_position": 2}))
        .await;
    let (one, one_tag) = app
        .create_article(
            &editor,
            json!({"title": "Part one", "status": "published", "series_id": sid, "series_position": 1,
                   "featured_media_id": media, "featured_credit": "Jane Doe / Agency", "featured_caption": "The reservoir",
                   "meta_title": "Part one | Water", "canonical_url": "https://news.example/water/1", "og_image_media_id": media}),
        )
        .await;

    let detail = app.get_ok(&format!("/api/v1/series/{sid}")).await;
    let by_slug = app.get_ok("/api/v1/series/water-crisis").await;
    let found = app.get_ok("/api/v1/articles?q=zanzibarite").await;
    let path = format!("/api/v1/articles/{}", two["id"]);
    let etag = app.authed("GET", &path, &editor, None).await.header("etag").unwrap().to_owned();
    app.authed_with(
        "PATCH",
        &path,
        &editor,
        &[("if-match", &etag)],
        Some(&json!({"title": "Part two: quokkaline pipes"})),
    )
    .await;
    let old_word = app.get_ok("/api/v1/articles?q=zanzibarite").await;
    let new_word = app.get_ok("/api/v1/articles?q=quokkaline").await;
    let multi = app.get_ok("/api/v1/articles?tag=template,comments-2&per_page=100").await;

    let order: Vec<Value> = detail["data"]["articles"].as_array().unwrap().iter().map(|a| a["id"].clone()).collect();
    assert_eq!(order, vec![one["id"].clone(), two["id"].clone()]);
    assert_eq!(by_slug["data"]["id"], sid);
    assert_eq!(one["series"]["position"], 1);
    assert_eq!(one["featured_media"]["credit"], "Jane Doe / Agency");
    assert_eq!(one["featured_media"]["caption"], "The reservoir");
    assert_eq!(one["seo"]["meta_title"], "Part one | Water");
    assert!(one["seo"]["og_image_url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(found["meta"]["total"], 1);
    assert_eq!(old_word["meta"]["total"], 0, "the index follows edits");
    assert_eq!(new_word["meta"]["total"], 1);
    let ids: Vec<i64> = multi["data"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "an article with both tags is listed once");
    assert_eq!(multi["meta"]["total"].as_u64().unwrap() as usize, ids.len());
    let _ = one_tag;
    let contributor = app.token_for("contributor").await;
    app.authed("POST", "/api/v1/series", &contributor, Some(&json!({"title": "Mine"}))).await.assert_problem(403);
    app.authed("DELETE", &format!("/api/v1/series/{sid}"), &editor, None).await;
    app.get(&format!("/api/v1/series/{sid}")).await.assert_problem(404);
    assert!(app.get_ok(&format!("/api/v1/articles/{}", one["id"])).await["data"]["series"].is_null());
}

fn set_published_at(app: &TestApp, id: i64, when: chrono::NaiveDateTime) {
    use broadsheet::db::schema::articles;
    use diesel::prelude::*;
    diesel::update(articles::table.find(id))
        .set(articles::published_at.eq(Some(when)))
        .execute(&mut *app.db.conn())
        .expect("time travel");
}

async fn a_draft_is_written_in_markdown_rendered_safely_and_measured(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let contributor = app.token_for("contributor").await;
    let words = "word ".repeat(240);

    let (a, etag) = app
        .create_article(
            &contributor,
            json!({"title": "Ünïcödé Straße: a test", "body_format": "markdown",
                   "body": format!("# Head\n\n{words}\n\n[bad](javascript:alert(1)) <script>x()</script> <img src=x onerror=alert(1)>")}),
        )
        .await;

    assert_eq!(a["slug"], "unicode-strasse-a-test");
    assert_eq!(a["status"], "draft");
    assert!(a["published_at"].is_null());
    let html = a["body_html"].as_str().unwrap();
    assert!(html.contains("<h1>Head</h1>"), "{html}");
    assert!(!html.contains("javascript:") && !html.contains("<script") && !html.contains("onerror"), "{html}");
    assert_eq!(a["word_count"], 242);
    assert_eq!(a["reading_time_minutes"], 2);
    assert_eq!(a["body_format"], "markdown");
    assert!(a["body_source"].as_str().unwrap().starts_with("# Head"), "the writer sees the source");
    assert_eq!(etag, format!("\"a{}-v1\"", a["id"]));
    assert_eq!(a["bylines"].as_array().unwrap().len(), 1, "defaults to the writer's author profile");
    let public = app.get(&format!("/api/v1/articles/{}", a["slug"].as_str().unwrap())).await;
    public.assert_problem(404);
    let publish =
        app.authed("POST", "/api/v1/articles", &contributor, Some(&json!({"title": "x", "status": "published"}))).await;
    publish.assert_problem(403);
    app.send("POST", "/api/v1/articles", &[], Some(&json!({"title": "x"}))).await.assert_problem(401);
}

async fn statuses_follow_the_workflow_and_scheduled_articles_go_public_on_time(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let (a, etag) = app.create_article(&editor, json!({"title": "Budget vote", "body": "Text"})).await;
    let id = a["id"].as_i64().unwrap();
    let path = format!("/api/v1/articles/{id}");
    let patch = |etag: String, body: Value| {
        let app = &app;
        let editor = &editor;
        let path = path.clone();
        async move { app.authed_with("PATCH", &path, editor, &[("if-match", &etag)], Some(&body)).await }
    };

    let past = patch(etag.clone(), json!({"status": "scheduled", "published_at": "2001-01-01T00:00:00Z"})).await;
    assert_eq!(past.assert_problem(400)["errors"][0]["field"], "published_at");
    let future = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let scheduled = patch(etag.clone(), json!({"status": "scheduled", "published_at": future})).await;
    assert_eq!(scheduled.status.as_u16(), 200, "{}", String::from_utf8_lossy(&scheduled.body));
    assert_eq!(scheduled.json()["data"]["status"], "scheduled");
    app.get("/api/v1/articles/budget-vote").await.assert_problem(404);

    // The server was "down" when the time came: nothing flipped the status.
    let due = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
    set_published_at(&app, id, due);
    let live = app.get_ok("/api/v1/articles/budget-vote").await;
    assert_eq!(live["data"]["status"], "published");
    let listed = app.get_ok("/api/v1/articles").await;
    assert!(listed["data"].as_array().unwrap().iter().any(|x| x["id"] == id));

    let current = app.authed("GET", &path, &editor, None).await.header("etag").unwrap().to_owned();
    let edited = patch(current, json!({"title": "Budget vote, updated"})).await;
    assert_eq!(edited.status.as_u16(), 200);
    let published_at = edited.json()["data"]["published_at"].clone();
    assert!(
        published_at.as_str().unwrap().starts_with(&due.format("%Y-%m-%dT%H:%M").to_string()),
        "kept: {published_at}"
    );
    let etag = edited.header("etag").unwrap().to_owned();
    let archived = patch(etag, json!({"status": "archived"})).await;
    assert_eq!(archived.json()["data"]["status"], "archived");
    app.get("/api/v1/articles/budget-vote-updated").await.assert_problem(404);
    app.get("/api/v1/articles/budget-vote").await.assert_problem(404);
    let etag = archived.header("etag").unwrap().to_owned();
    let jump = patch(etag.clone(), json!({"status": "published"})).await;
    jump.assert_problem(422);
    let back = patch(etag, json!({"status": "draft"})).await;
    assert_eq!(back.json()["data"]["status"], "draft");
    assert_eq!(back.json()["data"]["published_at"], published_at, "first publication time is kept");
}

async fn if_match_stops_two_editors_overwriting_each_other(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let one = app.token_for("editor").await;
    let two = app.token_for("editor").await;
    let (a, etag) = app.create_article(&one, json!({"title": "Shared"})).await;
    let path = format!("/api/v1/articles/{}", a["id"]);

    let missing = app.authed("PATCH", &path, &one, Some(&json!({"title": "No tag"}))).await;
    let first = app.authed_with("PATCH", &path, &one, &[("if-match", &etag)], Some(&json!({"title": "First"}))).await;
    let second = app.authed_with("PATCH", &path, &two, &[("if-match", &etag)], Some(&json!({"title": "Second"}))).await;
    let stale_delete = app.authed_with("DELETE", &path, &two, &[("if-match", &etag)], None).await;

    missing.assert_problem(428);
    assert_eq!(first.status.as_u16(), 200);
    assert_ne!(first.header("etag").unwrap(), etag);
    second.assert_problem(412);
    stale_delete.assert_problem(412);
    let now = app.authed("GET", &path, &two, None).await;
    assert_eq!(now.json()["data"]["title"], "First", "the second write changed nothing");
    let fresh = now.header("etag").unwrap().to_owned();
    let deleted = app.authed_with("DELETE", &path, &two, &[("if-match", &fresh)], None).await;
    assert_eq!(deleted.status.as_u16(), 204);
    app.authed("GET", &path, &two, None).await.assert_problem(404);
}

async fn changed_slugs_redirect_and_new_slugs_are_transliterated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let (a, etag) = app.create_article(&editor, json!({"title": "Old name", "status": "published"})).await;
    app.create_article(&editor, json!({"title": "Taken", "status": "published"})).await;
    let path = format!("/api/v1/articles/{}", a["id"]);

    let renamed =
        app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"slug": "new-name"}))).await;
    let etag = renamed.header("etag").unwrap().to_owned();
    let clash = app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"slug": "taken"}))).await;
    let numeric =
        app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"slug": "2024"}))).await;
    let old = app.get("/api/v1/articles/old-name").await;
    let twin = app.create_article(&editor, json!({"title": "Taken"})).await.0;
    let reuse_old =
        app.authed("POST", "/api/v1/articles", &editor, Some(&json!({"title": "x", "slug": "old-name"}))).await;

    assert_eq!(renamed.status.as_u16(), 200);
    clash.assert_problem(409);
    assert_eq!(numeric.assert_problem(400)["errors"][0]["field"], "slug");
    assert_eq!(old.status.as_u16(), 301);
    assert_eq!(old.header("location"), Some("/api/v1/articles/new-name"));
    assert_eq!(app.get_ok("/api/v1/articles/new-name").await["data"]["id"], a["id"]);
    assert_eq!(twin["slug"], "taken-2");
    reuse_old.assert_problem(409);
}

async fn revisions_record_changes_and_restore_content(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let (a, etag) = app.create_article(&editor, json!({"title": "First title", "body": "First body"})).await;
    let path = format!("/api/v1/articles/{}", a["id"]);
    let edit = app
        .authed_with(
            "PATCH",
            &path,
            &editor,
            &[("if-match", &etag)],
            Some(&json!({"title": "Second title", "body": "Second body"})),
        )
        .await;
    let etag = edit.header("etag").unwrap().to_owned();
    let noted = app
        .authed_with(
            "PATCH",
            &path,
            &editor,
            &[("if-match", &etag)],
            Some(&json!({"update_note": "Corrected the spelling of a name."})),
        )
        .await;

    let revs = app.authed("GET", &format!("{path}/revisions"), &editor, None).await.json();

    assert_eq!(revs["meta"]["total"], 3);
    let changed: Vec<Vec<String>> = revs["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_value(r["changed_fields"].clone()).unwrap())
        .collect();
    assert_eq!(changed[0], vec!["update_notes"]);
    assert!(changed[1].contains(&"title".to_owned()) && changed[1].contains(&"body_source".to_owned()), "{changed:?}");
    let notes = &noted.json()["data"]["update_notes"];
    assert_eq!(notes[0]["note"], "Corrected the spelling of a name.");
    assert!(notes[0]["created_at"].as_str().unwrap().ends_with('Z'));
    let first = revs["data"][2]["id"].as_i64().unwrap();
    let no_tag = app.authed("POST", &format!("{path}/revisions/{first}/restore"), &editor, None).await;
    no_tag.assert_problem(428);
    let current = app.authed("GET", &path, &editor, None).await.header("etag").unwrap().to_owned();
    let restored = app
        .authed_with("POST", &format!("{path}/revisions/{first}/restore"), &editor, &[("if-match", &current)], None)
        .await;
    assert_eq!(restored.status.as_u16(), 200, "{}", String::from_utf8_lossy(&restored.body));
    assert_eq!(restored.json()["data"]["title"], "First title");
    assert!(restored.json()["data"]["body_html"].as_str().unwrap().contains("First body"));
    let current = restored.header("etag").unwrap().to_owned();
    app.authed_with("POST", &format!("{path}/revisions/999999/restore"), &editor, &[("if-match", &current)], None)
        .await
        .assert_problem(404);
    let stranger = app.token_for("author").await;
    app.authed("GET", &format!("{path}/revisions"), &stranger, None).await.assert_problem(404);
}

async fn who_sees_and_edits_which_drafts_follows_the_roles(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let author = app.token_for("author").await;
    let other = app.token_for("author").await;
    let editor = app.token_for("editor").await;
    let (mine, mine_tag) = app.create_article(&author, json!({"title": "My draft"})).await;
    let (theirs, _) = app.create_article(&other, json!({"title": "Their draft"})).await;
    let (published, pub_tag) = app.create_article(&other, json!({"title": "Their story", "status": "published"})).await;

    let my_drafts = app.authed("GET", "/api/v1/articles?status=draft", &author, None).await.json();
    let editor_drafts = app.authed("GET", "/api/v1/articles?status=draft", &editor, None).await.json();
    let anonymous_drafts = app.get("/api/v1/articles?status=draft").await;
    let peek = app.authed("GET", &format!("/api/v1/articles/{}", theirs["id"]), &author, None).await;
    let edit_theirs = app
        .authed_with(
            "PATCH",
            &format!("/api/v1/articles/{}", published["id"]),
            &author,
            &[("if-match", &pub_tag)],
            Some(&json!({"title": "Mine now"})),
        )
        .await;
    let publish_own = app
        .authed_with(
            "PATCH",
            &format!("/api/v1/articles/{}", mine["id"]),
            &author,
            &[("if-match", &mine_tag)],
            Some(&json!({"status": "published"})),
        )
        .await;

    let ids = |v: &Value| v["data"].as_array().unwrap().iter().map(|a| a["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&my_drafts), vec![mine["id"].clone()]);
    assert_eq!(editor_drafts["meta"]["total"], 2);
    anonymous_drafts.assert_problem(401);
    peek.assert_problem(404);
    edit_theirs.assert_problem(403);
    assert_eq!(publish_own.status.as_u16(), 200);
    assert_eq!(publish_own.json()["data"]["status"], "published");
    let key = {
        let admin = app.token_for("admin").await;
        app.authed("POST", "/api/v1/api-keys", &admin, Some(&json!({"name": "site", "kind": "content"}))).await.json()
            ["data"]["key"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    app.send("GET", "/api/v1/articles?status=draft", &[("x-api-key", &key)], None).await;
    let key_drafts = app.send("GET", "/api/v1/articles?status=any", &[("x-api-key", &key)], None).await.json();
    assert_eq!(key_drafts["meta"]["total"], 2, "content keys see published content only");
}

async fn article_writes_reject_bad_input(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let cases = [
        (json!({"title": ""}), 400, Some("title")),
        (json!({"title": "x", "canonical_url": "javascript:alert(1)"}), 400, Some("canonical_url")),
        (json!({"title": "x", "slug": "Bad Slug"}), 400, Some("slug")),
        (json!({"title": "x", "bylines": []}), 400, Some("bylines")),
        (json!({"title": "x", "status": "scheduled"}), 400, Some("published_at")),
        (
            json!({"title": "x", "status": "published", "published_at": "2999-01-01T00:00:00Z"}),
            400,
            Some("published_at"),
        ),
        (json!({"title": "x", "status": "bogus"}), 400, Some("status")),
        (json!({"title": "x", "body_format": "rtf"}), 400, Some("body_format")),
        (json!({"title": "x", "owner_id": 1}), 400, Some("owner_id")),
        (json!({"title": "x", "version": 7}), 400, Some("version")),
        (json!({"title": "x", "bylines": [999999]}), 422, None),
        (json!({"title": "x", "tags": [999999]}), 422, None),
        (json!({"title": "x", "featured_media_id": 999999}), 422, None),
        (json!({"title": "x", "status": "archived"}), 422, None),
        // Regressions: SQLite's bound-variable limit gave a 500; deep nesting
        // took minutes to render. (`"- "` repeated is one thematic break and
        // `<table>` repeated closes each table at the next: both cheap, so
        // accepted; these nest.)
        (json!({"title": "x", "tags": (1..40000).collect::<Vec<i64>>()}), 400, Some("tags")),
        (json!({"title": "x", "body": "* - ".repeat(10000)}), 400, Some("body")),
        (json!({"title": "x", "body": "<div>".repeat(10000), "body_format": "html"}), 400, Some("body")),
    ];
    for (body, status, field) in cases {
        let res = app.authed("POST", "/api/v1/articles", &editor, Some(&body)).await;
        let problem = res.assert_problem(status);
        if let Some(f) = field {
            assert_eq!(problem["errors"][0]["field"], f, "{}", &body.to_string()[..body.to_string().len().min(200)]);
        }
    }
    let list = app.authed("GET", "/api/v1/articles?status=any", &editor, None).await.json();
    assert_eq!(list["meta"]["total"], 0, "nothing half-written");
    let unknown =
        app.authed("POST", "/api/v1/articles", &editor, Some(&json!({"title": "x", "bylines": [99999]}))).await;
    assert_eq!(unknown.assert_problem(422)["errors"][0]["field"], "bylines");
    let long = json!({"title": "x".repeat(300)});
    let (first, _) = app.create_article(&editor, long.clone()).await;
    let (second, _) = app.create_article(&editor, long).await;
    assert_ne!(first["slug"], second["slug"]);
    assert!(second["slug"].as_str().unwrap().len() <= 200);
}

async fn search_filters_sorts_and_sparse_fieldsets_work(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    let search = app.get_ok("/api/v1/articles?q=sticky&sort=relevance").await;
    let in_parent = app.get_ok("/api/v1/articles?category=parent-category&per_page=100").await;
    let only_child = app.get_ok("/api/v1/articles?category=child-category-01&per_page=100").await;
    let window = app
        .get_ok(
            "/api/v1/articles?published_after=2012-01-01T00:00:00Z&published_before=2012-12-31T23:59:59Z&per_page=100",
        )
        .await;
    let sparse = app.get_ok("/api/v1/articles?fields=title,slug&per_page=2").await;
    let with_body = app.get_ok("/api/v1/articles?include=body&per_page=2").await;
    let by_title = app.get_ok("/api/v1/articles?sort=title&per_page=100").await;

    assert!(search["meta"]["total"].as_i64().unwrap() >= 1, "{search}");
    assert!(
        search["data"][0]["title"].as_str().unwrap().to_lowercase().contains("sticky"),
        "best match first: {search}"
    );
    assert!(in_parent["meta"]["total"].as_i64().unwrap() >= only_child["meta"]["total"].as_i64().unwrap());
    assert!(only_child["meta"]["total"].as_i64().unwrap() >= 1);
    for a in window["data"].as_array().unwrap() {
        assert!(a["published_at"].as_str().unwrap().starts_with("2012"), "{a}");
    }
    let keys: Vec<String> = sparse["data"][0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(with_body["data"][0]["body_html"].is_string());
    assert!(by_title["data"][0]["title"].as_str().unwrap() <= by_title["data"][1]["title"].as_str().unwrap());
    for (query, field) in [
        ("sort=nope", "sort"),
        ("sort=relevance", "sort"),
        ("published_after=yesterday", "published_after"),
        ("fields=password_hash", "fields"),
        ("include=comments", "include"),
        ("status=secret", "status"),
        ("q=", "q"),
    ] {
        let res = app.get(&format!("/api/v1/articles?{query}")).await;
        assert_eq!(res.assert_problem(400)["errors"][0]["field"], field, "{query}");
    }
}

async fn related_articles_share_terms_and_previews_show_drafts(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;

    let related = app.get_ok("/api/v1/articles/template-comments/related?limit=3").await;
    let (draft, _) = app.create_article(&editor, json!({"title": "Embargoed", "body": "Secret"})).await;
    let minted = app.authed("POST", &format!("/api/v1/articles/{}/preview", draft["id"]), &editor, None).await;
    let token = minted.json()["data"]["token"].as_str().unwrap().to_owned();
    let preview = app.get(&format!("/api/v1/previews/{token}")).await;
    let forged = app.get("/api/v1/previews/not-a-token").await;
    let access_as_preview = app.get(&format!("/api/v1/previews/{editor}")).await;

    let items = related["data"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() <= 3);
    assert!(items.iter().all(|a| a["slug"] != "template-comments" && a["status"] == "published"));
    assert_eq!(minted.status.as_u16(), 201);
    assert_eq!(preview.status.as_u16(), 200);
    assert_eq!(preview.header("cache-control"), Some("no-store"));
    assert_eq!(preview.json()["data"]["title"], "Embargoed");
    forged.assert_problem(404);
    let protected = app.get_ok("/api/v1/articles/template-password-protected").await;
    assert!(protected["data"].as_object().unwrap().contains_key("body_html"), "the key is there, null");
    assert!(protected["data"]["body_html"].is_null());
    access_as_preview.assert_problem(404);
    app.get(&format!("/api/v1/articles/{}/related", draft["id"])).await.assert_problem(404);
}

async fn public_reads_are_cacheable_and_private_ones_are_not(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;

    let first = app.get("/api/v1/articles/template-comments").await;
    let etag = first.header("etag").expect("public ETag").to_owned();
    let again = app.send("GET", "/api/v1/articles/template-comments", &[("if-none-match", &etag)], None).await;
    let signed = app.authed("GET", "/api/v1/articles/template-comments", &editor, None).await;
    let version = signed.header("etag").unwrap().to_owned();
    let signed_again = app
        .authed_with("GET", "/api/v1/articles/template-comments", &editor, &[("if-none-match", &version)], None)
        .await;

    assert!(first.header("cache-control").unwrap().starts_with("public, max-age="));
    assert!(first.header("vary").unwrap().contains("Authorization"));
    assert_eq!(again.status.as_u16(), 304);
    assert!(again.body.is_empty());
    assert_eq!(signed.header("cache-control"), Some("private, no-store"));
    assert!(version.starts_with("\"a"), "{version}");
    assert_eq!(signed_again.status.as_u16(), 304);
}

async fn cors_answers_only_allowed_origins(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("CORS_ALLOWED_ORIGINS", "https://www.example.com")]).await else {
        return;
    };
    let Some(closed) = TestApp::spawn(backend).await else { return };

    let allowed = app.send("GET", "/api/v1/articles", &[("origin", "https://www.example.com")], None).await;
    let other = app.send("GET", "/api/v1/articles", &[("origin", "https://evil.example")], None).await;
    let preflight = app
        .send(
            "OPTIONS",
            "/api/v1/articles",
            &[("origin", "https://www.example.com"), ("access-control-request-method", "POST")],
            None,
        )
        .await;
    let off = closed.send("GET", "/api/v1/articles", &[("origin", "https://www.example.com")], None).await;
    let refused = app
        .send(
            "OPTIONS",
            "/api/v1/articles",
            &[("origin", "https://evil.example"), ("access-control-request-method", "POST")],
            None,
        )
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert_eq!(refused.content_type(), "application/problem+json", "even CORS refusals are problems");

    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://www.example.com"));
    assert_eq!(other.header("access-control-allow-origin"), None, "never reflects other origins");
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(off.header("access-control-allow-origin"), None, "CORS is off by default");
}
