//! New-article mailings: the "done when" scenario, once per
//! article, scheduled articles, hold/off modes, backdated articles, late
//! mailings held, release and cancel, skipping readers who left, retries
//! when the transport fails, the admin endpoints' bad inputs, and kill -9
//! of a worker mid-mailing with 1,000 subscribers.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use broadsheet::config::DatabaseUrl;
use broadsheet::db::schema::{articles, jobs, mailing_deliveries, mailings, subscriber_topics, subscribers};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, patch_article, Backend, TestApp};

backend_tests!(
    a_reader_of_one_series_gets_exactly_one_mailing_for_it_none_for_another_and_unsubscribing_stops_everything,
    a_scheduled_article_mails_at_its_time_and_a_mailing_found_long_past_its_time_is_held,
    hold_off_and_backdated_articles_and_release_and_cancel,
    readers_who_leave_mid_mailing_are_skipped_and_transport_failures_are_retried,
    mailing_endpoints_refuse_bad_inputs_missing_auth_and_non_editors,
    hard_bounces_and_complaints_from_the_webhook_or_an_editor_stop_all_mail,
    kill_9_of_the_worker_mid_mailing_then_a_restart_mails_every_recipient_exactly_once,
    permanent_refusals_fail_at_once_an_unknown_mailbox_bounces_and_an_editor_can_requeue_the_failures,
    the_configured_rate_spaces_the_rounds_of_a_mailing,
    deleting_an_article_keeps_its_mailing_history,
);

/// Subscribes `email` to `topics`, runs the jobs and confirms from the
/// mailed link; returns the subscriber's signed token.
async fn confirmed(app: &TestApp, email: &str, topics: Value) -> String {
    let res = app.send("POST", "/api/v1/subscriptions", &[], Some(&json!({"email": email, "topics": topics}))).await;
    assert_eq!(res.status.as_u16(), 202, "{}", String::from_utf8_lossy(&res.body));
    app.run_jobs().await;
    let sent = app.mailbox.sent();
    let text = &sent.last().expect("a confirmation mail").text;
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    let token: String =
        text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    let res = app.send("POST", "/api/v1/subscriptions/confirm", &[], Some(&json!({"token": token}))).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"]["token"].as_str().unwrap().to_owned()
}

async fn create_series(app: &TestApp, editor: &str, title: &str) -> (i64, String) {
    let res = app.authed("POST", "/api/v1/series", editor, Some(&json!({"title": title}))).await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let d = res.json()["data"].clone();
    (d["id"].as_i64().unwrap(), d["slug"].as_str().unwrap().to_owned())
}

/// Mails to `to` so far.
fn mails_to(app: &TestApp, to: &str) -> Vec<broadsheet::mail::memory::SentMail> {
    app.mailbox.sent().into_iter().filter(|m| m.to == to).collect()
}

fn mailing_of(app: &TestApp, article: i64) -> Option<(String, Option<String>)> {
    mailings::table
        .filter(mailings::article_id.eq(article))
        .select((mailings::state, mailings::held_reason))
        .first(&mut *app.db.conn())
        .optional()
        .unwrap()
}

fn mailing_id(app: &TestApp, article: i64) -> i64 {
    mailings::table.filter(mailings::article_id.eq(article)).select(mailings::id).first(&mut *app.db.conn()).unwrap()
}

async fn get_mailing(app: &TestApp, token: &str, id: i64) -> Value {
    let (body, _) = app.get_ok_as(&format!("/api/v1/mailings/{id}"), token).await;
    body["data"].clone()
}

