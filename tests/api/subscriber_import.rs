//! CSV import of subscribers: an export → import round trip, imports that
//! would revive unsubscribed, bounced or erased addresses, dry runs,
//! duplicates within the file, Mailchimp consent data, bad encodings and
//! columns, auth, the CLI, and a 100,000-row file.

use std::time::Instant;

use broadsheet::db::schema::{categories, subscriber_topics, subscribers, subscription_consents};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, Backend, Response, TestApp};

backend_tests!(
    an_export_imports_into_an_empty_instance_and_exports_the_same,
    an_import_never_revives_unsubscribed_bounced_or_erased_addresses,
    a_mailchimp_dry_run_writes_nothing_and_the_real_run_keeps_consent_data,
    ghost_and_listmonk_files_keep_their_statuses_and_are_marked_without_consent,
    bad_encodings_and_wrong_columns_get_clear_problems_and_write_nothing,
    the_import_needs_an_editor_and_a_csv_body,
    the_cli_imports_the_same_way,
    a_100k_row_file_imports_in_one_transaction,
);

async fn import(app: &TestApp, token: &str, query: &str, csv: impl Into<Vec<u8>>) -> Response {
    let auth = format!("Bearer {token}");
    app.send_bytes(
        "POST",
        &format!("/api/v1/subscriptions/import{query}"),
        &[("authorization", &auth), ("content-type", "text/csv")],
        csv.into(),
    )
    .await
}

async fn import_ok(app: &TestApp, token: &str, query: &str, csv: impl Into<Vec<u8>>) -> Value {
    let res = import(app, token, query, csv).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.content_type(), "application/json");
    res.json()["data"].clone()
}

fn count(app: &TestApp) -> i64 {
    subscribers::table.count().get_result(&mut *app.db.conn()).unwrap()
}

fn status_of(app: &TestApp, key: &str) -> Option<String> {
    subscribers::table
        .filter(subscribers::email_key.eq(key))
        .select(subscribers::status)
        .first(&mut *app.db.conn())
        .optional()
        .unwrap()
}

/// `(basis, created_at, ip, source)` of each consent record of `key`.
fn consents_of(app: &TestApp, key: &str) -> Vec<(String, chrono::NaiveDateTime, Option<String>, Option<String>)> {
    subscription_consents::table
        .inner_join(subscribers::table)
        .filter(subscribers::email_key.eq(key))
        .order(subscription_consents::id)
        .select((
            subscription_consents::basis,
            subscription_consents::created_at,
            subscription_consents::ip,
            subscription_consents::source,
        ))
        .load(&mut *app.db.conn())
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

/// Subscribes `email` through the API, confirms from the mailed link, and
/// returns the signed token.
async fn confirmed(app: &TestApp, body: Value) -> String {
    let res = app.send("POST", "/api/v1/subscriptions", &[], Some(&body)).await;
    assert_eq!(res.status.as_u16(), 202, "{}", String::from_utf8_lossy(&res.body));
    app.run_jobs().await;
    let text = app.mailbox.sent().last().expect("a confirmation mail").text.clone();
    let start = text.find("token=").expect("a link") + "token=".len();
    let token: String =
        text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    let res = app.send("POST", "/api/v1/subscriptions/confirm", &[], Some(&json!({"token": token}))).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"]["token"].as_str().unwrap().to_owned()
}

/// The CSV export's rows without the columns an import cannot keep (`id`, `updated_at`).
fn comparable(csv: &[u8]) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(csv);
    r.records()
        .map(|rec| {
            let rec = rec.expect("the export is valid CSV");
            rec.iter().enumerate().filter(|(i, _)| *i != 0 && *i != 7).map(|(_, f)| f.to_owned()).collect()
        })
        .collect()
}

