//! Categories and tags as managed resources: CRUD with permissions, the
//! category tree, tag merges with slug redirects, and articles filed by slug.

use serde_json::{json, Value};

use crate::helpers::{backend_tests, Backend, TestApp};

backend_tests!(
    an_editor_creates_reads_renames_and_deletes_terms,
    only_editors_and_admins_may_write_terms,
    bad_term_inputs_are_problems_naming_the_field,
    a_category_cannot_be_its_own_ancestor,
    deleting_a_category_moves_children_up_and_detaches_articles,
    merging_tags_refiles_articles_and_redirects_the_old_slug,
    articles_accept_terms_by_id_or_slug,
);

async fn post_ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.authed("POST", path, token, Some(&body)).await;
    assert_eq!(res.status.as_u16(), 201, "POST {path}: {}", String::from_utf8_lossy(&res.body));
    res.json()["data"].clone()
}

fn field_of(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_else(|| panic!("no field named: {problem}"))
}

async fn an_editor_creates_reads_renames_and_deletes_terms(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;

    for kind in ["categories", "tags"] {
        // Arrange / Act: create
        let body = json!({"name": "City Budget", "description": "Money.", "meta_title": "Budget news"});
        let res = app.authed("POST", &format!("/api/v1/{kind}"), &editor, Some(&body)).await;
        assert_eq!(res.status.as_u16(), 201, "{kind}: {}", String::from_utf8_lossy(&res.body));
        let created = res.json()["data"].clone();
        let id = created["id"].as_i64().unwrap();
        assert_eq!(res.header("location"), Some(format!("/api/v1/{kind}/{id}").as_str()));
        assert_eq!(created["slug"], "city-budget", "{kind}");
        assert_eq!(created["meta_title"], "Budget news");
        assert!(created["meta_description"].is_null());

        // by id and by slug
        let by_id = app.get_ok(&format!("/api/v1/{kind}/{id}")).await;
        let by_slug = app.get_ok(&format!("/api/v1/{kind}/city-budget")).await;
        assert_eq!(by_id, by_slug, "{kind}");
        assert_eq!(by_id["data"]["description"], "Money.");

        // rename: the old slug answers 301
        let patch = json!({"slug": "budget", "name": "Budget", "description": null});
        let res = app.authed("PATCH", &format!("/api/v1/{kind}/city-budget"), &editor, Some(&patch)).await;
        assert_eq!(res.status.as_u16(), 200, "{kind}: {}", String::from_utf8_lossy(&res.body));
        let updated = res.json()["data"].clone();
        assert_eq!((updated["slug"].as_str(), updated["name"].as_str()), (Some("budget"), Some("Budget")));
        assert!(updated["description"].is_null());
        assert_eq!(updated["meta_title"], "Budget news", "{kind}: an absent field stays");
        let old = app.get(&format!("/api/v1/{kind}/city-budget")).await;
        assert_eq!(old.status.as_u16(), 301, "{kind}");
        assert_eq!(old.header("location"), Some(format!("/api/v1/{kind}/budget").as_str()));
        // The old slug stays reserved for the redirect.
        let clash = app
            .authed("POST", &format!("/api/v1/{kind}"), &editor, Some(&json!({"name": "x", "slug": "city-budget"})))
            .await;
        clash.assert_problem(409);
        let listed = app.get_ok(&format!("/api/v1/{kind}")).await;
        assert_eq!(listed["meta"]["total"], 1);

        // delete
        let res = app.authed("DELETE", &format!("/api/v1/{kind}/{id}"), &editor, None).await;
        assert_eq!(res.status.as_u16(), 200, "{kind}: {}", String::from_utf8_lossy(&res.body));
        assert_eq!(res.json()["data"]["articles_detached"], 0);
        app.get(&format!("/api/v1/{kind}/{id}")).await.assert_problem(404);
        app.get(&format!("/api/v1/{kind}/city-budget")).await.assert_problem(404);
        app.authed("DELETE", &format!("/api/v1/{kind}/{id}"), &editor, None).await.assert_problem(404);
    }
}

