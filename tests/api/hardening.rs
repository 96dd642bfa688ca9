//! Regressions from a break-it session against the auth surface: races,
//! parallel guessing, key escalation, SQLite lock errors and loose JSON.

use crate::helpers::{backend_tests, Backend, TestApp, PASSWORD};
use futures::future::join_all;
use serde_json::json;

backend_tests!(
    concurrent_demotions_never_leave_zero_admins,
    parallel_guesses_cannot_outrun_the_login_throttle,
    api_keys_cannot_make_or_change_admins_and_die_with_their_creator,
    parallel_writes_never_fail_with_500_or_leak_constraint_names,
    loose_json_and_ambiguous_credentials_are_refused,
);

async fn concurrent_demotions_never_leave_zero_admins(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let a = app.create_user("a1@example.com", "admin", None);
    let b = app.create_user("a2@example.com", "admin", None);
    let ta = app.login("a1@example.com").await["access_token"].as_str().unwrap().to_owned();
    let tb = app.login("a2@example.com").await["access_token"].as_str().unwrap().to_owned();

    // Each admin demotes the other at the same moment.
    let demote = json!({"role": "editor"});
    let disable = json!({"disabled": true});
    let (pa, pb) = (format!("/api/v1/users/{a}"), format!("/api/v1/users/{b}"));
    let (r1, r2) =
        futures::join!(app.authed("PATCH", &pb, &ta, Some(&demote)), app.authed("PATCH", &pa, &tb, Some(&disable)));

    let statuses = [r1.status.as_u16(), r2.status.as_u16()];
    assert_ne!(statuses, [200, 200], "both demotions went through");
    assert!(statuses.iter().all(|s| matches!(s, 200 | 401 | 403 | 409)), "{statuses:?}");
    use broadsheet::db::schema::users;
    use diesel::prelude::*;
    let admins: i64 = users::table
        .filter(users::role.eq("admin"))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(&mut *app.db.conn())
        .unwrap();
    assert_eq!(admins, 1);
}

async fn parallel_guesses_cannot_outrun_the_login_throttle(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("victim@example.com", "author", None);
    let mut guesses: Vec<String> = (0..19).map(|i| format!("wrong guess {i}")).collect();
    guesses.push(PASSWORD.to_owned());

    let results = join_all(guesses.iter().map(|p| {
        let body = json!({"email": "victim@example.com", "password": p});
        let app = &app;
        async move { app.send("POST", "/api/v1/auth/login", &[], Some(&body)).await.status.as_u16() }
    }))
    .await;

    let checked = results.iter().filter(|s| matches!(s, 200 | 401)).count();
    let throttled = results.iter().filter(|s| **s == 429).count();
    assert!(checked <= 5, "{checked} passwords were checked in one burst: {results:?}");
    assert_eq!(checked + throttled, 20, "{results:?}");
}

