//! Issue 10, "bylines and references follow ownership" and the low items:
//! who may byline whom, put articles in series, use whose media; protected
//! bodies out of search; strict URLs; preview links that die with their
//! creator's access; two different credentials at once.

use crate::helpers::{backend_tests, Backend, Response, TestApp};
use crate::media::{jpeg, multipart, BOUNDARY};
use serde_json::{json, Value};

backend_tests!(
    bylines_follow_ownership_for_every_role,
    authors_may_add_coauthors_when_the_setting_allows_it,
    putting_an_article_in_a_series_needs_the_right_to_edit_series,
    featured_images_must_be_ones_own_or_shared,
    protected_bodies_leave_search_and_the_public_word_count,
    urls_with_whitespace_or_control_characters_are_refused,
    preview_links_die_with_their_creators_session_or_access_and_can_be_revoked,
    two_different_credentials_are_a_400_naming_both,
);

/// A user of `role` with a linked author profile: `(author id, token)`.
async fn writer(app: &TestApp, role: &str, name: &str) -> (i64, String) {
    let author = app.create_author(name);
    let email = format!("{name}@example.com");
    app.create_user(&email, role, Some(author));
    let token = app.login(&email).await["access_token"].as_str().unwrap().to_owned();
    (author, token)
}

fn article_count(app: &TestApp) -> i64 {
    use broadsheet::db::schema::articles;
    use diesel::prelude::*;
    articles::table.count().get_result(&mut *app.db.conn()).unwrap()
}

async fn create(app: &TestApp, token: &str, body: Value) -> Response {
    app.authed("POST", "/api/v1/articles", token, Some(&body)).await
}

async fn patch(app: &TestApp, token: &str, id: i64, body: Value) -> Response {
    let etag = app.get_ok_as(&format!("/api/v1/articles/{id}"), token).await.1;
    let auth = format!("Bearer {token}");
    app.send("PATCH", &format!("/api/v1/articles/{id}"), &[("authorization", &auth), ("if-match", &etag)], Some(&body))
        .await
}

async fn upload(app: &TestApp, token: &str) -> i64 {
    let auth = format!("Bearer {token}");
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let body = multipart(&[("file", Some("p.jpg"), Some("image/jpeg"), &jpeg(64, 48))]);
    let res = app.send_bytes("POST", "/api/v1/media", &[("authorization", &auth), ("content-type", &ct)], body).await;
    assert_eq!(res.status.as_u16(), 201, "upload: {}", String::from_utf8_lossy(&res.body));
    res.json()["data"]["id"].as_i64().unwrap()
}