async fn a_reader_of_one_series_gets_exactly_one_mailing_for_it_none_for_another_and_unsubscribing_stops_everything(
    backend: Backend,
) {
    // Arrange: a reader subscribed to one series, confirmed from the mail.
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let (elections, elections_slug) = create_series(&app, &editor, "Election Week").await;
    let (sport, _) = create_series(&app, &editor, "Sport").await;
    let reader = "Reader@Example.com";
    let token = confirmed(&app, reader, json!([elections_slug])).await;
    let before = app.mailbox.sent().len();

    // Act: one article in each series, published; then an edit of the first.
    let (a, _) = app
        .create_article(
            &editor,
            json!({"title": "Count begins", "excerpt": "Polls closed at 8.", "status": "published",
                   "series_id": elections, "series_position": 1, "featured_credit": "Photo: Ana Ruiz"}),
        )
        .await;
    let (b, _) =
        app.create_article(&editor, json!({"title": "Cup final", "status": "published", "series_id": sport})).await;
    app.run_jobs().await;
    let a_id = a["id"].as_i64().unwrap();
    patch_article(&app, &editor, a_id, json!({"title": "Count begins (updated)"})).await;
    app.run_jobs().await;

    // Assert: exactly one message, for the series' article, with both parts and list headers.
    let got = mails_to(&app, reader);
    assert_eq!(app.mailbox.sent().len() - before, 1, "one mailing message in all");
    let m = got.last().unwrap();
    assert_eq!(m.subject, "Count begins");
    assert!(m.text.contains("Polls closed at 8.") && m.html.contains("Polls closed at 8."), "{}", m.text);
    assert!(m.text.contains("http://broadsheet.test/articles/count-begins"), "link: {}", m.text);
    assert!(!m.html.contains("<img"), "no featured image, no image (and never a tracking pixel)");
    let raw = String::from_utf8_lossy(&m.raw);
    let unsubscribe =
        format!("http://broadsheet.test/api/v1/subscriptions/unsubscribe?token={}", token.replace('=', "%3D"));
    assert!(raw.contains(&format!("List-Unsubscribe: <{unsubscribe}>")), "{raw}");
    assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{raw}");
    assert!(raw.contains("text/plain") && raw.contains("text/html"), "{raw}");
    assert_eq!(mailing_of(&app, a_id).unwrap().0, "sent");
    let b_mailing = mailing_id(&app, b["id"].as_i64().unwrap());
    let b_view = get_mailing(&app, &editor, b_mailing).await;
    assert_eq!(b_view["state"], "sent");
    assert_eq!(b_view["deliveries"]["total"], 0, "nobody follows that series");
    let a_view = get_mailing(&app, &editor, mailing_id(&app, a_id)).await;
    assert_eq!(a_view["deliveries"], json!({"total": 1, "queued": 0, "sent": 1, "failed": 0, "skipped": 0}));

    // Act: one click on the unsubscribe link (RFC 8058 POST), then another article in the series.
    let res = app
        .send_bytes(
            "POST",
            &unsubscribe.replace("http://broadsheet.test", ""),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    assert!(res.status.is_success(), "{}", String::from_utf8_lossy(&res.body));
    app.create_article(&editor, json!({"title": "Results", "status": "published", "series_id": elections})).await;
    app.run_jobs().await;

    // Assert: nothing more, and the export still shows the consent record.
    assert_eq!(mails_to(&app, reader).len(), got.len(), "an unsubscribed reader gets nothing");
    let admin = app.token_for("admin").await;
    let res = app.authed("GET", "/api/v1/subscriptions/export?format=json", &admin, None).await;
    assert_eq!(res.status.as_u16(), 200);
    let export: Value = serde_json::from_slice(&res.body).unwrap();
    let text = export.to_string();
    assert!(text.contains("Reader@Example.com") && text.contains("consents"), "{text}");
    assert!(text.contains(&elections_slug) && text.contains("unsubscribed"), "{text}");
}

async fn a_scheduled_article_mails_at_its_time_and_a_mailing_found_long_past_its_time_is_held(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("MAILING_MAX_LATENESS_MINUTES", "5")]).await else { return };
    let editor = app.token_for("editor").await;
    confirmed(&app, "all@example.com", json!(["all"])).await;
    let before = app.mailbox.sent().len();

    // Scheduled in the future: nothing yet.
    let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let (a, _) =
        app.create_article(&editor, json!({"title": "Later", "status": "scheduled", "published_at": at})).await;
    let a_id = a["id"].as_i64().unwrap();
    app.run_jobs().await;
    assert_eq!(app.mailbox.sent().len(), before, "nothing before its time");
    assert_eq!(mailing_of(&app, a_id).unwrap().0, "scheduled");

    // Its time comes (moved into the past, as the clock would).
    let due = broadsheet::db::now() - chrono::Duration::seconds(1);
    move_to(&app, a_id, due);
    app.run_jobs().await;
    assert_eq!(app.mailbox.sent().len(), before + 1, "mailed at its time");
    assert_eq!(mailing_of(&app, a_id).unwrap().0, "sent");

    // Another whose start job only runs long after its time (a restore, an outage): held.
    let (b, _) =
        app.create_article(&editor, json!({"title": "Old news", "status": "scheduled", "published_at": at})).await;
    let b_id = b["id"].as_i64().unwrap();
    move_to(&app, b_id, broadsheet::db::now() - chrono::Duration::minutes(30));
    app.run_jobs().await;
    assert_eq!(app.mailbox.sent().len(), before + 1, "not sent late");
    assert_eq!(mailing_of(&app, b_id).unwrap(), ("held".to_owned(), Some("late".to_owned())));

    // An editor releases it: sent now.
    let id = mailing_id(&app, b_id);
    let res = app.authed("POST", &format!("/api/v1/mailings/{id}/release"), &editor, None).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"]["state"], "scheduled");
    app.run_jobs().await;
    assert_eq!(app.mailbox.sent().len(), before + 2);
    assert_eq!(app.mailbox.sent().last().unwrap().subject, "Old news");
}

