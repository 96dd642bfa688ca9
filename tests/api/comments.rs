//! Comments: the public threaded list, posting by readers and staff, the
//! reader's magic-link verification, threading rules, XSS, closed and
//! non-public articles, the moderation policy and queue, spam rules, the
//! edit window, deleted parents, votes (the 50-vote race), sorts and limits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use broadsheet::db::schema::{
    comment_decisions, comment_notifications, comments, jobs, mails, readers, server_secrets,
};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, find_keys, Backend, Response, TestApp};

backend_tests!(
    approved_comments_come_oldest_first_with_parents_and_no_emails,
    comments_of_an_article_taken_off_the_site_take_no_votes,
    pingbacks_and_trackbacks_are_listed_only_when_asked_for,
    a_reader_verifies_from_the_outbox_and_an_editors_approval_threads_the_reply,
    parent_rules_refuse_other_articles_hidden_parents_and_depth_and_store_nothing,
    xss_in_name_body_and_website_is_neutralised_or_refused,
    bad_inputs_are_400s_naming_the_field_and_store_nothing,
    closed_and_non_public_articles_refuse_comments_and_an_old_slug_works,
    each_policy_and_spam_rule_decides_with_its_reason,
    the_queue_is_for_editors_and_for_authors_on_their_own_articles,
    the_edit_token_works_within_the_window_only_and_not_after_deletion,
    a_deleted_parent_with_replies_stays_as_removed_and_counts_stay_right,
    fifty_parallel_votes_give_exact_counts_and_nobody_votes_on_their_own,
    sorts_order_threads_oldest_newest_and_by_votes,
    comments_are_limited_per_email_with_retry_after,
    staff_comments_are_approved_and_marked_staff_or_author,
    reply_mail_goes_once_after_approval_to_a_verified_opted_in_author_and_unsubscribe_needs_post,
    replies_within_the_cooldown_go_out_as_one_digest_and_the_daily_cap_delays_without_dropping,
    form_tokens_are_single_use_per_article_and_bad_ones_are_400s_naming_form_token,
    the_akismet_checker_runs_as_a_job_and_its_outages_cost_no_comment,
    votes_are_limited_per_voter_with_retry_after,
    avatars_are_deterministic_immutable_svgs_and_malformed_keys_are_404s,
    an_unverified_opt_in_gets_one_verification_mail_and_nothing_else,
    done_when_a_verified_reader_gets_one_reply_mail_votes_reorder_and_spam_keeps_its_reasons,
);

async fn approved_comments_come_oldest_first_with_parents_and_no_emails(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    let body = app.get_ok("/api/v1/articles/template-comments/comments?per_page=100").await;

    let items = body["data"].as_array().unwrap();
    let shown: Vec<&Value> = items.iter().filter(|c| c["removed"] == false).collect();
    assert_eq!(shown.len(), 19, "19 approved of 20: {body}");
    let threads = items.iter().filter(|c| c["depth"] == 0).count();
    assert_eq!(body["meta"]["total"], threads as i64, "meta counts top-level threads");
    let roots: Vec<&str> =
        items.iter().filter(|c| c["depth"] == 0).map(|c| c["created_at"].as_str().unwrap()).collect();
    assert!(roots.windows(2).all(|w| w[0] <= w[1]), "threads not oldest first: {roots:?}");
    let ids: Vec<i64> = items.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let replies: Vec<&Value> = items.iter().filter(|c| !c["parent_id"].is_null()).collect();
    assert!(!replies.is_empty(), "threaded replies keep parent_id");
    assert!(replies.iter().all(|c| ids.contains(&c["parent_id"].as_i64().unwrap())), "parents are on the same page");
    for (i, c) in items.iter().enumerate() {
        if let Some(p) = c["parent_id"].as_i64() {
            let pi = ids.iter().position(|x| *x == p).unwrap();
            assert!(pi < i, "a reply comes after its parent");
            assert_eq!(c["depth"].as_i64().unwrap(), items[pi]["depth"].as_i64().unwrap() + 1);
        }
    }
    let mut emails = Vec::new();
    find_keys(&body, "email", &mut emails);
    assert!(emails.is_empty(), "emails leaked: {emails:?}");
    assert!(!String::from_utf8_lossy(&app.get("/api/v1/articles/template-comments/comments").await.body)
        .contains("@example"));
}

async fn pingbacks_and_trackbacks_are_listed_only_when_asked_for(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    let body = app.get_ok("/api/v1/articles/template-pingbacks-an-trackbacks/comments").await;
    let with = app.get_ok("/api/v1/articles/template-pingbacks-an-trackbacks/comments?include_pings=true").await;
    let bad = app.get("/api/v1/articles/template-pingbacks-an-trackbacks/comments?include_pings=maybe").await;

    let items = body["data"].as_array().unwrap();
    assert_eq!(items.len(), 1, "5 entries, 4 of them pings: {body}");
    assert!(!items[0]["author_name"].as_str().unwrap().starts_with("Ping"));
    assert_eq!(with["data"].as_array().unwrap().len(), 5, "{with}");
    assert_eq!(bad.assert_problem(400)["errors"][0]["field"], "include_pings");
}

// ---------------------------------------------------------------- helpers

