//! Newsletter subscriptions, the reader's side: double opt-in through the
//! outbox mail, one subscriber per address whatever its spelling, the same
//! answer for every state, tokens that are expired, used, forged or
//! altered, a GET on a mail link that changes nothing, one-click
//! unsubscribe, preferences, the consent log and rate limits.

use broadsheet::db::schema::{
    categories, jobs, mails, subscriber_topics, subscribers, subscription_consents, subscription_erasures,
    subscription_tokens,
};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, Backend, Response, TestApp};

backend_tests!(
    a_reader_subscribes_to_a_series_confirms_from_the_mail_and_a_consent_record_is_kept,
    case_whitespace_and_idn_variants_of_one_address_are_one_subscriber,
    every_state_gets_the_same_answer_and_a_confirmed_reader_keeps_their_state,
    a_pending_address_gets_at_most_one_mail_per_cooldown,
    expired_used_and_forged_confirmation_tokens_get_clear_problems,
    a_get_on_the_mailed_link_changes_nothing,
    a_filled_honeypot_gets_the_same_answer_and_stores_nothing,
    bad_subscribe_inputs_are_400s_and_unknown_topics_422s_naming_the_field,
    one_click_unsubscribe_needs_no_login_accepts_rfc_8058_bodies_and_is_idempotent,
    forged_or_altered_subscriber_tokens_are_refused,
    preferences_show_and_change_topics_and_name_or_unsubscribe,
    subscribe_requests_are_limited_per_email_and_per_address,
    the_consent_log_refuses_updates,
    consent_records_keep_the_whole_address_or_none_as_configured,
    editors_list_subscribers_with_filters_and_totals_and_never_see_tokens,
    gdpr_erase_removes_the_personal_data_and_keeps_an_anonymous_count_and_a_hash,
    an_export_streams_every_subscriber_with_consent_records_as_csv_and_json,
);

const SUBSCRIBED: &str = "Thank you. If this address still needs confirming, a link to confirm it is on its way.";

async fn subscribe(app: &TestApp, body: Value) -> Response {
    app.send("POST", "/api/v1/subscriptions", &[], Some(&body)).await
}

async fn subscribe_ok(app: &TestApp, body: Value) {
    let res = subscribe(app, body).await;
    assert_eq!(res.status.as_u16(), 202, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.content_type(), "application/json");
    assert_eq!(res.json(), json!({"data": {"message": SUBSCRIBED}}));
}

