//! Articles for front ends (issue 15 §3): post passwords and unlocking,
//! revision snapshots with diffs, byline avatars and embedded author
//! profiles, and `sticky_first`.

use serde_json::{json, Value};

use crate::helpers::{backend_tests, Backend, TestApp};
use crate::media::{jpeg, multipart, BOUNDARY};

backend_tests!(
    an_imported_post_password_is_hashed_and_unlocks_the_body,
    a_password_set_through_the_api_is_write_only_and_unlocks,
    unlock_refuses_bad_input_unprotected_articles_and_hidden_drafts,
    wrong_passwords_are_rate_limited_per_client_and_article,
    a_revision_is_read_in_full_with_a_diff_against_the_current_version,
    revision_reads_need_edit_rights,
    bylines_carry_avatars_with_variants_and_include_authors_embeds_bios,
    include_authors_costs_no_extra_query,
    sticky_first_puts_sticky_articles_first_and_walks_by_cursor,
    sticky_first_refuses_other_sorts_and_bad_values,
);

/// Whether `v` holds the key `password`, a password or a hash anywhere.
fn leaks_password(v: &Value, password: &str) -> bool {
    let text = v.to_string();
    text.contains("\"password\":") || text.contains(password) || text.contains("argon2")
}

async fn an_imported_post_password_is_hashed_and_unlocks_the_body(backend: Backend) {
    // Arrange: the fixture's "Template: Password Protected" has password "enter".
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let path = "/api/v1/articles/template-password-protected";
    let stored: Option<String> = {
        use broadsheet::db::schema::articles;
        use diesel::prelude::*;
        articles::table
            .filter(articles::slug.eq("template-password-protected"))
            .select(articles::password_hash)
            .first(&mut *app.db.conn())
            .unwrap()
    };

    // Act
    let public = app.get_ok(path).await;
    let wrong = app.send("POST", &format!("{path}/unlock"), &[], Some(&json!({"password": "Enter"}))).await;
    let right = app.send("POST", &format!("{path}/unlock"), &[], Some(&json!({"password": "enter"}))).await;

    // Assert
    let stored = stored.expect("the imported password is stored");
    assert!(stored.starts_with("$argon2id$"), "hashed, not plain: {stored}");
    assert!(public["data"]["body_html"].is_null(), "the body is withheld: {public}");
    let problem = wrong.assert_problem(403);
    assert_eq!(problem["errors"][0]["field"], "password", "{problem}");
    assert_eq!(right.status.as_u16(), 200, "{}", String::from_utf8_lossy(&right.body));
    assert_eq!(right.header("cache-control"), Some("no-store"));
    assert!(right.header("ratelimit-policy").is_some_and(|p| p.contains("unlock-client")));
    let data = &right.json()["data"];
    assert_eq!(data["id"], public["data"]["id"]);
    assert!(data["body_html"].as_str().unwrap().contains("password"), "the body is served: {data}");
    assert!(data["word_count"].as_i64().unwrap() > 0);
}

