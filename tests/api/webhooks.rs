//! `/api/v1/webhooks`: signed deliveries on the job queue, retries, disable,
//! replay, SSRF refusals, once per event per endpoint.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::distribution::python_check;
use crate::helpers::{backend_tests, Backend, TestApp, TestDb};

backend_tests!(
    a_published_article_is_delivered_once_signed_and_verified_by_the_reference_library,
    a_500_is_retried_with_the_same_webhook_id_and_a_replay_sends_it_again,
    an_endpoint_that_keeps_failing_is_disabled_and_admins_are_mailed,
    ssrf_and_bad_urls_are_refused_with_422_naming_url,
    webhooks_are_for_admins_only,
    each_event_is_delivered_once_per_endpoint_across_a_restart,
);

/// What a loopback receiver saw: `(headers, body)` per request.
type Seen = Arc<Mutex<Vec<(Vec<(String, String)>, String)>>>;

/// A receiver on 127.0.0.1 answering the given statuses in turn (the last
/// one repeats). Returns its URL and what it saw.
fn receiver(statuses: Vec<u16>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
    let s = seen.clone();
    let statuses = Arc::new(statuses);
    let server = actix_web::HttpServer::new(move || {
        let s = s.clone();
        let statuses = statuses.clone();
        actix_web::App::new().default_service(actix_web::web::to(move |req: actix_web::HttpRequest, body: String| {
            let s = s.clone();
            let statuses = statuses.clone();
            async move {
                let headers =
                    req.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned())).collect();
                let n = {
                    let mut g = s.lock().unwrap();
                    g.push((headers, body));
                    g.len()
                };
                let code = statuses[(n - 1).min(statuses.len() - 1)];
                actix_web::HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap())
                    .body(format!("seen {n}"))
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (url, seen)
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name} header"))
}

async fn loopback_app(backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
    let db = TestDb::create(backend)?;
    let mut vars = vec![("WEBHOOK_ALLOW_LOOPBACK", "true"), ("WEBHOOK_RETRY_BASE_MS", "1")];
    vars.extend_from_slice(extra);
    Some(TestApp::serve(db, &vars))
}

async fn create_hook(app: &TestApp, admin: &str, url: &str, events: Value) -> (i64, String) {
    let res = app.authed("POST", "/api/v1/webhooks", admin, Some(&json!({"url": url, "events": events}))).await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let body = res.json();
    assert!(res.header("location").unwrap().ends_with(&format!("/api/v1/webhooks/{}", body["data"]["id"])));
    (body["data"]["id"].as_i64().unwrap(), body["secret"].as_str().unwrap().to_owned())
}

/// Runs due jobs until the queue is quiet (retries are due 1 ms later).
async fn drain(app: &TestApp) {
    for _ in 0..50 {
        if app.run_jobs().await == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            if app.run_jobs().await == 0 {
                return;
            }
        }
    }
}

async fn a_published_article_is_delivered_once_signed_and_verified_by_the_reference_library(backend: Backend) {
    let Some(app) = loopback_app(backend, &[]).await else { return };
    let (url, seen) = receiver(vec![200]);
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    let (hook, secret) = create_hook(&app, &admin, &url, json!(["article.published", "article.deleted"])).await;
    assert!(secret.starts_with("whsec_"));

    app.create_article(&editor, json!({"title": "Draft only", "body": "x"})).await;
    let (article, _) =
        app.create_article(&editor, json!({"title": "Flood defences", "body": "x", "status": "published"})).await;
    let before_jobs = seen.lock().unwrap().len();
    drain(&app).await;

    assert_eq!(before_jobs, 0, "publishing never waits on (or calls) a webhook");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one delivery: the draft emits nothing");
    let (headers, body) = &seen[0];
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["type"], "article.published");
    assert_eq!(payload["data"]["id"], article["id"]);
    assert!(header(headers, "webhook-id").starts_with("msg_"));
    assert!(header(headers, "webhook-signature").starts_with("v1,"));
    let message = json!({
        "body": body,
        "headers": {
            "webhook-id": header(headers, "webhook-id"),
            "webhook-timestamp": header(headers, "webhook-timestamp"),
            "webhook-signature": header(headers, "webhook-signature"),
        }
    });
    if let Some((ok, why)) = python_check(&["webhook", &secret], message.to_string().as_bytes()) {
        assert!(ok, "standardwebhooks rejected the signature: {why}");
    }
    let mut tampered = message.clone();
    tampered["body"] = json!(body.replace("Flood", "Fraud"));
    if let Some((ok, _)) = python_check(&["webhook", &secret], tampered.to_string().as_bytes()) {
        assert!(!ok, "a tampered body must not verify");
    }
    let (log, _) = app.get_ok_as(&format!("/api/v1/webhooks/{hook}/deliveries"), &admin).await;
    let d = &log["data"][0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64(), d["response_status"].as_i64()),
        (Some("succeeded"), Some(1), Some(200))
    );
    assert_eq!(d["response_body"], "seen 1");
    assert_eq!(d["message_id"], header(headers, "webhook-id"));
    assert!(d["duration_ms"].as_i64().is_some());
    let (one, _) = app.get_ok_as(&format!("/api/v1/webhooks/{hook}"), &admin).await;
    assert!(one["data"].get("secret").is_none(), "the secret is shown only on creation");
}

