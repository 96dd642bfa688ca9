//! Outages answer 503 `unavailable` with `Retry-After`, never 500: a
//! PostgreSQL connection terminated under a request, a full disk under
//! SQLite, a read-only database. A failed write leaves nothing behind, and
//! the next request after recovery succeeds on the same running server.
//!
//! Outages are made per test database, never to the shared server:
//! `pg_terminate_backend` on the test database's sessions, `ALTER DATABASE`
//! for read-only; for SQLite a small tmpfs filled to the last byte (when
//! this process may mount, i.e. runs as root) or `PRAGMA max_page_count`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use broadsheet::db::Pool;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, Backend, Response, TestApp, TestDb, PASSWORD};

backend_tests!(
    writes_to_a_read_only_database_answer_503_and_succeed_once_it_is_writable_again,
    the_pool_discards_connections_returned_mid_transaction_or_cut_off,
    database_work_beyond_the_pool_size_waits_for_a_thread_and_starts_none,
);

/// Asserts a 503 `unavailable` problem with a `Retry-After` in seconds.
fn assert_unavailable(res: &Response, what: &str) {
    assert_eq!(res.status.as_u16(), 503, "{what}: {}", String::from_utf8_lossy(&res.body));
    let body = res.assert_problem(503);
    assert_eq!(body["code"], "unavailable", "{what}: {body}");
    let retry = res.header("retry-after").unwrap_or_else(|| panic!("{what}: no Retry-After"));
    assert!(retry.parse::<u64>().is_ok_and(|s| s > 0), "{what}: Retry-After {retry:?}");
    let detail = body["detail"].as_str().unwrap_or("");
    for internal in ["disk", "terminating", "readonly", "read-only", "rollback"] {
        assert!(!detail.contains(internal), "{what}: detail leaks {internal:?}: {detail}");
    }
}

fn article(title: &str, body_bytes: usize) -> Value {
    json!({"title": title, "body": "All work and no play. ".repeat(body_bytes / 22 + 1)})
}

