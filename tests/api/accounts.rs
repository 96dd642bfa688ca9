//! Users, API keys and author writes: the role × endpoint matrix, bad input,
//! mass assignment, and the last-admin rule.

use crate::helpers::{backend_tests, Backend, TestApp, PASSWORD};
use serde_json::{json, Value};

backend_tests!(
    every_write_endpoint_answers_each_role_as_the_permission_table_says,
    the_admin_flow_from_the_issue_works_end_to_end,
    api_key_scopes_and_revocation_are_enforced,
    the_last_admin_cannot_be_demoted_or_disabled,
    user_creation_rejects_bad_input_and_duplicate_emails,
    author_writes_validate_every_field,
    deleting_an_author_with_bylines_needs_reassign_to,
    request_bodies_cannot_set_fields_the_caller_may_not_set,
);

/// Who calls. Keys are created through the API by an admin.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    Contributor,
    Author,
    Editor,
    Admin,
    ContentKey,
    AuthorsKey,
}

const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::Contributor,
    Caller::Author,
    Caller::Editor,
    Caller::Admin,
    Caller::ContentKey,
    Caller::AuthorsKey,
];

async fn credentials(app: &TestApp, admin: &str) -> Vec<(Caller, Option<String>)> {
    let mut out = Vec::new();
    for caller in CALLERS {
        let token = match caller {
            Caller::Anonymous => None,
            Caller::Contributor => Some(app.token_for("contributor").await),
            Caller::Author => Some(app.token_for("author").await),
            Caller::Editor => Some(app.token_for("editor").await),
            Caller::Admin => Some(admin.to_owned()),
            Caller::ContentKey => Some(create_key(app, admin, json!({"name": "site", "kind": "content"})).await),
            Caller::AuthorsKey => Some(
                create_key(app, admin, json!({"name": "sync", "kind": "admin", "scopes": ["authors:write"]})).await,
            ),
        };
        out.push((caller, token));
    }
    out
}

async fn create_key(app: &TestApp, admin: &str, body: Value) -> String {
    let res = app.authed("POST", "/api/v1/api-keys", admin, Some(&body)).await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"]["key"].as_str().unwrap().to_owned()
}

async fn call(app: &TestApp, token: &Option<String>, method: &str, path: &str, body: Option<&Value>) -> u16 {
    let res = match token {
        Some(t) => app.authed(method, path, t, body).await,
        None => app.send(method, path, &[], body).await,
    };
    if res.status.as_u16() >= 400 {
        res.assert_problem(res.status.as_u16());
    }
    res.status.as_u16()
}

async fn every_write_endpoint_answers_each_role_as_the_permission_table_says(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    let creds = credentials(&app, &admin).await;
    use Caller::*;
    // Expected status per caller, in CALLERS order.
    type Row = (&'static str, &'static str, [u16; 7]);
    let rows: [Row; 10] = [
        ("POST", "/api/v1/authors", [401, 403, 403, 201, 201, 403, 201]),
        ("PATCH", "/api/v1/authors/{victim}", [401, 403, 403, 200, 200, 403, 200]),
        ("DELETE", "/api/v1/authors/{victim}", [401, 403, 403, 204, 204, 403, 204]),
        ("PATCH", "/api/v1/authors/me", [401, 200, 200, 200, 200, 403, 403]),
        ("GET", "/api/v1/users", [401, 403, 403, 403, 200, 403, 403]),
        ("POST", "/api/v1/users", [401, 403, 403, 403, 201, 403, 403]),
        ("PATCH", "/api/v1/users/{user}", [401, 403, 403, 403, 200, 403, 403]),
        ("GET", "/api/v1/api-keys", [401, 403, 403, 403, 200, 403, 403]),
        ("POST", "/api/v1/api-keys", [401, 403, 403, 403, 201, 403, 403]),
        ("DELETE", "/api/v1/api-keys/{key}", [401, 403, 403, 403, 204, 403, 403]),
    ];
    let mut n = 0;
    for (method, template, expected) in rows {
        for (i, (caller, token)) in creds.iter().enumerate() {
            n += 1;
            // Fresh targets for every cell, so one caller's delete cannot change another's answer.
            let victim = app.create_author(&format!("victim-{n}"));
            let user = app.create_user(&format!("target{n}@example.com"), "author", None);
            let key_id = {
                let res = app
                    .authed("POST", "/api/v1/api-keys", &admin, Some(&json!({"name": "k", "kind": "content"})))
                    .await;
                res.json()["data"]["api_key"]["id"].as_i64().unwrap()
            };
            let path = template
                .replace("{victim}", &victim.to_string())
                .replace("{user}", &user.to_string())
                .replace("{key}", &key_id.to_string());
            let body = match (method, template) {
                ("POST", "/api/v1/authors") => Some(json!({"name": format!("New Author {n}")})),
                ("PATCH", t) if t.starts_with("/api/v1/authors") => Some(json!({"bio": "Updated bio"})),
                ("POST", "/api/v1/users") => {
                    Some(json!({"email": format!("new{n}@example.com"), "password": PASSWORD, "role": "contributor"}))
                }
                ("PATCH", "/api/v1/users/{user}") => Some(json!({"role": "editor"})),
                ("POST", "/api/v1/api-keys") => Some(json!({"name": "x", "kind": "content"})),
                _ => None,
            };
            let got = call(&app, token, method, &path, body.as_ref()).await;
            assert_eq!(got, expected[i], "{caller:?} {method} {template}");
        }
    }
    let _ = (Anonymous, Contributor, Author, Editor, Admin, ContentKey, AuthorsKey);
}