/// The token of the `?token=` link in the newest mail.
fn newest_token(app: &TestApp) -> String {
    let sent = app.mailbox.sent();
    let text = &sent.last().expect("a mail").text;
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

async fn confirm(app: &TestApp, token: &str) -> Response {
    app.send("POST", "/api/v1/subscriptions/confirm", &[], Some(&json!({"token": token}))).await
}

async fn preview(app: &TestApp, token: &str) -> Response {
    app.get(&format!("/api/v1/subscriptions/confirm?token={token}")).await
}

/// Subscribes `email`, runs the jobs and confirms; returns the subscriber's signed token.
async fn confirmed(app: &TestApp, email: &str, topics: Value) -> String {
    subscribe_ok(app, json!({"email": email, "topics": topics})).await;
    app.run_jobs().await;
    let res = confirm(app, &newest_token(app)).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"]["token"].as_str().unwrap().to_owned()
}

/// Rows in `table`.
macro_rules! count {
    ($app:expr, $table:expr) => {
        $table.count().get_result::<i64>(&mut *$app.db.conn()).unwrap()
    };
}

fn status_of(app: &TestApp, key: &str) -> String {
    subscribers::table
        .filter(subscribers::email_key.eq(key))
        .select(subscribers::status)
        .first(&mut *app.db.conn())
        .unwrap()
}

fn create_category(app: &TestApp, slug: &str) {
    let now = broadsheet::db::now();
    diesel::insert_into(categories::table)
        .values((
            categories::slug.eq(slug),
            categories::name.eq(slug),
            categories::created_at.eq(now),
            categories::updated_at.eq(now),
        ))
        .execute(&mut *app.db.conn())
        .unwrap();
}

/// A series made through the API; its slug.
async fn create_series(app: &TestApp, title: &str) -> String {
    let admin = app.token_for("admin").await;
    let res = app.authed("POST", "/api/v1/series", &admin, Some(&json!({"title": title}))).await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"]["slug"].as_str().unwrap().to_owned()
}

async fn a_reader_subscribes_to_a_series_confirms_from_the_mail_and_a_consent_record_is_kept(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("PRIVACY_NOTICE_VERSION", "2026-11")]).await else { return };
    let series = create_series(&app, "Election Week").await;

    subscribe_ok(&app, json!({"email": " Reader@Example.com ", "name": "Ana", "topics": [series], "source": "footer"}))
        .await;
    assert!(app.mailbox.sent().is_empty(), "nothing is sent from the request");
    assert_eq!(app.run_jobs().await, 2, "the request's job, then the mail's");

    let sent = app.mailbox.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "Reader@Example.com", "mailed as entered, trimmed");
    assert_eq!(sent[0].subject, "Confirm your subscription");
    assert!(sent[0].text.contains("http://broadsheet.test/subscriptions/confirm?token="), "{}", sent[0].text);
    assert!(sent[0].text.contains("election-week") && sent[0].text.contains("2 days"), "{}", sent[0].text);
    let token = newest_token(&app);
    assert_eq!(token.len(), 43, "256 bits, base64url");
    let stored: String =
        subscription_tokens::table.select(subscription_tokens::token_hash).first(&mut *app.db.conn()).unwrap();
    assert_ne!(stored, token, "stored hashed");
    assert_eq!(stored, broadsheet::auth::tokens::digest(&token));
    let params: String = mails::table.select(mails::params).first(&mut *app.db.conn()).unwrap();
    assert_eq!(params, "{}", "the mail row forgets the token once sent");

    let res = confirm(&app, &token).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let data = res.json()["data"].clone();
    assert_eq!(data["subscription"]["status"], "confirmed");
    assert_eq!(data["subscription"]["email"], "Reader@Example.com");
    assert_eq!(data["subscription"]["name"], "Ana");
    assert_eq!(data["subscription"]["topics"], json!([series]));
    assert!(data["subscription"]["confirmed_at"].as_str().unwrap().ends_with('Z'));
    let own = data["token"].as_str().unwrap();
    assert_eq!(
        data["preferences_url"],
        format!("http://broadsheet.test/subscriptions/preferences?token={own}"),
        "the reader's own link"
    );

    let consent: (String, String, Option<String>, String, Option<String>) = subscription_consents::table
        .select((
            subscription_consents::email,
            subscription_consents::topics,
            subscription_consents::source,
            subscription_consents::privacy_notice_version,
            subscription_consents::ip,
        ))
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(
        consent,
        (
            "Reader@Example.com".into(),
            format!("[\"{series}\"]"),
            Some("footer".into()),
            "2026-11".into(),
            Some("127.0.0.0".into())
        ),
        "time, source, notice version and the truncated address (the default)"
    );

    let me = app.get(&format!("/api/v1/subscriptions/preferences?token={own}")).await;
    assert_eq!(me.status.as_u16(), 200);
    assert_eq!(me.json()["data"]["status"], "confirmed");
}

async fn case_whitespace_and_idn_variants_of_one_address_are_one_subscriber(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    // One at a time: the runner works on several jobs at once, so queued
    // together any variant could be the first stored.
    for email in ["Ana@Bücher.example", "  ana@BÜCHER.EXAMPLE\t", "ANA@xn--bcher-kva.example", "ana@bücher.Example"]
    {
        subscribe_ok(&app, json!({"email": email})).await;
        app.run_jobs().await;
    }

    let rows: Vec<(String, String)> =
        subscribers::table.select((subscribers::email, subscribers::email_key)).load(&mut *app.db.conn()).unwrap();
    assert_eq!(rows, [("Ana@Bücher.example".to_owned(), "ana@xn--bcher-kva.example".to_owned())], "one subscriber");
    assert_eq!(app.mailbox.sent().len(), 1, "one confirmation within the cooldown");
    assert_eq!(app.mailbox.sent()[0].to, "Ana@Bücher.example");
}