/// Moves article `id`'s publication time, its mailing's time and its
/// pending start jobs to `at` (what waiting until then would do).
fn move_to(app: &TestApp, id: i64, at: chrono::NaiveDateTime) {
    let c = &mut *app.db.conn();
    diesel::update(articles::table.find(id)).set(articles::published_at.eq(Some(at))).execute(c).unwrap();
    diesel::update(mailings::table.filter(mailings::article_id.eq(id)))
        .set(mailings::scheduled_at.eq(at))
        .execute(c)
        .unwrap();
    diesel::update(jobs::table.filter(jobs::kind.eq("start_mailing")).filter(jobs::state.eq("queued")))
        .set(jobs::run_at.eq(at))
        .execute(c)
        .unwrap();
}

async fn hold_off_and_backdated_articles_and_release_and_cancel(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    confirmed(&app, "all@example.com", json!(["all"])).await;
    let before = app.mailbox.sent().len();

    // hold: the mailing waits for an editor.
    let (held, _) = app.create_article(&editor, json!({"title": "Review me"})).await;
    let held_id = held["id"].as_i64().unwrap();
    let path = format!("/api/v1/articles/{held_id}/newsletter");
    let res = app.authed("PUT", &path, &editor, Some(&json!({"mode": "hold"}))).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json(), json!({"data": {"article_id": held_id, "mode": "hold"}}));
    assert_eq!(app.get_ok_as(&path, &editor).await.0["data"]["mode"], "hold");
    patch_article(&app, &editor, held_id, json!({"status": "published"})).await;
    app.run_jobs().await;
    assert_eq!(mailing_of(&app, held_id).unwrap(), ("held".to_owned(), Some("review".to_owned())));
    assert_eq!(app.mailbox.sent().len(), before, "held: nothing sent");

    // cancel: never sends; a cancelled mailing cannot be released or cancelled again.
    let id = mailing_id(&app, held_id);
    let res = app.authed("POST", &format!("/api/v1/mailings/{id}/cancel"), &editor, None).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"]["state"], "cancelled");
    for action in ["release", "cancel"] {
        let res = app.authed("POST", &format!("/api/v1/mailings/{id}/{action}"), &editor, None).await;
        let p = res.assert_problem(409);
        assert!(p["detail"].as_str().unwrap().contains("cancelled"), "{p}");
    }
    patch_article(&app, &editor, held_id, json!({"title": "Review me again"})).await;
    app.run_jobs().await;
    assert_eq!(app.mailbox.sent().len(), before, "an edit never mails");

    // off: no mailing at all.
    let (off, _) = app.create_article(&editor, json!({"title": "Quiet"})).await;
    let off_id = off["id"].as_i64().unwrap();
    let res = app
        .authed("PUT", &format!("/api/v1/articles/{off_id}/newsletter"), &editor, Some(&json!({"mode": "off"})))
        .await;
    assert_eq!(res.status.as_u16(), 200);
    patch_article(&app, &editor, off_id, json!({"status": "published"})).await;
    app.run_jobs().await;
    assert_eq!(mailing_of(&app, off_id), None);

    // backdated: published with a time two days ago.
    let past = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    let (old, _) = app
        .create_article(&editor, json!({"title": "From the archive", "status": "published", "published_at": past}))
        .await;
    app.run_jobs().await;
    assert_eq!(mailing_of(&app, old["id"].as_i64().unwrap()), None, "a backdated article gets no mailing");
    assert_eq!(app.mailbox.sent().len(), before);

    // The list shows the one mailing there is.
    let (list, _) = app.get_ok_as("/api/v1/mailings?state=cancelled", &editor).await;
    assert_eq!(list["meta"]["total"], 1);
    assert_eq!(list["data"][0]["article_id"], held_id);
}