async fn only_editors_and_admins_may_write_terms(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    let tag = post_ok(&app, &admin, "/api/v1/tags", json!({"name": "Existing tag"})).await["id"].as_i64().unwrap();
    let cat =
        post_ok(&app, &admin, "/api/v1/categories", json!({"name": "Existing cat"})).await["id"].as_i64().unwrap();

    for (role, allowed) in [("contributor", false), ("author", false), ("editor", true), ("admin", true)] {
        let token = app.token_for(role).await;
        for (kind, id) in [("categories", cat), ("tags", tag)] {
            let create = app
                .authed("POST", &format!("/api/v1/{kind}"), &token, Some(&json!({"name": format!("{role} term")})))
                .await;
            let update =
                app.authed("PATCH", &format!("/api/v1/{kind}/{id}"), &token, Some(&json!({"description": role}))).await;
            if allowed {
                assert_eq!(create.status.as_u16(), 201, "{role} creates {kind}");
                assert_eq!(update.status.as_u16(), 200, "{role} edits {kind}");
                let new_id = create.json()["data"]["id"].as_i64().unwrap();
                let del = app.authed("DELETE", &format!("/api/v1/{kind}/{new_id}"), &token, None).await;
                assert_eq!(del.status.as_u16(), 200, "{role} deletes {kind}");
            } else {
                create.assert_problem(403);
                update.assert_problem(403);
                app.authed("DELETE", &format!("/api/v1/{kind}/{id}"), &token, None).await.assert_problem(403);
            }
        }
        let other = post_ok(&app, &admin, "/api/v1/tags", json!({"name": format!("merge-me {role}")})).await;
        let merge = app
            .authed("POST", &format!("/api/v1/tags/{}/merge", other["id"]), &token, Some(&json!({"into": tag})))
            .await;
        if allowed {
            assert_eq!(merge.status.as_u16(), 200, "{role} merges: {}", String::from_utf8_lossy(&merge.body));
        } else {
            merge.assert_problem(403);
        }
    }
    // Nobody signed in.
    for (method, path) in [("POST", "/api/v1/tags".to_owned()), ("PATCH", format!("/api/v1/categories/{cat}"))] {
        app.send(method, &path, &[], Some(&json!({"name": "anon"}))).await.assert_problem(401);
    }
    app.send("DELETE", &format!("/api/v1/tags/{tag}"), &[], None).await.assert_problem(401);
    // Reads are public, and the refused writes changed nothing.
    let t = app.get_ok(&format!("/api/v1/tags/{tag}")).await;
    assert_eq!(t["data"]["description"], "admin");
}

async fn bad_term_inputs_are_problems_naming_the_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    post_ok(&app, &editor, "/api/v1/tags", json!({"name": "Taken", "slug": "taken"})).await;
    post_ok(&app, &editor, "/api/v1/categories", json!({"name": "Taken", "slug": "taken"})).await;
    let long = "x".repeat(201);

    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("tags", json!({"name": ""}), 400, "name"),
        ("tags", json!({"name": "   "}), 400, "name"),
        ("tags", json!({"name": long}), 400, "name"),
        ("tags", json!({"name": "a\u{0}b"}), 400, "name"),
        ("tags", json!({}), 400, "name"),
        ("tags", json!({"name": "ok", "slug": "Bad Slug"}), 400, "slug"),
        ("tags", json!({"name": "ok", "slug": "2024"}), 400, "slug"),
        ("tags", json!({"name": "ok", "description": "d".repeat(2001)}), 400, "description"),
        ("tags", json!({"name": "ok", "meta_title": "t".repeat(301)}), 400, "meta_title"),
        ("tags", json!({"name": "ok", "meta_description": "t".repeat(501)}), 400, "meta_description"),
        ("tags", json!({"name": "ok", "parent_id": 1}), 400, "parent_id"),
        ("tags", json!({"name": 5}), 400, "name"),
        ("categories", json!({"name": "ok", "parent_id": 999999}), 422, "parent_id"),
        ("categories", json!({"name": "ok", "parent_id": 0}), 400, "parent_id"),
        ("categories", json!({"name": "ok", "parent_id": "one"}), 400, "parent_id"),
        ("categories", json!({"name": "ok", "role": "admin"}), 400, "role"),
    ];
    for (kind, body, status, field) in cases {
        let res = app.authed("POST", &format!("/api/v1/{kind}"), &editor, Some(&body)).await;
        let problem = res.assert_problem(status);
        assert_eq!(field_of(&problem), field, "POST /{kind} {body}: {problem}");
    }
    for kind in ["tags", "categories"] {
        let res =
            app.authed("POST", &format!("/api/v1/{kind}"), &editor, Some(&json!({"name": "x", "slug": "taken"}))).await;
        let problem = res.assert_problem(409);
        assert!(problem["detail"].as_str().unwrap().contains("slug"), "{problem}");
        let other = post_ok(&app, &editor, &format!("/api/v1/{kind}"), json!({"name": "Other"})).await;
        let res = app
            .authed("PATCH", &format!("/api/v1/{kind}/{}", other["id"]), &editor, Some(&json!({"slug": "taken"})))
            .await;
        res.assert_problem(409);
        let res = app
            .authed("PATCH", &format!("/api/v1/{kind}/{}", other["id"]), &editor, Some(&json!({"name": null})))
            .await;
        assert_eq!(field_of(&res.assert_problem(400)), "name");
        app.authed("PATCH", &format!("/api/v1/{kind}/nope"), &editor, Some(&json!({"name": "n"})))
            .await
            .assert_problem(404);
    }
    // Nothing half-written: only the two "Taken" and two "Other" rows exist.
    assert_eq!(app.get_ok("/api/v1/tags").await["meta"]["total"], 2);
    assert_eq!(app.get_ok("/api/v1/categories").await["meta"]["total"], 2);
}

