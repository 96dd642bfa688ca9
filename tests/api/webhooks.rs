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
    comments_media_authors_and_subscriptions_are_delivered_once_each_without_emails,
    a_scheduled_article_is_announced_once_when_its_time_comes,
    republishing_announces_again_and_restoring_a_revision_is_an_update,
    a_stalled_receiver_times_out_and_gets_one_call_per_attempt,
    a_redirect_loop_is_one_failed_call_per_attempt,
    a_name_that_now_resolves_to_loopback_is_refused_before_any_call,
    each_webhook_id_succeeds_once_when_the_server_is_killed_mid_retry,
);

/// What a loopback receiver saw: `(headers, body)` per request.
type Seen = Arc<Mutex<Vec<(Vec<(String, String)>, String)>>>;

/// How a receiver answers one request.
#[derive(Clone, Copy)]
struct Reply {
    /// Wait this long before answering.
    delay_ms: u64,
    status: u16,
    /// Send `location: <its own URL>` (a redirect to itself).
    to_self: bool,
}

impl Reply {
    fn status(status: u16) -> Self {
        Self { delay_ms: 0, status, to_self: false }
    }
}

/// A receiver on 127.0.0.1 answering the given statuses in turn (the last
/// one repeats). Returns its URL and what it saw.
fn receiver(statuses: Vec<u16>) -> (String, Seen) {
    receiver_with(move |n, _| Reply::status(statuses[(n - 1).min(statuses.len() - 1)]))
}