fn insert_confirmed(app: &TestApp, email: &str) -> i64 {
    let c = &mut *app.db.conn();
    let now = broadsheet::db::now();
    let id: i64 = diesel::insert_into(subscribers::table)
        .values((
            subscribers::email.eq(email),
            subscribers::email_key.eq(email.to_lowercase()),
            subscribers::status.eq("confirmed"),
            subscribers::secret.eq(format!("secret-{email}")),
            subscribers::confirmed_at.eq(Some(now)),
            subscribers::created_at.eq(now),
            subscribers::updated_at.eq(now),
        ))
        .returning(subscribers::id)
        .get_result(c)
        .unwrap();
    diesel::insert_into(subscriber_topics::table)
        .values((subscriber_topics::subscriber_id.eq(id), subscriber_topics::topic.eq("all")))
        .execute(c)
        .unwrap();
    id
}

fn delivery_states(app: &TestApp) -> Vec<(i64, String, i32)> {
    mailing_deliveries::table
        .order(mailing_deliveries::id)
        .select((
            mailing_deliveries::subscriber_id.assume_not_null(),
            mailing_deliveries::state,
            mailing_deliveries::attempts,
        ))
        .load(&mut *app.db.conn())
        .unwrap()
}

async fn readers_who_leave_mid_mailing_are_skipped_and_transport_failures_are_retried(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("MAILING_RETRY_BASE_SECONDS", "1")]).await else { return };
    let editor = app.token_for("editor").await;
    let stays = insert_confirmed(&app, "stays@example.com");
    let leaves = insert_confirmed(&app, "leaves@example.com");

    // The mail server is down when the mailing starts.
    app.mailbox.fail_with(Some("connection refused"));
    app.create_article(&editor, json!({"title": "Storm warning", "status": "published"})).await;
    app.run_jobs().await;
    let states = delivery_states(&app);
    assert_eq!(states.len(), 2);
    assert!(states.iter().all(|(_, s, _)| s == "queued"), "nobody lost: {states:?}");
    assert_eq!(states.iter().map(|(_, _, n)| n).sum::<i32>(), 1, "one try, then the round waits: {states:?}");

    // One reader unsubscribes meanwhile; the server comes back.
    diesel::update(subscribers::table.find(leaves))
        .set(subscribers::status.eq("unsubscribed"))
        .execute(&mut *app.db.conn())
        .unwrap();
    app.mailbox.fail_with(None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while delivery_states(&app).iter().any(|(_, s, _)| s == "queued") {
        assert!(Instant::now() < deadline, "the mailing never finished: {:?}", delivery_states(&app));
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        app.run_jobs().await;
    }

    // Assert: the one who stayed got it once; the one who left was skipped.
    let states: BTreeMap<i64, String> = delivery_states(&app).into_iter().map(|(s, st, _)| (s, st)).collect();
    assert_eq!(states[&stays], "sent");
    assert_eq!(states[&leaves], "skipped");
    assert_eq!(mails_to(&app, "stays@example.com").len(), 1);
    assert!(mails_to(&app, "leaves@example.com").is_empty());
    let id: i64 = mailings::table.select(mailings::id).first(&mut *app.db.conn()).unwrap();
    let view = get_mailing(&app, &editor, id).await;
    assert_eq!(view["state"], "sent");
    assert_eq!(view["deliveries"], json!({"total": 2, "queued": 0, "sent": 1, "failed": 0, "skipped": 1}));
}