async fn bylines_follow_ownership_for_every_role(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (c, contributor) = writer(&app, "contributor", "cora").await;
    let (a, author) = writer(&app, "author", "arno").await;
    let (e, editor) = writer(&app, "editor", "ed-itor").await;
    let (_, admin) = writer(&app, "admin", "adele").await;
    let body = json!({"name": "desk", "kind": "admin", "scopes": ["articles:write"]});
    let key = app.authed("POST", "/api/v1/api-keys", &admin, Some(&body)).await.json()["data"]["key"]
        .as_str()
        .unwrap()
        .to_owned();

    // (who, bylines, expected status)
    let cases: Vec<(&str, &str, Vec<i64>, u16)> = vec![
        ("contributor", &contributor, vec![c], 201),
        ("contributor", &contributor, vec![e], 403),
        ("contributor", &contributor, vec![c, a], 403),
        ("author", &author, vec![a], 201),
        ("author", &author, vec![e], 403),
        ("author", &author, vec![a, e], 403),
        ("editor", &editor, vec![a], 201),
        ("editor", &editor, vec![a, c], 201),
        ("admin", &admin, vec![e], 201),
        ("admin key with articles:write", &key, vec![c, e], 201),
    ];
    for (who, token, bylines, expected) in cases {
        let before = article_count(&app);
        let res = create(&app, token, json!({"title": format!("By {who}"), "bylines": bylines})).await;
        assert_eq!(res.status.as_u16(), expected, "{who} bylining {bylines:?}: {}", String::from_utf8_lossy(&res.body));
        if expected == 403 {
            let p = res.assert_problem(403);
            assert!(p["detail"].as_str().unwrap().starts_with("bylines:"), "{p}");
            assert_eq!(article_count(&app), before, "{who}: a refused create stored something");
        }
    }

    // The reproduction: an author publishes under an editor's name only.
    let forged = create(&app, &author, json!({"title": "Ed says", "bylines": [e], "status": "published"})).await;
    forged.assert_problem(403);
    let public = app.get_ok("/api/v1/articles?per_page=100").await;
    assert!(public["data"].as_array().unwrap().iter().all(|x| x["title"] != "Ed says"));

    // Co-authors an editor added stay when the author edits, and may stay
    // when the author changes bylines; the author cannot add new ones.
    let (own, _) = app.create_article(&author, json!({"title": "Joint work"})).await;
    let id = own["id"].as_i64().unwrap();
    let added = patch(&app, &editor, id, json!({"bylines": [a, e]})).await;
    assert_eq!(added.status.as_u16(), 200, "{}", String::from_utf8_lossy(&added.body));
    let edited = patch(&app, &author, id, json!({"title": "Joint work, revised"})).await;
    assert_eq!(edited.status.as_u16(), 200, "{}", String::from_utf8_lossy(&edited.body));
    let reordered = patch(&app, &author, id, json!({"bylines": [e, a]})).await;
    assert_eq!(reordered.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reordered.body));
    patch(&app, &author, id, json!({"bylines": [e, a, c]})).await.assert_problem(403);
    // Taking oneself off, leaving the editor's name alone, is the forgery again.
    let p = patch(&app, &author, id, json!({"bylines": [e], "status": "published"})).await.assert_problem(403);
    assert!(p["detail"].as_str().unwrap().contains("take yourself"), "{p}");
    let now = app.get_ok_as(&format!("/api/v1/articles/{id}"), &editor).await.0;
    let names: Vec<&str> =
        now["data"]["bylines"].as_array().unwrap().iter().map(|b| b["slug"].as_str().unwrap()).collect();
    assert_eq!(names, ["ed-itor", "arno"]);

    // A contributor's draft: only themselves.
    let (draft, _) = app.create_article(&contributor, json!({"title": "Cora's draft"})).await;
    patch(&app, &contributor, draft["id"].as_i64().unwrap(), json!({"bylines": [a]})).await.assert_problem(403);
}

async fn authors_may_add_coauthors_when_the_setting_allows_it(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("AUTHORS_MAY_ADD_COAUTHORS", "true")]).await else { return };
    let (a, author) = writer(&app, "author", "arno").await;
    let (e, _) = writer(&app, "editor", "ed-itor").await;
    let (c, contributor) = writer(&app, "contributor", "cora").await;

    let joint = create(&app, &author, json!({"title": "Joint", "bylines": [a, e]})).await;
    let without_self = create(&app, &author, json!({"title": "Ghost", "bylines": [e]})).await;
    let contributor_joint = create(&app, &contributor, json!({"title": "Cora joint", "bylines": [c, a]})).await;

    assert_eq!(joint.status.as_u16(), 201, "{}", String::from_utf8_lossy(&joint.body));
    without_self.assert_problem(403);
    contributor_joint.assert_problem(403);
}

