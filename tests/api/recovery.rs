//! Password reset and invitations: mails through the queue, single-use
//! tokens, no account enumeration, sessions revoked; mail transports
//! (outbox folder, a failing and a stalled SMTP server, a real one in CI).

use std::time::{Duration, Instant};

use broadsheet::db::schema::{jobs, mails};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, Backend, TestApp, PASSWORD};

backend_tests!(
    a_reset_mail_lets_the_user_choose_a_password_and_ends_old_sessions,
    reset_requests_answer_the_same_for_unknown_and_disabled_accounts,
    bad_reset_inputs_are_400s_naming_the_field,
    every_unusable_token_gets_the_same_answer,
    the_default_outbox_holds_the_reset_mail_as_an_eml_file,
    an_invited_user_sets_their_own_password,
    a_refusing_mail_server_means_retries_not_failed_requests,
    a_stalled_smtp_server_times_out_the_job_not_the_request,
    mail_reaches_a_real_smtp_server,
    required_starttls_never_falls_back_to_plain_text,
    reset_requests_are_limited_per_email_and_per_address_without_telling_which_accounts_exist,
    a_password_change_voids_reset_links_mailed_before_it,
    addresses_the_mailer_cannot_write_to_are_refused_before_an_invitation,
);

const NEW_PASSWORD: &str = "a completely new passphrase";

