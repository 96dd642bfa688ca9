//! The binary: `openapi`, `import` and configuration failures.

use std::process::Command;

use serde_json::json;

use crate::helpers::{backend_tests, Backend, TestApp};

backend_tests!(users_create_makes_a_writer_who_can_post_the_readme_example);

const BIN: &str = env!("CARGO_BIN_EXE_broadsheet");

#[test]
fn openapi_prints_the_committed_spec() {
    let out = Command::new(BIN).arg("openapi").output().expect("runs");

    assert!(out.status.success());
    assert!(out.stdout == broadsheet::openapi::spec_json().into_bytes(), "`broadsheet openapi` differs");
}

#[test]
fn a_bad_setting_fails_at_start_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in
        [("DATABASE_URL", "postgress://localhost/x"), ("BIND_ADDR", "nowhere"), ("DATABASE_URL", "mysql://x")]
    {
        let out = Command::new(BIN).arg("migrate").current_dir(dir.path()).env(var, value).output().expect("runs");

        assert!(!out.status.success(), "{var}={value} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(var), "{var}={value}: {stderr}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a bad URL created files");
}

#[test]
fn importing_a_file_that_is_not_wxr_exits_non_zero_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "<html></html>").unwrap();
    let db = dir.path().join("data/test.db");
    let url = format!("sqlite://{}", db.display());

    let out =
        Command::new(BIN).args(["import", "wordpress"]).arg(&bad).env("DATABASE_URL", &url).output().expect("runs");
    let ok = Command::new(BIN)
        .args(["import", "wordpress", &crate::helpers::fixture(), "--dry-run"])
        .env("DATABASE_URL", &url)
        .output()
        .expect("runs");

    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a WordPress export"));
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(stdout.contains("dry run") && stdout.contains("58 articles"), "{stdout}");
}

// Regressions: a failed or dry-run import, a port already taken and a broken
// `.env` all used to leave a database (or silently use the default one).
#[test]
fn failures_before_the_database_is_needed_leave_no_database_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/never.db");
    let url = format!("sqlite://{}", db.display());
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "<rss><channel>").unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();

    let truncated =
        Command::new(BIN).args(["import", "wordpress"]).arg(&bad).env("DATABASE_URL", &url).output().unwrap();
    let dry = Command::new(BIN)
        .args(["import", "wordpress", &crate::helpers::fixture(), "--dry-run"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    let busy = Command::new(BIN).arg("serve").env("DATABASE_URL", &url).env("BIND_ADDR", &taken_addr).output().unwrap();

    assert!(!truncated.status.success());
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert!(String::from_utf8_lossy(&dry.stdout).contains("58 articles"));
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("BIND_ADDR"));
    assert!(!db.exists(), "a database file was created");
    assert!(!db.parent().unwrap().exists(), "a data folder was created");
}

#[test]
fn a_broken_env_file_is_reported_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "garbage line\nDATABASE_URL=postgress://x\n").unwrap();

    let out = Command::new(BIN).arg("migrate").current_dir(dir.path()).env_remove("DATABASE_URL").output().unwrap();

    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(".env"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.path().join("data").exists());
}

#[test]
fn users_create_makes_the_first_admin_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let run = |password: &str| {
        let mut child = Command::new(BIN)
            .args(["users", "create", "--email", "Chief@Example.com", "--role", "admin", "--password-stdin"])
            .env("DATABASE_URL", &url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };

    let weak = run("short");
    let ok = run("a long enough passphrase");
    let again = run("a long enough passphrase");

    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("chief@example.com"));
    assert!(!again.status.success(), "the email is taken");
    let db = broadsheet::config::DatabaseUrl::Sqlite(dir.path().join("db.sqlite"));
    let pool = broadsheet::db::build_pool(&db, 1, None).unwrap();
    use diesel::prelude::*;
    let (role, hash): (String, String) = broadsheet::db::schema::users::table
        .select((broadsheet::db::schema::users::role, broadsheet::db::schema::users::password_hash))
        .first(&mut *pool.get().unwrap())
        .unwrap();
    assert_eq!(role, "admin");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
}