async fn putting_an_article_in_a_series_needs_the_right_to_edit_series(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, author) = writer(&app, "author", "arno").await;
    let (_, editor) = writer(&app, "editor", "ed-itor").await;
    let series = app.authed("POST", "/api/v1/series", &editor, Some(&json!({"title": "Budget week"}))).await;
    assert_eq!(series.status.as_u16(), 201, "{}", String::from_utf8_lossy(&series.body));
    let sid = series.json()["data"]["id"].as_i64().unwrap();
    let own_series = app.authed("POST", "/api/v1/series", &author, Some(&json!({"title": "Mine"}))).await;

    let before = article_count(&app);
    let into_series = create(&app, &author, json!({"title": "Sneaky", "series_id": sid})).await;
    let (art, _) = app.create_article(&author, json!({"title": "Day one"})).await;
    let id = art["id"].as_i64().unwrap();
    let patched_in = patch(&app, &author, id, json!({"series_id": sid, "series_position": 1})).await;
    let editor_puts_it_in = patch(&app, &editor, id, json!({"series_id": sid, "series_position": 1})).await;
    let author_edits_title = patch(&app, &author, id, json!({"title": "Day one, updated"})).await;
    let author_takes_it_out = patch(&app, &author, id, json!({"series_id": null})).await;
    let author_moves_it = patch(&app, &author, id, json!({"series_position": 2})).await;

    own_series.assert_problem(403);
    let p = into_series.assert_problem(403);
    assert!(p["detail"].as_str().unwrap().starts_with("series_id:"), "{p}");
    assert_eq!(article_count(&app), before + 1, "only the plain article was stored");
    patched_in.assert_problem(403);
    assert_eq!(editor_puts_it_in.status.as_u16(), 200, "{}", String::from_utf8_lossy(&editor_puts_it_in.body));
    assert_eq!(author_edits_title.status.as_u16(), 200, "{}", String::from_utf8_lossy(&author_edits_title.body));
    author_takes_it_out.assert_problem(403);
    author_moves_it.assert_problem(403);
    let now = app.get_ok_as(&format!("/api/v1/articles/{id}"), &editor).await.0;
    assert_eq!(now["data"]["series"]["id"], sid);
    assert_eq!(now["data"]["series"]["position"], 1);
}

async fn featured_images_must_be_ones_own_or_shared(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, author) = writer(&app, "author", "arno").await;
    let (_, other) = writer(&app, "author", "bea").await;
    let (_, contributor) = writer(&app, "contributor", "cora").await;
    let (_, editor) = writer(&app, "editor", "ed-itor").await;
    let editors_photo = upload(&app, &editor).await;
    let beas_photo = upload(&app, &other).await;
    let own_photo = upload(&app, &author).await;

    let before = article_count(&app);
    let editors = create(&app, &author, json!({"title": "A", "featured_media_id": editors_photo})).await;
    let beas = create(&app, &author, json!({"title": "B", "og_image_media_id": beas_photo})).await;
    let contributors = create(&app, &contributor, json!({"title": "C", "featured_media_id": own_photo})).await;
    assert_eq!(article_count(&app), before, "refused creates stored nothing");
    let own = create(&app, &author, json!({"title": "D", "featured_media_id": own_photo})).await;
    let editor_uses_any = create(&app, &editor, json!({"title": "E", "featured_media_id": beas_photo})).await;

    // Bea shares her photo: now anyone on staff may use it.
    let share =
        app.authed("PATCH", &format!("/api/v1/media/{beas_photo}"), &other, Some(&json!({"shared": true}))).await;
    let not_owner_shares =
        app.authed("PATCH", &format!("/api/v1/media/{editors_photo}"), &author, Some(&json!({"shared": true}))).await;
    let null_shared =
        app.authed("PATCH", &format!("/api/v1/media/{beas_photo}"), &other, Some(&json!({"shared": null}))).await;
    let shared_use = create(&app, &contributor, json!({"title": "F", "featured_media_id": beas_photo})).await;

    let p = editors.assert_problem(403);
    assert!(p["detail"].as_str().unwrap().starts_with("featured_media_id:"), "{p}");
    let p = beas.assert_problem(403);
    assert!(p["detail"].as_str().unwrap().starts_with("og_image_media_id:"), "{p}");
    contributors.assert_problem(403);
    assert_eq!(own.status.as_u16(), 201, "{}", String::from_utf8_lossy(&own.body));
    assert_eq!(editor_uses_any.status.as_u16(), 201, "{}", String::from_utf8_lossy(&editor_uses_any.body));
    assert_eq!(share.status.as_u16(), 200, "{}", String::from_utf8_lossy(&share.body));
    assert_eq!(share.json()["data"]["shared"], true);
    not_owner_shares.assert_problem(403);
    assert_eq!(null_shared.assert_problem(400)["errors"][0]["field"], "shared");
    assert_eq!(shared_use.status.as_u16(), 201, "{}", String::from_utf8_lossy(&shared_use.body));

    // Avatars follow the same rule.
    let avatar_other =
        app.authed("PATCH", "/api/v1/authors/me", &author, Some(&json!({"avatar_media_id": editors_photo}))).await;
    let avatar_own =
        app.authed("PATCH", "/api/v1/authors/me", &author, Some(&json!({"avatar_media_id": own_photo}))).await;
    let avatar_missing =
        app.authed("PATCH", "/api/v1/authors/me", &author, Some(&json!({"avatar_media_id": 999_999}))).await;
    assert!(avatar_other.assert_problem(403)["detail"].as_str().unwrap().starts_with("avatar_media_id:"));
    assert_eq!(avatar_own.status.as_u16(), 200, "{}", String::from_utf8_lossy(&avatar_own.body));
    assert_eq!(avatar_missing.assert_problem(422)["errors"][0]["field"], "avatar_media_id");

    // The owner of an unshared photo can still delete it: nobody else could use it.
    let (_, fresh) = writer(&app, "author", "dan").await;
    let dans_photo = upload(&app, &fresh).await;
    create(&app, &author, json!({"title": "G", "featured_media_id": dans_photo})).await.assert_problem(403);
    let deleted = app.authed("DELETE", &format!("/api/v1/media/{dans_photo}"), &fresh, None).await;
    assert_eq!(deleted.status.as_u16(), 204, "{}", String::from_utf8_lossy(&deleted.body));
}

