//! Sessions and tokens: login, refresh rotation, logout, password change,
//! token validation and the login throttle.

use crate::helpers::{backend_tests, Backend, TestApp, PASSWORD};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

const SECRET: &[u8] = b"test-secret-test-secret-test-secret-0123";

backend_tests!(
    login_returns_a_short_lived_jwt_and_a_refresh_token,
    unknown_email_and_wrong_password_get_the_same_answer,
    bad_tokens_are_401_with_www_authenticate,
    logout_ends_both_the_access_and_the_refresh_token,
    refresh_rotates_and_reuse_revokes_the_family,
    a_password_change_ends_every_earlier_token,
    a_disabled_user_cannot_log_in_refresh_or_use_a_token,
    failed_logins_are_throttled_with_retry_after,
    malformed_login_bodies_are_400_naming_the_field,
);

async fn login_returns_a_short_lived_jwt_and_a_refresh_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("Editor@Example.com ", "editor", None);

    let pair = app.login("  editor@EXAMPLE.com").await;
    let me = app.authed("GET", "/api/v1/auth/me", pair["access_token"].as_str().unwrap(), None).await;

    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert_eq!(pair["user"]["email"], "editor@example.com", "emails are trimmed and lowercased");
    assert!(pair["refresh_token"].as_str().unwrap().len() >= 43);
    let token = pair["access_token"].as_str().unwrap();
    let mut v = jsonwebtoken::Validation::new(Algorithm::HS256);
    v.set_audience(&["broadsheet-api"]);
    v.set_issuer(&["broadsheet"]);
    let claims =
        jsonwebtoken::decode::<serde_json::Value>(token, &jsonwebtoken::DecodingKey::from_secret(SECRET).unwrap(), &v)
            .expect("valid HS256 token")
            .claims;
    for claim in ["sub", "role", "iat", "exp", "iss", "aud", "jti"] {
        assert!(claims.get(claim).is_some(), "claim {claim} missing: {claims}");
    }
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
    assert_eq!(claims["role"], "editor");
    assert_eq!(me.status.as_u16(), 200);
    assert_eq!(me.json()["data"]["role"], "editor");
    assert!(me.json()["data"].get("password_hash").is_none());
}

async fn unknown_email_and_wrong_password_get_the_same_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("real@example.com", "author", None);

    let wrong_password = app
        .send(
            "POST",
            "/api/v1/auth/login",
            &[],
            Some(&json!({"email": "real@example.com", "password": "not the password"})),
        )
        .await;
    let unknown = app
        .send(
            "POST",
            "/api/v1/auth/login",
            &[],
            Some(&json!({"email": "ghost@example.com", "password": "not the password"})),
        )
        .await;

    let a = wrong_password.assert_problem(401);
    let b = unknown.assert_problem(401);
    assert_eq!(a, b, "the two failures must be indistinguishable");
    assert_eq!(wrong_password.header("www-authenticate"), Some("Bearer"));
}

fn claims(overrides: serde_json::Value) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({
        "sub": "1", "role": "admin", "iat": now, "exp": now + 600, "iss": "broadsheet",
        "aud": "broadsheet-api", "jti": "x", "sid": "no-such-session"
    });
    for (k, v) in overrides.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn sign(alg: Algorithm, c: &serde_json::Value) -> String {
    encode(&Header::new(alg), c, &EncodingKey::from_secret(SECRET).unwrap()).unwrap()
}