async fn the_admin_flow_from_the_issue_works_end_to_end(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    app.create_user("root@example.com", "admin", None);
    let admin = app.login("root@example.com").await;
    let admin_token = admin["access_token"].as_str().unwrap();

    // The admin creates an editor and a content key.
    let editor = app
        .authed(
            "POST",
            "/api/v1/users",
            admin_token,
            Some(&json!({"email": "ed@example.com", "password": PASSWORD, "role": "editor"})),
        )
        .await;
    assert_eq!(editor.status.as_u16(), 201);
    assert_eq!(editor.header("location").unwrap(), format!("/api/v1/users/{}", editor.json()["data"]["id"]));
    let key = create_key(&app, admin_token, json!({"name": "front end", "kind": "content"})).await;
    assert!(key.starts_with("bsk_content_"));

    // The editor edits an author's bio.
    let ed = app.login("ed@example.com").await;
    let bio = app
        .authed(
            "PATCH",
            "/api/v1/authors/themedemos",
            ed["access_token"].as_str().unwrap(),
            Some(&json!({"bio": "Tests themes."})),
        )
        .await;
    assert_eq!(bio.status.as_u16(), 200);
    assert_eq!(app.get_ok("/api/v1/authors/themedemos").await["data"]["bio"], "Tests themes.");

    // The content key reads but may not write.
    let read = app.send("GET", "/api/v1/articles?per_page=1", &[("x-api-key", &key)], None).await;
    assert_eq!(read.status.as_u16(), 200);
    let write =
        app.send("PATCH", "/api/v1/authors/themedemos", &[("x-api-key", &key)], Some(&json!({"bio": "x"}))).await;
    assert!(write.assert_problem(403)["detail"].as_str().unwrap().contains("read-only"));
    let bearer_write = app.authed("POST", "/api/v1/authors", &key, Some(&json!({"name": "X"}))).await;
    bearer_write.assert_problem(403);

    // After logout, both of the admin's old tokens are refused.
    assert_eq!(app.authed("POST", "/api/v1/auth/logout", admin_token, None).await.status.as_u16(), 204);
    app.authed("GET", "/api/v1/users", admin_token, None).await.assert_problem(401);
    app.send("POST", "/api/v1/auth/refresh", &[], Some(&json!({"refresh_token": admin["refresh_token"]})))
        .await
        .assert_problem(401);
}

async fn api_key_scopes_and_revocation_are_enforced(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    let created = app
        .authed(
            "POST",
            "/api/v1/api-keys",
            &admin,
            Some(&json!({"name": "sync", "kind": "admin", "scopes": ["authors:write"]})),
        )
        .await;
    let body = created.json();
    let key = body["data"]["key"].as_str().unwrap().to_owned();
    let id = body["data"]["api_key"]["id"].as_i64().unwrap();

    let allowed = app.authed("POST", "/api/v1/authors", &key, Some(&json!({"name": "Key Made"}))).await;
    let lacks_scope = app
        .authed(
            "POST",
            "/api/v1/users",
            &key,
            Some(&json!({"email": "k@example.com", "password": PASSWORD, "role": "admin"})),
        )
        .await;
    let keys_cannot_mint_keys =
        app.authed("POST", "/api/v1/api-keys", &key, Some(&json!({"name": "x", "kind": "content"}))).await;
    let listed = app.authed("GET", "/api/v1/api-keys", &admin, None).await;
    let revoked = app.authed("DELETE", &format!("/api/v1/api-keys/{id}"), &admin, None).await;
    let after = app.authed("POST", "/api/v1/authors", &key, Some(&json!({"name": "Too Late"}))).await;

    assert_eq!(allowed.status.as_u16(), 201);
    assert!(lacks_scope.assert_problem(403)["detail"].as_str().unwrap().contains("users:write"));
    keys_cannot_mint_keys.assert_problem(403);
    let listed = listed.json();
    assert!(!listed.to_string().contains(&key), "the key itself is never listed");
    assert!(listed["data"][0]["last_used_at"].is_string(), "use is recorded: {listed}");
    assert_eq!(revoked.status.as_u16(), 204);
    after.assert_problem(401);
    for (body, field) in [
        (json!({"name": "x", "kind": "admin", "scopes": ["everything"]}), "scopes"),
        (json!({"name": "x", "kind": "content", "scopes": ["authors:write"]}), "scopes"),
        (json!({"name": "", "kind": "content"}), "name"),
        (json!({"name": "x", "kind": "superuser"}), "kind"),
        (json!({"name": "x", "kind": "content", "expires_at": "2001-01-01T00:00:00Z"}), "expires_at"),
        (json!({"name": "x", "kind": "content", "expires_at": "tomorrow"}), "expires_at"),
    ] {
        let res = app.authed("POST", "/api/v1/api-keys", &admin, Some(&body)).await;
        assert_eq!(res.assert_problem(400)["errors"][0]["field"], field, "{body}");
    }
    app.authed("DELETE", "/api/v1/api-keys/999999", &admin, None).await.assert_problem(404);
}