async fn a_500_is_retried_with_the_same_webhook_id_and_a_replay_sends_it_again(backend: Backend) {
    let Some(app) = loopback_app(backend, &[]).await else { return };
    let (url, seen) = receiver(vec![500, 302, 200]);
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    let (hook, secret) = create_hook(&app, &admin, &url, json!(["article.published"])).await;

    app.create_article(&editor, json!({"title": "Retry me", "body": "x", "status": "published"})).await;
    drain(&app).await;
    let (log, _) = app.get_ok_as(&format!("/api/v1/webhooks/{hook}/deliveries"), &admin).await;
    let delivery = log["data"][0]["id"].as_i64().unwrap();
    let replay =
        app.authed("POST", &format!("/api/v1/webhooks/{hook}/deliveries/{delivery}/replay"), &admin, None).await;
    drain(&app).await;
    let other_hook =
        app.authed("POST", &format!("/api/v1/webhooks/{}/deliveries/{delivery}/replay", hook + 1), &admin, None).await;

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "500 and a redirect are retried, then 200; the replay is the fourth");
    let ids: Vec<&str> = seen.iter().map(|(h, _)| header(h, "webhook-id")).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one webhook-id across retries and replay: {ids:?}");
    assert_eq!(log["data"][0]["status"], "succeeded");
    assert_eq!(log["data"][0]["attempts"], 3);
    assert_eq!(replay.status.as_u16(), 202, "{}", String::from_utf8_lossy(&replay.body));
    other_hook.assert_problem(404);
    for (h, body) in &seen {
        let message = json!({"body": body, "headers": {
            "webhook-id": header(h, "webhook-id"),
            "webhook-timestamp": header(h, "webhook-timestamp"),
            "webhook-signature": header(h, "webhook-signature")}});
        if let Some((ok, why)) = python_check(&["webhook", &secret], message.to_string().as_bytes()) {
            assert!(ok, "every attempt verifies: {why}");
        }
    }
}

async fn an_endpoint_that_keeps_failing_is_disabled_and_admins_are_mailed(backend: Backend) {
    let Some(app) =
        loopback_app(backend, &[("WEBHOOK_MAX_ATTEMPTS", "2"), ("WEBHOOK_DISABLE_AFTER_FAILURES", "2")]).await
    else {
        return;
    };
    let (url, seen) = receiver(vec![500]);
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    let (hook, _) = create_hook(&app, &admin, &url, json!(["article.published"])).await;

    for title in ["One", "Two", "Three"] {
        app.create_article(&editor, json!({"title": title, "body": "x", "status": "published"})).await;
        drain(&app).await;
    }
    let (one, _) = app.get_ok_as(&format!("/api/v1/webhooks/{hook}"), &admin).await;
    let ping_while_off = app.authed("POST", &format!("/api/v1/webhooks/{hook}/test"), &admin, None).await;
    let back_on =
        app.authed("PATCH", &format!("/api/v1/webhooks/{hook}"), &admin, Some(&json!({"active": true}))).await;

    assert_eq!(seen.lock().unwrap().len(), 4, "two deliveries of two attempts each; none once disabled");
    assert_eq!(one["data"]["active"], false);
    assert_eq!(one["data"]["failure_streak"], 2);
    assert!(one["data"]["disabled_at"].is_string());
    let mails = app.mailbox.sent();
    assert_eq!(mails.len(), 1, "one mail to the one admin");
    assert!(mails[0].text.contains(&url), "{}", mails[0].text);
    ping_while_off.assert_problem(409);
    assert_eq!(back_on.json()["data"]["active"], true);
    assert_eq!(back_on.json()["data"]["failure_streak"], 0);
    let (log, _) = app.get_ok_as(&format!("/api/v1/webhooks/{hook}/deliveries"), &admin).await;
    let statuses: Vec<&str> = log["data"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "failed"], "nothing is queued for a disabled endpoint");
}