async fn bad_tokens_are_401_with_www_authenticate(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("admin@example.com", "admin", None);
    let good = app.login("admin@example.com").await["access_token"].as_str().unwrap().to_owned();
    let sid = {
        let parts: Vec<&str> = good.split('.').collect();
        use base64::Engine;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        serde_json::from_slice::<serde_json::Value>(&payload).unwrap()["sid"].clone()
    };
    let now = chrono::Utc::now().timestamp();
    let tampered = {
        let mut t = good.clone();
        let last = t.pop().unwrap();
        t.push(if last == 'A' { 'B' } else { 'A' });
        t
    };
    let unsigned = {
        use base64::Engine;
        let e = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", e(&json!({"alg": "none", "typ": "JWT"})), e(&claims(json!({"sid": sid}))))
    };
    let cases = [
        ("expired", sign(Algorithm::HS256, &claims(json!({"sid": sid, "iat": now - 1000, "exp": now - 1})))),
        ("tampered", tampered),
        ("HS512", sign(Algorithm::HS512, &claims(json!({"sid": sid})))),
        ("alg none", unsigned),
        ("wrong audience", sign(Algorithm::HS256, &claims(json!({"sid": sid, "aud": "someone-else"})))),
        ("wrong issuer", sign(Algorithm::HS256, &claims(json!({"sid": sid, "iss": "evil"})))),
        ("unknown session", sign(Algorithm::HS256, &claims(json!({})))),
        ("garbage", "not-a-jwt".to_owned()),
    ];

    let ok = app.authed("GET", "/api/v1/auth/me", &good, None).await;
    assert_eq!(ok.status.as_u16(), 200, "the control token works");
    for (name, token) in cases {
        for path in ["/api/v1/auth/me", "/api/v1/authors"] {
            let res = app.authed("GET", path, &token, None).await;
            res.assert_problem(401);
            assert_eq!(res.header("www-authenticate"), Some("Bearer"), "{name} {path}");
        }
    }
    let wrong_scheme = app.send("GET", "/api/v1/auth/me", &[("authorization", "Basic YTpi")], None).await;
    wrong_scheme.assert_problem(401);
    app.get("/api/v1/auth/me").await.assert_problem(401);
}

async fn logout_ends_both_the_access_and_the_refresh_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("a@example.com", "author", None);
    let pair = app.login("a@example.com").await;
    let other = app.login("a@example.com").await;
    let access = pair["access_token"].as_str().unwrap();

    let out = app.authed("POST", "/api/v1/auth/logout", access, None).await;

    assert_eq!(out.status.as_u16(), 204);
    app.authed("GET", "/api/v1/auth/me", access, None).await.assert_problem(401);
    app.send("POST", "/api/v1/auth/refresh", &[], Some(&json!({"refresh_token": pair["refresh_token"]})))
        .await
        .assert_problem(401);
    let still = app.authed("GET", "/api/v1/auth/me", other["access_token"].as_str().unwrap(), None).await;
    assert_eq!(still.status.as_u16(), 200, "other sessions survive a logout");
    app.request("POST", "/api/v1/auth/logout", None).await.assert_problem(401);
}

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("r@example.com", "author", None);
    let first = app.login("r@example.com").await;
    let refresh = |t: &serde_json::Value| json!({"refresh_token": t["refresh_token"]});

    let second = app.send("POST", "/api/v1/auth/refresh", &[], Some(&refresh(&first))).await;
    assert_eq!(second.status.as_u16(), 200);
    let second = second.json()["data"].clone();
    assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");
    let me = app.authed("GET", "/api/v1/auth/me", second["access_token"].as_str().unwrap(), None).await;
    assert_eq!(me.status.as_u16(), 200);

    let reuse = app.send("POST", "/api/v1/auth/refresh", &[], Some(&refresh(&first))).await;

    assert!(reuse.assert_problem(401)["detail"].as_str().unwrap().contains("already used"));
    app.send("POST", "/api/v1/auth/refresh", &[], Some(&refresh(&second))).await.assert_problem(401);
    app.authed("GET", "/api/v1/auth/me", second["access_token"].as_str().unwrap(), None).await.assert_problem(401);
    app.send("POST", "/api/v1/auth/refresh", &[], Some(&json!({"refresh_token": "made-up"}))).await.assert_problem(401);
}