async fn mailing_endpoints_refuse_bad_inputs_missing_auth_and_non_editors(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let author = app.token_for("author").await;
    let (a, _) = app.create_article(&editor, json!({"title": "Draft"})).await;
    let path = format!("/api/v1/articles/{}/newsletter", a["id"]);

    for (body, field) in
        [(json!({"mode": "loud"}), "mode"), (json!({}), "mode"), (json!({"mode": "send", "extra": 1}), "extra")]
    {
        let res = app.authed("PUT", &path, &editor, Some(&body)).await;
        let p = res.assert_problem(400);
        assert!(p.to_string().contains(field), "{body} should name {field}: {p}");
    }
    let p = app.authed("GET", "/api/v1/mailings?state=loud", &editor, None).await.assert_problem(400);
    assert_eq!(p["errors"][0]["field"], "state");
    app.authed("GET", "/api/v1/mailings/999999", &editor, None).await.assert_problem(404);
    app.authed("POST", "/api/v1/mailings/999999/release", &editor, None).await.assert_problem(404);
    app.authed("PUT", "/api/v1/articles/999999/newsletter", &editor, Some(&json!({"mode": "off"})))
        .await
        .assert_problem(404);
    app.authed("GET", "/api/v1/mailings/abc", &editor, None).await.assert_problem(400);

    for (method, p) in [("GET", "/api/v1/mailings"), ("POST", "/api/v1/mailings/1/cancel"), ("PUT", path.as_str())] {
        let body = (method == "PUT").then(|| json!({"mode": "off"}));
        app.send(method, p, &[], body.as_ref()).await.assert_problem(401);
        app.authed(method, p, &author, body.as_ref()).await.assert_problem(403);
    }
    let (mode, _) = app.get_ok_as(&path, &editor).await;
    assert_eq!(mode["data"]["mode"], "send", "nothing was changed by the refused requests");
}

fn database_url(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    }
}

/// `broadsheet worker` (the built binary) on the app's database, mailing into `outbox`.
fn worker(app: &TestApp, outbox: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_broadsheet"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url(&app.db.url))
        .env("DATABASE_POOL_SIZE", "4")
        .env("JWT_SECRET", "test-secret-test-secret-test-secret-0123")
        .env("MAIL_URL", format!("file://{}", outbox.display()))
        .env("JOBS_POLL_INTERVAL_MS", "50")
        .env("JOBS_LEASE_SECONDS", "4")
        .env("MAILING_RATE_PER_SECOND", "150")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("worker starts")
}

/// `To:` of every `.eml` in `dir` (temporary files of a killed write are not mail).
fn outbox_recipients(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| {
            let raw = std::fs::read_to_string(e.path()).unwrap();
            raw.lines().find_map(|l| l.strip_prefix("To: ")).expect("a To header").trim().to_owned()
        })
        .collect()
}

async fn kill_9_of_the_worker_mid_mailing_then_a_restart_mails_every_recipient_exactly_once(backend: Backend) {
    // Arrange: 1,000 confirmed subscribers and a published article.
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let expected: Vec<String> = (0..1000).map(|i| format!("reader{i:04}@example.com")).collect();
    // The article first: the test server has no job runner, so its mailing
    // starts in the worker, after the subscribers exist. (Inserting them
    // first blocks this runtime long enough for the server to drop the
    // client's idle keep-alive connection.)
    app.create_article(&editor, json!({"title": "Big news", "status": "published"})).await;
    for e in &expected {
        insert_confirmed(&app, e);
    }
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");

    // Act: a worker starts sending and is killed (SIGKILL) part-way.
    let mut first = worker(&app, &outbox);
    let deadline = Instant::now() + Duration::from_secs(120);
    while outbox_recipients(&outbox).len() < 200 {
        assert!(Instant::now() < deadline, "the first worker never got going");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().expect("kill -9");
    first.wait().unwrap();
    let at_kill = outbox_recipients(&outbox).len();
    assert!(at_kill < 1000, "killed mid-mailing ({at_kill} sent)");

    // A new worker takes over after the lease.
    let mut second = worker(&app, &outbox);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let state: String = mailings::table.select(mailings::state).first(&mut *app.db.conn()).unwrap();
        if state == "sent" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the mailing never finished ({} in the outbox)",
            outbox_recipients(&outbox).len()
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();

    // Assert: every recipient exactly once, and every record sent.
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for to in outbox_recipients(&outbox) {
        *per.entry(to).or_default() += 1;
    }
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "mailed more than once: {twice:?}");
    let missing: Vec<_> = expected.iter().filter(|e| !per.contains_key(*e)).collect();
    assert!(missing.is_empty(), "{} never mailed, e.g. {:?}", missing.len(), missing.first());
    assert_eq!(per.len(), 1000);
    let sent: i64 = mailing_deliveries::table
        .filter(mailing_deliveries::state.eq("sent"))
        .count()
        .get_result(&mut *app.db.conn())
        .unwrap();
    assert_eq!(sent, 1000);
}