/// The token in the first link with `token=` in `text`.
fn token_in(text: &str) -> String {
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// Decodes quoted-printable soft breaks and `=XX` escapes.
fn unquote(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn reset(app: &TestApp, email: &str) -> crate::helpers::Response {
    app.send("POST", "/api/v1/auth/password-reset", &[], Some(&json!({"email": email}))).await
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> crate::helpers::Response {
    let body = json!({"token": token, "new_password": password});
    app.send("POST", "/api/v1/auth/password-reset/confirm", &[], Some(&body)).await
}

fn job_count(app: &TestApp) -> i64 {
    jobs::table.count().get_result(&mut *app.db.conn()).unwrap()
}

async fn a_reset_mail_lets_the_user_choose_a_password_and_ends_old_sessions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("reader@example.com", "author", None);
    let old = app.login("reader@example.com").await;

    let res = reset(&app, "  Reader@Example.com ").await;
    assert_eq!(res.status.as_u16(), 202, "{}", String::from_utf8_lossy(&res.body));
    assert!(app.mailbox.sent().is_empty(), "nothing is sent from the request");
    assert_eq!(app.run_jobs().await, 2, "the request's job, then the mail's");

    let sent = app.mailbox.sent();
    assert_eq!(sent.len(), 1);
    let mail = &sent[0];
    assert_eq!(mail.to, "reader@example.com");
    assert_eq!(mail.subject, "Reset your password");
    assert!(mail.text.contains("http://broadsheet.test/reset-password?token="), "{}", mail.text);
    let token = token_in(&mail.text);
    assert_eq!(token.len(), 43, "256 bits, base64url");
    assert!(mail.html.contains(&token));
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(raw.contains(&format!("Message-ID: {}", mail.message_id)), "{raw}");
    let (params, sent_at): (String, Option<chrono::NaiveDateTime>) =
        mails::table.select((mails::params, mails::sent_at)).first(&mut *app.db.conn()).unwrap();
    assert!(sent_at.is_some() && params == "{}", "marked sent, token forgotten");

    let res = confirm(&app, &token, NEW_PASSWORD).await;
    assert_eq!(res.status.as_u16(), 204, "{}", String::from_utf8_lossy(&res.body));

    let login = |password: &str| json!({"email": "reader@example.com", "password": password});
    let res = app.send("POST", "/api/v1/auth/login", &[], Some(&login(NEW_PASSWORD))).await;
    assert_eq!(res.status.as_u16(), 200, "the new password works");
    app.send("POST", "/api/v1/auth/login", &[], Some(&login(PASSWORD))).await.assert_problem(401);
    app.authed("GET", "/api/v1/auth/me", old["access_token"].as_str().unwrap(), None).await.assert_problem(401);
    let refresh = json!({"refresh_token": old["refresh_token"]});
    app.send("POST", "/api/v1/auth/refresh", &[], Some(&refresh)).await.assert_problem(401);
    let again = confirm(&app, &token, "yet another long passphrase").await.assert_problem(400);
    assert_eq!(again["errors"][0]["field"], "token", "single use: {again}");
}

async fn reset_requests_answer_the_same_for_unknown_and_disabled_accounts(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("known@example.com", "author", None);
    let disabled = app.create_user("gone@example.com", "author", None);
    {
        use broadsheet::db::schema::users;
        diesel::update(users::table.find(disabled)).set(users::disabled.eq(true)).execute(&mut *app.db.conn()).unwrap();
    }

    let known = reset(&app, "known@example.com").await;
    let unknown = reset(&app, "nobody@example.com").await;
    let off = reset(&app, "gone@example.com").await;

    for res in [&known, &unknown, &off] {
        assert_eq!(res.status.as_u16(), 202);
        assert_eq!(res.content_type(), "application/json");
        assert_eq!(res.body, known.body, "one body for every address");
        assert_eq!(res.header("content-length"), known.header("content-length"));
    }
    assert!(known.json()["data"]["message"].as_str().unwrap().starts_with("If an account uses this address"));
    assert_eq!(job_count(&app), 3, "each request costs one job insert, whoever the address is");
    app.run_jobs().await;
    assert_eq!(app.mailbox.sent().len(), 1, "no mail for unknown or disabled accounts");
    assert_eq!(app.mailbox.sent()[0].to, "known@example.com");
    let mails: i64 = mails::table.count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(mails, 1);
}

async fn bad_reset_inputs_are_400s_naming_the_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/api/v1/auth/password-reset", json!({}), "email"),
        ("/api/v1/auth/password-reset", json!({"email": "not an address"}), "email"),
        ("/api/v1/auth/password-reset", json!({"email": 42}), "email"),
        ("/api/v1/auth/password-reset", json!({"email": "a@example.com", "role": "admin"}), "role"),
        ("/api/v1/auth/password-reset/confirm", json!({"new_password": NEW_PASSWORD}), "token"),
        ("/api/v1/auth/password-reset/confirm", json!({"token": "x"}), "new_password"),
        (
            "/api/v1/auth/password-reset/confirm",
            json!({"token": "x".repeat(300), "new_password": NEW_PASSWORD}),
            "token",
        ),
        ("/api/v1/auth/password-reset/confirm", json!({"token": "abc", "new_password": "short"}), "new_password"),
        ("/api/v1/auth/password-reset/confirm", json!({"token": "abc", "new_password": NEW_PASSWORD, "x": 1}), "x"),
    ];
    for (path, body, field) in cases {
        let res = app.send("POST", path, &[], Some(&body)).await;
        let problem = res.assert_problem(400);
        assert_eq!(problem["errors"][0]["field"], field, "{path} {body}: {problem}");
    }
    let res =
        app.send_bytes("POST", "/api/v1/auth/password-reset", &[("content-type", "text/plain")], b"x".to_vec()).await;
    res.assert_problem(415);
    assert_eq!(job_count(&app), 0);
}

async fn every_unusable_token_gets_the_same_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let user = app.create_user("tokens@example.com", "author", None);
    let issue = |ttl: chrono::Duration| {
        broadsheet::auth::recovery::issue_token(
            &mut app.db.conn(),
            user,
            broadsheet::auth::recovery::Purpose::PasswordReset,
            ttl,
        )
        .unwrap()
    };
    let expired = issue(chrono::Duration::seconds(-1));
    let used = issue(chrono::Duration::hours(1));
    let live = issue(chrono::Duration::hours(1));
    assert_eq!(confirm(&app, &used, NEW_PASSWORD).await.status.as_u16(), 204);
    let mut altered = live.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();

    let mut answers = Vec::new();
    for token in [expired.as_str(), used.as_str(), live.as_str(), altered.as_str(), "never-issued"] {
        let problem = confirm(&app, token, NEW_PASSWORD).await.assert_problem(400);
        assert_eq!(problem["errors"][0]["field"], "token");
        answers.push(problem);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "identical answers: {answers:?}");
    // `live` was voided when `used` set the password.
}