async fn an_export_imports_into_an_empty_instance_and_exports_the_same(backend: Backend) {
    // Arrange: confirmed (with a name a spreadsheet would run), unsubscribed and pending readers.
    let Some(a) = TestApp::spawn(backend).await else { return };
    create_category(&a, "politics");
    confirmed(
        &a,
        json!({"email": "Ana@Example.com", "name": "=SUM(A1), \"Al\"", "topics": ["politics"], "source": "footer"}),
    )
    .await;
    let leaver = confirmed(&a, json!({"email": "leaver@example.com"})).await;
    let res = a.send("POST", &format!("/api/v1/subscriptions/unsubscribe?token={leaver}"), &[], None).await;
    assert_eq!(res.status.as_u16(), 200);
    let res = a.send("POST", "/api/v1/subscriptions", &[], Some(&json!({"email": "waiting@example.com"}))).await;
    assert_eq!(res.status.as_u16(), 202);
    a.run_jobs().await;
    let editor = a.token_for("editor").await;
    let exported = a.authed("GET", "/api/v1/subscriptions/export", &editor, None).await;
    assert_eq!(exported.status.as_u16(), 200);

    // Act: import it into an empty instance, export again.
    let Some(b) = TestApp::spawn(backend).await else { return };
    create_category(&b, "politics");
    let editor_b = b.token_for("editor").await;
    let report = import_ok(&b, &editor_b, "", exported.body.clone()).await;
    let again = b.authed("GET", "/api/v1/subscriptions/export", &editor_b, None).await;

    // Assert: the same rows, consent records included.
    assert_eq!(report["format"], "broadsheet");
    assert_eq!(report["imported"], 3, "{report}");
    assert_eq!(
        report["by_status"],
        json!({"confirmed": 1, "pending": 1, "unsubscribed": 1, "bounced": 0, "complained": 0})
    );
    assert_eq!(report["problems"], json!([]));
    let (before, after) = (comparable(&exported.body), comparable(&again.body));
    assert_eq!(before.len(), 4, "header and three readers");
    assert_eq!(before, after, "the round trip changed something");
    let consents = consents_of(&b, "ana@example.com");
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].0, "double_opt_in", "the original basis is kept");
    assert_eq!(status_of(&b, "leaver@example.com").as_deref(), Some("unsubscribed"));
}

