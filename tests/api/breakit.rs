//! Regressions from the break-it pass over the new endpoints: each scenario
//! is one thing a newcomer or an attacker could do that answered wrongly.

use serde_json::json;

use crate::helpers::{backend_tests, Backend, TestApp, TestDb};

backend_tests!(
    a_webhook_body_with_a_nul_or_a_wrong_type_is_a_400_naming_the_field,
    a_taken_slug_or_email_is_a_409_that_names_the_field,
    an_anonymous_read_never_gets_a_content_keys_cached_answer,
    a_renamed_category_or_merged_tag_keeps_its_feed_with_a_301,
    a_known_commenters_address_without_their_reader_token_is_not_auto_approved,
    webhook_urls_in_deprecated_ipv6_ranges_are_refused_naming_url,
    concurrent_moves_never_make_a_category_cycle,
    reciprocal_tag_merges_at_once_answer_200_or_a_422_naming_into,
);

async fn a_webhook_body_with_a_nul_or_a_wrong_type_is_a_400_naming_the_field(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let app = TestApp::serve(db, &[("WEBHOOK_ALLOW_LOOPBACK", "true")]);
    let admin = app.token_for("admin").await;
    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["article.published"]});
    let created = app.authed("POST", "/api/v1/webhooks", &admin, Some(&hook)).await;
    assert_eq!(created.status.as_u16(), 201, "{}", String::from_utf8_lossy(&created.body));
    let id = created.json()["data"]["id"].as_i64().unwrap();
    let cases = [
        (
            "POST",
            "/api/v1/webhooks".to_owned(),
            {
                let mut b = hook.clone();
                b["description"] = json!("a\u{0}b");
                b
            },
            "description",
        ),
        ("POST", "/api/v1/webhooks".to_owned(), json!({"url": 5, "events": ["article.published"]}), "url"),
        ("PATCH", format!("/api/v1/webhooks/{id}"), json!({"description": "x\u{0}"}), "description"),
        ("PATCH", format!("/api/v1/webhooks/{id}"), json!({"active": "yes"}), "active"),
        ("PATCH", format!("/api/v1/webhooks/{id}"), json!({"events": "article.published"}), "events"),
    ];

    for (method, path, body, field) in cases {
        let res = app.authed(method, &path, &admin, Some(&body)).await;

        let problem = res.assert_problem(400);
        assert_eq!(problem["errors"][0]["field"], field, "{method} {path} {body}: {problem}");
    }
    let (after, _) = app.get_ok_as(&format!("/api/v1/webhooks/{id}"), &admin).await;
    assert_eq!(after["data"]["description"], json!(null), "nothing was half-written");
    assert_eq!(after["data"]["active"], true);
}

async fn a_taken_slug_or_email_is_a_409_that_names_the_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    let user = json!({"email": "dup@example.com", "password": "a long enough passphrase", "role": "author"});
    for (path, body) in [
        ("/api/v1/categories", json!({"name": "Politics"})),
        ("/api/v1/tags", json!({"name": "Budget"})),
        ("/api/v1/pages", json!({"title": "About", "status": "published"})),
        ("/api/v1/users", user.clone()),
    ] {
        let res = app.authed("POST", path, &admin, Some(&body)).await;
        assert_eq!(res.status.as_u16(), 201, "{path}: {}", String::from_utf8_lossy(&res.body));
    }
    let cases = [
        ("POST", "/api/v1/categories", json!({"name": "Other", "slug": "politics"}), "slug"),
        ("POST", "/api/v1/tags", json!({"name": "B", "slug": "budget"}), "slug"),
        ("POST", "/api/v1/pages", json!({"title": "About us", "slug": "about"}), "slug"),
        ("POST", "/api/v1/users", user, "email"),
    ];

    for (method, path, body, field) in cases {
        let res = app.authed(method, path, &admin, Some(&body)).await;

        let problem = res.assert_problem(409);
        assert_eq!(problem["code"], "conflict");
        assert_eq!(problem["errors"][0]["field"], field, "{method} {path}: {problem}");
        assert!(problem["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{problem}");
    }
}

async fn an_anonymous_read_never_gets_a_content_keys_cached_answer(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("CACHE_MAX_MIB", "16")]).await else { return };
    let admin = app.token_for("admin").await;
    let made = app
        .authed("POST", "/api/v1/api-keys", &admin, Some(&json!({"name": "site", "kind": "content", "scopes": []})))
        .await;
    assert_eq!(made.status.as_u16(), 201, "{}", String::from_utf8_lossy(&made.body));
    let key = made.json()["data"]["key"].as_str().expect("key shown once").to_owned();
    let path = "/api/v1/articles?status=draft";

    let keyed = app.send("GET", path, &[("x-api-key", &key)], None).await;
    let keyed_again = app.send("GET", path, &[("x-api-key", &key)], None).await;
    let anonymous = app.get(path).await;

    assert_eq!(keyed.status.as_u16(), 200, "{}", String::from_utf8_lossy(&keyed.body));
    assert_eq!(keyed_again.body, keyed.body);
    let problem = anonymous.assert_problem(401);
    assert!(problem["detail"].as_str().unwrap().contains("status"), "{problem}");
}