async fn every_state_gets_the_same_answer_and_a_confirmed_reader_keeps_their_state(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let own = confirmed(&app, "kept@example.com", json!(["all"])).await;
    let confirmed_at: Option<chrono::NaiveDateTime> =
        subscribers::table.select(subscribers::confirmed_at).first(&mut *app.db.conn()).unwrap();
    let (tokens, mails_before) = (count!(app, subscription_tokens::table), app.mailbox.sent().len());

    // Re-subscribing while confirmed, with other topics: same 202, nothing changes.
    let author = "columnist";
    app.create_author(author);
    let answer = subscribe(&app, json!({"email": "KEPT@example.com", "topics": [author], "name": "Mallory"})).await;
    let fresh = subscribe(&app, json!({"email": "new@example.com"})).await;
    assert_eq!(answer.status.as_u16(), 202);
    assert_eq!(answer.body, fresh.body, "one body for confirmed and new addresses");
    app.run_jobs().await;
    assert_eq!(status_of(&app, "kept@example.com"), "confirmed");
    let (at, name): (Option<chrono::NaiveDateTime>, Option<String>) = subscribers::table
        .filter(subscribers::email_key.eq("kept@example.com"))
        .select((subscribers::confirmed_at, subscribers::name))
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!((at, name), (confirmed_at, None), "no state reset");
    let me = app.get(&format!("/api/v1/subscriptions/preferences?token={own}")).await.json();
    assert_eq!(me["data"]["topics"], json!(["all"]), "topics unchanged");
    assert_eq!(count!(app, subscription_tokens::table), tokens + 1, "a token for the new address only");
    assert_eq!(app.mailbox.sent().len(), mails_before + 1);
    assert_eq!(app.mailbox.sent().last().unwrap().to, "new@example.com");

    // Unsubscribed: the same answer, and a new confirmation mail.
    let res = app.send("POST", &format!("/api/v1/subscriptions/unsubscribe?token={own}"), &[], None).await;
    assert_eq!(res.status.as_u16(), 200);
    let again = subscribe(&app, json!({"email": "kept@example.com"})).await;
    assert_eq!(again.body, fresh.body, "one body for unsubscribed addresses too");
    app.run_jobs().await;
    assert_eq!(status_of(&app, "kept@example.com"), "pending");
    assert_eq!(app.mailbox.sent().last().unwrap().to, "kept@example.com");
    let res = confirm(&app, &newest_token(&app)).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(count!(app, subscription_consents::table), 2, "a consent record per confirmation");
}

async fn a_pending_address_gets_at_most_one_mail_per_cooldown(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("SUBSCRIPTION_RESEND_COOLDOWN_MINUTES", "30")]).await else {
        return;
    };
    for _ in 0..3 {
        subscribe_ok(&app, json!({"email": "slow@example.com"})).await;
    }
    app.run_jobs().await;
    assert_eq!(app.mailbox.sent().len(), 1, "one mail within the cooldown");
    let first = newest_token(&app);

    let earlier = broadsheet::db::now() - chrono::Duration::minutes(31);
    diesel::update(subscribers::table)
        .set(subscribers::confirmation_sent_at.eq(Some(earlier)))
        .execute(&mut *app.db.conn())
        .unwrap();
    subscribe_ok(&app, json!({"email": "slow@example.com"})).await;
    app.run_jobs().await;
    assert_eq!(app.mailbox.sent().len(), 2, "a new mail once the cooldown passed");
    assert_ne!(newest_token(&app), first, "with a new token");
    assert_eq!(confirm(&app, &first).await.status.as_u16(), 200, "the first link still works until it expires");
}

async fn expired_used_and_forged_confirmation_tokens_get_clear_problems(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    subscribe_ok(&app, json!({"email": "late@example.com"})).await;
    subscribe_ok(&app, json!({"email": "twice@example.com"})).await;
    app.run_jobs().await;
    let sent = app.mailbox.sent();
    let token_of = |to: &str| {
        let text = &sent.iter().find(|m| m.to == to).unwrap().text;
        let start = text.find("token=").unwrap() + 6;
        text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect::<String>()
    };
    let (late, twice) = (token_of("late@example.com"), token_of("twice@example.com"));
    diesel::update(
        subscription_tokens::table.filter(subscription_tokens::token_hash.eq(broadsheet::auth::tokens::digest(&late))),
    )
    .set(subscription_tokens::expires_at.eq(broadsheet::db::now() - chrono::Duration::seconds(1)))
    .execute(&mut *app.db.conn())
    .unwrap();
    assert_eq!(confirm(&app, &twice).await.status.as_u16(), 200);

    let mut altered = twice.clone().into_bytes();
    altered[0] = if altered[0] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let cases = [
        (late.as_str(), "has expired"),
        (twice.as_str(), "was already used"),
        (altered.as_str(), "is not a valid confirmation token"),
        ("forged", "is not a valid confirmation token"),
        (&*"x".repeat(201), "is not a valid confirmation token"),
    ];
    for (token, says) in cases {
        for res in [confirm(&app, token).await, preview(&app, token).await] {
            let p = res.assert_problem(400);
            assert_eq!(p["code"], "invalid_parameter");
            assert_eq!(p["errors"][0]["field"], "token", "{p}");
            assert!(p["errors"][0]["message"].as_str().unwrap().starts_with(says), "{token}: {p}");
        }
    }
    assert_eq!(status_of(&app, "late@example.com"), "pending", "an expired link confirms nothing");
    assert_eq!(count!(app, subscription_consents::table), 1);
}