/// Runs the count `sql` on a pooled connection. Right after a session was
/// terminated, a checkout can still hand out that connection (the check on
/// checkout reads only what the server already sent), so a connection error
/// is retried a few times: the tests count rows, not connections.
fn count(pool: &Pool, sql: &str) -> i64 {
    let mut tries = 0;
    loop {
        match diesel::select(diesel::dsl::sql::<BigInt>(sql)).get_result(&mut *pool.get().expect("connection")) {
            Ok(n) => return n,
            Err(e) if tries < 5 => {
                tries += 1;
                eprintln!("{sql}: {e}; again");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
}

/// Runs `sql` on every connection the pool can hold (per-connection
/// pragmas reach every connection a request may get).
fn on_every_pooled_connection(pool: &Pool, sql: &str) {
    let mut held: Vec<_> = (0..pool.max_size()).map(|_| pool.get().expect("connection")).collect();
    for c in &mut held {
        c.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

// ---------------------------------------------------------------- PostgreSQL

/// Connections to the PostgreSQL server, for the test database `name`.
struct Pg {
    admin: PgConnection,
    admin_url: String,
    name: String,
}

impl Pg {
    fn of(db: &TestDb) -> Self {
        let (admin_url, name) = db.postgres_names().expect("a PostgreSQL test database");
        let admin = PgConnection::establish(admin_url).expect("admin connection");
        Self { admin, admin_url: admin_url.to_owned(), name: name.to_owned() }
    }

    /// A new session on the test database itself.
    fn session(&self) -> PgConnection {
        let mut url = url::Url::parse(&self.admin_url).expect("URL");
        url.set_path(&self.name);
        PgConnection::establish(url.as_str()).expect("test database session")
    }

    fn pid(conn: &mut PgConnection) -> i64 {
        diesel::select(diesel::dsl::sql::<BigInt>("pg_backend_pid()::bigint")).get_result(conn).expect("pid")
    }

    /// Terminates every session on the test database except `keep`; returns how many.
    fn terminate(&mut self, keep: Option<i64>) -> i64 {
        let sql = format!(
            "count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}' AND pid <> {}",
            self.name,
            keep.unwrap_or(0)
        );
        diesel::select(diesel::dsl::sql::<BigInt>(&sql)).get_result(&mut self.admin).expect("terminate backends")
    }

    /// Waits until the test database has no session left and the sessions'
    /// sockets are closed, as after a restart: a terminated backend leaves
    /// `pg_stat_activity` in an exit hook that runs before it closes its
    /// socket, so the wait ends with a grace period for the close to arrive.
    fn wait_for_no_session(&mut self) {
        let sql = format!("count(*) FROM pg_stat_activity WHERE datname = '{}'", self.name);
        let deadline = Instant::now() + Duration::from_secs(10);
        while diesel::select(diesel::dsl::sql::<BigInt>(&sql)).get_result::<i64>(&mut self.admin).expect("poll") > 0 {
            assert!(Instant::now() < deadline, "terminated sessions still there after 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(250));
    }

    /// Waits until a session of the test database waits for a lock.
    fn wait_for_lock_waiter(&mut self) {
        let sql =
            format!("count(*) FROM pg_stat_activity WHERE datname = '{}' AND wait_event_type = 'Lock'", self.name);
        let deadline = Instant::now() + Duration::from_secs(10);
        while diesel::select(diesel::dsl::sql::<BigInt>(&sql)).get_result::<i64>(&mut self.admin).expect("poll") == 0 {
            assert!(Instant::now() < deadline, "no request blocked on the lock within 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Holds an exclusive lock on `table` from another session, and terminates
/// the app's sessions as soon as one of them waits for it: the request that
/// waits is in flight when its connection dies.
struct Interruption {
    locker: PgConnection,
    killer: std::thread::JoinHandle<i64>,
}

impl Interruption {
    fn arm(db: &TestDb, table: &str) -> Self {
        let mut pg = Pg::of(db);
        let mut locker = pg.session();
        locker.batch_execute(&format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")).expect("lock");
        let keep = Pg::pid(&mut locker);
        let killer = std::thread::spawn(move || {
            pg.wait_for_lock_waiter();
            pg.terminate(Some(keep))
        });
        Self { locker, killer }
    }

    /// Releases the lock; returns how many sessions were terminated.
    fn finish(mut self) -> i64 {
        let killed = self.killer.join().expect("killer thread");
        self.locker.batch_execute("ROLLBACK").expect("release the lock");
        killed
    }
}

#[actix_web::test]
async fn requests_in_flight_when_postgres_terminates_their_connection_answer_503_and_the_next_succeed() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else { return };
    let token = app.token_for("author").await;
    app.create_article(&token, article("Before the restart", 100)).await;
    let articles_before = count(&app.db.pool, "count(*) FROM articles");

    // A read in flight.
    let cut = Interruption::arm(&app.db, "articles");
    let read = app.get("/api/v1/articles").await;
    let killed = cut.finish();

    assert!(killed >= 1, "no session was terminated");
    assert_unavailable(&read, "GET /articles in flight");
    app.get_ok("/api/v1/articles").await;

    // A write in flight: nothing of it stays.
    let cut = Interruption::arm(&app.db, "articles");
    let write = app.authed("POST", "/api/v1/articles", &token, Some(&article("During the restart", 100))).await;
    cut.finish();

    assert_unavailable(&write, "POST /articles in flight");
    assert_eq!(count(&app.db.pool, "count(*) FROM articles"), articles_before, "the interrupted write left a row");
    let res = app.authed("POST", "/api/v1/articles", &token, Some(&article("After the restart", 100))).await;
    assert_eq!(res.status.as_u16(), 201, "the next write succeeds: {}", String::from_utf8_lossy(&res.body));
}

#[actix_web::test]
async fn many_requests_while_postgres_keeps_terminating_connections_get_only_200s_and_503s() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else { return };
    let token = app.token_for("author").await;
    let (first, _) = app.create_article(&token, article("Standing", 100)).await;
    let single = format!("/api/v1/articles/{}", first["id"]);
    let mut pg = Pg::of(&app.db);
    let stop = Arc::new(AtomicBool::new(false));
    let stopper = stop.clone();
    let killer = std::thread::spawn(move || {
        let mut killed = 0;
        while !stopper.load(Ordering::SeqCst) {
            killed += pg.terminate(None);
            std::thread::sleep(Duration::from_millis(100));
        }
        killed
    });

    let mut responses = Vec::new();
    for round in 0..12 {
        // The article is a draft: its author reads it.
        let reads = (0..6).map(|i| match i % 2 {
            0 => futures::future::Either::Left(app.get("/api/v1/articles")),
            _ => futures::future::Either::Right(app.authed("GET", &single, &token, None)),
        });
        let bodies: Vec<Value> = (0..4).map(|i| article(&format!("Load {round}-{i}"), 2_000)).collect();
        let writes = bodies.iter().map(|b| app.authed("POST", "/api/v1/articles", &token, Some(b)));
        let (r, w) = futures::join!(join_all(reads), join_all(writes));
        responses.extend(r.into_iter().map(|r| ("GET", r)));
        responses.extend(w.into_iter().map(|r| ("POST", r)));
    }
    stop.store(true, Ordering::SeqCst);
    let killed = killer.join().expect("killer thread");

    let mut tally = std::collections::BTreeMap::new();
    for (method, res) in &responses {
        *tally.entry((*method, res.status.as_u16())).or_insert(0) += 1;
        match res.status.as_u16() {
            200 | 201 => {}
            503 => assert_unavailable(res, method),
            other => panic!("{method} answered {other}: {}", String::from_utf8_lossy(&res.body)),
        }
    }
    eprintln!("{} sessions terminated; answers: {tally:?}", killed);
    assert!(killed > 0, "no session was terminated");
    // Every article that exists has its byline: no write was half done.
    assert_eq!(
        count(&app.db.pool, "count(*) FROM articles"),
        count(&app.db.pool, "count(DISTINCT article_id) FROM article_authors"),
        "an article without its byline"
    );
    app.get_ok("/api/v1/articles").await;
    let res = app.authed("POST", "/api/v1/articles", &token, Some(&article("After the storm", 100))).await;
    assert_eq!(res.status.as_u16(), 201, "a write after the outage: {}", String::from_utf8_lossy(&res.body));
}

// ------------------------------------------------------------ SQLite disk full

/// A full disk under a SQLite database.
enum Disk {
    /// A 16 MiB tmpfs mounted for this test; filled with a filler file.
    Tmpfs { dir: tempfile::TempDir },
    /// A temp directory; "full" is `PRAGMA max_page_count` at the current
    /// size on every pooled connection (SQLite's own SQLITE_FULL).
    PageLimit { dir: tempfile::TempDir },
}

impl Disk {
    /// A tmpfs, or `None` when this process may not mount one.
    fn tmpfs() -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(Self::Tmpfs { dir })
    }

    fn page_limit() -> Self {
        Self::PageLimit { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn db_path(&self) -> std::path::PathBuf {
        match self {
            Self::Tmpfs { dir } | Self::PageLimit { dir } => dir.path().join("test.db"),
        }
    }

    fn fill(&self, pool: &Pool) {
        match self {
            Self::Tmpfs { dir } => {
                // An empty WAL, so the next commit has to grow it.
                on_every_pooled_connection(pool, "PRAGMA wal_checkpoint(TRUNCATE)");
                use std::io::Write;
                let mut filler = std::fs::File::create(dir.path().join("filler")).expect("filler");
                let chunk = vec![0u8; 64 * 1024];
                while filler.write_all(&chunk).and_then(|_| filler.flush()).is_ok() {}
                for size in [4096, 512, 1] {
                    while filler.write_all(&chunk[..size]).and_then(|_| filler.flush()).is_ok() {}
                }
            }
            Self::PageLimit { .. } => {
                let pages = count(pool, "page_count FROM pragma_page_count()");
                on_every_pooled_connection(pool, &format!("PRAGMA max_page_count = {pages}"));
            }
        }
    }

    fn free(&self, pool: &Pool) {
        match self {
            Self::Tmpfs { dir } => std::fs::remove_file(dir.path().join("filler")).expect("remove filler"),
            Self::PageLimit { .. } => on_every_pooled_connection(pool, "PRAGMA max_page_count = 1073741823"),
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if let Self::Tmpfs { dir } = self {
            let _ = std::process::Command::new("umount").arg("-l").arg(dir.path()).status();
        }
    }
}

#[actix_web::test]
async fn sqlite_on_a_full_tmpfs_answers_503_to_creates_and_logins_writes_nothing_and_recovers() {
    let Some(disk) = Disk::tmpfs() else {
        eprintln!("skipping: cannot mount a tmpfs here (not root?); the max_page_count variant still runs");
        return;
    };
    a_full_disk(disk).await;
}

#[actix_web::test]
async fn sqlite_at_its_max_page_count_answers_503_to_creates_and_logins_writes_nothing_and_recovers() {
    a_full_disk(Disk::page_limit()).await;
}

async fn a_full_disk(disk: Disk) {
    let app = TestApp::serve(TestDb::sqlite_at(disk.db_path()), &[]);
    let token = app.token_for("author").await;
    app.create_user("writer@example.com", "author", None);
    let before = app.db.counts();
    let sessions_before = count(&app.db.pool, "count(*) FROM sessions");

    disk.fill(&app.db.pool);
    for i in 0..3 {
        if i == 1 {
            // A tiny page cache spills to the file inside the INSERT, so the
            // failure comes from the statement (and SQLite may roll back the
            // transaction itself), not from COMMIT.
            on_every_pooled_connection(&app.db.pool, "PRAGMA cache_size = 8");
        }
        let res = app.authed("POST", "/api/v1/articles", &token, Some(&article(&format!("Full {i}"), 200_000))).await;
        assert_unavailable(&res, &format!("create {i} on a full disk"));
    }
    let login = app
        .send("POST", "/api/v1/auth/login", &[], Some(&json!({"email": "writer@example.com", "password": PASSWORD})))
        .await;
    let new_sessions = match (&disk, login.status.as_u16()) {
        // A login adds one small row: under max_page_count it fits when the
        // sessions table's last page has room. On a full disk every commit
        // must grow the WAL, so it fails.
        (Disk::PageLimit { .. }, 200) => 1,
        _ => {
            assert_unavailable(&login, "login on a full disk");
            0
        }
    };
    app.get_ok("/api/v1/articles").await;

    assert_eq!(app.db.counts(), before, "a failed create left rows behind");
    assert_eq!(
        count(&app.db.pool, "count(*) FROM sessions"),
        sessions_before + new_sessions,
        "a failed login left a session"
    );

    disk.free(&app.db.pool);
    let res = app.authed("POST", "/api/v1/articles", &token, Some(&article("Room again", 200_000))).await;
    assert_eq!(res.status.as_u16(), 201, "create after freeing space: {}", String::from_utf8_lossy(&res.body));
    app.login("writer@example.com").await;
}

// ------------------------------------------------------------------ read-only

async fn writes_to_a_read_only_database_answer_503_and_succeed_once_it_is_writable_again(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let token = app.token_for("author").await;
    app.create_user("reader@example.com", "author", None);
    let before = app.db.counts();
    let read_only = |on: bool| match backend {
        // query_only makes SQLite refuse writes with SQLITE_READONLY, as a
        // read-only file does for anyone but root (who runs these tests).
        Backend::Sqlite => on_every_pooled_connection(&app.db.pool, &format!("PRAGMA query_only = {on}")),
        Backend::Postgres => {
            let mut pg = Pg::of(&app.db);
            let setting =
                if on { "SET default_transaction_read_only = on" } else { "RESET default_transaction_read_only" };
            pg.admin.batch_execute(&format!("ALTER DATABASE \"{}\" {setting}", pg.name)).expect("alter database");
            // Only new sessions read the database's settings. The sessions
            // are gone once they have exited, as after a restart.
            pg.terminate(None);
            pg.wait_for_no_session();
        }
    };

    read_only(true);
    let create = app.authed("POST", "/api/v1/articles", &token, Some(&article("Read only", 100))).await;
    let login = app
        .send("POST", "/api/v1/auth/login", &[], Some(&json!({"email": "reader@example.com", "password": PASSWORD})))
        .await;
    let list = app.get("/api/v1/articles").await;

    assert_unavailable(&create, "create on a read-only database");
    assert_unavailable(&login, "login on a read-only database");
    assert_eq!(list.status.as_u16(), 200, "reads still work: {}", String::from_utf8_lossy(&list.body));
    assert_eq!(app.db.counts(), before, "a refused write left rows behind");

    read_only(false);
    let res = app.authed("POST", "/api/v1/articles", &token, Some(&article("Writable", 100))).await;
    assert_eq!(res.status.as_u16(), 201, "create once writable: {}", String::from_utf8_lossy(&res.body));
    app.login("reader@example.com").await;
}

// ------------------------------------------------------------- pool recovery

async fn the_pool_discards_connections_returned_mid_transaction_or_cut_off(backend: Backend) {
    use broadsheet::db::DbConnection;
    use diesel::connection::TransactionManager;
    let Some(db) = TestDb::create(backend) else { return };
    let pool = &db.pool;

    // Left inside a transaction (as diesel leaves one whose ROLLBACK failed).
    let mut conn = pool.get().expect("connection");
    <DbConnection as Connection>::TransactionManager::begin_transaction(&mut *conn).expect("begin");
    let open = pool.state().connections;
    drop(conn);
    assert_eq!(pool.state().connections, open - 1, "a connection inside a transaction went back to the pool");

    // Cut off by the server: the failed statement marks it lost.
    if backend == Backend::Postgres {
        let mut conn = pool.get().expect("connection");
        let open = pool.state().connections;
        Pg::of(&db).terminate(None);
        broadsheet::db::outage::start();
        let err = conn.batch_execute("SELECT 1").expect_err("the session was terminated");
        drop(conn);
        let lost = broadsheet::db::outage::finish();

        assert_eq!(pool.state().connections, open - 1, "a lost connection went back to the pool ({err})");
        assert_eq!(lost.map(|s| s.kind), Some(broadsheet::db::outage::Unavailable::ConnectionLost), "{err}");
    }
    let mut conn = pool.get().expect("a new connection");
    conn.batch_execute("SELECT 1").expect("the new connection works");
    drop(conn);

    // Ended by the server while idle in the pool: the checkout sees it
    // without sending a statement, and hands out a working connection.
    if backend == Backend::Postgres {
        let held: Vec<_> = (0..3).map(|_| pool.get().expect("connection")).collect();
        drop(held);
        let idle = pool.state().idle_connections;
        assert!(idle >= 3, "connections went back to the pool: {:?}", pool.state());
        let mut pg = Pg::of(&db);
        assert!(pg.terminate(None) >= 3, "the idle sessions were terminated");
        pg.wait_for_no_session();
        for i in 0..idle {
            let mut conn = pool.get().expect("a connection");
            conn.batch_execute("SELECT 1")
                .unwrap_or_else(|e| panic!("checkout {i} handed out a connection the server had ended: {e}"));
        }
    }
}

/// Six times the pool's size of `db::run` calls at once: every one is
/// answered, by no more threads than the pool has connections. actix's
/// `web::block`, which ran them before, started one thread per waiting call
/// (up to 512 per worker), each blocked inside `pool.get()`.
async fn database_work_beyond_the_pool_size_waits_for_a_thread_and_starts_none(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let size = db.pool.max_size() as usize;
    let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    let calls = (0..size * 6).map(|i| {
        let (threads, running, most) = (threads.clone(), running.clone(), most.clone());
        broadsheet::db::run(&db.pool, move |c| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            threads.lock().unwrap().insert(std::thread::current().id());
            std::thread::sleep(Duration::from_millis(20));
            let n: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!("CAST({i} AS BIGINT)"))).get_result(c)?;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok(n)
        })
    });
    let answers = join_all(calls).await;

    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a.as_ref().ok(), Some(&(i as i64)), "call {i} was not answered: {a:?}");
    }
    let used = threads.lock().unwrap().len();
    assert!(used <= size, "{used} threads ran the work of a pool of {size} connections");
    assert_eq!(most.load(Ordering::SeqCst), size, "the work ran {size} at a time");
}