async fn the_default_outbox_holds_the_reset_mail_as_an_eml_file(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let url = format!("file://{}", outbox.display());
    let Some(app) = TestApp::spawn_with(backend, &[("MAIL_URL", &url)]).await else { return };
    app.create_user("outbox@example.com", "author", None);

    assert_eq!(reset(&app, "outbox@example.com").await.status.as_u16(), 202);
    app.run_jobs().await;

    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(raw.contains("To: outbox@example.com\r\n"), "{raw}");
    assert!(raw.contains("Subject: Reset your password\r\n"));
    assert!(raw.contains("Content-Type: multipart/alternative"));
    let message_id: String = mails::table.select(mails::message_id).first(&mut *app.db.conn()).unwrap();
    assert!(raw.contains(&format!("Message-ID: {message_id}\r\n")));
    let token = token_in(&unquote(&raw));
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status.as_u16(), 204);
}

async fn an_invited_user_sets_their_own_password(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;

    let body = json!({"email": "invitee@example.com", "role": "editor", "invite": true});
    let res = app.authed("POST", "/api/v1/users", &admin, Some(&body)).await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"]["email"], "invitee@example.com");
    let login = json!({"email": "invitee@example.com", "password": NEW_PASSWORD});
    app.send("POST", "/api/v1/auth/login", &[], Some(&login)).await.assert_problem(401);
    app.run_jobs().await;

    let sent = app.mailbox.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, "You are invited");
    assert!(sent[0].text.contains("as editor") && sent[0].text.contains("7 days"), "{}", sent[0].text);
    assert!(sent[0].text.contains("http://broadsheet.test/accept-invitation?token="));
    assert_eq!(confirm(&app, &token_in(&sent[0].text), NEW_PASSWORD).await.status.as_u16(), 204);
    let res = app.send("POST", "/api/v1/auth/login", &[], Some(&login)).await;
    assert_eq!(res.status.as_u16(), 200, "the invitee signs in with their own password");

    let bad = [
        (json!({"email": "x1@example.com", "role": "author"}), "password"),
        (json!({"email": "x2@example.com", "role": "author", "invite": true, "password": PASSWORD}), "password"),
        (json!({"email": "x3@example.com", "role": "author", "invite": "yes"}), "invite"),
    ];
    for (body, field) in bad {
        let problem = app.authed("POST", "/api/v1/users", &admin, Some(&body)).await.assert_problem(400);
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    // A refused create leaves no mail behind: the job is in its transaction.
    let jobs_before = job_count(&app);
    let taken = json!({"email": "invitee@example.com", "role": "author", "invite": true});
    app.authed("POST", "/api/v1/users", &admin, Some(&taken)).await.assert_problem(409);
    let no_author = json!({"email": "x5@example.com", "role": "author", "invite": true, "author_id": 999999});
    app.authed("POST", "/api/v1/users", &admin, Some(&no_author)).await.assert_problem(422);
    assert_eq!(job_count(&app), jobs_before, "no job for a create that failed");
    let editor = app.token_for("editor").await;
    let body = json!({"email": "x4@example.com", "role": "author", "invite": true});
    app.authed("POST", "/api/v1/users", &editor, Some(&body)).await.assert_problem(403);
    app.send("POST", "/api/v1/users", &[], Some(&body)).await.assert_problem(401);
    assert_eq!(app.mailbox.sent().len(), 1, "no invitation for refused requests");
}