fn status_of(app: &TestApp, id: i64) -> String {
    subscribers::table.find(id).select(subscribers::status).first(&mut *app.db.conn()).unwrap()
}

async fn hard_bounces_and_complaints_from_the_webhook_or_an_editor_stop_all_mail(backend: Backend) {
    // Arrange
    let secret = "webhook-secret-".repeat(3);
    let Some(app) = TestApp::spawn_with(backend, &[("BOUNCE_WEBHOOK_SECRET", &secret)]).await else { return };
    let editor = app.token_for("editor").await;
    let author = app.token_for("author").await;
    let hard = insert_confirmed(&app, "hard@example.com");
    let angry = insert_confirmed(&app, "angry@example.com");
    let soft = insert_confirmed(&app, "soft@example.com");
    let by_editor = insert_confirmed(&app, "reported@example.com");
    let path = "/api/v1/subscriptions/bounces";
    let bearer = format!("Bearer {secret}");
    let webhook = |body: Value| {
        let bearer = bearer.clone();
        let app = &app;
        async move { app.send("POST", path, &[("Authorization", bearer.as_str())], Some(&body)).await }
    };

    // Bad credentials, roles and bodies: refused, nothing written.
    let one = json!({"events": [{"email": "hard@example.com", "type": "hard_bounce"}]});
    app.send("POST", path, &[("Authorization", "Bearer not-the-secret")], Some(&one)).await.assert_problem(401);
    app.send("POST", path, &[], Some(&one)).await.assert_problem(401);
    app.authed("POST", path, &author, Some(&one)).await.assert_problem(403);
    let too_many: Vec<Value> =
        (0..1001).map(|i| json!({"email": format!("x{i}@example.com"), "type": "soft_bounce"})).collect();
    for (body, field) in [
        (
            json!({"events": [{"email": "hard@example.com", "type": "hard_bounce"}, {"email": "not an address", "type": "complaint"}]}),
            "events[1].email",
        ),
        (json!({"events": [{"email": "hard@example.com", "type": "bounced"}]}), "events[0].type"),
        (json!({"events": []}), "events"),
        (json!({"events": too_many}), "events"),
        (json!({"events": [{"email": "hard@example.com", "type": "complaint", "extra": 1}]}), "extra"),
    ] {
        let p = webhook(body.clone()).await.assert_problem(400);
        assert!(p.to_string().contains(field), "should name {field}: {p}");
    }
    assert_eq!(status_of(&app, hard), "confirmed", "a refused report writes nothing");

    // Act: the provider reports; an editor reports one by hand.
    let res = webhook(json!({"events": [
        {"email": "HARD@example.com", "type": "hard_bounce", "reason": "550 5.1.1 user unknown"},
        {"email": "angry@example.com", "type": "complaint"},
        {"email": "soft@example.com", "type": "soft_bounce", "reason": "452 mailbox full"},
        {"email": "stranger@example.com", "type": "hard_bounce"}
    ]}))
    .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json(), json!({"data": {"received": 4, "stopped": 2, "ignored": 1, "unknown": 1}}));
    let res = app
        .authed(
            "POST",
            path,
            &editor,
            Some(&json!({"events": [{"email": "reported@example.com", "type": "complaint"}]})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));

    // A bounced reader asking to subscribe again changes nothing.
    let res = app.send("POST", "/api/v1/subscriptions", &[], Some(&json!({"email": "hard@example.com"}))).await;
    assert_eq!(res.status.as_u16(), 202);
    app.run_jobs().await;

    // Assert: states, and the next mailing reaches only the soft bounce.
    assert_eq!(status_of(&app, hard), "bounced");
    assert_eq!(status_of(&app, angry), "complained");
    assert_eq!(status_of(&app, soft), "confirmed");
    assert_eq!(status_of(&app, by_editor), "complained");
    let before = app.mailbox.sent().len();
    app.create_article(&editor, json!({"title": "After the bounces", "status": "published"})).await;
    app.run_jobs().await;
    let sent: Vec<String> = app.mailbox.sent()[before..].iter().map(|m| m.to.clone()).collect();
    assert_eq!(sent, ["soft@example.com"]);
}