async fn a_get_on_the_mailed_link_changes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    subscribe_ok(&app, json!({"email": "scanned@example.com", "name": "Sam"})).await;
    app.run_jobs().await;
    let token = newest_token(&app);
    let before: (String, chrono::NaiveDateTime) =
        subscribers::table.select((subscribers::status, subscribers::updated_at)).first(&mut *app.db.conn()).unwrap();

    for _ in 0..3 {
        let res = preview(&app, &token).await;
        assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
        assert_eq!(res.header("cache-control"), Some("no-store"));
        let data = res.json()["data"].clone();
        assert_eq!(data["subscription"]["status"], "pending");
        assert_eq!(data["subscription"]["email"], "scanned@example.com");
        assert_eq!(data["subscription"]["topics"], json!(["all"]));
        assert!(data["expires_at"].as_str().unwrap().ends_with('Z'));
    }
    let head = app.request("HEAD", &format!("/api/v1/subscriptions/confirm?token={token}"), None).await;
    assert_eq!(head.status.as_u16(), 200);

    let after: (String, chrono::NaiveDateTime) =
        subscribers::table.select((subscribers::status, subscribers::updated_at)).first(&mut *app.db.conn()).unwrap();
    assert_eq!(after, before, "a GET changes nothing");
    let used: Option<chrono::NaiveDateTime> =
        subscription_tokens::table.select(subscription_tokens::used_at).first(&mut *app.db.conn()).unwrap();
    assert_eq!(used, None, "and does not use the token");
    assert_eq!(count!(app, subscription_consents::table), 0);
    assert_eq!(confirm(&app, &token).await.status.as_u16(), 200, "the POST still confirms");
}

async fn a_filled_honeypot_gets_the_same_answer_and_stores_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    subscribe_ok(&app, json!({"email": "bot@example.com", "website": "http://spam.example"})).await;
    subscribe_ok(&app, json!({"email": "person@example.com", "website": ""})).await;
    let kinds: Vec<String> = jobs::table.select(jobs::kind).load(&mut *app.db.conn()).unwrap();
    assert_eq!(kinds, ["subscribe"], "only the person's request queued work");
    app.run_jobs().await;
    assert_eq!(count!(app, subscribers::table), 1);
    assert_eq!(app.mailbox.sent().len(), 1);
    assert_eq!(app.mailbox.sent()[0].to, "person@example.com");
}

async fn bad_subscribe_inputs_are_400s_and_unknown_topics_422s_naming_the_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    create_category(&app, "politics");
    let long = format!("{}@example.com", "a".repeat(250));
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({}), 400, "email"),
        (json!({"email": ""}), 400, "email"),
        (json!({"email": "not an address"}), 400, "email"),
        (json!({"email": "a@b"}), 400, "email"),
        (json!({"email": long}), 400, "email"),
        (json!({"email": 42}), 400, "email"),
        (json!({"email": "ok@example.com", "name": "x".repeat(201)}), 400, "name"),
        (json!({"email": "ok@example.com", "source": "s".repeat(101)}), 400, "source"),
        (json!({"email": "ok@example.com", "topics": "politics"}), 400, "topics"),
        (json!({"email": "ok@example.com", "topics": [""]}), 400, "topics[0]"),
        (json!({"email": "ok@example.com", "topics": vec!["politics"; 51]}), 400, "topics"),
        (json!({"email": "ok@example.com", "status": "confirmed"}), 400, "status"),
        (json!({"email": "ok@example.com", "topics": ["politics", "no-such-thing"]}), 422, "topics"),
    ];
    for (body, status, field) in cases {
        let res = subscribe(&app, body.clone()).await;
        let p = res.assert_problem(status);
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    let p = subscribe(&app, json!({"email": "ok@example.com", "topics": ["nope"]})).await.assert_problem(422);
    assert!(p["detail"].as_str().unwrap().contains("nope"), "names the unknown slug: {p}");
    assert_eq!(count!(app, jobs::table), 0, "nothing was queued");
    subscribe_ok(&app, json!({"email": "ok@example.com", "topics": ["Politics", "all"]})).await;
}

