//! The binary: `openapi`, `import` and configuration failures.

use std::process::Command;

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