async fn a_password_set_through_the_api_is_write_only_and_unlocks(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let (created, etag) = app
        .create_article(
            &editor,
            json!({"title": "Members only", "body": "The secret ballot count was 42 zebras.", "status": "published",
                   "password": "s3same"}),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/articles/{id}");

    // Act
    let public = app.get_ok(&path).await;
    let list = app.get_ok("/api/v1/articles?include=body").await;
    let search = app.get_ok("/api/v1/articles?q=zebras").await;
    let feed = app.get("/feeds/rss").await;
    let unlocked = app.send("POST", &format!("{path}/unlock"), &[], Some(&json!({"password": "s3same"}))).await;
    let changed =
        app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"password": "other one"}))).await;
    let etag2 = changed.header("etag").unwrap().to_owned();
    let old_pw = app.send("POST", &format!("{path}/unlock"), &[], Some(&json!({"password": "s3same"}))).await;
    let new_pw = app.send("POST", &format!("{path}/unlock"), &[], Some(&json!({"password": "other one"}))).await;
    let cleared =
        app.authed_with("PATCH", &path, &editor, &[("if-match", &etag2)], Some(&json!({"password": null}))).await;
    let open = app.get_ok(&path).await;
    let not_protected = app.send("POST", &format!("{path}/unlock"), &[], Some(&json!({"password": "s3same"}))).await;

    // Assert
    assert!(!leaks_password(&json!([created, public, list]), "s3same"), "never returned");
    assert_eq!(created["password_protected"], true);
    assert!(public["data"]["body_html"].is_null() && public["data"]["excerpt"].is_null(), "{public}");
    assert!(list["data"][0]["body_html"].is_null(), "no body in lists: {list}");
    assert_eq!(search["meta"]["total"], 0, "a protected body is not searchable: {search}");
    assert_eq!(feed.status.as_u16(), 200);
    assert!(!String::from_utf8_lossy(&feed.body).contains("zebras"), "nor in feeds");
    assert_eq!(unlocked.status.as_u16(), 200, "{}", String::from_utf8_lossy(&unlocked.body));
    assert!(unlocked.json()["data"]["body_html"].as_str().unwrap().contains("42 zebras"));
    assert_eq!(changed.status.as_u16(), 200, "{}", String::from_utf8_lossy(&changed.body));
    assert_ne!(etag2, etag, "a new password is a new version");
    old_pw.assert_problem(403);
    assert_eq!(new_pw.status.as_u16(), 200);
    assert_eq!(cleared.status.as_u16(), 200, "{}", String::from_utf8_lossy(&cleared.body));
    assert_eq!(open["data"]["password_protected"], false);
    assert!(open["data"]["body_html"].as_str().unwrap().contains("42 zebras"));
    not_protected.assert_problem(409);
}

async fn unlock_refuses_bad_input_unprotected_articles_and_hidden_drafts(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let (draft, etag) =
        app.create_article(&editor, json!({"title": "Draft", "body": "Hidden", "password": "pw"})).await;
    let path = format!("/api/v1/articles/{}", draft["id"]);

    // Act + Assert: bad bodies and passwords are 400 naming the field.
    for (body, field) in [
        (json!({"password": ""}), "password"),
        (json!({"password": "x".repeat(256)}), "password"),
        (json!({"password": "a\u{0}b"}), "password"),
        (json!({"password": 7}), "password"),
        (json!({}), "password"),
    ] {
        let res = app.send("POST", &format!("{path}/unlock"), &[], Some(&body)).await;
        let problem = res.assert_problem(400);
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let unknown = app.send("POST", &format!("{path}/unlock"), &[], Some(&json!({"password": "pw", "x": 1}))).await;
    unknown.assert_problem(400);
    // A draft is not found for the public, whatever the password.
    let hidden = app.send("POST", &format!("{path}/unlock"), &[], Some(&json!({"password": "pw"}))).await;
    hidden.assert_problem(404);
    // Its editor may unlock it (and reads the body anyway).
    let as_editor = app.authed("POST", &format!("{path}/unlock"), &editor, Some(&json!({"password": "pw"}))).await;
    assert_eq!(as_editor.status.as_u16(), 200, "{}", String::from_utf8_lossy(&as_editor.body));
    // Passwords are checked on create and update too.
    let bad_create =
        app.authed("POST", "/api/v1/articles", &editor, Some(&json!({"title": "T", "password": ""}))).await;
    assert_eq!(bad_create.assert_problem(400)["errors"][0]["field"], "password");
    let bad_update =
        app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"password": "\u{0}"}))).await;
    assert_eq!(bad_update.assert_problem(400)["errors"][0]["field"], "password");
    let missing = app.send("POST", "/api/v1/articles/999999/unlock", &[], Some(&json!({"password": "pw"}))).await;
    missing.assert_problem(404);
}