async fn protected_bodies_leave_search_and_the_public_word_count(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, editor) = writer(&app, "editor", "ed-itor").await;
    let body =
        json!({"title": "Members briefing", "body": "The quokkalith figures stay secret.", "status": "published"});
    let (art, _) = app.create_article(&editor, body).await;
    let id = art["id"].as_i64().unwrap();
    let found_open = app.get_ok("/api/v1/articles?q=quokkalith").await;
    {
        use broadsheet::db::schema::articles;
        use diesel::prelude::*;
        diesel::update(articles::table.find(id))
            .set(articles::password_protected.eq(true))
            .execute(&mut *app.db.conn())
            .unwrap();
    }

    let found_protected = app.get_ok("/api/v1/articles?q=quokkalith").await;
    let title_search = app.get_ok("/api/v1/articles?q=briefing").await;
    let public = app.get_ok(&format!("/api/v1/articles/{id}")).await;
    let staff = app.get_ok_as(&format!("/api/v1/articles/{id}"), &editor).await.0;

    assert_eq!(found_open["meta"]["total"], 1);
    assert_eq!(found_protected["meta"]["total"], 0, "a protected body is still searchable: {found_protected}");
    assert_eq!(title_search["meta"]["total"], 1, "titles of protected articles stay searchable");
    assert_eq!(public["data"]["word_count"], Value::Null);
    assert_eq!(public["data"]["reading_time_minutes"], Value::Null);
    assert_eq!(public["data"]["body_html"], Value::Null);
    assert_eq!(title_search["data"][0]["word_count"], Value::Null);
    assert_eq!(staff["data"]["word_count"], 5);
}

async fn urls_with_whitespace_or_control_characters_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, editor) = writer(&app, "editor", "ed-itor").await;
    let bad = ["http://a\n.b", "http://a\t.b", "https://news.example/a b", "http://\u{7f}a.b", "http://", "ftp://a.b"];
    for url in bad {
        let before = article_count(&app);
        let res = create(&app, &editor, json!({"title": "Canonical", "canonical_url": url})).await;
        assert_eq!(res.assert_problem(400)["errors"][0]["field"], "canonical_url", "{url:?}");
        assert_eq!(article_count(&app), before, "{url:?} stored an article");
        let profile = app.authed("PATCH", "/api/v1/authors/me", &editor, Some(&json!({"website": url}))).await;
        assert_eq!(profile.assert_problem(400)["errors"][0]["field"], "website", "{url:?}");
    }
    let good =
        create(&app, &editor, json!({"title": "Canonical", "canonical_url": "https://news.example/a?b=c#d"})).await;
    assert_eq!(good.status.as_u16(), 201, "{}", String::from_utf8_lossy(&good.body));
}