async fn one_click_unsubscribe_needs_no_login_accepts_rfc_8058_bodies_and_is_idempotent(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let form = confirmed(&app, "form@example.com", json!([])).await;
    let multipart = confirmed(&app, "multi@example.com", json!([])).await;
    let other = confirmed(&app, "other@example.com", json!([])).await;

    // What Gmail and others send: a form body naming the one-click action.
    let url = format!("/api/v1/subscriptions/unsubscribe?token={form}");
    let ct = [("content-type", "application/x-www-form-urlencoded")];
    let first = app.send_bytes("POST", &url, &ct, b"List-Unsubscribe=One-Click".to_vec()).await;
    assert_eq!(first.status.as_u16(), 200, "{}", String::from_utf8_lossy(&first.body));
    assert_eq!(first.json()["data"]["status"], "unsubscribed");
    let at = first.json()["data"]["unsubscribed_at"].clone();
    assert!(at.is_string());
    let second = app.send_bytes("POST", &url, &ct, b"List-Unsubscribe=One-Click".to_vec()).await;
    assert_eq!(second.status.as_u16(), 200, "a second click answers the same");
    assert_eq!(second.json()["data"]["unsubscribed_at"], at, "and changes nothing");

    let boundary = "b0undary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--{boundary}--\r\n"
    );
    let ct = format!("multipart/form-data; boundary={boundary}");
    let url = format!("/api/v1/subscriptions/unsubscribe?token={multipart}");
    let res = app.send_bytes("POST", &url, &[("content-type", &ct)], body.into_bytes()).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));

    assert_eq!(status_of(&app, "form@example.com"), "unsubscribed");
    assert_eq!(status_of(&app, "multi@example.com"), "unsubscribed");
    assert_eq!(status_of(&app, "other@example.com"), "confirmed", "a token acts on its own subscriber only");
    let me = app.get(&format!("/api/v1/subscriptions/preferences?token={other}")).await;
    assert_eq!(me.json()["data"]["email"], "other@example.com");
}

async fn forged_or_altered_subscriber_tokens_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mine = confirmed(&app, "mine@example.com", json!([])).await;
    let _theirs = confirmed(&app, "theirs@example.com", json!([])).await;
    let (id, mac) = mine.split_once('.').unwrap();
    let next: i64 = id.parse::<i64>().unwrap() + 1;
    let mut flipped = mac.to_owned().into_bytes();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    let cases = [
        format!("{next}.{mac}"),
        format!("{id}.{}", String::from_utf8(flipped).unwrap()),
        format!("{id}.{}", &mac[..42]),
        id.to_string(),
        "999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        "garbage".into(),
    ];
    for token in &cases {
        for res in [
            app.send("POST", &format!("/api/v1/subscriptions/unsubscribe?token={token}"), &[], None).await,
            app.get(&format!("/api/v1/subscriptions/preferences?token={token}")).await,
            app.send(
                "PATCH",
                &format!("/api/v1/subscriptions/preferences?token={token}"),
                &[],
                Some(&json!({"unsubscribe": true})),
            )
            .await,
        ] {
            let p = res.assert_problem(400);
            assert_eq!(p["errors"][0]["field"], "token", "{token}: {p}");
        }
    }
    assert_eq!(status_of(&app, "mine@example.com"), "confirmed");
    assert_eq!(status_of(&app, "theirs@example.com"), "confirmed", "another id with my signature does nothing");
    let p = app.send("POST", "/api/v1/subscriptions/unsubscribe", &[], None).await.assert_problem(400);
    assert_eq!(p["code"], "invalid_parameter", "no token: {p}");
}