async fn a_password_change_ends_every_earlier_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("p@example.com", "editor", None);
    let here = app.login("p@example.com").await;
    let elsewhere = app.login("p@example.com").await;
    let token = here["access_token"].as_str().unwrap();

    let wrong = app
        .authed(
            "PUT",
            "/api/v1/auth/password",
            token,
            Some(&json!({"current_password": "nope nope nope", "new_password": "a brand new passphrase"})),
        )
        .await;
    let weak = app
        .authed(
            "PUT",
            "/api/v1/auth/password",
            token,
            Some(&json!({"current_password": PASSWORD, "new_password": "short"})),
        )
        .await;
    let changed = app
        .authed(
            "PUT",
            "/api/v1/auth/password",
            token,
            Some(&json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
        )
        .await;

    assert_eq!(wrong.assert_problem(400)["errors"][0]["field"], "current_password");
    assert_eq!(weak.assert_problem(400)["errors"][0]["field"], "new_password");
    assert_eq!(changed.status.as_u16(), 200);
    let fresh = changed.json()["data"]["access_token"].as_str().unwrap().to_owned();
    app.authed("GET", "/api/v1/auth/me", token, None).await.assert_problem(401);
    app.authed("GET", "/api/v1/auth/me", elsewhere["access_token"].as_str().unwrap(), None).await.assert_problem(401);
    app.send("POST", "/api/v1/auth/refresh", &[], Some(&json!({"refresh_token": elsewhere["refresh_token"]})))
        .await
        .assert_problem(401);
    assert_eq!(app.authed("GET", "/api/v1/auth/me", &fresh, None).await.status.as_u16(), 200);
    let old_password = app
        .send("POST", "/api/v1/auth/login", &[], Some(&json!({"email": "p@example.com", "password": PASSWORD})))
        .await;
    old_password.assert_problem(401);
}

async fn a_disabled_user_cannot_log_in_refresh_or_use_a_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    let id = app.create_user("d@example.com", "author", None);
    let pair = app.login("d@example.com").await;

    let disable = app.authed("PATCH", &format!("/api/v1/users/{id}"), &admin, Some(&json!({"disabled": true}))).await;

    assert_eq!(disable.status.as_u16(), 200);
    assert_eq!(disable.json()["data"]["disabled"], true);
    app.authed("GET", "/api/v1/auth/me", pair["access_token"].as_str().unwrap(), None).await.assert_problem(401);
    app.send("POST", "/api/v1/auth/refresh", &[], Some(&json!({"refresh_token": pair["refresh_token"]})))
        .await
        .assert_problem(401);
    let login = app
        .send("POST", "/api/v1/auth/login", &[], Some(&json!({"email": "d@example.com", "password": PASSWORD})))
        .await;
    login.assert_problem(403);
}

async fn failed_logins_are_throttled_with_retry_after(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("t@example.com", "author", None);
    let attempt = |password: &'static str| {
        let app = &app;
        async move {
            app.send("POST", "/api/v1/auth/login", &[], Some(&json!({"email": "t@example.com", "password": password})))
                .await
        }
    };

    // The account allows 5 failures per window; the 6th attempt waits.
    for _ in 0..5 {
        attempt("wrong password!").await.assert_problem(401);
    }
    let blocked = attempt("wrong password!").await;
    let even_right = attempt(PASSWORD).await;

    assert_eq!(blocked.assert_problem(429)["code"], "too_many_requests");
    let retry: u64 = blocked.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    even_right.assert_problem(429);
    app.create_user("u@example.com", "author", None);
    let other = app.login("u@example.com").await;
    assert!(other["access_token"].is_string(), "other accounts from the same client still log in");
}

async fn malformed_login_bodies_are_400_naming_the_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let cases = [
        (json!({"email": "a@b.c"}), "password"),
        (json!({"password": "x"}), "email"),
        (json!({"email": "a@b.c", "password": "x", "role": "admin"}), "role"),
        (json!({"email": 5, "password": "x"}), "email"),
        (json!({"email": "a\u{0}@b.c", "password": "x"}), "email"),
        (json!(["not", "an", "object"]), "body"),
    ];
    for (body, field) in cases {
        let res = app.send("POST", "/api/v1/auth/login", &[], Some(&body)).await;
        assert_eq!(res.assert_problem(400)["errors"][0]["field"], field, "{body}");
    }
    let not_json = app.send("POST", "/api/v1/auth/login", &[("content-type", "text/plain")], None).await;
    assert!(matches!(not_json.status.as_u16(), 400 | 415), "{}", not_json.status);
    assert_eq!(not_json.content_type(), "application/problem+json");
    let huge = json!({"email": "a@b.c", "password": "x".repeat(2 * 1024 * 1024)});
    app.send("POST", "/api/v1/auth/login", &[], Some(&huge)).await.assert_problem(413);
}