async fn a_refusing_mail_server_means_retries_not_failed_requests(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("JOBS_RETRY_BASE_MS", "100")]).await else { return };
    app.create_user("retry@example.com", "author", None);
    app.mailbox.fail_with(Some("421 4.3.2 service not available"));

    assert_eq!(reset(&app, "retry@example.com").await.status.as_u16(), 202);
    app.run_jobs().await;
    let (state, error): (String, Option<String>) = jobs::table
        .filter(jobs::kind.eq("send_mail"))
        .select((jobs::state, jobs::last_error))
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(state, "failed");
    assert!(error.unwrap().contains("421 4.3.2"), "the server's answer is kept");

    app.mailbox.fail_with(None);
    actix_web::rt::time::sleep(Duration::from_millis(150)).await;
    app.run_jobs().await;
    assert_eq!(app.mailbox.sent().len(), 1, "sent on the retry");
    let state: String =
        jobs::table.filter(jobs::kind.eq("send_mail")).select(jobs::state).first(&mut *app.db.conn()).unwrap();
    assert_eq!(state, "done");
}

async fn a_stalled_smtp_server_times_out_the_job_not_the_request(backend: Backend) {
    // A "server" that accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(s);
        }
    });
    let url = format!("smtp://127.0.0.1:{port}?tls=none");
    let vars = [("MAIL_URL", url.as_str()), ("MAIL_TIMEOUT_SECONDS", "1")];
    let Some(app) = TestApp::spawn_with(backend, &vars).await else { return };
    app.create_user("stall@example.com", "author", None);

    assert_eq!(reset(&app, "stall@example.com").await.status.as_u16(), 202);
    // Not a timing: the answer came before anything talked to the mail server.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0, "the request does not wait for mail");
    let started = Instant::now();
    app.run_jobs().await;
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1, "the job connected once");
    // A bound far above MAIL_TIMEOUT_SECONDS=1 and far below "forever": the
    // stalled server never answers, so only the timeout ends the send.
    assert!(started.elapsed() < Duration::from_secs(30), "the send gave up: {:?}", started.elapsed());

    let (state, error): (String, Option<String>) = jobs::table
        .filter(jobs::kind.eq("send_mail"))
        .select((jobs::state, jobs::last_error))
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(state, "failed", "retried later");
    assert!(error.is_some_and(|e| e.contains("cannot send")));
}

/// The SMTP server from `TEST_SMTP_URL` and the Maildir it delivers to
/// (`TEST_SMTP_MAILDIR`); `None` (skip) without them, a failure under `CI=true`.
fn smtp_server() -> Option<(String, std::path::PathBuf)> {
    let url = std::env::var("TEST_SMTP_URL").ok().filter(|v| !v.is_empty());
    let dir = std::env::var("TEST_SMTP_MAILDIR").ok().filter(|v| !v.is_empty());
    match (url, dir) {
        (Some(u), Some(d)) => Some((u, d.into())),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs TEST_SMTP_URL and TEST_SMTP_MAILDIR (an aiosmtpd server, see .ci/run)"
            );
            eprintln!("skipping SMTP scenario: TEST_SMTP_URL is not set");
            None
        }
    }
}