async fn preferences_show_and_change_topics_and_name_or_unsubscribe(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    create_category(&app, "climate");
    let series = create_series(&app, "Court Watch").await;
    let token = confirmed(&app, "prefs@example.com", json!(["climate"])).await;
    let url = format!("/api/v1/subscriptions/preferences?token={token}");
    let patch = |body: Value| {
        let (app, url) = (&app, url.clone());
        async move { app.send("PATCH", &url, &[], Some(&body)).await }
    };

    let res = app.get(&url).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.json()["data"]["topics"], json!(["climate"]));

    let res = patch(json!({"topics": [series, "climate"], "name": "Pat"})).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let data = res.json()["data"].clone();
    assert_eq!(data["topics"], json!(["climate", series]));
    assert_eq!(data["name"], "Pat");
    assert_eq!(data["status"], "confirmed");

    let p = patch(json!({"topics": ["nowhere"]})).await.assert_problem(422);
    assert_eq!(p["errors"][0]["field"], "topics");
    let p = patch(json!({"topics": null})).await.assert_problem(400);
    assert_eq!(p["errors"][0]["field"], "topics");
    let p = patch(json!({"status": "confirmed"})).await.assert_problem(400);
    assert_eq!(p["errors"][0]["field"], "status");
    assert_eq!(
        app.get(&url).await.json()["data"]["topics"],
        json!(["climate", series]),
        "refused changes change nothing"
    );

    let res = patch(json!({"name": null, "unsubscribe": true})).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.json()["data"]["name"], Value::Null);
    assert_eq!(res.json()["data"]["status"], "unsubscribed");
    assert_eq!(status_of(&app, "prefs@example.com"), "unsubscribed");
    assert_eq!(app.get(&url).await.status.as_u16(), 200, "the link keeps working after unsubscribing");
}

async fn subscribe_requests_are_limited_per_email_and_per_address(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("TRUSTED_PROXIES", "127.0.0.1")]).await else { return };
    let from = |ip: &'static str, email: &'static str| {
        let app = &app;
        async move {
            app.send("POST", "/api/v1/subscriptions", &[("x-forwarded-for", ip)], Some(&json!({"email": email}))).await
        }
    };
    // Five per email per hour, from any address, spellings counted together.
    let mut statuses = Vec::new();
    for (i, email) in
        ["v@example.com", "V@example.com", " v@EXAMPLE.com", "v@example.com", "v@example.com", "v@example.com"]
            .into_iter()
            .enumerate()
    {
        let ip = ["203.0.113.1", "203.0.113.2", "203.0.113.3"][i % 3];
        statuses.push(from(ip, email).await.status.as_u16());
    }
    assert_eq!(statuses, [202, 202, 202, 202, 202, 429]);
    // Twenty per client address per hour.
    let emails: Vec<&'static str> =
        (0..21).map(|i| &*Box::leak(format!("r{i}@example.com").into_boxed_str())).collect();
    let mut last = None;
    for email in &emails {
        last = Some(from("198.51.100.9", email).await);
    }
    let res = last.unwrap();
    let p = res.assert_problem(429);
    assert_eq!(p["code"], "too_many_requests");
    assert!(res.header("retry-after").is_some());
    assert!(res.header("ratelimit-policy").unwrap().contains("\"subscribe-client\";q=20;w=3600"), "{:?}", res.headers);
    assert_eq!(from("198.51.100.10", "fresh@example.com").await.status.as_u16(), 202, "another address is not refused");
    assert_eq!(count!(app, jobs::table), 5 + 20 + 1, "refused requests queue nothing");
}

async fn the_consent_log_refuses_updates(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    confirmed(&app, "log@example.com", json!([])).await;
    let err = diesel::update(subscription_consents::table)
        .set(subscription_consents::privacy_notice_version.eq("rewritten"))
        .execute(&mut *app.db.conn())
        .expect_err("an update of the consent log is refused");
    assert!(err.to_string().contains("append-only"), "{err}");
    let version: String = subscription_consents::table
        .select(subscription_consents::privacy_notice_version)
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(version, "1", "the default PRIVACY_NOTICE_VERSION, unchanged");
}

async fn consent_records_keep_the_whole_address_or_none_as_configured(backend: Backend) {
    for (mode, expected) in [("full", Some("127.0.0.1")), ("none", None)] {
        let Some(app) = TestApp::spawn_with(backend, &[("CONSENT_IP", mode)]).await else { return };
        confirmed(&app, "ip@example.com", json!([])).await;
        let ip: Option<String> =
            subscription_consents::table.select(subscription_consents::ip).first(&mut *app.db.conn()).unwrap();
        assert_eq!(ip.as_deref(), expected, "CONSENT_IP={mode}");
    }
}

