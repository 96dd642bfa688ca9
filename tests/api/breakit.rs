//! Regressions from the break-it pass over the new endpoints: each scenario
//! is one thing a newcomer or an attacker could do that answered wrongly.

use serde_json::json;

use crate::helpers::{backend_tests, Backend, TestApp, TestDb};

backend_tests!(
    a_webhook_body_with_a_nul_or_a_wrong_type_is_a_400_naming_the_field,
    a_taken_slug_or_email_is_a_409_that_names_the_field,
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