async fn ssrf_and_bad_urls_are_refused_with_422_naming_url(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    let long = format!("https://example.com/{}", "a".repeat(2000));
    let cases = [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.0.0.8/hook",
        "http://172.16.5.4/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::ffff:10.0.0.1]/",
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "https://user:secret@example.com/hook",
        "not a url",
        long.as_str(),
    ];

    for url in cases {
        let res = app
            .authed("POST", "/api/v1/webhooks", &admin, Some(&json!({"url": url, "events": ["article.published"]})))
            .await;
        let body = res.assert_problem(422);
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
    }
    let unknown_event = app
        .authed(
            "POST",
            "/api/v1/webhooks",
            &admin,
            Some(&json!({"url": "http://127.0.0.1/", "events": ["article.eaten"]})),
        )
        .await;
    let no_events =
        app.authed("POST", "/api/v1/webhooks", &admin, Some(&json!({"url": "http://127.0.0.1/", "events": []}))).await;
    let extra = app
        .authed(
            "POST",
            "/api/v1/webhooks",
            &admin,
            Some(&json!({"url": "http://127.0.0.1/", "events": ["article.published"], "secret": "x"})),
        )
        .await;
    assert_eq!(unknown_event.assert_problem(422)["errors"][0]["field"], "events");
    assert_eq!(no_events.assert_problem(422)["errors"][0]["field"], "events");
    extra.assert_problem(400);
    let (list, _) = app.get_ok_as("/api/v1/webhooks", &admin).await;
    assert_eq!(list["data"], json!([]), "nothing half-written");
}

async fn webhooks_are_for_admins_only(backend: Backend) {
    let Some(app) = loopback_app(backend, &[]).await else { return };
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    let (hook, _) = create_hook(&app, &admin, "http://127.0.0.1:9/hook", json!(["article.published"])).await;
    let body = json!({"url": "http://127.0.0.1:9/x", "events": ["article.published"]});

    let anonymous = app.send("POST", "/api/v1/webhooks", &[], Some(&body)).await;
    let as_editor = app.authed("POST", "/api/v1/webhooks", &editor, Some(&body)).await;
    let list_as_editor = app.authed("GET", "/api/v1/webhooks", &editor, None).await;
    let delete_as_editor = app.authed("DELETE", &format!("/api/v1/webhooks/{hook}"), &editor, None).await;
    let log_as_editor = app.authed("GET", &format!("/api/v1/webhooks/{hook}/deliveries"), &editor, None).await;
    let missing = app.authed("GET", "/api/v1/webhooks/999999", &admin, None).await;
    let deleted = app.authed("DELETE", &format!("/api/v1/webhooks/{hook}"), &admin, None).await;
    let again = app.authed("DELETE", &format!("/api/v1/webhooks/{hook}"), &admin, None).await;

    anonymous.assert_problem(401);
    as_editor.assert_problem(403);
    list_as_editor.assert_problem(403);
    delete_as_editor.assert_problem(403);
    log_as_editor.assert_problem(403);
    missing.assert_problem(404);
    assert_eq!(deleted.status.as_u16(), 204);
    again.assert_problem(404);
}

async fn each_event_is_delivered_once_per_endpoint_across_a_restart(backend: Backend) {
    let Some(app) = loopback_app(backend, &[]).await else { return };
    let (url_a, seen_a) = receiver(vec![200]);
    let (url_b, seen_b) = receiver(vec![200]);
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    create_hook(&app, &admin, &url_a, json!(["article.published", "article.updated"])).await;
    create_hook(&app, &admin, &url_b, json!(["article.published"])).await;

    app.create_article(&editor, json!({"title": "Once", "body": "x", "status": "published"})).await;
    // A restarted server (a fresh instance over the same database) and the
    // old one both work the queue, twice each.
    let restarted = app.another_instance(&[("WEBHOOK_ALLOW_LOOPBACK", "true"), ("WEBHOOK_RETRY_BASE_MS", "1")]).await;
    drain(&restarted).await;
    drain(&app).await;
    drain(&restarted).await;

    assert_eq!(seen_a.lock().unwrap().len(), 1, "endpoint A: one delivery");
    assert_eq!(seen_b.lock().unwrap().len(), 1, "endpoint B: one delivery");
    let id_a = header(&seen_a.lock().unwrap()[0].0, "webhook-id").to_owned();
    let id_b = header(&seen_b.lock().unwrap()[0].0, "webhook-id").to_owned();
    assert_eq!(id_a, id_b, "one event, one message id, one delivery per endpoint");
}