async fn the_last_admin_cannot_be_demoted_or_disabled(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let id = app.create_user("only@example.com", "admin", None);
    let token = app.login("only@example.com").await["access_token"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/users/{id}");

    let demote = app.authed("PATCH", &path, &token, Some(&json!({"role": "editor"}))).await;
    let disable = app.authed("PATCH", &path, &token, Some(&json!({"disabled": true}))).await;
    let second = app.create_user("second@example.com", "admin", None);
    let demote_now = app.authed("PATCH", &path, &token, Some(&json!({"role": "editor"}))).await;
    let second_token = app.login("second@example.com").await["access_token"].as_str().unwrap().to_owned();
    let last_again =
        app.authed("PATCH", &format!("/api/v1/users/{second}"), &second_token, Some(&json!({"disabled": true}))).await;

    demote.assert_problem(409);
    disable.assert_problem(409);
    assert_eq!(demote_now.status.as_u16(), 200);
    assert_eq!(demote_now.json()["data"]["role"], "editor");
    last_again.assert_problem(409);
}

async fn user_creation_rejects_bad_input_and_duplicate_emails(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    app.create_user("taken@example.com", "author", None);
    let cases = [
        (json!({"email": "not-an-email", "password": PASSWORD, "role": "author"}), 400, Some("email")),
        (json!({"email": "a@b.c", "password": "short", "role": "author"}), 400, Some("password")),
        (json!({"email": "a@b.c", "password": PASSWORD, "role": "overlord"}), 400, Some("role")),
        (json!({"email": "a@b.c", "password": PASSWORD}), 400, Some("role")),
        (json!({"email": " TAKEN@example.com ", "password": PASSWORD, "role": "author"}), 409, None),
        (json!({"email": "a@b.c", "password": PASSWORD, "role": "author", "author_id": 999999}), 422, None),
    ];
    for (body, status, field) in cases {
        let res = app.authed("POST", "/api/v1/users", &admin, Some(&body)).await;
        let problem = res.assert_problem(status);
        if let Some(f) = field {
            assert_eq!(problem["errors"][0]["field"], f, "{body}");
        }
    }
    let list = app.authed("GET", "/api/v1/users", &admin, None).await.json();
    assert_eq!(list["meta"]["total"], 2, "nothing half-written: {list}");
    assert!(!list.to_string().contains("argon2"), "hashes never leave the server");
}

async fn author_writes_validate_every_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    app.create_author("taken-slug");
    let cases = [
        (json!({"name": ""}), 400, Some("name")),
        (json!({"name": "A", "slug": "Not A Slug"}), 400, Some("slug")),
        (json!({"name": "A", "slug": "12345"}), 400, Some("slug")),
        (json!({"name": "A", "slug": "me"}), 400, Some("slug")),
        (json!({"name": "A", "website": "javascript:alert(1)"}), 400, Some("website")),
        (json!({"name": "A", "social_links": {"x": "ftp://nope"}}), 400, Some("social_links.x")),
        (json!({"name": "A", "email": "nope"}), 400, Some("email")),
        (json!({"name": "A", "bio": "x".repeat(5001)}), 400, Some("bio")),
        (json!({"name": "A", "slug": "taken-slug"}), 409, None),
        (json!({"name": "A", "avatar_media_id": 999999}), 422, None),
    ];
    for (body, status, field) in cases {
        let res = app.authed("POST", "/api/v1/authors", &editor, Some(&body)).await;
        let problem = res.assert_problem(status);
        if let Some(f) = field {
            assert_eq!(problem["errors"][0]["field"], f, "{body}");
        }
    }
    let ok = app
        .authed(
            "POST",
            "/api/v1/authors",
            &editor,
            Some(&json!({"name": "Zoë Ångström", "email": "zoe@example.com", "website": "https://zoe.example",
                         "social_links": {"mastodon": "https://m.example/@zoe"}})),
        )
        .await;
    assert_eq!(ok.status.as_u16(), 201);
    let created = ok.json()["data"].clone();
    assert_eq!(created["slug"], "zoe-angstrom");
    assert!(created.get("email").is_none(), "email is private");
    assert_eq!(ok.header("location").unwrap(), format!("/api/v1/authors/{}", created["id"]));
    let cleared = app.authed("PATCH", "/api/v1/authors/zoe-angstrom", &editor, Some(&json!({"website": null}))).await;
    assert_eq!(cleared.status.as_u16(), 200);
    assert!(cleared.json()["data"]["website"].is_null());
    assert_eq!(cleared.json()["data"]["social_links"]["mastodon"], "https://m.example/@zoe", "untouched fields stay");
    app.authed("PATCH", "/api/v1/authors/nobody-here", &editor, Some(&json!({"bio": "x"}))).await.assert_problem(404);
    app.authed("PATCH", "/api/v1/authors/zoe-angstrom", &editor, Some(&json!({"slug": "taken-slug"})))
        .await
        .assert_problem(409);
}