/// A receiver on 127.0.0.1 answering request `n` (1-based) carrying
/// `webhook-id` `id` as `reply(n, id)` says. Returns its URL and what it saw.
fn receiver_with(reply: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
    let s = seen.clone();
    let reply = Arc::new(reply);
    let own = url.clone();
    let server = actix_web::HttpServer::new(move || {
        let s = s.clone();
        let reply = reply.clone();
        let own = own.clone();
        actix_web::App::new().default_service(actix_web::web::to(move |req: actix_web::HttpRequest, body: String| {
            let s = s.clone();
            let reply = reply.clone();
            let own = own.clone();
            async move {
                let headers: Vec<(String, String)> =
                    req.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned())).collect();
                let id = headers.iter().find(|(k, _)| k == "webhook-id").map(|(_, v)| v.clone()).unwrap_or_default();
                let n = {
                    let mut g = s.lock().unwrap();
                    g.push((headers, body));
                    g.len()
                };
                let r = reply(n, &id);
                if r.delay_ms > 0 {
                    actix_web::rt::time::sleep(std::time::Duration::from_millis(r.delay_ms)).await;
                }
                let mut res = actix_web::HttpResponse::build(actix_web::http::StatusCode::from_u16(r.status).unwrap());
                if r.to_self {
                    res.insert_header(("location", own));
                }
                res.body(format!("seen {n}"))
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

/// The `type` of every body a receiver saw, in order.
fn types(seen: &Seen) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn patch_article(app: &TestApp, token: &str, id: &Value, body: Value) -> Value {
    let (_, etag) = app.get_ok_as(&format!("/api/v1/articles/{id}"), token).await;
    let res =
        app.authed_with("PATCH", &format!("/api/v1/articles/{id}"), token, &[("If-Match", &etag)], Some(&body)).await;
    assert_eq!(res.status.as_u16(), 200, "PATCH {body}: {}", String::from_utf8_lossy(&res.body));
    res.json()["data"].clone()
}

async fn deliveries(app: &TestApp, admin: &str, hook: i64) -> Vec<Value> {
    let (log, _) = app.get_ok_as(&format!("/api/v1/webhooks/{hook}/deliveries?per_page=100"), admin).await;
    log["data"].as_array().unwrap().clone()
}

async fn comments_media_authors_and_subscriptions_are_delivered_once_each_without_emails(backend: Backend) {
    let Some(app) = loopback_app(backend, &[]).await else { return };
    let (url, seen) = receiver(vec![200]);
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    let (article, _) =
        app.create_article(&editor, json!({"title": "Open thread", "body": "x", "status": "published"})).await;
    let events = json!([
        "comment.created",
        "comment.approved",
        "media.created",
        "media.updated",
        "media.deleted",
        "author.created",
        "author.updated",
        "author.deleted",
        "subscription.confirmed",
        "subscription.unsubscribed"
    ]);
    let (hook, _) = create_hook(&app, &admin, &url, events).await;
    let slug = article["slug"].as_str().unwrap();

    // Comments: a reader's (approved now or by a moderator), approved twice.
    let posted = app
        .send(
            "POST",
            &format!("/api/v1/articles/{slug}/comments"),
            &[],
            Some(&json!({"name": "Reader", "email": "reader@example.com", "body": "Well said."})),
        )
        .await;
    assert_eq!(posted.status.as_u16(), 201, "{}", String::from_utf8_lossy(&posted.body));
    let comment = posted.json()["data"]["id"].as_i64().unwrap();
    for _ in 0..2 {
        let res = app
            .authed("PATCH", &format!("/api/v1/comments/{comment}"), &editor, Some(&json!({"status": "approved"})))
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    }
    // Media: upload, edit, delete.
    let ct = format!("multipart/form-data; boundary={}", crate::media::BOUNDARY);
    let png = crate::media::png(4, 3);
    let body = crate::media::multipart(&[("file", Some("dot.png"), Some("image/png"), &png)]);
    let auth = format!("Bearer {editor}");
    let up = app.send_bytes("POST", "/api/v1/media", &[("authorization", &auth), ("content-type", &ct)], body).await;
    assert_eq!(up.status.as_u16(), 201, "{}", String::from_utf8_lossy(&up.body));
    let media = up.json()["data"]["id"].as_i64().unwrap();
    let edited =
        app.authed("PATCH", &format!("/api/v1/media/{media}"), &editor, Some(&json!({"title": "A dot"}))).await;
    let deleted = app.authed("DELETE", &format!("/api/v1/media/{media}"), &editor, None).await;
    // Authors: create, edit, delete.
    let author = app.authed("POST", "/api/v1/authors", &admin, Some(&json!({"name": "Ada Reporter"}))).await;
    assert_eq!(author.status.as_u16(), 201, "{}", String::from_utf8_lossy(&author.body));
    let author = author.json()["data"]["id"].as_i64().unwrap();
    let author_edit =
        app.authed("PATCH", &format!("/api/v1/authors/{author}"), &admin, Some(&json!({"bio": "Courts."}))).await;
    let author_gone = app.authed("DELETE", &format!("/api/v1/authors/{author}"), &admin, None).await;
    // Subscriptions: subscribe (nothing yet), confirm, unsubscribe, unsubscribe again.
    let sub = app.send("POST", "/api/v1/subscriptions", &[], Some(&json!({"email": "fan@example.com"}))).await;
    assert_eq!(sub.status.as_u16(), 202);
    app.run_jobs().await;
    let mail = app.mailbox.sent().last().expect("a confirmation mail").text.clone();
    let start = mail.find("token=").unwrap() + "token=".len();
    let token: String =
        mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    let confirmed = app.send("POST", "/api/v1/subscriptions/confirm", &[], Some(&json!({"token": token}))).await;
    assert_eq!(confirmed.status.as_u16(), 200, "{}", String::from_utf8_lossy(&confirmed.body));
    let own = confirmed.json()["data"]["token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let res = app.send("POST", &format!("/api/v1/subscriptions/unsubscribe?token={own}"), &[], None).await;
        assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    }
    drain(&app).await;

    assert_eq!(edited.status.as_u16(), 200);
    assert_eq!(deleted.status.as_u16(), 204);
    assert_eq!(author_edit.status.as_u16(), 200, "{}", String::from_utf8_lossy(&author_edit.body));
    assert_eq!(author_gone.status.as_u16(), 204);
    let mut got = types(&seen);
    got.sort();
    let mut want = vec![
        "author.created",
        "author.deleted",
        "author.updated",
        "comment.approved",
        "comment.created",
        "media.created",
        "media.deleted",
        "media.updated",
        "subscription.confirmed",
        "subscription.unsubscribed",
    ];
    want.sort();
    assert_eq!(got, want, "each event once; a second approval or unsubscribe sends nothing");
    for (_, body) in seen.lock().unwrap().iter() {
        assert!(!body.contains("@example.com"), "no email address in a delivery: {body}");
        let v: Value = serde_json::from_str(body).unwrap();
        assert!(v["data"]["id"].is_i64(), "every event names its resource: {body}");
    }
    let by_type = |t: &str| -> Value {
        let g = seen.lock().unwrap();
        let body = &g.iter().find(|(_, b)| b.contains(&format!("\"type\":\"{t}\""))).unwrap().1;
        serde_json::from_str::<Value>(body).unwrap()["data"].clone()
    };
    assert_eq!(by_type("comment.approved")["id"], comment);
    assert_eq!(by_type("comment.approved")["status"], "approved");
    assert_eq!(by_type("media.updated")["title"], "A dot");
    assert_eq!(by_type("author.updated")["bio"], "Courts.");
    assert_eq!(by_type("subscription.unsubscribed")["status"], "unsubscribed");
    assert_eq!(deliveries(&app, &admin, hook).await.len(), 10);
}

async fn a_scheduled_article_is_announced_once_when_its_time_comes(backend: Backend) {
    let Some(app) = loopback_app(backend, &[]).await else { return };
    let (url, seen) = receiver(vec![200]);
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    create_hook(&app, &admin, &url, json!(["article.published", "article.updated", "article.unpublished"])).await;
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(2500);
    let at_s = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);

    // Two embargoed articles; B is edited after its time but before any
    // runner got to its job, A is left to the job.
    let scheduled = json!({"body": "x", "status": "scheduled", "published_at": at_s});
    let mut a = scheduled.clone();
    a["title"] = json!("Embargo A");
    let mut b = scheduled.clone();
    b["title"] = json!("Embargo B");
    let (a, _) = app.create_article(&editor, a).await;
    let (b, _) = app.create_article(&editor, b).await;
    drain(&app).await;
    let before_time = types(&seen);
    let wait = (at - chrono::Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(300);
    tokio::time::sleep(wait).await;
    patch_article(&app, &editor, &b["id"], json!({"subtitle": "Now public"})).await;
    drain(&app).await;
    drain(&app).await;
    let after_time = seen.lock().unwrap().clone();
    patch_article(&app, &editor, &a["id"], json!({"subtitle": "Corrected"})).await;
    drain(&app).await;

    assert_eq!(before_time, Vec::<String>::new(), "nothing before the embargo lifts");
    let published: Vec<i64> = after_time
        .iter()
        .map(|(_, body)| serde_json::from_str::<Value>(body).unwrap())
        .inspect(|v| assert_eq!(v["type"], "article.published", "{v}"))
        .map(|v| v["data"]["id"].as_i64().unwrap())
        .collect();
    let mut sorted = published.clone();
    sorted.sort();
    let mut want = vec![a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap()];
    want.sort();
    assert_eq!(sorted, want, "each announced once: A by its job, B by the save (its job then sends nothing)");
    assert_eq!(types(&seen).last().map(String::as_str), Some("article.updated"), "a later save is an update");
    assert_eq!(types(&seen).len(), 3);
    use broadsheet::db::schema::jobs;
    use diesel::prelude::*;
    let live: Vec<String> =
        jobs::table.filter(jobs::kind.eq("article_live")).select(jobs::state).load(&mut *app.db.conn()).unwrap();
    assert_eq!(live, ["done", "done"], "one durable job per scheduled article, done");
}

async fn republishing_announces_again_and_restoring_a_revision_is_an_update(backend: Backend) {
    let Some(app) = loopback_app(backend, &[]).await else { return };
    app.db.import_fixture();
    let (url, seen) = receiver(vec![200]);
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    create_hook(&app, &admin, &url, json!(["article.published", "article.updated", "article.unpublished"])).await;

    // An imported article was public all along: edits are updates.
    let imported = app.get_ok("/api/v1/articles/template-comments").await["data"]["id"].clone();
    patch_article(&app, &editor, &imported, json!({"subtitle": "Imported"})).await;
    drain(&app).await;
    patch_article(&app, &editor, &imported, json!({"status": "draft"})).await;
    drain(&app).await;
    let after_import = types(&seen);
    seen.lock().unwrap().clear();

    let (a, _) = app.create_article(&editor, json!({"title": "Recall", "body": "x", "status": "published"})).await;
    drain(&app).await;
    patch_article(&app, &editor, &a["id"], json!({"status": "draft"})).await;
    drain(&app).await;
    patch_article(&app, &editor, &a["id"], json!({"status": "published"})).await;
    drain(&app).await;
    patch_article(&app, &editor, &a["id"], json!({"title": "Recall (corrected)"})).await;
    drain(&app).await;
    let path = format!("/api/v1/articles/{}", a["id"]);
    let revs = app.authed("GET", &format!("{path}/revisions?per_page=100"), &editor, None).await.json();
    let oldest = revs["data"].as_array().unwrap().last().unwrap()["id"].as_i64().unwrap();
    let (_, etag) = app.get_ok_as(&path, &editor).await;
    let restored = app
        .authed_with("POST", &format!("{path}/revisions/{oldest}/restore"), &editor, &[("If-Match", &etag)], None)
        .await;
    drain(&app).await;

    assert_eq!(after_import, ["article.updated", "article.unpublished"], "an imported article is never announced anew");
    assert_eq!(restored.status.as_u16(), 200, "{}", String::from_utf8_lossy(&restored.body));
    assert_eq!(restored.json()["data"]["title"], "Recall");
    assert_eq!(
        types(&seen),
        ["article.published", "article.unpublished", "article.published", "article.updated", "article.updated"],
        "a republished article is announced again; saving or restoring a public one is an update"
    );
}

async fn a_stalled_receiver_times_out_and_gets_one_call_per_attempt(backend: Backend) {
    let Some(app) = loopback_app(backend, &[("WEBHOOK_TIMEOUT_MS", "500")]).await else { return };
    let (url, seen) =
        receiver_with(|n, _| if n == 1 { Reply { delay_ms: 3000, ..Reply::status(200) } } else { Reply::status(200) });
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    let (hook, _) = create_hook(&app, &admin, &url, json!(["article.published"])).await;

    app.create_article(&editor, json!({"title": "Slow", "body": "x", "status": "published"})).await;
    let started = std::time::Instant::now();
    drain(&app).await;
    let took = started.elapsed();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let log = deliveries(&app, &admin, hook).await;
    let attempts = log[0]["attempt_log"].as_array().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2, "one call per attempt: the stalled one, then the retry");
    assert!(took < std::time::Duration::from_millis(2500), "the stall was cut at the timeout ({took:?})");
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("succeeded"), Some(2)));
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(attempts[0]["error"].as_str().unwrap().contains("timed out"), "{}", attempts[0]);
    assert!(attempts[0]["response_status"].is_null());
    let ms = attempts[0]["duration_ms"].as_i64().unwrap();
    assert!((450..2500).contains(&ms), "the first attempt took {ms} ms");
    assert_eq!(attempts[1]["response_status"], 200);
    assert_eq!(attempts[1]["response_body"], "seen 2");
    assert_eq!(
        attempts[0]["request_headers"]["webhook-id"], attempts[1]["request_headers"]["webhook-id"],
        "one webhook-id for both"
    );
    assert!(attempts[1]["request_headers"]["webhook-signature"].as_str().unwrap().starts_with("v1,"));
}

async fn a_redirect_loop_is_one_failed_call_per_attempt(backend: Backend) {
    let Some(app) = loopback_app(backend, &[("WEBHOOK_MAX_ATTEMPTS", "3")]).await else { return };
    let (url, seen) = receiver_with(|_, _| Reply { to_self: true, ..Reply::status(302) });
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    let (hook, _) = create_hook(&app, &admin, &url, json!(["article.published"])).await;

    app.create_article(&editor, json!({"title": "Loop", "body": "x", "status": "published"})).await;
    drain(&app).await;

    let log = deliveries(&app, &admin, hook).await;
    let attempts = log[0]["attempt_log"].as_array().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 3, "three attempts, one call each: the redirect is never followed");
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("failed"), Some(3)));
    assert_eq!(attempts.len(), 3);
    for a in attempts {
        assert_eq!(a["response_status"], 302, "{a}");
        assert!(a["error"].as_str().unwrap().contains("redirects are not followed"), "{a}");
    }
}