async fn a_renamed_category_or_merged_tag_keeps_its_feed_with_a_301(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    for (path, body) in [
        ("/api/v1/categories", json!({"name": "Elections"})),
        ("/api/v1/tags", json!({"name": "Turnout"})),
        ("/api/v1/tags", json!({"name": "Voting"})),
    ] {
        let res = app.authed("POST", path, &editor, Some(&body)).await;
        assert_eq!(res.status.as_u16(), 201, "{path}: {}", String::from_utf8_lossy(&res.body));
    }
    let renamed =
        app.authed("PATCH", "/api/v1/categories/elections", &editor, Some(&json!({"slug": "votes-2026"}))).await;
    assert_eq!(renamed.status.as_u16(), 200, "{}", String::from_utf8_lossy(&renamed.body));
    let merged = app.authed("POST", "/api/v1/tags/turnout/merge", &editor, Some(&json!({"into": "voting"}))).await;
    assert_eq!(merged.status.as_u16(), 200, "{}", String::from_utf8_lossy(&merged.body));

    let category = app.get("/feeds/atom/category/elections").await;
    let tag = app.get("/feeds/json/tag/turnout").await;
    let current = app.get("/feeds/rss/category/votes-2026").await;
    let unknown = app.get("/feeds/rss/tag/never-existed").await;

    assert_eq!(category.status.as_u16(), 301, "{}", String::from_utf8_lossy(&category.body));
    assert_eq!(category.header("location"), Some("/feeds/atom/category/votes-2026"));
    assert_eq!(tag.status.as_u16(), 301, "{}", String::from_utf8_lossy(&tag.body));
    assert_eq!(tag.header("location"), Some("/feeds/json/tag/voting"));
    assert_eq!(current.status.as_u16(), 200, "{}", String::from_utf8_lossy(&current.body));
    assert!(current.content_type().starts_with("application/rss+xml"), "{}", current.content_type());
    unknown.assert_problem(404);
}

async fn a_known_commenters_address_without_their_reader_token_is_not_auto_approved(backend: Backend) {
    use broadsheet::db::schema::readers;
    use diesel::prelude::*;
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let (article, _) = app.create_article(&editor, json!({"title": "Open", "body": "x", "status": "published"})).await;
    let path = format!("/api/v1/articles/{}/comments", article["slug"].as_str().unwrap());
    // Ana verified her address and had a comment approved (COMMENT_APPROVE_AFTER=1).
    let now = broadsheet::db::now();
    let secret = broadsheet::auth::tokens::random_secret();
    let ana: i64 = diesel::insert_into(readers::table)
        .values((
            readers::email.eq("ana@example.com"),
            readers::email_key.eq("ana@example.com"),
            readers::name.eq("Ana"),
            readers::secret.eq(&secret),
            readers::verified_at.eq(Some(now)),
            readers::created_at.eq(now),
            readers::updated_at.eq(now),
        ))
        .returning(readers::id)
        .get_result(&mut *app.db.conn())
        .unwrap();
    let ana_token = broadsheet::readers::model::sign(ana, &secret);
    let as_ana = |body: &str| json!({"name": "Ana", "email": "ana@example.com", "body": body});
    let first = app.send("POST", &path, &[("x-reader-token", &ana_token)], Some(&as_ana("My first."))).await;
    assert_eq!(first.status.as_u16(), 201, "{}", String::from_utf8_lossy(&first.body));
    let first_id = first.json()["data"]["id"].as_i64().unwrap();
    let approved = app
        .authed("PATCH", &format!("/api/v1/comments/{first_id}"), &editor, Some(&json!({"status": "approved"})))
        .await;
    assert_eq!(approved.status.as_u16(), 200, "{}", String::from_utf8_lossy(&approved.body));

    let impostor = app.send("POST", &path, &[], Some(&as_ana("Buy my product, signed Ana."))).await;
    let forged = format!("{ana}.{}", "A".repeat(43));
    let forged = app.send("POST", &path, &[("x-reader-token", &forged)], Some(&as_ana("Forged."))).await;
    let ana_again = app.send("POST", &path, &[("x-reader-token", &ana_token)], Some(&as_ana("Me again."))).await;

    assert_eq!(impostor.status.as_u16(), 201, "{}", String::from_utf8_lossy(&impostor.body));
    let held = impostor.json()["data"].clone();
    assert_eq!(held["status"], "pending", "an address alone must not earn auto-approval: {held}");
    assert!(held["reasons"].to_string().contains("not verified"), "{held}");
    forged.assert_problem(401);
    assert_eq!(ana_again.status.as_u16(), 201, "{}", String::from_utf8_lossy(&ana_again.body));
    assert_eq!(ana_again.json()["data"]["status"], "approved", "{}", String::from_utf8_lossy(&ana_again.body));
    let public = app.get_ok(&path).await;
    let bodies: Vec<&str> =
        public["data"].as_array().unwrap().iter().map(|c| c["body_html"].as_str().unwrap()).collect();
    assert!(!bodies.iter().any(|b| b.contains("Buy my product")), "{bodies:?}");
    assert!(!bodies.iter().any(|b| b.contains("Forged")), "nothing stored for a forged token: {bodies:?}");
}