async fn deleting_an_author_with_bylines_needs_reassign_to(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;
    let demos_articles =
        app.get_ok("/api/v1/articles?author=themedemos&per_page=100").await["meta"]["total"].as_i64().unwrap();
    let reviewer_id = app.get_ok("/api/v1/authors/themereviewteam").await["data"]["id"].as_i64().unwrap();

    let refused = app.authed("DELETE", "/api/v1/authors/themedemos", &editor, None).await;
    let to_self = app.authed("DELETE", "/api/v1/authors/themedemos?reassign_to=1", &editor, None).await;
    let to_nobody = app.authed("DELETE", "/api/v1/authors/themedemos?reassign_to=999999", &editor, None).await;
    let bad = app.authed("DELETE", "/api/v1/authors/themedemos?reassign_to=abc", &editor, None).await;
    let moved =
        app.authed("DELETE", &format!("/api/v1/authors/themedemos?reassign_to={reviewer_id}"), &editor, None).await;

    assert!(refused.assert_problem(409)["detail"].as_str().unwrap().contains("reassign_to"));
    assert_eq!(to_self.assert_problem(400)["errors"][0]["field"], "reassign_to");
    to_nobody.assert_problem(422);
    assert_eq!(bad.assert_problem(400)["errors"][0]["field"], "reassign_to");
    assert_eq!(moved.status.as_u16(), 204);
    app.get("/api/v1/authors/themedemos").await.assert_problem(404);
    let reviewer_total =
        app.get_ok("/api/v1/articles?author=themereviewteam&per_page=100").await["meta"]["total"].as_i64().unwrap();
    assert_eq!(
        reviewer_total, 56,
        "all {demos_articles} bylines moved; every published article now credits the reviewer"
    );
}

async fn request_bodies_cannot_set_fields_the_caller_may_not_set(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    let contributor = app.token_for("contributor").await;
    let cases: [(&str, &str, &str, Value, &str); 6] = [
        ("POST", "/api/v1/authors", "admin", json!({"name": "A", "id": 5}), "id"),
        ("POST", "/api/v1/authors", "admin", json!({"name": "A", "import_key": "x"}), "import_key"),
        ("PATCH", "/api/v1/authors/me", "contributor", json!({"user_id": 1}), "user_id"),
        (
            "POST",
            "/api/v1/users",
            "admin",
            json!({"email": "m@example.com", "password": PASSWORD, "role": "author", "disabled": true, "password_hash": "x"}),
            "disabled",
        ),
        ("PATCH", "/api/v1/users/1", "admin", json!({"email": "new@example.com"}), "email"),
        ("POST", "/api/v1/api-keys", "admin", json!({"name": "x", "kind": "content", "key_hash": "abc"}), "key_hash"),
    ];
    for (method, path, who, body, field) in cases {
        let token = if who == "admin" { &admin } else { &contributor };
        let res = app.authed(method, path, token, Some(&body)).await;
        assert_eq!(res.assert_problem(400)["errors"][0]["field"], field, "{method} {path} {body}");
    }
    let slug = app.authed("PATCH", "/api/v1/authors/me", &contributor, Some(&json!({"slug": "new-slug"}))).await;
    slug.assert_problem(403);
    // Regression (found by the contract walk): GET /authors/me was read as the slug "me".
    let me = app.authed("GET", "/api/v1/authors/me", &contributor, None).await;
    assert_eq!(me.status.as_u16(), 200);
    assert!(me.json()["data"]["slug"].as_str().unwrap().starts_with("contributor-profile-"));
    app.authed("DELETE", "/api/v1/authors/me", &admin, None).await.assert_problem(405);
}