async fn a_category_cannot_be_its_own_ancestor(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let news = post_ok(&app, &editor, "/api/v1/categories", json!({"name": "News"})).await["id"].as_i64().unwrap();
    let local =
        post_ok(&app, &editor, "/api/v1/categories", json!({"name": "Local", "parent_id": news})).await["id"].clone();
    let city =
        post_ok(&app, &editor, "/api/v1/categories", json!({"name": "City", "parent_id": local})).await["id"].clone();

    for (target, parent) in [(news, json!(news)), (news, city.clone()), (news, local.clone())] {
        let res = app
            .authed("PATCH", &format!("/api/v1/categories/{target}"), &editor, Some(&json!({"parent_id": parent})))
            .await;
        let problem = res.assert_problem(422);
        assert_eq!(field_of(&problem), "parent_id", "{problem}");
    }
    // A legal move, and back to the top level.
    let moved =
        app.authed("PATCH", &format!("/api/v1/categories/{city}"), &editor, Some(&json!({"parent_id": news}))).await;
    assert_eq!(moved.status.as_u16(), 200);
    assert_eq!(moved.json()["data"]["parent_id"], news);
    let top =
        app.authed("PATCH", &format!("/api/v1/categories/{city}"), &editor, Some(&json!({"parent_id": null}))).await;
    assert!(top.json()["data"]["parent_id"].is_null());
    let unchanged = app.get_ok(&format!("/api/v1/categories/{news}")).await;
    assert!(unchanged["data"]["parent_id"].is_null(), "a refused move changed nothing");
}