/// Runs `broadsheet args…` on `url`, feeding `stdin`.
fn run_bin(args: &[&str], url: &str, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("JWT_SECRET")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

// Regression: the README's article example answered 400 ("bylines: must
// name at least one author") for the admin the README has you create.
async fn users_create_makes_a_writer_who_can_post_the_readme_example(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let url = app.db.url_string();

    let out = run_bin(
        &["users", "create", "--email", "chief@example.com", "--role", "admin", "--password-stdin"],
        &url,
        &format!("{}\n", crate::helpers::PASSWORD),
    );
    let token = app.login("chief@example.com").await["access_token"].as_str().unwrap().to_owned();
    let res = app
        .authed(
            "POST",
            "/api/v1/articles",
            &token,
            Some(&json!({"title":"Council approves budget","body":"The vote was **7-2**.","body_format":"markdown"})),
        )
        .await;

    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("author profile"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let article = res.json();
    let byline = &article["data"]["bylines"][0];
    assert_eq!(byline["name"], "chief", "{article}");
}

#[test]
fn keys_rotate_prints_the_new_kid_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());

    let first = run_bin(&["keys", "rotate"], &url, "");
    let second = run_bin(&["keys", "rotate"], &url, "");
    let with_secret = Command::new(BIN)
        .args(["keys", "rotate"])
        .env("DATABASE_URL", &url)
        .env("JWT_SECRET", "0123456789abcdef0123456789abcdef")
        .output()
        .unwrap();

    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(second.status.success());
    assert!(!with_secret.status.success(), "rotating stored keys under JWT_SECRET is refused");
    let db = broadsheet::config::DatabaseUrl::Sqlite(dir.path().join("db.sqlite"));
    let pool = broadsheet::db::build_pool(&db, 1, None).unwrap();
    use broadsheet::db::schema::signing_keys;
    use diesel::prelude::*;
    let rows: Vec<(String, String, Option<chrono::NaiveDateTime>)> = signing_keys::table
        .order(signing_keys::generation.asc())
        .select((signing_keys::kid, signing_keys::secret, signing_keys::not_after))
        .load(&mut *pool.get().unwrap())
        .unwrap();
    assert_eq!(rows.len(), 3, "the first key, then two rotations");
    let output = format!(
        "{}{}{}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr),
        String::from_utf8_lossy(&second.stdout),
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(output.contains(&rows[2].0), "prints the new kid: {output}");
    assert!(rows.iter().all(|(_, secret, _)| !output.contains(secret.as_str())), "a secret was printed");
    assert!(rows[0].2.is_some() && rows[1].2.is_some() && rows[2].2.is_none(), "only the newest key is current");
}

/// Runs `broadsheet import wordpress <fixture>` on the SQLite file `db`,
/// with the import's log on stderr.
fn import_fixture(db: &std::path::Path) -> std::process::Output {
    Command::new(BIN)
        .args(["import", "wordpress", &crate::helpers::fixture()])
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("DATA_DIR", db.parent().unwrap().join("data"))
        .env("RUST_LOG", "info")
        .output()
        .expect("runs")
}

/// Articles and comments in the SQLite file `db`, and its journal mode as
/// the file's header states it (bytes 18–19 are 2 in WAL mode, 1 with a
/// rollback journal; read from the file, since opening a pooled connection
/// would itself set WAL mode).
fn imported(db: &std::path::Path) -> (i64, i64, [u8; 2]) {
    use broadsheet::db::schema::{articles, comments};
    use diesel::prelude::*;
    let header = std::fs::read(db).unwrap();
    let mode = [header[18], header[19]];
    let pool = broadsheet::db::build_pool(&broadsheet::config::DatabaseUrl::Sqlite(db.into()), 1, None).unwrap();
    let mut conn = pool.get().unwrap();
    let a = articles::table.count().get_result(&mut *conn).unwrap();
    let c = comments::table.count().get_result(&mut *conn).unwrap();
    (a, c, mode)
}

#[test]
fn a_sqlite_import_with_the_file_to_itself_uses_a_rollback_journal_and_leaves_wal_mode_on() {
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join("alone.db");
    let shared = dir.path().join("shared.db");
    // The second database is held open by another connection for the whole
    // import, as a running server would hold it.
    let other = broadsheet::db::build_pool(&broadsheet::config::DatabaseUrl::Sqlite(shared.clone()), 1, None).unwrap();
    broadsheet::db::migrate(&mut other.get().unwrap()).unwrap();
    let held = other.get().unwrap();

    let by_itself = import_fixture(&alone);
    let beside = import_fixture(&shared);
    drop(held);

    let log = String::from_utf8_lossy(&by_itself.stderr);
    assert!(by_itself.status.success(), "{log}");
    assert!(log.contains("writing with a rollback journal"), "{log}");
    let log2 = String::from_utf8_lossy(&beside.stderr);
    assert!(beside.status.success(), "{log2}");
    assert!(log2.contains("writing through the WAL"), "{log2}");
    let (a1, c1, mode1) = imported(&alone);
    let (a2, c2, mode2) = imported(&shared);
    assert_eq!(mode1, [2, 2], "the import left the file out of WAL mode");
    assert_eq!(mode2, [2, 2]);
    assert!(a1 > 0 && c1 > 0, "nothing imported: {a1} articles, {c1} comments");
    assert_eq!((a1, c1), (a2, c2), "the two journal modes imported different rows");
    assert!(!dir.path().join("alone.db-journal").exists(), "a rollback journal was left behind");
}