async fn an_import_never_revives_unsubscribed_bounced_or_erased_addresses(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let leaver = confirmed(&app, json!({"email": "leaver@example.com"})).await;
    app.send("POST", &format!("/api/v1/subscriptions/unsubscribe?token={leaver}"), &[], None).await;
    confirmed(&app, json!({"email": "bouncy@example.com"})).await;
    let res = app
        .authed(
            "POST",
            "/api/v1/subscriptions/bounces",
            &editor,
            Some(&json!({"events": [{"email": "bouncy@example.com", "type": "hard_bounce"}]})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
    confirmed(&app, json!({"email": "gone@example.com"})).await;
    let gone: i64 = subscribers::table
        .filter(subscribers::email_key.eq("gone@example.com"))
        .select(subscribers::id)
        .first(&mut *app.db.conn())
        .unwrap();
    let res = app.authed("DELETE", &format!("/api/v1/subscriptions/{gone}"), &editor, None).await;
    assert_eq!(res.status.as_u16(), 204);
    confirmed(&app, json!({"email": "stays@example.com", "name": "Stays"})).await;

    // Act: a listmonk file that has them all as enabled, in other spellings.
    let csv = "email,name,attributes,status\r\n\
               LEAVER@example.com,Leaver,{},enabled\r\n\
               bouncy@EXAMPLE.com,Bouncy,{},enabled\r\n\
               Gone@Example.com,Gone,{},enabled\r\n\
               stays@example.com,Renamed,{},blocklisted\r\n\
               new@example.com,New,\"{\"\"city\"\": \"\"Lima\"\"}\",enabled\r\n";
    let report = import_ok(&app, &editor, "", csv).await;

    // Assert: only the new address came in; nothing else changed.
    assert_eq!(report["imported"], 1, "{report}");
    assert_eq!(report["skipped"]["suppressed"], 2);
    assert_eq!(report["skipped"]["erased"], 1);
    assert_eq!(report["skipped"]["existing"], 1);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 4);
    assert_eq!(
        problems[0],
        json!({"row": 2, "field": "email", "message": "is unsubscribed here; an import never subscribes it again"})
    );
    assert_eq!(problems[1]["message"], "is bounced here; an import never subscribes it again");
    assert_eq!(
        problems[2],
        json!({"row": 4, "field": "email", "message": "was erased (GDPR) here; an import never brings it back"})
    );
    assert_eq!(problems[3]["row"], 5);
    assert_eq!(status_of(&app, "leaver@example.com").as_deref(), Some("unsubscribed"));
    assert_eq!(status_of(&app, "bouncy@example.com").as_deref(), Some("bounced"));
    assert_eq!(status_of(&app, "gone@example.com"), None, "an erased address is not brought back");
    assert_eq!(status_of(&app, "stays@example.com").as_deref(), Some("confirmed"), "an existing row is not changed");
    let name: Option<String> = subscribers::table
        .filter(subscribers::email_key.eq("stays@example.com"))
        .select(subscribers::name)
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(name.as_deref(), Some("Stays"));
    assert_eq!(status_of(&app, "new@example.com").as_deref(), Some("confirmed"));
}

const MAILCHIMP: &str = "\u{feff}Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES\r\n\
ana@example.com,Ana,Lopez,4,2025-03-01 09:00:00,,2025-03-01 09:05:00,203.0.113.77,,,,,,,,2025-03-01 09:05:00,1,a1,\r\n\
ben@example.com,Ben,,2,,,,,,,,,,,,2025-03-02 10:00:00,2,b2,\r\n\
not an address,Cy,,2,,,,,,,,,,,,,3,c3,\r\n\
ANA@example.com,Ana,Again,2,,,,,,,,,,,,,4,d4,\r\n\
dee@example.com,Dee,,2,yesterday,,,,,,,,,,,,5,e5,\r\n";

async fn a_mailchimp_dry_run_writes_nothing_and_the_real_run_keeps_consent_data(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;

    // Act: a dry run, then the real one.
    let dry = import_ok(&app, &editor, "?dry_run=true", MAILCHIMP).await;
    let after_dry = count(&app);
    let real = import_ok(&app, &editor, "?dry_run=false", MAILCHIMP).await;

    // Assert: the dry run reported what the real run did, and wrote nothing.
    assert_eq!(after_dry, 0, "a dry run writes nothing");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(real["dry_run"], false);
    for key in ["format", "rows", "imported", "by_status", "with_consent", "without_consent", "skipped", "problems"] {
        assert_eq!(dry[key], real[key], "{key}");
    }
    assert_eq!(real["format"], "mailchimp");
    assert_eq!(real["rows"], 5);
    assert_eq!(real["imported"], 2);
    assert_eq!(real["with_consent"], 1);
    assert_eq!(real["without_consent"], 1);
    assert_eq!(real["skipped"]["invalid"], 2);
    assert_eq!(real["skipped"]["duplicate"], 1);
    assert_eq!(
        real["problems"],
        json!([
            {"row": 4, "field": "Email Address", "message": "is not a valid email address"},
            {"row": 5, "field": "Email Address", "message": "repeats the address of row 2"},
            {"row": 6, "field": "OPTIN_TIME", "message": "is not a time (expected RFC 3339 or YYYY-MM-DD HH:MM:SS, UTC)"}
        ])
    );
    assert!(real["ignored_columns"].as_array().unwrap().contains(&json!("MEMBER_RATING")));
    assert_eq!(count(&app), 2);

    // Consent data kept: the confirm time, the address truncated as CONSENT_IP says.
    let ana = consents_of(&app, "ana@example.com");
    assert_eq!(ana.len(), 1);
    assert_eq!(ana[0].0, "imported");
    assert_eq!(ana[0].1.to_string(), "2025-03-01 09:05:00");
    assert_eq!(ana[0].2.as_deref(), Some("203.0.113.0"));
    assert_eq!(ana[0].3.as_deref(), Some("import:mailchimp"));
    let ben = consents_of(&app, "ben@example.com");
    assert_eq!(ben.len(), 1);
    assert_eq!(ben[0].0, "imported_without_consent");
    let topics: Vec<String> = subscriber_topics::table
        .inner_join(subscribers::table)
        .filter(subscribers::email_key.eq("ana@example.com"))
        .select(subscriber_topics::topic)
        .load(&mut *app.db.conn())
        .unwrap();
    assert_eq!(topics, ["all"]);

    // The export shows the basis; importing the same file again adds nothing.
    let (export, _) = app.get_ok_as("/api/v1/subscriptions/export?format=json", &editor).await;
    assert_eq!(export["data"][0]["consents"][0]["basis"], "imported");
    let again = import_ok(&app, &editor, "", MAILCHIMP).await;
    assert_eq!(again["imported"], 0);
    assert_eq!(again["skipped"]["existing"], 2);
    assert_eq!(count(&app), 2);
}

async fn ghost_and_listmonk_files_keep_their_statuses_and_are_marked_without_consent(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let ghost = "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers\r\n\
                 m1,free@example.com,Grace,\"VIP, early\",true,false,,2024-01-15T10:00:00.000Z,,newsletter,\r\n\
                 m2,quiet@example.com,Kat,,false,false,,2024-02-01T10:00:00.000Z,,,\r\n\
                 m3,deleted@example.com,Del,,true,false,,2024-02-01T10:00:00.000Z,2024-03-01T10:00:00.000Z,,\r\n\
                 m4,odd@example.com,Odd,,maybe,false,,,,,\r\n";
    let report = import_ok(&app, &editor, "", ghost).await;
    assert_eq!(report["format"], "ghost");
    assert_eq!(report["by_status"]["confirmed"], 1, "{report}");
    assert_eq!(report["by_status"]["unsubscribed"], 1);
    assert_eq!(report["skipped"]["deleted"], 1);
    assert_eq!(
        report["problems"][1],
        json!({"row": 5, "field": "subscribed_to_emails", "message": "must be true or false"})
    );
    assert_eq!(status_of(&app, "quiet@example.com").as_deref(), Some("unsubscribed"));
    let created: chrono::NaiveDateTime = subscribers::table
        .filter(subscribers::email_key.eq("free@example.com"))
        .select(subscribers::created_at)
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(created.to_string(), "2024-01-15 10:00:00");
    assert_eq!(consents_of(&app, "free@example.com")[0].0, "imported_without_consent");

    let listmonk = "uuid,email,name,attributes,status,created_at,updated_at\r\n\
                    u1,lm@example.com,LM,{},enabled,2023-05-01 08:00:00.123456+00,\r\n\
                    u2,blocked@example.com,B,{},blocklisted,,\r\n\
                    u3,bad@example.com,Bad,[1],enabled,,\r\n";
    let report = import_ok(&app, &editor, "", listmonk).await;
    assert_eq!(report["format"], "listmonk");
    assert_eq!(report["imported"], 2, "{report}");
    assert_eq!(report["problems"], json!([{"row": 4, "field": "attributes", "message": "must be a JSON object"}]));
    assert_eq!(status_of(&app, "blocked@example.com").as_deref(), Some("unsubscribed"));
    assert_eq!(report["ignored_columns"], json!(["updated_at", "uuid"]));
}

async fn bad_encodings_and_wrong_columns_get_clear_problems_and_write_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    // Latin-1 "é" on line 3, after a good row: the good row is not written either.
    let mut latin1 = b"email,name\r\nok@example.com,Ok\r\nrene@example.com,Ren".to_vec();
    latin1.push(0xE9);
    latin1.extend_from_slice(b"\r\n");
    let cases: Vec<(Vec<u8>, u16, &str, &str)> = vec![
        (latin1, 400, "body", "line 3"),
        (b"".to_vec(), 400, "body", "empty"),
        (
            b"email,name,shoe_size\r\na@example.com,A,42\r\n".to_vec(),
            422,
            "shoe_size",
            "not a column of a listmonk export",
        ),
        (b"mail,name\r\na@example.com,A\r\n".to_vec(), 422, "email", "is missing"),
        (b"email,name,EMAIL\r\na@example.com,A,b\r\n".to_vec(), 422, "EMAIL", "appears twice"),
        (b"Email Address,First Name,\r\na@example.com,A,\r\n".to_vec(), 422, "#3", "has no name"),
    ];
    for (body, status, field, words) in cases {
        let res = import(&app, &editor, "", body.clone()).await;
        let p = res.assert_problem(status);
        assert_eq!(p["errors"][0]["field"], field, "{}: {p}", String::from_utf8_lossy(&body));
        assert!(p["errors"][0]["message"].as_str().unwrap().contains(words), "{p}");
    }
    assert_eq!(count(&app), 0, "nothing was half-written");

    // A row with the wrong number of fields is a row problem, not a failure.
    let report = import_ok(&app, &editor, "", "email,name\r\na@example.com,A,extra\r\nb@example.com,B\r\n").await;
    assert_eq!(report["problems"], json!([{"row": 2, "field": "row", "message": "has 3 fields; the header has 2"}]));
    assert_eq!(report["imported"], 1);
}