async fn api_keys_cannot_make_or_change_admins_and_die_with_their_creator(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let root = app.create_user("root@example.com", "admin", None);
    let second = app.create_user("second@example.com", "admin", None);
    let token = app.login("second@example.com").await["access_token"].as_str().unwrap().to_owned();
    let key = app
        .authed(
            "POST",
            "/api/v1/api-keys",
            &token,
            Some(&json!({"name": "hr", "kind": "admin", "scopes": ["users:write"]})),
        )
        .await
        .json()["data"]["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let make_admin = app
        .authed(
            "POST",
            "/api/v1/users",
            &key,
            Some(&json!({"email": "evil@example.com", "password": PASSWORD, "role": "admin"})),
        )
        .await;
    let disable_root =
        app.authed("PATCH", &format!("/api/v1/users/{root}"), &key, Some(&json!({"disabled": true}))).await;
    let make_editor = app
        .authed(
            "POST",
            "/api/v1/users",
            &key,
            Some(&json!({"email": "ed@example.com", "password": PASSWORD, "role": "editor"})),
        )
        .await;
    let root_token = app.login("root@example.com").await["access_token"].as_str().unwrap().to_owned();
    let demote_creator =
        app.authed("PATCH", &format!("/api/v1/users/{second}"), &root_token, Some(&json!({"role": "editor"}))).await;
    let after = app.authed("GET", "/api/v1/users", &key, None).await;

    make_admin.assert_problem(403);
    disable_root.assert_problem(403);
    assert_eq!(make_editor.status.as_u16(), 201);
    assert_eq!(demote_creator.status.as_u16(), 200);
    after.assert_problem(401);
}

async fn parallel_writes_never_fail_with_500_or_leak_constraint_names(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;

    let results = join_all((0..12).map(|_| {
        let app = &app;
        let editor = &editor;
        async move {
            let res = app.authed("POST", "/api/v1/authors", editor, Some(&json!({"name": "Same Name"}))).await;
            (res.status.as_u16(), res.json())
        }
    }))
    .await;

    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let mut slugs: Vec<String> = results.iter().map(|r| r.1["data"]["slug"].as_str().unwrap().to_owned()).collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 12, "every author got its own slug");
    let taken = app.authed("POST", "/api/v1/authors", &editor, Some(&json!({"name": "X", "slug": "same-name"}))).await;
    let detail = taken.assert_problem(409)["detail"].as_str().unwrap().to_owned();
    assert!(!detail.contains("_key") && !detail.contains("authors."), "{detail}");
}

async fn loose_json_and_ambiguous_credentials_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    app.create_user("arr@example.com", "author", None);

    let array_login = app.send("POST", "/api/v1/auth/login", &[], Some(&json!(["arr@example.com", PASSWORD]))).await;
    let null_name = app.authed("PATCH", "/api/v1/authors/me", &admin, Some(&json!({"name": null}))).await;
    let null_role = app.authed("PATCH", "/api/v1/users/1", &admin, Some(&json!({"role": null}))).await;
    let bearer = format!("Bearer {admin}");
    let two_headers = app
        .send("GET", "/api/v1/auth/me", &[("authorization", &bearer), ("authorization", "Bearer garbage")], None)
        .await;
    let no_scopes = app.authed("POST", "/api/v1/api-keys", &admin, Some(&json!({"name": "x", "kind": "admin"}))).await;
    let far_future = app
        .authed(
            "POST",
            "/api/v1/api-keys",
            &admin,
            Some(&json!({"name": "x", "kind": "content", "expires_at": "+200000-01-01T00:00:00Z"})),
        )
        .await;
    let control = app.authed("PATCH", "/api/v1/authors/me", &admin, Some(&json!({"name": "\u{7}\u{1b}[31mred"}))).await;
    let spaces = app
        .authed(
            "POST",
            "/api/v1/users",
            &admin,
            Some(&json!({"email": "s@example.com", "password": "          ", "role": "author"})),
        )
        .await;

    let b = array_login.assert_problem(400);
    assert_eq!(b["errors"][0]["field"], "body");
    assert_eq!(null_name.assert_problem(400)["errors"][0]["field"], "name");
    assert_eq!(null_role.assert_problem(400)["errors"][0]["field"], "role");
    two_headers.assert_problem(401);
    assert_eq!(no_scopes.assert_problem(400)["errors"][0]["field"], "scopes");
    assert_eq!(far_future.assert_problem(400)["errors"][0]["field"], "expires_at");
    assert_eq!(control.assert_problem(400)["errors"][0]["field"], "name");
    assert_eq!(spaces.assert_problem(400)["errors"][0]["field"], "password");
    let unknown_type = app.send("POST", "/api/v1/auth/refresh", &[], Some(&json!({"refresh_token": 5}))).await;
    let detail = unknown_type.assert_problem(400)["detail"].as_str().unwrap().to_owned();
    assert!(!detail.contains("RefreshRequest"), "{detail}");
}