fn deliveries_of(app: &TestApp, email: &str) -> (String, i32, Option<String>) {
    mailing_deliveries::table
        .inner_join(subscribers::table)
        .filter(subscribers::email.eq(email))
        .select((mailing_deliveries::state, mailing_deliveries::attempts, mailing_deliveries::last_error))
        .first(&mut *app.db.conn())
        .unwrap()
}

async fn permanent_refusals_fail_at_once_an_unknown_mailbox_bounces_and_an_editor_can_requeue_the_failures(
    backend: Backend,
) {
    // Arrange: one address the server does not know, one it refuses by
    // policy, one it takes; and a transient failure for nobody.
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let author = app.token_for("author").await;
    let unknown = insert_confirmed(&app, "unknown@example.com");
    let policy = insert_confirmed(&app, "policy@example.com");
    insert_confirmed(&app, "fine@example.com");
    app.mailbox.reject("unknown@example.com", "permanent error (550): 5.1.1 <unknown@example.com>: user unknown");
    app.mailbox.reject("policy@example.com", "permanent error (550): 5.7.1 message refused by policy");
    let (article, _) = app.create_article(&editor, json!({"title": "Refusals", "status": "published"})).await;
    let id = mailing_id(&app, article["id"].as_i64().unwrap());

    // A retry before it has run: 409; bad ids, auth and roles as elsewhere.
    let retry = format!("/api/v1/mailings/{id}/retry");
    app.authed("POST", &retry, &editor, None).await.assert_problem(409);
    app.send("POST", &retry, &[], None).await.assert_problem(401);
    app.authed("POST", &retry, &author, None).await.assert_problem(403);
    app.authed("POST", "/api/v1/mailings/999999/retry", &editor, None).await.assert_problem(404);
    app.authed("POST", "/api/v1/mailings/x/retry", &editor, None).await.assert_problem(400);

    // Act: the mailing runs.
    app.run_jobs().await;

    // Assert: refusals failed at once (one try each), without waiting, and
    // the mailing finished; only the unknown mailbox is now bounced.
    let (state, tries, error) = deliveries_of(&app, "unknown@example.com");
    assert_eq!((state.as_str(), tries), ("failed", 1));
    assert!(error.unwrap().contains("5.1.1"));
    assert_eq!(deliveries_of(&app, "policy@example.com").0, "failed");
    assert_eq!(deliveries_of(&app, "fine@example.com").0, "sent");
    assert_eq!(status_of(&app, unknown), "bounced");
    assert_eq!(status_of(&app, policy), "confirmed", "a policy refusal says nothing about the address");
    let view = get_mailing(&app, &editor, id).await;
    assert_eq!(view["state"], "sent");
    assert_eq!(view["deliveries"], json!({"total": 3, "queued": 0, "sent": 1, "failed": 2, "skipped": 0}));
    assert_eq!(app.mailbox.sent().iter().filter(|m| m.subject == "Refusals").count(), 1);

    // Act: the server takes mail again; an editor re-queues the failures, twice.
    app.mailbox.clear_rejections();
    let res = app.authed("POST", &retry, &editor, None).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let body = res.json();
    assert_eq!(body["data"]["requeued"], 2);
    assert_eq!(body["data"]["mailing"]["state"], "sending");
    let again = app.authed("POST", &retry, &editor, None).await;
    assert_eq!(again.status.as_u16(), 200);
    assert_eq!(again.json()["data"]["requeued"], 0, "idempotent: nothing left to re-queue");
    app.run_jobs().await;
    let again = app.authed("POST", &retry, &editor, None).await;
    assert_eq!(again.json()["data"]["requeued"], 0);
    app.run_jobs().await;

    // Assert: the policy refusal went out now, the bounced address was
    // skipped, and the reader who had it already got no second copy.
    let per: Vec<String> = app.mailbox.sent().into_iter().filter(|m| m.subject == "Refusals").map(|m| m.to).collect();
    assert_eq!(per, ["fine@example.com", "policy@example.com"]);
    let view = get_mailing(&app, &editor, id).await;
    assert_eq!(view["state"], "sent");
    assert_eq!(view["deliveries"], json!({"total": 3, "queued": 0, "sent": 2, "failed": 0, "skipped": 1}));
}