async fn deleting_a_category_moves_children_up_and_detaches_articles(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let news = post_ok(&app, &editor, "/api/v1/categories", json!({"name": "News"})).await["id"].as_i64().unwrap();
    let local = post_ok(&app, &editor, "/api/v1/categories", json!({"name": "Local", "parent_id": news})).await;
    let local_id = local["id"].as_i64().unwrap();
    let mut kids = Vec::new();
    for name in ["City", "County"] {
        let c = post_ok(&app, &editor, "/api/v1/categories", json!({"name": name, "parent_id": local_id})).await;
        kids.push(c["id"].as_i64().unwrap());
    }
    let (a1, _) = app.create_article(&editor, json!({"title": "One", "categories": [local_id, news]})).await;
    app.create_article(&editor, json!({"title": "Two", "categories": [local_id]})).await;
    app.create_article(&editor, json!({"title": "Three", "categories": [news]})).await;

    let res = app.authed("DELETE", "/api/v1/categories/local", &editor, None).await;

    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"], json!({"id": local_id, "articles_detached": 2, "children_moved": 2}));
    for kid in kids {
        let c = app.get_ok(&format!("/api/v1/categories/{kid}")).await;
        assert_eq!(c["data"]["parent_id"], news, "children move up to the deleted one's parent");
    }
    let (a, _) = app.get_ok_as(&format!("/api/v1/articles/{}", a1["id"]), &editor).await;
    let slugs: Vec<&str> =
        a["data"]["categories"].as_array().unwrap().iter().map(|c| c["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, vec!["news"]);
    assert_eq!(app.get_ok("/api/v1/categories").await["meta"]["total"], 3);
}

async fn merging_tags_refiles_articles_and_redirects_the_old_slug(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let budget = post_ok(&app, &editor, "/api/v1/tags", json!({"name": "budget"})).await["id"].as_i64().unwrap();
    let money = post_ok(&app, &editor, "/api/v1/tags", json!({"name": "Money"})).await["id"].as_i64().unwrap();
    // An earlier rename: `cash` is money's former slug.
    app.authed("PATCH", &format!("/api/v1/tags/{money}"), &editor, Some(&json!({"slug": "cash"}))).await;
    app.authed("PATCH", &format!("/api/v1/tags/{money}"), &editor, Some(&json!({"slug": "money"}))).await;
    let (both, _) = app.create_article(&editor, json!({"title": "Both", "tags": [budget, money]})).await;
    let (only, _) = app.create_article(&editor, json!({"title": "Only money", "tags": [money]})).await;

    // Bad merges first: nothing changes.
    let me = app.authed("POST", "/api/v1/tags/money/merge", &editor, Some(&json!({"into": "money"}))).await;
    assert_eq!(field_of(&me.assert_problem(422)), "into");
    let by_id = app.authed("POST", "/api/v1/tags/money/merge", &editor, Some(&json!({"into": money}))).await;
    assert_eq!(field_of(&by_id.assert_problem(422)), "into");
    let nowhere = app.authed("POST", "/api/v1/tags/money/merge", &editor, Some(&json!({"into": "nowhere"}))).await;
    assert_eq!(field_of(&nowhere.assert_problem(422)), "into");
    let missing_id = app.authed("POST", "/api/v1/tags/money/merge", &editor, Some(&json!({"into": 999999}))).await;
    assert_eq!(field_of(&missing_id.assert_problem(422)), "into");
    let bad = app.authed("POST", "/api/v1/tags/money/merge", &editor, Some(&json!({"into": [1]}))).await;
    assert_eq!(field_of(&bad.assert_problem(400)), "into");
    app.authed("POST", "/api/v1/tags/nope/merge", &editor, Some(&json!({"into": budget}))).await.assert_problem(404);

    let res = app.authed("POST", "/api/v1/tags/money/merge", &editor, Some(&json!({"into": "budget"}))).await;

    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let data = res.json()["data"].clone();
    assert_eq!(data["into"]["id"], budget);
    assert_eq!((data["merged_id"].as_i64(), data["merged_slug"].as_str()), (Some(money), Some("money")));
    assert_eq!(data["articles_moved"], 1, "the article with both tags already had `budget`");
    for old in ["money", "cash"] {
        let r = app.get(&format!("/api/v1/tags/{old}")).await;
        assert_eq!(r.status.as_u16(), 301, "{old}");
        assert_eq!(r.header("location"), Some("/api/v1/tags/budget"), "{old}");
    }
    app.get(&format!("/api/v1/tags/{money}")).await.assert_problem(404);
    for article in [&both, &only] {
        let (a, _) = app.get_ok_as(&format!("/api/v1/articles/{}", article["id"]), &editor).await;
        let tags: Vec<&str> =
            a["data"]["tags"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
        assert_eq!(tags, vec!["budget"], "{}", article["title"]);
    }
    assert_eq!(app.get_ok("/api/v1/tags").await["meta"]["total"], 1);
    // A merged-away slug still files under the surviving tag.
    let (a, _) = app.create_article(&editor, json!({"title": "Later", "tags": ["money"]})).await;
    assert_eq!(a["tags"][0]["id"], budget);
}

async fn articles_accept_terms_by_id_or_slug(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let hall = post_ok(&app, &editor, "/api/v1/categories", json!({"name": "City hall"})).await["id"].as_i64().unwrap();
    let budget = post_ok(&app, &editor, "/api/v1/tags", json!({"name": "budget"})).await["id"].as_i64().unwrap();
    let vote = post_ok(&app, &editor, "/api/v1/tags", json!({"name": "vote"})).await["id"].as_i64().unwrap();

    let (a, etag) = app
        .create_article(
            &editor,
            json!({"title": "Council votes", "categories": ["city-hall"], "tags": ["budget", vote]}),
        )
        .await;

    assert_eq!(a["categories"][0]["id"], hall);
    let mut tags: Vec<i64> = a["tags"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    tags.sort_unstable();
    assert_eq!(tags, vec![budget, vote]);
    let path = format!("/api/v1/articles/{}", a["id"]);
    let res = app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"tags": ["vote"]}))).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"]["tags"], json!([{"id": vote, "slug": "vote", "name": "vote"}]));
    let etag = res.header("etag").unwrap().to_owned();
    for (field, body) in [
        ("tags", json!({"tags": ["no-such-tag"]})),
        ("categories", json!({"categories": ["budget"]})),
        ("categories", json!({"categories": [999999]})),
    ] {
        let res = app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&body)).await;
        assert_eq!(field_of(&res.assert_problem(422)), field, "{body}");
        let create = app
            .authed(
                "POST",
                "/api/v1/articles",
                &editor,
                Some(
                    &json!({"title": "X"})
                        .as_object()
                        .cloned()
                        .map(|mut o| {
                            o.extend(body.as_object().unwrap().clone());
                            Value::Object(o)
                        })
                        .unwrap(),
                ),
            )
            .await;
        assert_eq!(field_of(&create.assert_problem(422)), field, "create {body}");
    }
    let bad = app.authed("POST", "/api/v1/articles", &editor, Some(&json!({"title": "X", "tags": [true]}))).await;
    assert!(field_of(&bad.assert_problem(400)).starts_with("tags"));
}