async fn preview_links_die_with_their_creators_session_or_access_and_can_be_revoked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, author) = writer(&app, "author", "arno").await;
    let (_, other) = writer(&app, "author", "bea").await;
    let (_, editor) = writer(&app, "editor", "ed-itor").await;
    let (draft, _) = app.create_article(&author, json!({"title": "Embargoed"})).await;
    let id = draft["id"].as_i64().unwrap();
    let mint = |token: String| {
        let app = &app;
        async move {
            let res = app.authed("POST", &format!("/api/v1/articles/{id}/preview"), &token, None).await;
            assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
            let t = res.json()["data"]["token"].as_str().unwrap().to_owned();
            assert!(t.starts_with("bsp_"), "{t}");
            format!("/api/v1/previews/{t}")
        }
    };

    // Logout ends the author's link; the editor's stays.
    let by_author = mint(author.clone()).await;
    let by_editor = mint(editor.clone()).await;
    assert_eq!(app.get(&by_author).await.status.as_u16(), 200);
    let out = app.authed("POST", "/api/v1/auth/logout", &author, None).await;
    assert_eq!(out.status.as_u16(), 204);
    app.get(&by_author).await.assert_problem(404);
    assert_eq!(app.get(&by_editor).await.status.as_u16(), 200);

    // Losing the right to edit ends it too: the editor is demoted to author
    // (not the article's owner), then re-promoted, and the link stays dead
    // only while access is gone.
    {
        use broadsheet::db::schema::users;
        use diesel::prelude::*;
        diesel::update(users::table.filter(users::email.eq("ed-itor@example.com")))
            .set(users::role.eq("author"))
            .execute(&mut *app.db.conn())
            .unwrap();
    }
    app.get(&by_editor).await.assert_problem(404);
    {
        use broadsheet::db::schema::users;
        use diesel::prelude::*;
        diesel::update(users::table.filter(users::email.eq("ed-itor@example.com")))
            .set(users::role.eq("editor"))
            .execute(&mut *app.db.conn())
            .unwrap();
    }
    assert_eq!(app.get(&by_editor).await.status.as_u16(), 200);

    // DELETE revokes every link of the article; others may not revoke.
    let not_theirs = app.authed("DELETE", &format!("/api/v1/articles/{id}/preview"), &other, None).await;
    let anonymous = app.send("DELETE", &format!("/api/v1/articles/{id}/preview"), &[], None).await;
    let revoked = app.authed("DELETE", &format!("/api/v1/articles/{id}/preview"), &editor, None).await;

    assert!(matches!(not_theirs.status.as_u16(), 403 | 404), "{}", not_theirs.status);
    not_theirs.assert_problem(not_theirs.status.as_u16());
    anonymous.assert_problem(401);
    assert_eq!(revoked.status.as_u16(), 204);
    app.get(&by_editor).await.assert_problem(404);
    let fresh = mint(editor.clone()).await;
    assert_eq!(app.get(&fresh).await.status.as_u16(), 200, "new links work after a revocation");
    app.get("/api/v1/previews/bsp_not-a-token").await.assert_problem(404);
}

async fn two_different_credentials_are_a_400_naming_both(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    let key =
        app.authed("POST", "/api/v1/api-keys", &admin, Some(&json!({"name": "site", "kind": "content"}))).await.json()
            ["data"]["key"]
            .as_str()
            .unwrap()
            .to_owned();
    let bearer = format!("Bearer {admin}");
    let key_bearer = format!("Bearer {key}");

    let both = app.send("GET", "/api/v1/auth/me", &[("authorization", &bearer), ("x-api-key", &key)], None).await;
    let both_public =
        app.send("GET", "/api/v1/articles", &[("authorization", &bearer), ("x-api-key", &key)], None).await;
    let same = app.send("GET", "/api/v1/articles", &[("authorization", &key_bearer), ("x-api-key", &key)], None).await;

    let p = both.assert_problem(400);
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["Authorization", "X-Api-Key"]);
    both_public.assert_problem(400);
    assert_eq!(same.status.as_u16(), 200, "the same credential twice is one credential");
}