async fn mail_reaches_a_real_smtp_server(backend: Backend) {
    let Some((url, maildir)) = smtp_server() else { return };
    let Some(app) = TestApp::spawn_with(backend, &[("MAIL_URL", &url)]).await else { return };
    let email = format!("smtp-{}-{:?}@example.com", std::process::id(), backend).to_lowercase();
    app.create_user(&email, "author", None);

    assert_eq!(reset(&app, &email).await.status.as_u16(), 202);
    app.run_jobs().await;
    // A fresh database: one mail, one send_mail job.
    let state: String =
        jobs::table.filter(jobs::kind.eq("send_mail")).select(jobs::state).first(&mut *app.db.conn()).unwrap();
    let message_id: String = mails::table.select(mails::message_id).first(&mut *app.db.conn()).unwrap();
    assert_eq!(state, "done");

    let deadline = Instant::now() + Duration::from_secs(10);
    let found = loop {
        let hit = std::fs::read_dir(maildir.join("new"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .find(|m| m.contains(&message_id));
        if let Some(m) = hit {
            break m;
        }
        assert!(Instant::now() < deadline, "{message_id} never reached {}", maildir.display());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(found.contains(&format!("To: {email}")), "{found}");
    let token = token_in(&unquote(&found));
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status.as_u16(), 204, "the delivered token works");
}

async fn required_starttls_never_falls_back_to_plain_text(backend: Backend) {
    let Some((url, _)) = smtp_server() else { return };
    // The CI server offers no STARTTLS; a URL that requires it must refuse to send.
    let url = url.replace("tls=none", "tls=starttls");
    let Some(app) = TestApp::spawn_with(backend, &[("MAIL_URL", &url)]).await else { return };
    app.create_user("tls@example.com", "author", None);

    assert_eq!(reset(&app, "tls@example.com").await.status.as_u16(), 202);
    app.run_jobs().await;

    let (state, error): (String, Option<String>) = jobs::table
        .filter(jobs::kind.eq("send_mail"))
        .select((jobs::state, jobs::last_error))
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(state, "failed", "not sent in plain text: {error:?}");
    assert!(error.is_some_and(|e| e.contains("cannot send")));
}

async fn reset_requests_are_limited_per_email_and_per_address_without_telling_which_accounts_exist(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("victim@example.com", "author", None);
    let reset = |email: &str| {
        let body = json!({"email": email});
        let app = &app;
        async move { app.send("POST", "/api/v1/auth/password-reset", &[], Some(&body)).await }
    };

    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..6 {
        known.push(reset("victim@example.com").await);
        unknown.push(reset("nobody@example.com").await);
    }

    let statuses = |rs: &[crate::helpers::Response]| rs.iter().map(|r| r.status.as_u16()).collect::<Vec<_>>();
    // Five per email per hour, whether or not an account uses it.
    assert_eq!(statuses(&known), [202, 202, 202, 202, 202, 429], "known address");
    assert_eq!(statuses(&unknown), [202, 202, 202, 202, 202, 429], "unknown address");
    let p = known[5].assert_problem(429);
    assert_eq!(p["code"], "too_many_requests");
    let retry: u64 = known[5].header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((3500..=3600).contains(&retry), "Retry-After {retry}");
    // Ten accepted requests from this address in all (refused ones add nothing):
    // an eleventh for a fresh email is refused too.
    reset("third@example.com").await.assert_problem(429);
    let jobs: i64 =
        jobs::table.filter(jobs::kind.eq("password_reset")).count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(jobs, 10, "every accepted request queued one job, refused ones none");
}

async fn a_password_change_voids_reset_links_mailed_before_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.create_user("pw@example.com", "author", None);
    let session = app.login("pw@example.com").await;
    assert_eq!(reset(&app, "pw@example.com").await.status.as_u16(), 202);
    app.run_jobs().await;
    let token = token_in(&app.mailbox.sent()[0].text);

    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let changed =
        app.authed("PUT", "/api/v1/auth/password", session["access_token"].as_str().unwrap(), Some(&body)).await;
    let late = confirm(&app, &token, "the attacker's passphrase").await;

    assert_eq!(changed.status.as_u16(), 200, "{}", String::from_utf8_lossy(&changed.body));
    assert_eq!(late.assert_problem(400)["errors"][0]["field"], "token");
    let login = json!({"email": "pw@example.com", "password": NEW_PASSWORD});
    assert_eq!(app.send("POST", "/api/v1/auth/login", &[], Some(&login)).await.status.as_u16(), 200);
}

async fn addresses_the_mailer_cannot_write_to_are_refused_before_an_invitation(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.token_for("admin").await;
    for email in ["lit@[127.0.0.1]", "a.b..c@example.com", ".dot@example.com"] {
        let body = json!({"email": email, "role": "author", "invite": true});
        let res = app.authed("POST", "/api/v1/users", &admin, Some(&body)).await;
        assert_eq!(res.assert_problem(400)["errors"][0]["field"], "email", "{email}");
    }
    assert_eq!(job_count(&app), 0, "nothing was queued");
}