async fn wrong_passwords_are_rate_limited_per_client_and_article(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let mut paths = Vec::new();
    for title in ["One", "Two"] {
        let (a, _) = app
            .create_article(&editor, json!({"title": title, "body": "b", "status": "published", "password": "right"}))
            .await;
        paths.push(format!("/api/v1/articles/{}/unlock", a["id"]));
    }
    let wrong = json!({"password": "wrong"});
    let right = json!({"password": "right"});

    // Act
    let mut statuses = Vec::new();
    for _ in 0..broadsheet::http::limit::UNLOCK_PER_CLIENT_ARTICLE {
        statuses.push(app.send("POST", &paths[0], &[], Some(&wrong)).await.status.as_u16());
    }
    let limited = app.send("POST", &paths[0], &[], Some(&right)).await;
    let other_article = app.send("POST", &paths[1], &[], Some(&right)).await;

    // Assert
    assert!(statuses.iter().all(|s| *s == 403), "{statuses:?}");
    let problem = limited.assert_problem(429);
    assert!(limited.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s > 0), "{problem}");
    assert!(limited.header("ratelimit").is_some_and(|v| v.contains("unlock-article")));
    assert_eq!(other_article.status.as_u16(), 200, "another article is not locked by this one's failures");
}

async fn a_revision_is_read_in_full_with_a_diff_against_the_current_version(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let (a, etag) = app.create_article(&editor, json!({"title": "First title", "body": "One"})).await;
    let path = format!("/api/v1/articles/{}", a["id"]);
    let res = app
        .authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"title": "Second", "sticky": true})))
        .await;
    assert_eq!(res.status.as_u16(), 200);
    let etag2 = res.header("etag").unwrap().to_owned();
    let list = app.get_ok_as(&format!("{path}/revisions"), &editor).await.0;
    let first = list["data"][1]["id"].as_i64().unwrap();
    let latest = list["data"][0]["id"].as_i64().unwrap();

    // Act
    let old = app.authed("GET", &format!("{path}/revisions/{first}"), &editor, None).await;
    let now = app.authed("GET", &format!("{path}/revisions/{latest}"), &editor, None).await;
    let restored = app
        .authed_with(
            "POST",
            &format!("{path}/revisions/{first}/restore"),
            &editor,
            &[("if-match", old.header("etag").unwrap())],
            None,
        )
        .await;

    // Assert
    assert_eq!(old.status.as_u16(), 200, "{}", String::from_utf8_lossy(&old.body));
    assert_eq!(old.header("etag"), Some(etag2.as_str()), "the ETag to restore with");
    let body = old.json();
    let d = &body["data"];
    assert_eq!(d["id"], first);
    assert_eq!(d["changed_fields"], json!(["created"]));
    assert_eq!(d["snapshot"]["title"], "First title");
    assert_eq!(d["snapshot"]["body_source"], "One");
    assert_eq!(d["snapshot"]["sticky"], false);
    assert_eq!(d["current_version"], 2);
    let diff: Vec<(String, Value, Value)> = d["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_owned(), f["revision"].clone(), f["current"].clone()))
        .collect();
    assert_eq!(
        diff,
        vec![
            ("sticky".to_owned(), json!(false), json!(true)),
            ("title".to_owned(), json!("First title"), json!("Second")),
        ],
        "{body}"
    );
    let now = now.json();
    assert_eq!(now["data"]["diff"], json!([]), "the latest revision is the current version: {now}");
    assert_eq!(restored.status.as_u16(), 200, "{}", String::from_utf8_lossy(&restored.body));
    assert_eq!(restored.json()["data"]["title"], "First title");
}

async fn revision_reads_need_edit_rights(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let author = app.token_for("author").await;
    let other = app.token_for("author").await;
    let contributor = app.token_for("contributor").await;
    let editor = app.token_for("editor").await;
    let (a, _) = app.create_article(&author, json!({"title": "Mine", "body": "b", "status": "published"})).await;
    let (draft, _) = app.create_article(&author, json!({"title": "My draft", "body": "b"})).await;
    let path = format!("/api/v1/articles/{}", a["id"]);
    let rev = app.get_ok_as(&format!("{path}/revisions"), &author).await.0["data"][0]["id"].as_i64().unwrap();
    let rev_path = format!("{path}/revisions/{rev}");

    // Act + Assert
    assert_eq!(app.authed("GET", &rev_path, &author, None).await.status.as_u16(), 200, "the owner reads it");
    assert_eq!(app.authed("GET", &rev_path, &editor, None).await.status.as_u16(), 200, "an editor reads it");
    app.get(&rev_path).await.assert_problem(401);
    app.authed("GET", &rev_path, &other, None).await.assert_problem(403);
    app.authed("GET", &rev_path, &contributor, None).await.assert_problem(403);
    let hidden = format!("/api/v1/articles/{}/revisions/{rev}", draft["id"]);
    app.authed("GET", &hidden, &other, None).await.assert_problem(404);
    // A revision of another article is not this article's.
    let draft_rev = app.get_ok_as(&format!("/api/v1/articles/{}/revisions", draft["id"]), &author).await.0["data"][0]
        ["id"]
        .as_i64()
        .unwrap();
    app.authed("GET", &format!("{path}/revisions/{draft_rev}"), &author, None).await.assert_problem(404);
    for bad in ["0", "007", "x", "-1"] {
        let p = app.authed("GET", &format!("{path}/revisions/{bad}"), &author, None).await.assert_problem(400);
        assert_eq!(p["errors"][0]["field"], "rev", "{bad}: {p}");
    }
}