async fn a_name_that_now_resolves_to_loopback_is_refused_before_any_call(backend: Backend) {
    // Loopback is not allowed here. The endpoint is written straight to the
    // database, as if `localhost` had resolved to a public address when it
    // was saved and resolves to 127.0.0.1 now (DNS rebinding).
    let Some(db) = crate::helpers::TestDb::create(backend) else { return };
    let app = TestApp::serve(db, &[("WEBHOOK_RETRY_BASE_MS", "1"), ("WEBHOOK_MAX_ATTEMPTS", "2")]);
    let (url, seen) = receiver(vec![200]);
    let rebound = url.replace("127.0.0.1", "localhost");
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    let hook = {
        use broadsheet::db::schema::webhooks;
        use diesel::prelude::*;
        let now = chrono::Utc::now().naive_utc();
        diesel::insert_into(webhooks::table)
            .values((
                webhooks::url.eq(&rebound),
                webhooks::events.eq(r#"["article.published"]"#),
                webhooks::secret.eq(broadsheet::webhooks::sign::new_secret()),
                webhooks::active.eq(true),
                webhooks::created_at.eq(now),
                webhooks::updated_at.eq(now),
            ))
            .returning(webhooks::id)
            .get_result::<i64>(&mut *app.db.conn())
            .unwrap()
    };
    let saved_now = app
        .authed("POST", "/api/v1/webhooks", &admin, Some(&json!({"url": rebound, "events": ["article.published"]})))
        .await;

    app.create_article(&editor, json!({"title": "Rebound", "body": "x", "status": "published"})).await;
    drain(&app).await;

    assert_eq!(saved_now.assert_problem(422)["errors"][0]["field"], "url", "refused when saved");
    assert_eq!(seen.lock().unwrap().len(), 0, "the receiver is never called");
    let log = deliveries(&app, &admin, hook).await;
    assert_eq!(log[0]["status"], "failed");
    for a in log[0]["attempt_log"].as_array().unwrap() {
        assert!(a["error"].as_str().unwrap().contains("loopback"), "{a}");
        assert!(a["response_status"].is_null());
    }
}

/// The delivery client itself (no check before it) refuses, at connect, a
/// name that resolves to loopback; the same call with loopback allowed
/// reaches the receiver, so the refusal is the resolver's doing.
#[actix_web::test]
async fn the_delivery_client_refuses_a_loopback_name_at_connect() {
    let (url, seen) = receiver(vec![200]);
    let by_name = url.replace("127.0.0.1", "localhost");
    let timeout = std::time::Duration::from_secs(3);

    let refused = broadsheet::webhooks::ssrf::client(false, timeout).unwrap().post(&by_name).body("{}").send().await;
    let calls_after_refusal = seen.lock().unwrap().len();
    let allowed = broadsheet::webhooks::ssrf::client(true, timeout).unwrap().post(&by_name).body("{}").send().await;

    let err = refused.expect_err("a loopback answer is refused");
    let mut chain = err.to_string();
    let mut cur = std::error::Error::source(&err);
    while let Some(c) = cur {
        chain.push_str(&format!(": {c}"));
        cur = c.source();
    }
    assert!(chain.contains("loopback"), "{chain}");
    assert_eq!(calls_after_refusal, 0, "no connection was made");
    assert_eq!(allowed.expect("reachable when allowed").status().as_u16(), 200);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

fn database_url(url: &broadsheet::config::DatabaseUrl) -> String {
    match url {
        broadsheet::config::DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        broadsheet::config::DatabaseUrl::Postgres(u) => u.clone(),
    }
}

/// Starts `broadsheet serve` (the built binary, its job runner inside) on `app`'s database.
fn serve_binary(app: &TestApp) -> std::process::Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::process::Command::new(env!("CARGO_BIN_EXE_broadsheet"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", database_url(&app.db.url))
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", "test-secret-test-secret-test-secret-0123")
        .env("MAIL_URL", "memory://")
        .env("JOBS_POLL_INTERVAL_MS", "20")
        .env("JOBS_LEASE_SECONDS", "3")
        .env("WEBHOOK_ALLOW_LOOPBACK", "true")
        .env("WEBHOOK_RETRY_BASE_MS", "2000")
        .env("WEBHOOK_TIMEOUT_MS", "1000")
        .env("RUST_LOG", "error")
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("server starts")
}

async fn each_webhook_id_succeeds_once_when_the_server_is_killed_mid_retry(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    // Per webhook-id: the first call fails (500), later ones succeed (200).
    let answered: Arc<Mutex<std::collections::HashMap<String, Vec<u16>>>> = Arc::default();
    let a = answered.clone();
    let (url, seen) = receiver_with(move |_, id| {
        let mut g = a.lock().unwrap();
        let calls = g.entry(id.to_owned()).or_default();
        let status = if calls.is_empty() { 500 } else { 200 };
        calls.push(status);
        Reply::status(status)
    });
    let admin = app.token_for("admin").await;
    let editor = app.token_for("editor").await;
    // Loopback is allowed only in the binary; the endpoint is saved directly.
    let hook = {
        use broadsheet::db::schema::webhooks;
        use diesel::prelude::*;
        let now = chrono::Utc::now().naive_utc();
        diesel::insert_into(webhooks::table)
            .values((
                webhooks::url.eq(&url),
                webhooks::events.eq(r#"["article.published"]"#),
                webhooks::secret.eq(broadsheet::webhooks::sign::new_secret()),
                webhooks::active.eq(true),
                webhooks::created_at.eq(now),
                webhooks::updated_at.eq(now),
            ))
            .returning(webhooks::id)
            .get_result::<i64>(&mut *app.db.conn())
            .unwrap()
    };
    for title in ["One", "Two", "Three"] {
        app.create_article(&editor, json!({"title": title, "body": "x", "status": "published"})).await;
    }

    // Act: the server makes every first attempt (500s), and is killed while
    // the retries wait; a new server takes over.
    let mut first = serve_binary(&app);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.lock().unwrap().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "the first server made no first attempts");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    let calls_before_restart = seen.lock().unwrap().len();
    let mut second = serve_binary(&app);
    let done = || answered.lock().unwrap().values().filter(|c| c.contains(&200)).count() == 3;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "the restarted server did not finish: {:?}", answered);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Long enough for any duplicate retry to show up.
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    second.kill().expect("SIGKILL");
    second.wait().unwrap();

    assert_eq!(calls_before_restart, 3, "the first server made the first attempts only");
    let answered = answered.lock().unwrap().clone();
    assert_eq!(answered.len(), 3, "three events, three webhook-ids: {answered:?}");
    for (id, calls) in &answered {
        assert_eq!(calls.iter().filter(|s| **s == 200).count(), 1, "{id} succeeded exactly once: {calls:?}");
    }
    let log = deliveries(&app, &admin, hook).await;
    assert_eq!(log.len(), 3);
    for d in &log {
        assert_eq!(d["status"], "succeeded", "{d}");
        let statuses: Vec<i64> =
            d["attempt_log"].as_array().unwrap().iter().filter_map(|a| a["response_status"].as_i64()).collect();
        assert_eq!(statuses.last(), Some(&200), "{d}");
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{d}");
    }
}