async fn the_import_needs_an_editor_and_a_csv_body(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let author = app.token_for("author").await;
    let editor = app.token_for("editor").await;
    let body = b"email\r\na@example.com\r\n".to_vec();
    let path = "/api/v1/subscriptions/import";
    app.send_bytes("POST", path, &[("content-type", "text/csv")], body.clone()).await.assert_problem(401);
    import(&app, &author, "", body.clone()).await.assert_problem(403);
    let auth = format!("Bearer {editor}");
    let p = app
        .send_bytes("POST", path, &[("authorization", &auth), ("content-type", "application/json")], body.clone())
        .await
        .assert_problem(415);
    assert_eq!(p["errors"][0]["field"], "content-type");
    let p = import(&app, &editor, "?dry_run=maybe", body.clone()).await.assert_problem(400);
    assert_eq!(p["errors"][0]["field"], "dry_run");
    import(&app, &editor, "?force=true", body.clone()).await.assert_problem(400);
    assert_eq!(count(&app), 0);
    // DELETE on the named path is not taken for an id.
    app.authed("DELETE", path, &editor, None).await.assert_problem(405);
}

async fn the_cli_imports_the_same_way(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mailchimp.csv");
    std::fs::write(&file, MAILCHIMP).unwrap();
    let run = |dry: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_broadsheet"));
        cmd.args(["import", "subscribers"]).arg(&file);
        if dry {
            cmd.arg("--dry-run");
        }
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", app.db.url_string())
            .env("JWT_SECRET", "test-secret-test-secret-test-secret-0123")
            .env("RUST_LOG", "warn")
            .current_dir(dir.path())
            .output()
            .expect("the binary runs")
    };
    let dry = run(true);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let out = String::from_utf8_lossy(&dry.stdout).to_string();
    assert!(out.contains("dry run of a mailchimp export: 5 rows, 2 imported (nothing written)"), "{out}");
    assert!(out.contains("row 5: Email Address repeats the address of row 2"), "{out}");
    assert_eq!(count(&app), 0);
    let real = run(false);
    assert!(real.status.success(), "{}", String::from_utf8_lossy(&real.stderr));
    assert_eq!(count(&app), 2);
}

async fn a_100k_row_file_imports_in_one_transaction(backend: Backend) {
    // Arrange: 100,000 rows plus two duplicates, generated here.
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let mut csv = String::from("email,name,attributes,status\r\n");
    for i in 0..100_000 {
        csv.push_str(&format!("reader{i:06}@example.com,Reader {i},{{}},enabled\r\n"));
    }
    csv.push_str("READER000007@example.com,Again,{},enabled\r\nreader099999@example.com,Again,{},enabled\r\n");

    // Act
    let started = Instant::now();
    let report = import_ok(&app, &editor, "", csv).await;
    let took = started.elapsed();

    // Assert: every row counted, every new address written once.
    assert_eq!(report["rows"], 100_002);
    assert_eq!(report["imported"], 100_000, "{}", report["skipped"]);
    assert_eq!(report["skipped"]["duplicate"], 2);
    assert_eq!(
        report["problems"][0],
        json!({"row": 100_002, "field": "email", "message": "repeats the address of row 9"})
    );
    assert_eq!(count(&app), 100_000);
    let consents: i64 = subscription_consents::table.count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(consents, 100_000, "one imported_without_consent record each");
    eprintln!("100k-row import on {backend:?}: {} ms", took.as_millis());
}