async fn webhook_urls_in_deprecated_ipv6_ranges_are_refused_naming_url(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;

    for url in ["http://[::127.0.0.1]/hook", "http://[::a00:1]/hook", "http://[fec0::1]/hook", "http://[100::1]/hook"] {
        let res = app
            .authed("POST", "/api/v1/webhooks", &admin, Some(&json!({"url": url, "events": ["article.published"]})))
            .await;

        let problem = res.assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
    }
    let (list, _) = app.get_ok_as("/api/v1/webhooks", &admin).await;
    assert_eq!(list["meta"]["total"], 0, "nothing stored: {list}");
}

async fn concurrent_moves_never_make_a_category_cycle(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("DATABASE_POOL_SIZE", "8")]).await else { return };
    let editor = app.token_for("editor").await;
    let mut pairs = Vec::new();
    for n in 0..6 {
        let mut ids = [0i64; 2];
        for (i, side) in ["a", "b"].iter().enumerate() {
            let res =
                app.authed("POST", "/api/v1/categories", &editor, Some(&json!({"name": format!("c{n}{side}")}))).await;
            assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
            ids[i] = res.json()["data"]["id"].as_i64().unwrap();
        }
        pairs.push((ids[0], ids[1]));
    }

    let moves = pairs.iter().flat_map(|&(a, b)| [(a, b), (b, a)]).map(|(child, parent)| {
        let app = &app;
        let editor = editor.clone();
        async move {
            let path = format!("/api/v1/categories/{child}");
            app.authed("PATCH", &path, &editor, Some(&json!({"parent_id": parent}))).await
        }
    });
    let answers = futures_util::future::join_all(moves).await;

    for res in &answers {
        let status = res.status.as_u16();
        assert!(status == 200 || status == 422, "{status}: {}", String::from_utf8_lossy(&res.body));
        if status == 422 {
            assert_eq!(res.json()["errors"][0]["field"], "parent_id");
        }
    }
    for (a, b) in pairs {
        let (ca, _) = app.get_ok_as(&format!("/api/v1/categories/{a}"), &editor).await;
        let (cb, _) = app.get_ok_as(&format!("/api/v1/categories/{b}"), &editor).await;
        let cycle = ca["data"]["parent_id"] == json!(b) && cb["data"]["parent_id"] == json!(a);
        assert!(!cycle, "categories {a} and {b} are each other's parent");
    }
}

async fn reciprocal_tag_merges_at_once_answer_200_or_a_422_naming_into(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("DATABASE_POOL_SIZE", "8")]).await else { return };
    let editor = app.token_for("editor").await;
    for n in 0..8 {
        let res = app.authed("POST", "/api/v1/tags", &editor, Some(&json!({"name": format!("t{n}")}))).await;
        assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    }

    let merges = (0..4).flat_map(|p| [(2 * p, 2 * p + 1), (2 * p + 1, 2 * p)]).map(|(from, into)| {
        let app = &app;
        let editor = editor.clone();
        async move {
            let path = format!("/api/v1/tags/t{from}/merge");
            app.authed("POST", &path, &editor, Some(&json!({"into": format!("t{into}")}))).await
        }
    });
    let answers = futures_util::future::join_all(merges).await;

    let mut merged = 0;
    for res in &answers {
        match res.status.as_u16() {
            200 => merged += 1,
            _ => {
                let problem = res.assert_problem(422);
                assert_eq!(problem["errors"][0]["field"], "into", "{problem}");
            }
        }
    }
    assert_eq!(merged, 4, "one merge of each pair wins");
}