/// Subscribers straight into the database: `(email, status, topics, created_at)`; their ids.
fn seed(app: &TestApp, rows: &[(&str, &str, &[&str], chrono::NaiveDateTime)]) -> Vec<i64> {
    use broadsheet::subscriptions::repo;
    let conn = &mut *app.db.conn();
    conn.transaction(|conn| -> diesel::QueryResult<Vec<i64>> {
        Ok(rows
            .iter()
            .map(|(email, status, topics, at)| {
                let key = email.to_lowercase();
                let new = repo::NewSubscriber { email, email_key: &key, name: None, source: Some("seed"), secret: "s" };
                let id = repo::insert(conn, &new, *at).unwrap();
                diesel::update(subscribers::table.find(id)).set(subscribers::status.eq(*status)).execute(conn).unwrap();
                let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
                repo::set_topics(conn, id, &topics).unwrap();
                id
            })
            .collect())
    })
    .unwrap()
}

async fn editors_list_subscribers_with_filters_and_totals_and_never_see_tokens(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    create_category(&app, "climate");
    let token = confirmed(&app, "live@example.com", json!(["climate"])).await;
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 1, d).unwrap().and_hms_opt(12, 0, 0).unwrap();
    seed(
        &app,
        &[
            ("old@example.com", "unsubscribed", &["climate"], day(1)),
            ("mid@example.com", "pending", &["all"], day(10)),
            ("late@example.com", "confirmed", &["all"], day(20)),
        ],
    );
    let editor = app.token_for("editor").await;
    let list = |q: &str| {
        let (app, editor, q) = (&app, editor.clone(), q.to_owned());
        async move { app.authed("GET", &format!("/api/v1/subscriptions{q}"), &editor, None).await }
    };

    let res = list("").await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let body = res.json();
    assert_eq!(body["meta"]["total"], 4);
    let emails: Vec<&str> = body["data"].as_array().unwrap().iter().map(|s| s["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["late@example.com", "mid@example.com", "old@example.com", "live@example.com"], "newest first");
    let text = String::from_utf8_lossy(&res.body);
    assert!(!text.contains("secret") && !text.contains("token") && !text.contains(&token), "{text}");
    assert_eq!(body["data"][3]["topics"], json!(["climate"]));
    assert_eq!(body["data"][3]["status"], "confirmed");

    let cases = [
        ("?status=confirmed", vec!["late@example.com", "live@example.com"]),
        ("?topic=climate", vec!["old@example.com", "live@example.com"]),
        ("?topic=all&status=pending", vec!["mid@example.com"]),
        ("?created_after=2026-01-05T00:00:00Z&created_before=2026-01-15T00:00:00Z", vec!["mid@example.com"]),
        ("?per_page=1&page=2", vec!["mid@example.com"]),
    ];
    for (q, expected) in cases {
        let body = list(q).await.json();
        let got: Vec<&str> = body["data"].as_array().unwrap().iter().map(|s| s["email"].as_str().unwrap()).collect();
        assert_eq!(got, expected, "{q}");
    }
    assert_eq!(list("?per_page=1").await.json()["meta"]["total_pages"], 4);
    for (q, field) in [("?status=gone", "status"), ("?created_after=yesterday", "created_after"), ("?email=x", "email")]
    {
        let p = list(q).await.assert_problem(400);
        assert_eq!(p["errors"][0]["field"], field, "{q}: {p}");
    }

    let author = app.token_for("author").await;
    app.authed("GET", "/api/v1/subscriptions", &author, None).await.assert_problem(403);
    app.get("/api/v1/subscriptions").await.assert_problem(401);
}

async fn gdpr_erase_removes_the_personal_data_and_keeps_an_anonymous_count_and_a_hash(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let own = confirmed(&app, "Erase.Me@Example.com", json!([])).await;
    // A second request still waiting in the queue carries the address too.
    subscribe_ok(&app, json!({"email": "erase.me@example.com", "name": "Erin"})).await;
    confirmed(&app, "stays@example.com", json!([])).await;
    let id: i64 = own.split_once('.').unwrap().0.parse().unwrap();
    let editor = app.token_for("editor").await;

    let res = app.authed("DELETE", &format!("/api/v1/subscriptions/{id}"), &editor, None).await;
    assert_eq!(res.status.as_u16(), 204, "{}", String::from_utf8_lossy(&res.body));

    let conn = &mut *app.db.conn();
    let left: Vec<String> = subscribers::table.select(subscribers::email).load(conn).unwrap();
    assert_eq!(left, ["stays@example.com"]);
    let consents: Vec<String> = subscription_consents::table.select(subscription_consents::email).load(conn).unwrap();
    assert_eq!(consents, ["stays@example.com"], "consent records go with their subscriber");
    let topics: i64 =
        subscriber_topics::table.filter(subscriber_topics::subscriber_id.eq(id)).count().get_result(conn).unwrap();
    let tokens: i64 =
        subscription_tokens::table.filter(subscription_tokens::subscriber_id.eq(id)).count().get_result(conn).unwrap();
    assert_eq!((topics, tokens), (0, 0));
    let recipients: Vec<String> = mails::table.select(mails::recipient).load(conn).unwrap();
    assert!(recipients.iter().all(|r| !r.to_lowercase().contains("erase.me")), "{recipients:?}");
    let payloads: Vec<String> = jobs::table.select(jobs::payload).load(conn).unwrap();
    assert!(payloads.iter().all(|p| !p.to_lowercase().contains("erase.me")), "{payloads:?}");
    let hashes: Vec<String> =
        subscription_erasures::table.select(subscription_erasures::email_hash).load(conn).unwrap();
    assert_eq!(
        hashes,
        [broadsheet::subscriptions::model::erasure_hash("erase.me@example.com")],
        "count 1, one-way hash"
    );
    assert!(broadsheet::subscriptions::repo::was_erased(conn, &hashes[0]).unwrap());

    app.get(&format!("/api/v1/subscriptions/preferences?token={own}")).await.assert_problem(400);
    app.authed("DELETE", &format!("/api/v1/subscriptions/{id}"), &editor, None).await.assert_problem(404);
    let author = app.token_for("author").await;
    app.authed("DELETE", &format!("/api/v1/subscriptions/{id}"), &author, None).await.assert_problem(403);
}

async fn an_export_streams_every_subscriber_with_consent_records_as_csv_and_json(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    // Past one chunk (500) and a second one, to cross the boundaries; seeded
    // before any request, so no idle keep-alive connection waits through it.
    let at = broadsheet::db::now();
    let many: Vec<(String, &str, &[&str], chrono::NaiveDateTime)> =
        (0..1000).map(|i| (format!("bulk{i}@example.com"), "pending", &["all"][..], at)).collect();
    let rows: Vec<(&str, &str, &[&str], chrono::NaiveDateTime)> =
        many.iter().map(|(e, s, t, a)| (e.as_str(), *s, *t, *a)).collect();
    seed(&app, &rows);
    subscribe_ok(&app, json!({"email": "csv@example.com", "name": "=SUM(A1), \"Al\"", "source": "footer"})).await;
    app.run_jobs().await;
    assert_eq!(confirm(&app, &newest_token(&app)).await.status.as_u16(), 200);
    let editor = app.token_for("editor").await;

    let res = app.authed("GET", "/api/v1/subscriptions/export", &editor, None).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.content_type(), "text/csv; charset=utf-8");
    assert_eq!(res.header("content-disposition"), Some("attachment; filename=\"subscribers.csv\""));
    assert_eq!(res.header("content-length"), None, "streamed (chunked)");
    let csv = String::from_utf8(res.body.clone()).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,email,name,status,topics,source,created_at,updated_at,confirmed_at,unsubscribed_at,consents"
    );
    assert_eq!(lines.len(), 1 + 1001 + 1, "header, every subscriber, and the final CRLF");
    assert!(lines[1].starts_with("1,bulk0@example.com,,pending,all,seed,"), "{}", lines[1]);
    let first = lines[1001];
    assert!(first.contains(",csv@example.com,\"'=SUM(A1), \"\"Al\"\"\",confirmed,all,footer,"), "{first}");
    assert!(first.contains("\"\"privacy_notice_version\"\":\"\"1\"\""), "consents as JSON: {first}");
    assert!(first.contains("\"\"ip\"\":\"\"127.0.0.0\"\""), "{first}");

    let res = app.authed("GET", "/api/v1/subscriptions/export?format=json", &editor, None).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.content_type(), "application/json");
    let body = res.json();
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1001);
    assert_eq!(data[1000]["email"], "csv@example.com", "oldest first");
    assert_eq!(data[1000]["consents"][0]["source"], "footer");
    assert_eq!(data[1000]["consents"][0]["topics"], json!(["all"]));
    assert!(data[1000]["consents"][0]["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(data[999]["email"], "bulk999@example.com");
    assert_eq!(data[999]["consents"], json!([]));
    assert!(!String::from_utf8_lossy(&res.body).contains("secret"));

    app.authed("GET", "/api/v1/subscriptions/export?format=xml", &editor, None).await.assert_problem(400);
    let author = app.token_for("author").await;
    app.authed("GET", "/api/v1/subscriptions/export", &author, None).await.assert_problem(403);
}