async fn the_configured_rate_spaces_the_rounds_of_a_mailing(backend: Backend) {
    // Arrange: 20 messages a second in batches of 5, so rounds are at least
    // 250 ms apart; 12 readers make three rounds.
    let Some(app) =
        TestApp::spawn_with(backend, &[("MAILING_RATE_PER_SECOND", "20"), ("MAILING_BATCH_SIZE", "5")]).await
    else {
        return;
    };
    let editor = app.token_for("editor").await;
    for i in 0..12 {
        insert_confirmed(&app, &format!("paced{i:02}@example.com"));
    }

    // Act: publish, and run jobs until the mailing is sent.
    app.create_article(&editor, json!({"title": "Paced", "status": "published"})).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        app.run_jobs().await;
        let state: String = mailings::table.select(mailings::state).first(&mut *app.db.conn()).unwrap();
        if state == "sent" {
            break;
        }
        assert!(Instant::now() < deadline, "the mailing never finished");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }

    // Assert: each round was scheduled at least batch ÷ rate after the one before.
    let rounds: Vec<chrono::NaiveDateTime> = jobs::table
        .filter(jobs::kind.eq("send_mailing"))
        .order(jobs::id)
        .select(jobs::run_at)
        .load(&mut *app.db.conn())
        .unwrap();
    assert_eq!(rounds.len(), 3, "12 messages in batches of 5: {rounds:?}");
    for pair in rounds.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= chrono::Duration::milliseconds(250), "rounds {gap} apart: {rounds:?}");
    }
    let mut to: Vec<String> = app.mailbox.sent().into_iter().filter(|m| m.subject == "Paced").map(|m| m.to).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 12, "everyone once");
    assert_eq!(app.mailbox.sent().iter().filter(|m| m.subject == "Paced").count(), 12);
}

async fn delete_article(app: &TestApp, token: &str, id: i64) {
    let (_, etag) = app.get_ok_as(&format!("/api/v1/articles/{id}"), token).await;
    let res = app.authed_with("DELETE", &format!("/api/v1/articles/{id}"), token, &[("If-Match", &etag)], None).await;
    assert_eq!(res.status.as_u16(), 204, "{}", String::from_utf8_lossy(&res.body));
}

async fn deleting_an_article_keeps_its_mailing_history(backend: Backend) {
    // Arrange: a mailing that was sent, and one held for review.
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    insert_confirmed(&app, "history@example.com");
    let (sent_article, _) =
        app.create_article(&editor, json!({"title": "Sent then deleted", "status": "published"})).await;
    app.run_jobs().await;
    let sent_id = mailing_id(&app, sent_article["id"].as_i64().unwrap());
    let (held_article, _) = app.create_article(&editor, json!({"title": "Held then deleted"})).await;
    let held_article = held_article["id"].as_i64().unwrap();
    let res = app
        .authed("PUT", &format!("/api/v1/articles/{held_article}/newsletter"), &editor, Some(&json!({"mode": "hold"})))
        .await;
    assert_eq!(res.status.as_u16(), 200);
    patch_article(&app, &editor, held_article, json!({"status": "published"})).await;
    let held_id = mailing_id(&app, held_article);

    // Act: both articles are deleted.
    delete_article(&app, &editor, sent_article["id"].as_i64().unwrap()).await;
    delete_article(&app, &editor, held_article).await;
    app.run_jobs().await;

    // Assert: the history stays, with the title; the held one cannot be released.
    let view = get_mailing(&app, &editor, sent_id).await;
    assert_eq!(view["article_id"], Value::Null);
    assert_eq!(view["article_title"], "Sent then deleted");
    assert_eq!(view["state"], "sent");
    assert_eq!(view["deliveries"]["sent"], 1);
    let held = get_mailing(&app, &editor, held_id).await;
    assert_eq!(held["article_title"], "Held then deleted");
    assert_eq!(held["state"], "held");
    let p = app.authed("POST", &format!("/api/v1/mailings/{held_id}/release"), &editor, None).await.assert_problem(409);
    assert!(p["detail"].as_str().unwrap().contains("deleted"), "{p}");
    let (list, _) = app.get_ok_as("/api/v1/mailings", &editor).await;
    assert_eq!(list["meta"]["total"], 2);
    assert_eq!(mails_to(&app, "history@example.com").len(), 1, "nobody was mailed again");
}