/// A published article by a fresh editor; returns `(slug, id, editor token)`.
async fn article(app: &TestApp, extra: Value) -> (String, i64, String) {
    let editor = app.token_for("editor").await;
    let mut body = json!({"title": "Council budget", "body": "Text", "status": "published"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (a, _) = app.create_article(&editor, body).await;
    (a["slug"].as_str().unwrap().to_owned(), a["id"].as_i64().unwrap(), editor)
}

fn reader(name: &str, email: &str, text: &str) -> Value {
    json!({"name": name, "email": email, "body": text})
}

async fn post(app: &TestApp, slug: &str, body: Value) -> Response {
    app.send("POST", &format!("/api/v1/articles/{slug}/comments"), &[], Some(&body)).await
}

async fn post_ok(app: &TestApp, slug: &str, body: Value) -> Value {
    let res = post(app, slug, body).await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.content_type(), "application/json");
    assert!(res.header("location").is_some_and(|l| l.contains("/api/v1/comments/")));
    res.json()["data"].clone()
}

/// Posts as a reader proving their address with `X-Reader-Token`, asserting 201.
async fn post_as(app: &TestApp, slug: &str, reader_token: &str, body: Value) -> Value {
    let res = app
        .send("POST", &format!("/api/v1/articles/{slug}/comments"), &[("x-reader-token", reader_token)], Some(&body))
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"].clone()
}

async fn set_status(app: &TestApp, token: &str, id: i64, status: &str) -> Value {
    let res = app
        .authed(
            "PATCH",
            &format!("/api/v1/comments/{id}"),
            token,
            Some(&json!({"status": status, "reason": "checked"})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"].clone()
}

fn comment_count(app: &TestApp) -> i64 {
    comments::table.count().get_result(&mut *app.db.conn()).unwrap()
}

/// The token of the `?token=` link in the newest mail.
fn newest_token(app: &TestApp) -> String {
    let sent = app.mailbox.sent();
    let text = &sent.last().expect("a mail").text;
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// A verified reader made directly in the database; returns `(id, reader token)`.
fn verified_reader(app: &TestApp, email: &str) -> (i64, String) {
    let now = broadsheet::db::now();
    let secret = broadsheet::auth::tokens::random_secret();
    let id: i64 = diesel::insert_into(readers::table)
        .values((
            readers::email.eq(email),
            readers::email_key.eq(email.to_lowercase()),
            readers::name.eq("Voter"),
            readers::secret.eq(&secret),
            readers::verified_at.eq(Some(now)),
            readers::created_at.eq(now),
            readers::updated_at.eq(now),
        ))
        .returning(readers::id)
        .get_result(&mut *app.db.conn())
        .unwrap();
    (id, broadsheet::readers::model::sign(id, &secret))
}

async fn public(app: &TestApp, slug: &str, query: &str) -> Vec<Value> {
    app.get_ok(&format!("/api/v1/articles/{slug}/comments?{query}")).await["data"].as_array().unwrap().clone()
}

// ---------------------------------------------------------------- scenarios

async fn a_reader_verifies_from_the_outbox_and_an_editors_approval_threads_the_reply(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;
    let slug = "template-comments";

    // A reader comments on an imported article and asks for reply mail.
    let mut first = reader("Ana", "Ana@Example.com", "Great piece.");
    first["notify_replies"] = json!(true);
    let a = post_ok(&app, slug, first).await;
    assert_eq!(a["status"], "pending");
    assert!(a["reasons"].to_string().contains("not verified"), "{a}");
    assert_eq!(a["verification_sent"], true);
    assert!(a["edit_token"].as_str().unwrap().starts_with("bce_"));
    app.run_jobs().await;
    let token = newest_token(&app);
    assert_eq!(app.mailbox.sent().last().unwrap().to, "Ana@Example.com");

    // The link's GET shows and changes nothing; the POST verifies.
    let shown = app.get(&format!("/api/v1/readers/verify?token={token}")).await;
    assert_eq!(shown.status.as_u16(), 200);
    assert_eq!(shown.json()["data"]["verified"], false);
    let unverified: i64 =
        readers::table.filter(readers::verified_at.is_null()).count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(unverified, 1, "a GET verified the reader");
    let res = app.send("POST", "/api/v1/readers/verify", &[], Some(&json!({"token": token}))).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let reader_token = res.json()["data"]["reader_token"].as_str().expect("a reader token").to_owned();
    let again = app.send("POST", "/api/v1/readers/verify", &[], Some(&json!({"token": token}))).await;
    assert_eq!(again.assert_problem(400)["errors"][0]["field"], "token");

    // A second reader's reply is held, an editor approves both, and it shows threaded.
    let a_id = a["id"].as_i64().unwrap();
    let held =
        post(&app, slug, json!({"name": "Bo", "email": "bo@example.org", "body": "Agreed.", "parent_id": a_id})).await;
    assert_eq!(held.assert_problem(422)["errors"][0]["field"], "parent_id", "the parent is still pending");
    set_status(&app, &editor, a_id, "approved").await;
    let b = post_ok(&app, slug, json!({"name": "Bo", "email": "bo@example.org", "body": "Agreed.", "parent_id": a_id}))
        .await;
    assert_eq!(b["status"], "pending");
    let (queue, _) = app.get_ok_as("/api/v1/comments?status=pending&article=template-comments", &editor).await;
    assert!(queue["data"].as_array().unwrap().iter().any(|c| c["id"] == b["id"]), "{queue}");
    assert!(queue["counts"]["pending"].as_i64().unwrap() >= 1);
    let approved = set_status(&app, &editor, b["id"].as_i64().unwrap(), "approved").await;
    let decisions = approved["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 2, "policy, then a person: {approved}");
    assert_eq!(decisions[0]["actor"], "policy");
    assert!(decisions[1]["actor"].as_str().unwrap().starts_with("user:"));
    assert_eq!(decisions[1]["reasons"], json!(["checked"]));

    let items = public(&app, slug, "per_page=100").await;
    let pa = items.iter().position(|c| c["id"] == a["id"]).expect("A is public");
    let pb = items.iter().position(|c| c["id"] == b["id"]).expect("B is public");
    assert_eq!(pb, pa + 1, "the reply follows its parent");
    assert_eq!(items[pb]["depth"], 1);
    assert_eq!(items[pa]["reply_count"], 1);
    assert!(items[pa]["avatar_url"].as_str().unwrap().ends_with(".svg"));
    let body = app.get(&format!("/api/v1/articles/{slug}/comments?per_page=100")).await;
    let text = String::from_utf8_lossy(&body.body);
    assert!(!text.contains("Ana@Example.com") && !text.contains("bo@example.org"), "emails leaked");
    let md5 = format!("{:x}", md5_of("ana@example.com"));
    assert!(!text.contains(&md5), "the avatar is not a plain hash of the email");

    // Now verified with one approved comment, the reader's next comment
    // (proved with her reader token) is approved.
    let res = app
        .send(
            "POST",
            &format!("/api/v1/articles/{slug}/comments"),
            &[("x-reader-token", &reader_token)],
            Some(&reader("Ana", "ana@example.com", "One more thought.")),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let next = res.json()["data"].clone();
    assert_eq!(next["status"], "approved", "{next}");
    assert_eq!(next["verification_sent"], false);
    let verify_mails: i64 =
        mails::table.filter(mails::template.eq("comment_verify")).count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(verify_mails, 2, "one for Ana (once), one for Bo");
}

/// MD5 without a crate: only to show the avatar is not Gravatar's hash.
fn md5_of(s: &str) -> u128 {
    let mut msg = s.as_bytes().to_vec();
    let bits = (msg.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_le_bytes());
    let k: Vec<u32> = (0..64).map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32).collect();
    let r: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
        20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6,
        10, 15, 21,
    ];
    let (mut a0, mut b0, mut c0, mut d0) = (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk.chunks(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f2 = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f2.rotate_left(r[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, v) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    u128::from_be_bytes(out)
}

async fn parent_rules_refuse_other_articles_hidden_parents_and_depth_and_store_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("COMMENT_MAX_DEPTH", "2")]).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    let (other, _, _) = article(&app, json!({"title": "Other story"})).await;
    let mut chain = Vec::new();
    let mut parent: Option<i64> = None;
    for level in 0..3 {
        let c = post_ok(
            &app,
            &slug,
            json!({"name": "R", "email": "r@example.com", "body": format!("level {level}"), "parent_id": parent}),
        )
        .await;
        let id = c["id"].as_i64().unwrap();
        set_status(&app, &editor, id, "approved").await;
        chain.push(id);
        parent = Some(id);
    }
    let pending = post_ok(&app, &slug, reader("P", "p@example.com", "pending one")).await["id"].as_i64().unwrap();
    let trashed = post_ok(&app, &slug, reader("T", "t@example.com", "trashed one")).await["id"].as_i64().unwrap();
    set_status(&app, &editor, trashed, "trash").await;
    let before = comment_count(&app);

    let cases = [
        (other.as_str(), json!(chain[0]), "a parent on another article"),
        (slug.as_str(), json!(pending), "a pending parent"),
        (slug.as_str(), json!(trashed), "a trashed parent"),
        (slug.as_str(), json!(999_999), "a parent that does not exist"),
        (slug.as_str(), json!(chain[2]), "a reply at depth 3 with COMMENT_MAX_DEPTH=2"),
    ];
    for (s, p, what) in cases {
        let res = post(&app, s, json!({"name": "X", "email": "x@example.com", "body": what, "parent_id": p})).await;
        let problem = res.assert_problem(422);
        assert_eq!(problem["errors"][0]["field"], "parent_id", "{what}: {problem}");
    }
    assert_eq!(comment_count(&app), before, "nothing stored");
    let items = public(&app, &slug, "").await;
    let depths: Vec<i64> = items.iter().map(|c| c["depth"].as_i64().unwrap()).collect();
    assert_eq!(depths, vec![0, 1, 2], "the chain threads by depth");
}

async fn xss_in_name_body_and_website_is_neutralised_or_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;

    let c = post_ok(
        &app,
        &slug,
        json!({"name": "<script>alert(1)</script>Eve", "email": "eve@example.com", "website": "https://eve.example/",
            "body": "Hi [x](javascript:alert(1)) [d](data:text/html,x) [ok](https://ok.example) <b onclick=alert(1)>b</b>\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>"}),
    )
    .await;
    set_status(&app, &editor, c["id"].as_i64().unwrap(), "approved").await;
    for bad in ["javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "ftp://x.example/", "not a url"] {
        let res =
            post(&app, &slug, json!({"name": "Eve", "email": "eve@example.com", "body": "hi", "website": bad})).await;
        assert_eq!(res.assert_problem(400)["errors"][0]["field"], "website", "{bad}");
    }

    let items = public(&app, &slug, "").await;
    let html = items[0]["body_html"].as_str().unwrap();
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b "), "{html}");
    assert!(!html.contains("href=\"javascript:") && !html.contains("href=\"data:"), "{html}");
    assert!(html.contains(r#"rel="nofollow ugc noopener""#), "{html}");
    assert!(html.contains("&lt;script&gt;"), "raw HTML is shown as text: {html}");
    let name = items[0]["author_name"].as_str().unwrap();
    assert!(!name.contains('<') && !name.contains('>'), "{name}");
}

async fn bad_inputs_are_400s_naming_the_field_and_store_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, _) = article(&app, json!({})).await;
    let huge = "a".repeat(5001);
    let cases = [
        (json!({"email": "a@example.com", "body": "hi"}), "name"),
        (json!({"name": "  ", "email": "a@example.com", "body": "hi"}), "name"),
        (json!({"name": "A", "body": "hi"}), "email"),
        (json!({"name": "A", "email": "not-an-address", "body": "hi"}), "email"),
        (json!({"name": "A", "email": "a@example.com", "body": "   "}), "body"),
        (json!({"name": "A", "email": "a@example.com", "body": huge}), "body"),
        (json!({"name": "A", "email": "a@example.com", "body": ">".repeat(200)}), "body"),
        (json!({"name": "A", "email": "a@example.com", "body": "hi", "parent_id": 0}), "parent_id"),
        (json!({"name": "A", "email": "a@example.com", "body": "hi", "status": "approved"}), "status"),
        (json!({"name": "A", "email": "a@example.com"}), "body"),
    ];
    for (body, field) in cases {
        let res = post(&app, &slug, body.clone()).await;
        let problem = res.assert_problem(400);
        assert!(problem["errors"][0]["field"].as_str().unwrap().contains(field), "{body}: {problem}");
    }
    assert_eq!(comment_count(&app), 0, "nothing stored");
}

async fn closed_and_non_public_articles_refuse_comments_and_an_old_slug_works(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (closed, _, editor) = article(&app, json!({"title": "Closed", "comment_status": "closed"})).await;
    let (draft, _) = app.create_article(&editor, json!({"title": "Draft", "body": "x", "status": "draft"})).await;
    let (open, id, _) = article(&app, json!({"title": "Old name"})).await;

    let res = post(&app, &closed, reader("A", "a@example.com", "hi")).await;
    res.assert_problem(403);
    let res = post(&app, draft["slug"].as_str().unwrap(), reader("A", "a@example.com", "hi")).await;
    res.assert_problem(404);
    let res = post(&app, &draft["id"].to_string(), reader("A", "a@example.com", "hi")).await;
    res.assert_problem(404);
    assert_eq!(comment_count(&app), 0, "nothing stored");
    // Publishing queues jobs of its own (a mailing's start); none may mail.
    app.run_jobs().await;
    assert!(app.mailbox.sent().is_empty(), "nothing mailed: {:?}", app.mailbox.sent());

    let (_, etag) = app.get_ok_as(&format!("/api/v1/articles/{id}"), &editor).await;
    let res = app
        .authed_with(
            "PATCH",
            &format!("/api/v1/articles/{id}"),
            &editor,
            &[("if-match", &etag)],
            Some(&json!({"slug": "new-name"})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let c = post_ok(&app, &open, reader("A", "a@example.com", "via the old slug")).await;
    assert_eq!(c["article_id"], id);
}

async fn each_policy_and_spam_rule_decides_with_its_reason(backend: Backend) {
    let vars = [
        ("COMMENT_MODERATION_WORDS", "refund"),
        ("COMMENT_DISALLOWED_WORDS", "casino"),
        ("COMMENT_BLOCKED_EMAILS", "@spam.example"),
        ("COMMENT_BLOCKED_DOMAINS", "pills.example"),
        ("COMMENT_BLOCKED_IPS", "10.9.9.9"),
    ];
    let Some(app) = TestApp::spawn_with(backend, &vars).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    // A verified reader with one approved comment is approved by the first-comment rule.
    let (_, good) = verified_reader(&app, "good@example.com");
    let first = post_as(&app, &slug, &good, reader("Good", "good@example.com", "First words.")).await;
    assert_eq!(first["status"], "pending");
    set_status(&app, &editor, first["id"].as_i64().unwrap(), "approved").await;

    let cases = [
        (reader("Good", "good@example.com", "Second words."), "approved", "first_comment"),
        (reader("Good", "good@example.com", "see https://a.example and https://b.example"), "pending", "links"),
        (reader("Good", "good@example.com", "I want a refund"), "pending", "moderation word"),
        (reader("Good", "good@example.com", "best casino online"), "spam", "disallowed word"),
        (reader("Bad", "x@spam.example", "hello there"), "spam", "email address is blocked"),
        (reader("Good", "good@example.com", "cheap https://www.pills.example/buy"), "spam", "blocked host"),
        (
            json!({"name": "Bot", "email": "bot@example.com", "body": "hello", "homepage": "http://bot.example"}),
            "spam",
            "honeypot",
        ),
        (reader("Good", "good@example.com", "Second words."), "spam", "duplicate"),
    ];
    for (body, status, reason) in cases {
        let c = post_as(&app, &slug, &good, body.clone()).await;
        assert_eq!(c["status"], status, "{body}: {c}");
        assert!(c["reasons"].to_string().contains(reason), "{body}: {c}");
    }
    // The blocked address: a trusted proxy passes it on.
    let app2 = app.another_instance(&[vars[4], ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let res = app2
        .send(
            "POST",
            &format!("/api/v1/articles/{slug}/comments"),
            &[("x-forwarded-for", "10.9.9.9")],
            Some(&reader("Ip", "ip@example.com", "from a blocked address")),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201);
    assert_eq!(res.json()["data"]["status"], "spam");
    assert!(res.json()["data"]["reasons"].to_string().contains("client address is blocked"));

    // Spam keeps its reasons for moderators and mails nobody.
    let (spam, _) = app.get_ok_as("/api/v1/comments?status=spam", &editor).await;
    assert_eq!(spam["counts"]["spam"], 6, "{spam}");
    assert!(spam["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| !c["decisions"][0]["reasons"].as_array().unwrap().is_empty()));
    let spam_mails: i64 = mails::table
        .filter(mails::recipient.eq_any(["x@spam.example", "bot@example.com"]))
        .count()
        .get_result(&mut *app.db.conn())
        .unwrap();
    assert_eq!(spam_mails, 0, "spam never mails");
}

async fn the_queue_is_for_editors_and_for_authors_on_their_own_articles(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    let author = app.token_for("author").await;
    let (mine, _) =
        app.create_article(&author, json!({"title": "Author's own", "body": "x", "status": "published"})).await;
    let on_editors =
        post_ok(&app, &slug, reader("A", "a@example.com", "on the editor's")).await["id"].as_i64().unwrap();
    let on_mine = post_ok(&app, mine["slug"].as_str().unwrap(), reader("B", "b@example.com", "on the author's")).await
        ["id"]
        .as_i64()
        .unwrap();
    let contributor = app.token_for("contributor").await;

    app.get("/api/v1/comments").await.assert_problem(401);
    app.authed("GET", "/api/v1/comments", &contributor, None).await.assert_problem(403);
    let (all, _) = app.get_ok_as("/api/v1/comments", &editor).await;
    assert_eq!(all["meta"]["total"], 2);
    assert_eq!(all["counts"], json!({"pending": 2, "approved": 0, "spam": 0, "trash": 0}));
    assert_eq!(all["data"][0]["author_email"], "b@example.com", "moderators see the address");
    let (own, _) = app.get_ok_as("/api/v1/comments", &author).await;
    let ids: Vec<i64> = own["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![on_mine], "an author sees their own article's comments only");
    app.authed("GET", "/api/v1/comments?status=maybe", &editor, None).await.assert_problem(400);

    let res = app
        .authed("PATCH", &format!("/api/v1/comments/{on_editors}"), &author, Some(&json!({"status": "approved"})))
        .await;
    res.assert_problem(403);
    set_status(&app, &author, on_mine, "approved").await;
    let res =
        app.send("PATCH", &format!("/api/v1/comments/{on_editors}"), &[], Some(&json!({"status": "approved"}))).await;
    res.assert_problem(401);

    // Bulk: all or nothing.
    let res = app
        .authed(
            "POST",
            "/api/v1/comments/bulk",
            &author,
            Some(&json!({"ids": [on_editors, on_mine], "status": "spam"})),
        )
        .await;
    res.assert_problem(403);
    let res = app
        .authed("POST", "/api/v1/comments/bulk", &editor, Some(&json!({"ids": [on_editors, 999999], "status": "spam"})))
        .await;
    assert_eq!(res.assert_problem(422)["errors"][0]["field"], "ids[1]");
    let res = app.authed("POST", "/api/v1/comments/bulk", &editor, Some(&json!({"ids": [], "status": "spam"}))).await;
    assert_eq!(res.assert_problem(400)["errors"][0]["field"], "ids");
    let (after, _) = app.get_ok_as("/api/v1/comments", &editor).await;
    assert_eq!(after["counts"], json!({"pending": 1, "approved": 1, "spam": 0, "trash": 0}), "nothing half-done");
    let res = app
        .authed(
            "POST",
            "/api/v1/comments/bulk",
            &editor,
            Some(&json!({"ids": [on_editors, on_mine], "status": "trash", "reason": "off topic"})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"]["updated"], 2);
    let decisions: i64 = comment_decisions::table.count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(decisions, 2 + 1 + 2, "policy ×2, the author's approval, the bulk ×2");
}

async fn the_edit_token_works_within_the_window_only_and_not_after_deletion(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    let c = post_ok(&app, &slug, reader("A", "a@example.com", "typo")).await;
    let id = c["id"].as_i64().unwrap();
    let token = c["edit_token"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/comments/{id}");

    let res = app.send("PATCH", &path, &[("x-edit-token", &token)], Some(&json!({"body": "fixed"}))).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"]["body_html"], "<p>fixed</p>\n");
    let forged = format!("bce_{}", "A".repeat(43));
    let res = app.send("PATCH", &path, &[("x-edit-token", &forged)], Some(&json!({"body": "forged"}))).await;
    assert_eq!(res.assert_problem(400)["errors"][0]["field"], "X-Edit-Token");
    let res = app.send("PATCH", &path, &[("x-edit-token", &token)], Some(&json!({"status": "approved"}))).await;
    assert_eq!(res.assert_problem(400)["errors"][0]["field"], "status", "authors cannot approve themselves");

    // An approved comment edited is moderated again.
    set_status(&app, &editor, id, "approved").await;
    let res = app.send("PATCH", &path, &[("x-edit-token", &token)], Some(&json!({"body": "now with spam"}))).await;
    assert_eq!(res.json()["data"]["status"], "pending", "re-moderated: {}", res.json());

    // Expired.
    let old = broadsheet::db::now() - chrono::Duration::minutes(16);
    diesel::update(comments::table.find(id)).set(comments::created_at.eq(old)).execute(&mut *app.db.conn()).unwrap();
    let res = app.send("PATCH", &path, &[("x-edit-token", &token)], Some(&json!({"body": "late"}))).await;
    let p = res.assert_problem(400);
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("expired"), "{p}");

    // Delete, then a replayed token.
    let d = post_ok(&app, &slug, reader("A", "a@example.com", "delete me")).await;
    let dpath = format!("/api/v1/comments/{}", d["id"]);
    let dtoken = d["edit_token"].as_str().unwrap().to_owned();
    let res = app.send("DELETE", &dpath, &[("x-edit-token", &dtoken)], None).await;
    assert_eq!(res.status.as_u16(), 204);
    let res = app.send("DELETE", &dpath, &[("x-edit-token", &dtoken)], None).await;
    assert_eq!(res.assert_problem(400)["errors"][0]["field"], "X-Edit-Token");
    let res = app.send("PATCH", &dpath, &[("x-edit-token", &dtoken)], Some(&json!({"body": "back"}))).await;
    assert_eq!(res.assert_problem(400)["errors"][0]["field"], "X-Edit-Token");
    app.send("DELETE", &dpath, &[], None).await.assert_problem(401);
}

async fn a_deleted_parent_with_replies_stays_as_removed_and_counts_stay_right(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, id, editor) = article(&app, json!({})).await;
    let p = post_ok(&app, &slug, reader("P", "p@example.com", "parent")).await;
    let pid = p["id"].as_i64().unwrap();
    set_status(&app, &editor, pid, "approved").await;
    let r =
        post_ok(&app, &slug, json!({"name": "R", "email": "r@example.com", "body": "reply", "parent_id": pid})).await;
    set_status(&app, &editor, r["id"].as_i64().unwrap(), "approved").await;
    let lone = post_ok(&app, &slug, reader("L", "l@example.com", "lonely")).await;
    set_status(&app, &editor, lone["id"].as_i64().unwrap(), "approved").await;
    assert_eq!(app.get_ok(&format!("/api/v1/articles/{slug}")).await["data"]["comment_count"], 3);

    let res = app
        .send(
            "DELETE",
            &format!("/api/v1/comments/{pid}"),
            &[("x-edit-token", p["edit_token"].as_str().unwrap())],
            None,
        )
        .await;
    assert_eq!(res.status.as_u16(), 204);
    let res = app.authed("DELETE", &format!("/api/v1/comments/{}", lone["id"]), &editor, None).await;
    assert_eq!(res.status.as_u16(), 204, "a moderator's delete trashes");

    let items = public(&app, &slug, "").await;
    assert_eq!(items.len(), 2, "placeholder and reply; the lone trashed comment is gone: {items:?}");
    assert_eq!(items[0]["body_html"], "[removed]");
    assert_eq!(items[0]["removed"], true);
    assert!(items[0]["author_name"].is_null());
    assert_eq!(items[1]["parent_id"], pid);
    assert_eq!(app.get_ok(&format!("/api/v1/articles/{id}")).await["data"]["comment_count"], 1);
    assert_eq!(app.get_ok(&format!("/api/v1/articles/{slug}/comments")).await["meta"]["total"], 1);
}

async fn fifty_parallel_votes_give_exact_counts_and_nobody_votes_on_their_own(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    let c = post_ok(&app, &slug, reader("Own", "own@example.com", "vote on me")).await;
    let id = c["id"].as_i64().unwrap();
    set_status(&app, &editor, id, "approved").await;
    let voters: Vec<String> = (0..50).map(|i| verified_reader(&app, &format!("v{i}@example.com")).1).collect();
    let path = format!("/api/v1/comments/{id}/votes");

    let futures = voters.iter().enumerate().map(|(i, t)| {
        let value = if i < 30 { 1 } else { -1 };
        let path = path.clone();
        let app = &app;
        async move { app.send("POST", &path, &[("x-reader-token", t)], Some(&json!({"value": value}))).await }
    });
    let results = futures_util::future::join_all(futures).await;

    for r in &results {
        assert_eq!(r.status.as_u16(), 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let row: (i32, i32, i32) = comments::table
        .find(id)
        .select((comments::up_count, comments::down_count, comments::score))
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(row, (30, 20, 10));

    // Voting again changes the vote; taking it back restores the counts.
    let res = app.send("POST", &path, &[("x-reader-token", &voters[0])], Some(&json!({"value": -1}))).await;
    assert_eq!(res.json()["data"], json!({"up_count": 29, "down_count": 21, "score": 8, "my_vote": -1}));
    let res = app.send("DELETE", &path, &[("x-reader-token", &voters[0])], None).await;
    assert_eq!(res.json()["data"], json!({"up_count": 29, "down_count": 20, "score": 9, "my_vote": null}));

    // Bad values, forged tokens, anonymous voters and own comments.
    let res = app.send("POST", &path, &[("x-reader-token", &voters[1])], Some(&json!({"value": 2}))).await;
    assert_eq!(res.assert_problem(400)["errors"][0]["field"], "value");
    let forged = format!("{}x", &voters[1][..voters[1].len() - 1]);
    app.send("POST", &path, &[("x-reader-token", &forged)], Some(&json!({"value": 1}))).await.assert_problem(401);
    app.send("POST", &path, &[], Some(&json!({"value": 1}))).await.assert_problem(401);
    let own_id: i64 = readers::table
        .filter(readers::email_key.eq("own@example.com"))
        .select(readers::id)
        .first(&mut *app.db.conn())
        .unwrap();
    let now = broadsheet::db::now();
    diesel::update(readers::table.find(own_id))
        .set(readers::verified_at.eq(Some(now)))
        .execute(&mut *app.db.conn())
        .unwrap();
    let secret: String = readers::table.find(own_id).select(readers::secret).first(&mut *app.db.conn()).unwrap();
    let own = broadsheet::readers::model::sign(own_id, &secret);
    app.send("POST", &path, &[("x-reader-token", &own)], Some(&json!({"value": 1}))).await.assert_problem(403);
}

async fn sorts_order_threads_oldest_newest_and_by_votes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    let mut ids = Vec::new();
    for (i, name) in ["First", "Second", "Third"].iter().enumerate() {
        let c = post_ok(&app, &slug, reader(name, &format!("s{i}@example.com"), name)).await;
        let id = c["id"].as_i64().unwrap();
        set_status(&app, &editor, id, "approved").await;
        let at = broadsheet::db::now() - chrono::Duration::minutes(10 - i as i64);
        diesel::update(comments::table.find(id)).set(comments::created_at.eq(at)).execute(&mut *app.db.conn()).unwrap();
        ids.push(id);
    }
    let order = |items: Vec<Value>| items.iter().map(|c| c["id"].as_i64().unwrap()).collect::<Vec<_>>();

    assert_eq!(order(public(&app, &slug, "").await), ids);
    assert_eq!(order(public(&app, &slug, "sort=newest").await), vec![ids[2], ids[1], ids[0]]);
    assert_eq!(order(public(&app, &slug, "sort=top").await), ids, "ties break by age");
    let (_, voter) = verified_reader(&app, "voter@example.com");
    app.send(
        "POST",
        &format!("/api/v1/comments/{}/votes", ids[2]),
        &[("x-reader-token", &voter)],
        Some(&json!({"value": 1})),
    )
    .await;
    app.send(
        "POST",
        &format!("/api/v1/comments/{}/votes", ids[0]),
        &[("x-reader-token", &voter)],
        Some(&json!({"value": -1})),
    )
    .await;
    assert_eq!(order(public(&app, &slug, "sort=top").await), vec![ids[2], ids[1], ids[0]]);
    assert_eq!(order(public(&app, &slug, "sort=top&per_page=1&page=2").await), vec![ids[1]], "paged by thread");
    app.get(&format!("/api/v1/articles/{slug}/comments?sort=best")).await.assert_problem(400);
}

async fn comments_are_limited_per_email_with_retry_after(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, _) = article(&app, json!({})).await;
    for i in 0..10 {
        post_ok(&app, &slug, reader("A", "a@example.com", &format!("comment {i}"))).await;
    }

    let res = post(&app, &slug, reader("A", "A@EXAMPLE.com", "one too many")).await;

    res.assert_problem(429);
    assert!(res.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s > 0)));
    assert_eq!(comment_count(&app), 10);
    let other = post(&app, &slug, reader("B", "b@example.com", "another reader")).await;
    assert_eq!(other.status.as_u16(), 201, "another email from the same address still posts");
}

async fn staff_comments_are_approved_and_marked_staff_or_author(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let author = app.token_for("author").await;
    let (a, _) =
        app.create_article(&author, json!({"title": "By the author", "body": "x", "status": "published"})).await;
    let slug = a["slug"].as_str().unwrap();
    let editor = app.token_for("editor").await;

    let res = app
        .authed("POST", &format!("/api/v1/articles/{slug}/comments"), &author, Some(&json!({"body": "Author here."})))
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"]["status"], "approved");
    let res = app
        .authed("POST", &format!("/api/v1/articles/{slug}/comments"), &editor, Some(&json!({"body": "Editor here."})))
        .await;
    assert_eq!(res.json()["data"]["status"], "approved");

    let items = public(&app, slug, "").await;
    let roles: Vec<&str> = items.iter().map(|c| c["author_role"].as_str().unwrap()).collect();
    assert_eq!(roles, vec!["author", "staff"]);
    assert!(items[0]["author_name"].as_str().unwrap().starts_with("author-profile"));
}

fn reply_mails(app: &TestApp) -> Vec<broadsheet::mail::memory::SentMail> {
    app.mailbox.sent().into_iter().filter(|m| m.subject == "New replies to your comment").collect()
}

async fn reply_mail_goes_once_after_approval_to_a_verified_opted_in_author_and_unsubscribe_needs_post(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    let mut first = reader("Ana", "ana@example.com", "My take.");
    first["notify_replies"] = json!(true);
    let a = post_ok(&app, &slug, first).await;
    let a_id = a["id"].as_i64().unwrap();
    set_status(&app, &editor, a_id, "approved").await;
    app.run_jobs().await;
    let verify_token = newest_token(&app);
    let reply =
        |name: &str, email: &str, text: &str| json!({"name": name, "email": email, "body": text, "parent_id": a_id});

    // Unverified: an approved reply mails nothing (only the one verification mail went out).
    let b = post_ok(&app, &slug, reply("Bo", "bo@example.com", "Reply one")).await;
    set_status(&app, &editor, b["id"].as_i64().unwrap(), "approved").await;
    app.run_jobs().await;
    assert!(reply_mails(&app).is_empty(), "mailed an unverified address");
    let to_ana = app.mailbox.sent().iter().filter(|m| m.to == "ana@example.com").count();
    assert_eq!(to_ana, 1, "only the verification mail");

    // Verified: a held reply mails nothing until approved, then exactly once.
    let res = app.send("POST", "/api/v1/readers/verify", &[], Some(&json!({"token": verify_token}))).await;
    assert_eq!(res.status.as_u16(), 200);
    let c = post_ok(&app, &slug, reply("Cy", "cy@example.com", "Reply two")).await;
    assert_eq!(c["status"], "pending");
    app.run_jobs().await;
    assert!(reply_mails(&app).is_empty(), "mailed before approval");
    set_status(&app, &editor, c["id"].as_i64().unwrap(), "approved").await;
    set_status(&app, &editor, c["id"].as_i64().unwrap(), "pending").await;
    set_status(&app, &editor, c["id"].as_i64().unwrap(), "approved").await;
    app.run_jobs().await;
    app.run_jobs().await;
    let mails = reply_mails(&app);
    assert_eq!(mails.len(), 1, "exactly one reply mail");
    let mail = &mails[0];
    assert_eq!(mail.to, "ana@example.com");
    assert!(mail.text.contains("Reply two") && !mail.text.contains("cy@example.com"), "{}", mail.text);
    let raw = String::from_utf8_lossy(&mail.raw).replace("\r\n ", " ");
    assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{raw}");
    let start = raw.find("List-Unsubscribe: <").expect("List-Unsubscribe") + "List-Unsubscribe: <".len();
    let url = &raw[start..start + raw[start..].find('>').unwrap()];
    let path = &url[url.find("/api/v1/").unwrap()..];

    // Ana replying to her own comment mails nobody.
    let own = post_ok(&app, &slug, reply("Ana", "ana@example.com", "Thanks all")).await;
    set_status(&app, &editor, own["id"].as_i64().unwrap(), "approved").await;
    app.run_jobs().await;
    assert_eq!(reply_mails(&app).len(), 1, "the replier was mailed about their own reply");

    // Unsubscribe: GET changes nothing, a forged token is refused, POST acts.
    let shown = app.get(path).await;
    assert_eq!(shown.status.as_u16(), 200, "{}", String::from_utf8_lossy(&shown.body));
    assert_eq!(shown.json()["data"]["notifications"], true);
    let forged = path.replacen("token=", "token=9", 1);
    app.send("POST", &forged, &[], None).await.assert_problem(400);
    let other_thread = format!("{}{}", &path[..path.find("&thread=").unwrap()], "&thread=999");
    app.send("POST", &other_thread, &[], None).await.assert_problem(400);
    let notify: bool = comments::table.find(a_id).select(comments::notify_replies).first(&mut *app.db.conn()).unwrap();
    assert!(notify, "a GET or a forged POST changed the subscription");
    let res = app
        .send_bytes(
            "POST",
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"]["notifications"], false);
    let d = post_ok(&app, &slug, reply("Di", "di@example.com", "Reply three")).await;
    set_status(&app, &editor, d["id"].as_i64().unwrap(), "approved").await;
    app.run_jobs().await;
    assert_eq!(reply_mails(&app).len(), 1, "mailed after unsubscribing");
}

/// Moves the reply clock on: mails sent an hour ago, queued reply jobs due now.
fn an_hour_later(app: &TestApp) {
    let c = &mut *app.db.conn();
    let ago = broadsheet::db::now() - chrono::Duration::minutes(61);
    diesel::update(comment_notifications::table.filter(comment_notifications::handled_at.is_not_null()))
        .set(comment_notifications::handled_at.eq(ago))
        .execute(c)
        .unwrap();
    diesel::update(jobs::table.filter(jobs::kind.eq("comment_reply")).filter(jobs::state.eq("queued")))
        .set(jobs::run_at.eq(broadsheet::db::now()))
        .execute(c)
        .unwrap();
}

async fn replies_within_the_cooldown_go_out_as_one_digest_and_the_daily_cap_delays_without_dropping(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("COMMENT_REPLY_DAILY_CAP", "2")]).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    verified_reader(&app, "ana@example.com");
    let mut first = reader("Ana", "ana@example.com", "My take.");
    first["notify_replies"] = json!(true);
    let a_id = post_ok(&app, &slug, first).await["id"].as_i64().unwrap();
    set_status(&app, &editor, a_id, "approved").await;
    let mut n = 0;
    let mut approve_reply = || {
        n += 1;
        let body = json!({"name": format!("R{n}"), "email": format!("r{n}@example.com"), "body": format!("Reply number {n}"), "parent_id": a_id});
        let app = &app;
        let editor = editor.clone();
        let slug = slug.clone();
        async move {
            let id = post_ok(app, &slug, body).await["id"].as_i64().unwrap();
            set_status(app, &editor, id, "approved").await;
        }
    };

    approve_reply().await;
    app.run_jobs().await;
    assert_eq!(reply_mails(&app).len(), 1);
    approve_reply().await;
    approve_reply().await;
    app.run_jobs().await;
    assert_eq!(reply_mails(&app).len(), 1, "within the cooldown nothing more is sent");

    an_hour_later(&app);
    app.run_jobs().await;
    let mails = reply_mails(&app);
    assert_eq!(mails.len(), 2, "one digest after the cooldown");
    assert!(mails[1].text.contains("2 new replies"), "{}", mails[1].text);
    assert!(mails[1].text.contains("Reply number 2") && mails[1].text.contains("Reply number 3"));

    approve_reply().await;
    an_hour_later(&app);
    app.run_jobs().await;
    assert_eq!(reply_mails(&app).len(), 2, "the daily cap of 2 holds");

    // The capped reply waits (open, with a job for when the cap's day has
    // passed) instead of being dropped, and then goes out.
    let open: i64 = comment_notifications::table
        .filter(comment_notifications::handled_at.is_null())
        .count()
        .get_result(&mut *app.db.conn())
        .unwrap();
    assert_eq!(open, 1, "the capped reply was closed");
    let later = broadsheet::db::now() + chrono::Duration::hours(20);
    let waiting: i64 = jobs::table
        .filter(jobs::kind.eq("comment_reply"))
        .filter(jobs::state.eq("queued"))
        .filter(jobs::run_at.gt(later))
        .count()
        .get_result(&mut *app.db.conn())
        .unwrap();
    assert_eq!(waiting, 1, "no job waits for the end of the cap's 24 hours");
    {
        let c = &mut *app.db.conn();
        let ago = broadsheet::db::now() - chrono::Duration::hours(25);
        diesel::update(comment_notifications::table.filter(comment_notifications::handled_at.is_not_null()))
            .set(comment_notifications::handled_at.eq(ago))
            .execute(c)
            .unwrap();
        diesel::update(jobs::table.filter(jobs::kind.eq("comment_reply")).filter(jobs::state.eq("queued")))
            .set(jobs::run_at.eq(broadsheet::db::now()))
            .execute(c)
            .unwrap();
    }
    app.run_jobs().await;
    let mails = reply_mails(&app);
    assert_eq!(mails.len(), 3, "the delayed reply went out once the day had passed");
    assert!(mails[2].text.contains("Reply number 4"), "{}", mails[2].text);
    let capped: i64 = comment_notifications::table
        .filter(comment_notifications::outcome.eq("capped"))
        .count()
        .get_result(&mut *app.db.conn())
        .unwrap();
    assert_eq!(capped, 0, "nothing is dropped by the cap");
}

// ------------------------------------------------ form tokens, checkers, limits

/// The database's form-token secret (tests sign tokens "issued" in the past with it).
fn form_secret(app: &TestApp) -> String {
    server_secrets::table
        .find("comment_form")
        .select(server_secrets::secret)
        .first(&mut *app.db.conn())
        .expect("the migration made a comment_form secret")
}

async fn form_token(app: &TestApp, slug: &str) -> String {
    let res = app.get(&format!("/api/v1/articles/{slug}/comments/form-token")).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"]["form_token"].as_str().unwrap().to_owned()
}

fn with_token(mut body: Value, token: &str) -> Value {
    body["form_token"] = json!(token);
    body
}

async fn form_tokens_are_single_use_per_article_and_bad_ones_are_400s_naming_form_token(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("COMMENT_FORM_TOKEN", "required")]).await else { return };
    let (slug, article_id, editor) = article(&app, json!({})).await;
    let (other, _, _) = article(&app, json!({"title": "Other"})).await;
    let (closed, _, _) = article(&app, json!({"title": "Closed", "comment_status": "closed"})).await;
    let secret = form_secret(&app);
    let issued_ago = |secs: i64| {
        broadsheet::comments::form::issue(&secret, article_id, chrono::Utc::now().timestamp_millis() - secs * 1000)
    };
    let ana = |text: &str| reader("Ana", "ana@example.com", text);

    // The token endpoint: a fresh token each time, never cached, open public articles only.
    let res = app.get(&format!("/api/v1/articles/{slug}/comments/form-token")).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let data = res.json()["data"].clone();
    assert_eq!(data["article_id"], article_id);
    assert!(data["usable_from"].as_str().unwrap() > data["issued_at"].as_str().unwrap(), "{data}");
    let fresh = data["form_token"].as_str().unwrap().to_owned();
    assert_ne!(form_token(&app, &slug).await, fresh);
    app.get(&format!("/api/v1/articles/{closed}/comments/form-token")).await.assert_problem(403);
    app.get("/api/v1/articles/no-such-article/comments/form-token").await.assert_problem(404);

    // Missing, malformed, forged, other-article and expired tokens: 400s naming form_token, nothing stored.
    let last = fresh.chars().last().unwrap();
    let forged = format!("{}{}", &fresh[..fresh.len() - 1], if last == 'A' { 'B' } else { 'A' });
    let cases = [
        (ana("No token"), "missing"),
        (with_token(ana("Malformed"), "bcf1.1.2"), "malformed"),
        (with_token(ana("Forged"), &forged), "forged"),
        (with_token(ana("Elsewhere"), &form_token(&app, &other).await), "another article"),
        (with_token(ana("Stale"), &issued_ago(25 * 3600)), "expired (over COMMENT_FORM_MAX_AGE_MINUTES)"),
    ];
    for (body, why) in cases {
        let res = post(&app, &slug, body).await;
        assert_eq!(res.assert_problem(400)["errors"][0]["field"], "form_token", "{why}");
    }
    assert_eq!(comment_count(&app), 0, "a refused token stored something");

    // Sent at once after its issue: stored, as spam, with the reason, and nobody is mailed.
    let fast = post_ok(&app, &slug, with_token(ana("Too quick"), &fresh)).await;
    assert_eq!(fast["status"], "spam", "{fast}");
    assert!(fast["reasons"].to_string().contains("form_timing: sent"), "{fast}");
    assert_eq!(fast["verification_sent"], false);

    // A token past the minimum works once. A post that fails does not use it
    // up; a second comment with it is refused.
    let token = issued_ago(10);
    let mut orphan = with_token(ana("A reply"), &token);
    orphan["parent_id"] = json!(999999);
    post(&app, &slug, orphan).await.assert_problem(422);
    let ok = post_ok(&app, &slug, with_token(ana("A considered view"), &token)).await;
    assert_eq!(ok["status"], "pending");
    assert!(!ok["reasons"].to_string().contains("form_timing"), "{ok}");
    let replay = post(&app, &slug, with_token(ana("Once more"), &token)).await;
    let problem = replay.assert_problem(400);
    assert_eq!(problem["errors"][0]["field"], "form_token");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("already been used"), "{problem}");
    assert_eq!(comment_count(&app), 2);

    // Signed-in users need no token.
    let res = app
        .authed("POST", &format!("/api/v1/articles/{slug}/comments"), &editor, Some(&json!({"body": "Staff note."})))
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
}

/// A fake Akismet on 127.0.0.1. It answers by the comment's text: `spam`
/// → `true` with `X-akismet-pro-tip: discard`, `boom` → 500, `stall` → no
/// answer for 3 s; anything else (and everything once `healed`) → `false`.
/// Returns its base URL, the form bodies it received, and the switch.
fn fake_akismet() -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicBool>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let healed: Arc<AtomicBool> = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (s, h) = (seen.clone(), healed.clone());
    let server = actix_web::HttpServer::new(move || {
        let (s, h) = (s.clone(), h.clone());
        actix_web::App::new().default_service(actix_web::web::to(move |req: actix_web::HttpRequest, body: String| {
            let (s, h) = (s.clone(), h.clone());
            async move {
                assert_eq!(req.path(), "/1.1/comment-check");
                s.lock().unwrap().push(body.clone());
                let content: String = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "comment_content")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let healed = h.load(Ordering::SeqCst);
                if !healed && content.contains("stall") {
                    actix_web::rt::time::sleep(std::time::Duration::from_secs(3)).await;
                }
                if !healed && content.contains("boom") {
                    return actix_web::HttpResponse::InternalServerError().body("oops");
                }
                if !healed && content.contains("spam") {
                    return actix_web::HttpResponse::Ok().insert_header(("X-akismet-pro-tip", "discard")).body("true");
                }
                actix_web::HttpResponse::Ok().body("false")
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (url, seen, healed)
}

fn status_of(app: &TestApp, id: &Value) -> String {
    comments::table.find(id.as_i64().unwrap()).select(comments::status).first(&mut *app.db.conn()).unwrap()
}

fn last_reasons(app: &TestApp, id: &Value) -> String {
    comment_decisions::table
        .filter(comment_decisions::comment_id.eq(id.as_i64().unwrap()))
        .order(comment_decisions::id.desc())
        .select(comment_decisions::reasons)
        .first(&mut *app.db.conn())
        .unwrap()
}

async fn the_akismet_checker_runs_as_a_job_and_its_outages_cost_no_comment(backend: Backend) {
    let (url, seen, healed) = fake_akismet();
    let vars = [
        ("COMMENT_AKISMET_URL", url.as_str()),
        ("COMMENT_AKISMET_KEY", "fake-akismet-key"),
        ("COMMENT_AKISMET_ALLOW_LOOPBACK", "true"),
        ("COMMENT_AKISMET_TIMEOUT_MS", "300"),
        ("JOBS_MAX_ATTEMPTS", "2"),
    ];
    let Some(app) = TestApp::spawn_with(backend, &vars).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;

    // Posting never calls out: the comment waits, pending, for the job.
    let spam = post_ok(&app, &slug, reader("Sam", "sam@example.com", "cheap spam here")).await;
    assert_eq!(spam["status"], "pending");
    assert!(spam["reasons"].to_string().contains("waiting for the external spam check"), "{spam}");
    assert!(seen.lock().unwrap().is_empty(), "the request itself called the checker");
    let (_, vi) = verified_reader(&app, "vi@example.com");
    let first = post_as(&app, &slug, &vi, reader("Vi", "vi@example.com", "A first, fine remark")).await;
    app.run_jobs().await;
    assert_eq!(status_of(&app, &spam["id"]), "spam");
    assert!(last_reasons(&app, &spam["id"]).contains("akismet: the external checker says spam (blatant: discard)"));
    assert_eq!(status_of(&app, &first["id"]), "pending", "a first comment stays held after a `false`");
    assert!(last_reasons(&app, &first["id"]).contains("akismet: not spam"));
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "one check per comment");
    let sent: Vec<(String, String)> = bodies
        .iter()
        .map(|b| url::form_urlencoded::parse(b.as_bytes()).into_owned().collect::<Vec<(String, String)>>())
        .find(|f| f.iter().any(|(k, v)| k == "comment_content" && v == "cheap spam here"))
        .expect("the spam comment was sent");
    let field = |k: &str| sent.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(field("api_key"), Some("fake-akismet-key"));
    assert_eq!(field("comment_content"), Some("cheap spam here"));
    assert_eq!(field("comment_author_email"), Some("sam@example.com"));
    assert_eq!(field("user_ip"), Some("127.0.0.1"));
    assert_eq!(field("blog"), Some("http://broadsheet.test"));

    // What the built-in policy approves is approved only after a `false`.
    set_status(&app, &editor, first["id"].as_i64().unwrap(), "approved").await;
    let ham = post_as(&app, &slug, &vi, reader("Vi", "vi@example.com", "A second, fine remark")).await;
    assert_eq!(ham["status"], "pending", "{ham}");
    app.run_jobs().await;
    assert_eq!(status_of(&app, &ham["id"]), "approved");

    // A 500 and a stall: the attempts fail, the comments stay pending.
    let boom = post_ok(&app, &slug, reader("Bo", "bo@example.com", "boom goes the checker")).await;
    let stall = post_ok(&app, &slug, reader("Ty", "ty@example.com", "stall the checker")).await;
    app.run_jobs().await;
    assert_eq!(status_of(&app, &boom["id"]), "pending");
    assert_eq!(status_of(&app, &stall["id"]), "pending");
    let errors: Vec<Option<String>> = jobs::table
        .filter(jobs::kind.eq("comment_spam_check"))
        .filter(jobs::state.ne("done"))
        .select(jobs::last_error)
        .load(&mut *app.db.conn())
        .unwrap();
    let errors = format!("{errors:?}");
    assert!(errors.contains("answered 500"), "{errors}");
    assert!(errors.contains("no answer within 300 ms"), "{errors}");

    // The checker is back: the retried jobs apply its answers; nothing was lost.
    healed.store(true, Ordering::SeqCst);
    diesel::update(jobs::table.filter(jobs::kind.eq("comment_spam_check")).filter(jobs::state.ne("done")))
        .set((jobs::state.eq("queued"), jobs::run_at.eq(broadsheet::db::now()), jobs::attempts.eq(0)))
        .execute(&mut *app.db.conn())
        .unwrap();
    app.run_jobs().await;
    for c in [&boom, &stall] {
        assert_eq!(status_of(&app, &c["id"]), "pending", "a new reader's first comment stays held");
        assert!(last_reasons(&app, &c["id"]).contains("akismet: not spam"), "{}", last_reasons(&app, &c["id"]));
    }
}

async fn votes_are_limited_per_voter_with_retry_after(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    let id = post_ok(&app, &slug, reader("Ana", "ana@example.com", "Vote on me")).await["id"].as_i64().unwrap();
    set_status(&app, &editor, id, "approved").await;
    let (_, voter) = verified_reader(&app, "voter@example.com");
    let (_, other) = verified_reader(&app, "other@example.com");
    let path = format!("/api/v1/comments/{id}/votes");
    let limit = broadsheet::http::limit::VOTE_PER_VOTER;
    for i in 0..limit {
        let value = if i % 2 == 0 { 1 } else { -1 };
        let res = app.send("POST", &path, &[("x-reader-token", &voter)], Some(&json!({"value": value}))).await;
        assert_eq!(res.status.as_u16(), 200, "vote {i}: {}", String::from_utf8_lossy(&res.body));
    }

    let over = app.send("POST", &path, &[("x-reader-token", &voter)], Some(&json!({"value": 1}))).await;
    let take_back = app.send("DELETE", &path, &[("x-reader-token", &voter)], None).await;

    for res in [&over, &take_back] {
        res.assert_problem(429);
        assert!(res.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s > 0)), "no Retry-After");
    }
    let row: (i32, i32, i32) = comments::table
        .find(id)
        .select((comments::up_count, comments::down_count, comments::score))
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(row, (0, 1, -1), "a refused vote changed the counts");
    let res = app.send("POST", &path, &[("x-reader-token", &other)], Some(&json!({"value": 1}))).await;
    assert_eq!(res.status.as_u16(), 200, "another voter is not limited");
}

async fn avatars_are_deterministic_immutable_svgs_and_malformed_keys_are_404s(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    for (name, email) in [("Ana", "ana@example.com"), ("Bo", "bo@example.com")] {
        let id = post_ok(&app, &slug, reader(name, email, &format!("{name} says hi"))).await["id"].as_i64().unwrap();
        set_status(&app, &editor, id, "approved").await;
    }
    let items = public(&app, &slug, "").await;
    let paths: Vec<String> = items
        .iter()
        .map(|c| {
            let url = c["avatar_url"].as_str().expect("an avatar URL");
            url[url.find("/api/v1/").unwrap()..].to_owned()
        })
        .collect();

    let a = app.get(&paths[0]).await;
    let again = app.get(&paths[0]).await;
    let b = app.get(&paths[1]).await;

    assert_eq!(a.status.as_u16(), 200, "{}: {}", paths[0], String::from_utf8_lossy(&a.body));
    assert_eq!(a.content_type(), "image/svg+xml");
    assert_eq!(a.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let svg = String::from_utf8_lossy(&a.body);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.ends_with("</svg>"), "{svg}");
    assert!(!svg.contains("<script") && !svg.contains("href"), "{svg}");
    assert_eq!(a.body, again.body, "not deterministic");
    assert_ne!(a.body, b.body, "two readers got the same avatar");
    for bad in [
        "/api/v1/avatars/5F0C1B2A9D8E7F6A5B4C3D2E1F0A9B8C.svg",
        "/api/v1/avatars/5f0c1b2a.svg",
        "/api/v1/avatars/zz0c1b2a9d8e7f6a5b4c3d2e1f0a9b8c.svg",
        "/api/v1/avatars/5f0c1b2a9d8e7f6a5b4c3d2e1f0a9b8c0.svg",
        "/api/v1/avatars/5f0c1b2a9d8e7f6a5b4c3d2e1f0a9b8c.png",
    ] {
        app.get(bad).await.assert_problem(404);
    }
}

async fn an_unverified_opt_in_gets_one_verification_mail_and_nothing_else(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, _, editor) = article(&app, json!({})).await;
    let mut parents = Vec::new();
    for text in ["First take.", "Second take."] {
        let mut body = reader("Ana", "ana@example.com", text);
        body["notify_replies"] = json!(true);
        let id = post_ok(&app, &slug, body).await["id"].as_i64().unwrap();
        set_status(&app, &editor, id, "approved").await;
        parents.push(id);
    }

    for (i, parent) in [parents[0], parents[1], parents[0]].iter().enumerate() {
        let body = json!({"name": "Bo", "email": format!("bo{i}@example.com"), "body": format!("Reply {i}"), "parent_id": parent});
        let id = post_ok(&app, &slug, body).await["id"].as_i64().unwrap();
        set_status(&app, &editor, id, "approved").await;
    }
    app.run_jobs().await;
    app.run_jobs().await;

    let to_ana: Vec<String> = mails::table
        .filter(mails::recipient.eq("ana@example.com"))
        .select(mails::template)
        .load(&mut *app.db.conn())
        .unwrap();
    assert_eq!(to_ana, vec!["comment_verify".to_owned()], "an unconfirmed address got more than one verification mail");
    assert_eq!(app.mailbox.sent().iter().filter(|m| m.to == "ana@example.com").count(), 1);
    let notifications: i64 = comment_notifications::table.count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(notifications, 0, "replies to an unverified address were recorded for mailing");
}

/// The issue's "Done when", end to end, with form tokens required.
async fn done_when_a_verified_reader_gets_one_reply_mail_votes_reorder_and_spam_keeps_its_reasons(backend: Backend) {
    let vars =
        [("COMMENT_FORM_TOKEN", "required"), ("COMMENT_FORM_MIN_SECONDS", "1"), ("COMMENT_DISALLOWED_WORDS", "casino")];
    let Some(app) = TestApp::spawn_with(backend, &vars).await else { return };
    app.db.import_fixture();
    let editor = app.token_for("editor").await;
    let slug = "template-comments";
    let tokens = [form_token(&app, slug).await, form_token(&app, slug).await, form_token(&app, slug).await];
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;

    // A reader comments on an imported article, asking for reply mail, and verifies from the outbox.
    let mut first = with_token(reader("Ana", "ana@example.com", "Great piece."), &tokens[0]);
    first["notify_replies"] = json!(true);
    let a = post_ok(&app, slug, first).await;
    assert_eq!((a["status"].as_str(), a["verification_sent"].as_bool()), (Some("pending"), Some(true)), "{a}");
    app.run_jobs().await;
    let verify = newest_token(&app);
    let res = app.send("POST", "/api/v1/readers/verify", &[], Some(&json!({"token": verify}))).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let a_id = a["id"].as_i64().unwrap();
    set_status(&app, &editor, a_id, "approved").await;

    // A second reader's reply is held in the queue, approved by an editor, and shown threaded.
    let reply = json!({"name": "Bo", "email": "bo@example.org", "body": "Agreed.", "parent_id": a_id});
    let b = post_ok(&app, slug, with_token(reply, &tokens[1])).await;
    assert_eq!(b["status"], "pending");
    let (queue, _) = app.get_ok_as(&format!("/api/v1/comments?status=pending&article={slug}"), &editor).await;
    assert!(queue["data"].as_array().unwrap().iter().any(|c| c["id"] == b["id"]), "{queue}");
    set_status(&app, &editor, b["id"].as_i64().unwrap(), "approved").await;
    let items = public(&app, slug, "per_page=100").await;
    let pa = items.iter().position(|c| c["id"] == a["id"]).expect("the first comment is public");
    assert_eq!(items[pa + 1]["id"], b["id"], "the reply follows its parent");
    assert_eq!((items[pa + 1]["depth"].as_i64(), items[pa]["reply_count"].as_i64()), (Some(1), Some(1)));

    // The first reader gets exactly one reply mail; its unsubscribe works by POST, not by GET.
    app.run_jobs().await;
    app.run_jobs().await;
    let mails = reply_mails(&app);
    assert_eq!(mails.len(), 1, "exactly one reply mail");
    assert_eq!(mails[0].to, "ana@example.com");
    let raw = String::from_utf8_lossy(&mails[0].raw).replace("\r\n ", " ");
    let start = raw.find("List-Unsubscribe: <").expect("List-Unsubscribe") + "List-Unsubscribe: <".len();
    let url = &raw[start..start + raw[start..].find('>').unwrap()];
    let path = &url[url.find("/api/v1/").unwrap()..];
    assert_eq!(app.get(path).await.json()["data"]["notifications"], true);
    assert_eq!(app.get(path).await.json()["data"]["notifications"], true, "a GET unsubscribed");
    let res = app.send("POST", path, &[], None).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["data"]["notifications"], false);

    // Votes reorder the threads under sort=top.
    let top = |items: Vec<Value>| items.iter().find(|c| c["depth"] == 0).map(|c| c["id"].clone()).unwrap();
    assert_ne!(top(public(&app, slug, "sort=top&per_page=100").await), a["id"], "older threads come first on a tie");
    for email in ["v1@example.com", "v2@example.com"] {
        let (_, voter) = verified_reader(&app, email);
        let res = app
            .send(
                "POST",
                &format!("/api/v1/comments/{a_id}/votes"),
                &[("x-reader-token", &voter)],
                Some(&json!({"value": 1})),
            )
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    }
    assert_eq!(top(public(&app, slug, "sort=top&per_page=100").await), a["id"], "votes did not reorder");

    // A spammy comment lands in `spam` with its reasons.
    let spam = post_ok(&app, slug, with_token(reader("Cy", "cy@example.com", "Best casino bonus"), &tokens[2])).await;
    assert_eq!(spam["status"], "spam");
    let (shown, _) = app.get_ok_as(&format!("/api/v1/comments/{}", spam["id"]), &editor).await;
    let reasons = &shown["data"]["decisions"][0]["reasons"];
    assert_eq!(reasons[0], "words: contains the disallowed word \"casino\"", "{shown}");
    assert!(!public(&app, slug, "per_page=100").await.iter().any(|c| c["id"] == spam["id"]), "spam is public");
}

async fn comments_of_an_article_taken_off_the_site_take_no_votes(backend: Backend) {
    // Arrange: an approved comment with one vote, then its article goes
    // back to draft.
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (slug, article_id, editor) = article(&app, json!({})).await;
    let id = post_ok(&app, &slug, reader("Ana", "ana@example.com", "Vote on me")).await["id"].as_i64().unwrap();
    set_status(&app, &editor, id, "approved").await;
    let (_, voter) = verified_reader(&app, "voter@example.com");
    let path = format!("/api/v1/comments/{id}/votes");
    let first = app.send("POST", &path, &[("x-reader-token", &voter)], Some(&json!({"value": 1}))).await;
    assert_eq!(first.status.as_u16(), 200, "{}", String::from_utf8_lossy(&first.body));
    diesel::update(broadsheet::db::schema::articles::table.find(article_id))
        .set(broadsheet::db::schema::articles::status.eq("draft"))
        .execute(&mut *app.db.conn())
        .unwrap();

    // Act
    let vote = app.send("POST", &path, &[("x-reader-token", &voter)], Some(&json!({"value": -1}))).await;
    let take_back = app.send("DELETE", &path, &[("x-reader-token", &voter)], None).await;

    // Assert: the same 404 as a comment that does not exist, counts unchanged.
    vote.assert_problem(404);
    take_back.assert_problem(404);
    let row: (i32, i32) =
        comments::table.find(id).select((comments::up_count, comments::down_count)).first(&mut *app.db.conn()).unwrap();
    assert_eq!(row, (1, 0), "a refused vote changed the counts");
}