async fn bylines_carry_avatars_with_variants_and_include_authors_embeds_bios(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let author = app.token_for("author").await;
    let auth = format!("Bearer {author}");
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let photo = jpeg(900, 900);
    let up = app
        .send_bytes(
            "POST",
            "/api/v1/media",
            &[("authorization", &auth), ("content-type", &ct)],
            multipart(&[("file", Some("me.jpg"), Some("image/jpeg"), &photo)]),
        )
        .await;
    assert_eq!(up.status.as_u16(), 201, "{}", String::from_utf8_lossy(&up.body));
    let media = up.json()["data"].clone();
    app.run_jobs().await;
    let res = app
        .authed(
            "PATCH",
            "/api/v1/authors/me",
            &author,
            Some(
                &json!({"avatar_media_id": media["id"], "bio": "Covers the courts.", "website": "https://me.example"}),
            ),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    app.create_article(&author, json!({"title": "Court report", "body": "b", "status": "published"})).await;

    // Act
    let plain = app.get_ok("/api/v1/articles").await;
    let embedded = app.get_ok("/api/v1/articles?include=authors,body").await;
    let single = app.get_ok("/api/v1/articles/court-report").await;
    let bad = app.get("/api/v1/articles?include=authors,bios").await;

    // Assert
    let byline = &plain["data"][0]["bylines"][0];
    assert_eq!(byline["avatar"]["media_id"], media["id"], "{byline}");
    assert!(byline["avatar"]["url"].as_str().unwrap().ends_with(&format!("/api/v1/media/{}/file", media["id"])));
    let sizes: Vec<&str> =
        byline["avatar"]["sizes"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(sizes.contains(&"w320") && sizes.last() == Some(&"original"), "sized variants: {sizes:?}");
    assert!(byline.get("profile").is_none(), "no bio without include=authors: {byline}");
    let embedded_byline = &embedded["data"][0]["bylines"][0];
    assert_eq!(embedded_byline["profile"]["bio"], "Covers the courts.");
    assert_eq!(embedded_byline["profile"]["website"], "https://me.example");
    assert!(embedded["data"][0]["body_html"].is_string(), "include lists combine");
    assert_eq!(single["data"]["bylines"][0]["profile"]["bio"], "Covers the courts.");
    assert_eq!(bad.assert_problem(400)["errors"][0]["field"], "include");
}

async fn include_authors_costs_no_extra_query(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let _warm = app.get_ok("/api/v1/articles?per_page=1").await;

    let before = app.db.queries.get();
    let small = app.get_ok("/api/v1/articles?per_page=1&include=authors").await;
    let after_small = app.db.queries.get();
    let large = app.get_ok("/api/v1/articles?per_page=100&include=authors").await;
    let after_large = app.db.queries.get();
    let _plain = app.get_ok("/api/v1/articles?per_page=100").await;
    let after_plain = app.db.queries.get();

    assert_eq!(small["data"].as_array().unwrap().len(), 1);
    assert_eq!(large["data"].as_array().unwrap().len(), 56);
    assert!(large["data"][0]["bylines"][0]["profile"].is_object(), "{}", large["data"][0]);
    let (q_small, q_large, q_plain) = (after_small - before, after_large - after_small, after_plain - after_large);
    // The media query is sent only when some item has an image: the newest
    // post has none, the 56 include some (see articles.rs).
    assert!(small["data"][0]["featured_media"].is_null(), "{small}");
    assert_eq!(q_small + 1, q_large, "1 item cost {q_small} queries, 56 items cost {q_large}");
    assert_eq!(q_large, q_plain, "include=authors cost {q_large} queries, a plain list {q_plain}");
}

fn ids(body: &Value) -> Vec<i64> {
    body["data"].as_array().expect("data array").iter().map(|a| a["id"].as_i64().unwrap()).collect()
}

fn next_link(link: Option<&str>) -> Option<String> {
    link?.split(", ").find(|l| l.ends_with("rel=\"next\"")).map(|l| {
        let url = l.trim_start_matches('<').split('>').next().unwrap();
        url.trim_start_matches("http://broadsheet.test").to_owned()
    })
}

async fn sticky_first_puts_sticky_articles_first_and_walks_by_cursor(backend: Backend) {
    // Arrange: the fixture has one sticky post; make an older one sticky too.
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;
    let plain = app.get_ok("/api/v1/articles?per_page=100").await;
    let oldest = plain["data"].as_array().unwrap().last().unwrap()["id"].as_i64().unwrap();
    let (_, etag) = app.get_ok_as(&format!("/api/v1/articles/{oldest}"), &editor).await;
    let res = app
        .authed_with(
            "PATCH",
            &format!("/api/v1/articles/{oldest}"),
            &editor,
            &[("if-match", &etag)],
            Some(&json!({"sticky": true})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);

    // Act
    let sticky = app.get_ok("/api/v1/articles?per_page=100&sticky_first=true").await;
    let first = app.get("/api/v1/articles?per_page=7&sticky_first=true&after=start").await;
    let mut walked = ids(&first.json());
    let mut next = next_link(first.header("link"));
    let mut pages = 1;
    while let Some(p) = next {
        let res = app.get(&p).await;
        assert_eq!(res.status.as_u16(), 200, "{p}: {}", String::from_utf8_lossy(&res.body));
        walked.extend(ids(&res.json()));
        next = next_link(res.header("link"));
        pages += 1;
        assert!(pages < 50);
    }
    let page2 = app.get_ok("/api/v1/articles?per_page=2&page=2&sticky_first=true").await;

    // Assert
    let flags: Vec<bool> = sticky["data"].as_array().unwrap().iter().map(|a| a["sticky"].as_bool().unwrap()).collect();
    assert_eq!(flags.iter().filter(|s| **s).count(), 2, "two sticky articles");
    assert!(flags[0] && flags[1] && !flags[2..].iter().any(|s| *s), "sticky first: {flags:?}");
    assert_eq!(sticky["data"][1]["id"], oldest, "sticky ones newest first");
    let all = ids(&sticky);
    assert_eq!(all.len(), 56);
    let mut rest: Vec<i64> = ids(&plain).into_iter().filter(|id| !all[..2].contains(id)).collect();
    rest.dedup();
    assert_eq!(all[2..].to_vec(), rest, "the rest keep the default order");
    assert_eq!(walked, all, "a cursor walk visits the same order");
    assert_eq!(ids(&page2), all[2..4].to_vec(), "page numbers work too");
}

async fn sticky_first_refuses_other_sorts_and_bad_values(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let first = app.get("/api/v1/articles?per_page=5&after=start").await;
    let next = next_link(first.header("link")).unwrap();
    let plain_cursor = next.split("after=").nth(1).unwrap().to_owned();

    for (path, field) in [
        ("/api/v1/articles?sticky_first=true&sort=title".to_owned(), "sticky_first"),
        ("/api/v1/articles?sticky_first=true&sort=published_at".to_owned(), "sticky_first"),
        ("/api/v1/articles?sticky_first=yes".to_owned(), "sticky_first"),
        (format!("/api/v1/articles?sticky_first=true&after={plain_cursor}"), "after"),
    ] {
        let problem = app.get(&path).await.assert_problem(400);
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
    }
    let ok = app.get("/api/v1/articles?sticky_first=false&sort=title").await;
    assert_eq!(ok.status.as_u16(), 200);
}
