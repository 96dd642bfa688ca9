//! Test harness: a real server on port 0 over a throw-away database.
//!
//! SQLite: a temp file per test. PostgreSQL: a fresh database per test on the
//! server named by `TEST_DATABASE_URL` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards.
//! Without that variable PostgreSQL scenarios are skipped, unless
//! `REQUIRE_POSTGRES=1` or `CI=true`, when they fail.

use std::sync::atomic::{AtomicUsize, Ordering};

use awc::http::header::HeaderMap;
use awc::http::StatusCode;
use broadsheet::config::{DatabaseUrl, Settings};
use broadsheet::db::{self, DbConnection, Pool, QueryCounter};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value;

/// The password of every user made by [`TestApp::create_user`].
pub const PASSWORD: &str = "correct horse battery staple";

/// The shared WordPress fixture (WXR 1.2 theme unit test data): from
/// `BROADSHEET_WXR_FIXTURE` if set, else `../shared/fixtures/wordpress/`
/// beside the checkout, else `/work/shared/fixtures/wordpress/`.
pub fn fixture() -> String {
    const NAME: &str = "shared/fixtures/wordpress/themeunittestdata.wordpress.xml";
    let candidates = [
        std::env::var("BROADSHEET_WXR_FIXTURE").ok(),
        Some(format!("{}/../{NAME}", env!("CARGO_MANIFEST_DIR"))),
        Some(format!("/work/{NAME}")),
    ];
    candidates.into_iter().flatten().find(|p| std::path::Path::new(p).is_file()).unwrap_or_else(|| {
        panic!("the WordPress fixture was not found; set BROADSHEET_WXR_FIXTURE to themeunittestdata.wordpress.xml")
    })
}

/// Which database a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `mod name { fn sqlite(); fn postgres() }` for each scenario
/// `async fn name(backend: Backend)`.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}
pub(crate) use backend_tests;

enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    /// A SQLite file the caller placed (and removes).
    SqliteAt,
    Postgres {
        admin_url: String,
        name: String,
    },
    /// A second handle on another `TestDb`'s database, which that one drops.
    Shared,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Guard::Postgres { admin_url, name } = self {
            if let Ok(mut c) = PgConnection::establish(admin_url) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

/// A throw-away database with migrations applied, and a pool counting its queries.
pub struct TestDb {
    pub pool: Pool,
    pub queries: QueryCounter,
    /// The database's URL (for the binary, or a second pool).
    pub url: DatabaseUrl,
    _guard: Guard,
}

/// `TEST_DATABASE_URL`, with `sslmode=disable` unless it names a mode.
///
/// Tests never need TLS to a loopback server. A CI run once ended in SIGSEGV
/// after all 264 tests had passed (not reproduced in two reruns); the likely
/// cause is libpq's OpenSSL: its `atexit` clean-up racing a thread that still
/// holds a TLS connection while the process ends (an earlier crash at exit
/// came from libpq too, see `db::build_pool`). Without TLS, libpq never
/// initializes OpenSSL in this process.
fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL").ok().filter(|s| !s.is_empty()) {
        Some(url) if url.contains("sslmode=") => Some(url),
        Some(url) => {
            let mut parsed = url::Url::parse(&url).expect("TEST_DATABASE_URL is a URL");
            parsed.query_pairs_mut().append_pair("sslmode", "disable");
            Some(parsed.to_string())
        }
        None => {
            let required = std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
                || std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(!required, "TEST_DATABASE_URL is not set but PostgreSQL tests are required (CI/REQUIRE_POSTGRES)");
            eprintln!("skipping PostgreSQL scenario: TEST_DATABASE_URL is not set");
            None
        }
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    /// A fresh database, or `None` when PostgreSQL is skipped.
    pub fn create(backend: Backend) -> Option<Self> {
        let (url, guard) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("test.db");
                (DatabaseUrl::Sqlite(path), Guard::Sqlite(dir))
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url()?;
                let name = format!(
                    "broadsheet_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    chrono::Utc::now().timestamp_subsec_nanos()
                );
                let mut admin = PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
                admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                (DatabaseUrl::Postgres(url.to_string()), Guard::Postgres { admin_url, name })
            }
        };
        Some(Self::migrated(url, guard))
    }

    /// A fresh SQLite database at `path` (on a file system the test controls).
    pub fn sqlite_at(path: std::path::PathBuf) -> Self {
        Self::migrated(DatabaseUrl::Sqlite(path), Guard::SqliteAt)
    }

    fn migrated(url: DatabaseUrl, guard: Guard) -> Self {
        let (pool, queries) = db::build_counted_pool(&url, 4).expect("pool");
        broadsheet::data_fixes::migrate(&mut pool.get().expect("connection")).expect("migrations apply");
        Self { pool, queries, url, _guard: guard }
    }

    /// PostgreSQL only: `(admin URL, this test database's name)`.
    pub fn postgres_names(&self) -> Option<(&str, &str)> {
        match &self._guard {
            Guard::Postgres { admin_url, name } => Some((admin_url, name)),
            _ => None,
        }
    }

    /// Another pool on the same database (a second instance's view); the
    /// original still owns and drops the database.
    pub fn shared(&self) -> Self {
        let (pool, queries) = db::build_counted_pool(&self.url, 4).expect("pool");
        Self { pool, queries, url: self.url.clone(), _guard: Guard::Shared }
    }

    /// The URL as `DATABASE_URL` spells it.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => u.clone(),
        }
    }

    /// A pooled connection.
    pub fn conn(&self) -> diesel::r2d2::PooledConnection<db::ConnectionManager> {
        self.pool.get().expect("connection")
    }

    /// Imports the shared WordPress fixture.
    pub fn import_fixture(&self) -> broadsheet::import::Summary {
        import_file(&mut self.conn(), &fixture(), false).expect("fixture imports")
    }

    /// Row counts of every content table, for before/after comparisons.
    pub fn counts(&self) -> Vec<(&'static str, i64)> {
        use broadsheet::db::schema::*;
        use diesel::prelude::*;
        let c = &mut *self.conn();
        vec![
            ("articles", articles::table.count().get_result(c).unwrap()),
            ("authors", authors::table.count().get_result(c).unwrap()),
            ("categories", categories::table.count().get_result(c).unwrap()),
            ("tags", tags::table.count().get_result(c).unwrap()),
            ("media", media::table.count().get_result(c).unwrap()),
            ("comments", comments::table.count().get_result(c).unwrap()),
            ("article_authors", article_authors::table.count().get_result(c).unwrap()),
            ("article_categories", article_categories::table.count().get_result(c).unwrap()),
            ("article_tags", article_tags::table.count().get_result(c).unwrap()),
        ]
    }
}

/// Imports a WXR file through the library entry point the CLI uses.
pub fn import_file(
    conn: &mut DbConnection,
    path: &str,
    dry_run: bool,
) -> Result<broadsheet::import::Summary, broadsheet::import::wordpress::ImportError> {
    let f = std::fs::File::open(path).expect("fixture file");
    let summary = broadsheet::import::wordpress::import(conn, std::io::BufReader::new(f), dry_run)?;
    index_search_now(conn);
    Ok(summary)
}

/// Does at once what the `search_index` jobs an import queues on PostgreSQL
/// would do after it (fill every search vector it left empty) and takes
/// those jobs off the queue, so tests that search or count jobs after an
/// import see a settled database. `search::imported_articles_*` tests the
/// jobs themselves.
pub fn index_search_now(conn: &mut DbConnection) {
    use diesel::prelude::*;
    while broadsheet::articles::repo::index_pending_search(conn, 10_000).expect("search index") > 0 {}
    diesel::delete(broadsheet::db::schema::jobs::table.filter(broadsheet::db::schema::jobs::kind.eq("search_index")))
        .execute(conn)
        .expect("search_index jobs removed");
}

/// Imports WXR text.
pub fn import_str(
    conn: &mut DbConnection,
    xml: &str,
) -> Result<broadsheet::import::Summary, broadsheet::import::wordpress::ImportError> {
    let summary = broadsheet::import::wordpress::import(conn, xml.as_bytes(), false)?;
    index_search_now(conn);
    Ok(summary)
}

/// A running server over a [`TestDb`].
pub struct TestApp {
    pub address: String,
    pub db: TestDb,
    /// The settings the server runs with.
    pub settings: Settings,
    /// What the server's mail went to, unless the test set `MAIL_URL`.
    pub mailbox: broadsheet::mail::memory::MemoryMailer,
    client: awc::Client,
}

/// A response read whole.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// Asserts a problem+json error with `status`, returning its body.
    pub fn assert_problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.content_type(), "application/problem+json");
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(body["type"].as_str().is_some_and(|t| t.starts_with("urn:broadsheet:problem:")), "{body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
        assert!(body["code"].is_string(), "{body}");
        body
    }
}

impl TestApp {
    /// A server over an empty migrated database, or `None` when skipped.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, &[]).await
    }

    /// A server with extra settings (e.g. `CORS_ALLOWED_ORIGINS`) over the
    /// test defaults (port 0, a fixed JWT secret, the in-memory media store,
    /// in-memory mail, no job runner in the server: tests run jobs with
    /// [`TestApp::run_jobs`], or set `JOBS_IN_SERVER=true`).
    pub async fn spawn_with(backend: Backend, vars: &[(&str, &str)]) -> Option<Self> {
        Some(Self::serve(TestDb::create(backend)?, vars))
    }

    /// A second instance on this one's database (as behind a load
    /// balancer), with its own settings over the test defaults.
    pub async fn another_instance(&self, vars: &[(&str, &str)]) -> Self {
        Self::serve(self.db.shared(), vars)
    }

    /// A server over `db` with extra settings over the test defaults; a
    /// setting given as `""` is unset (e.g. `JWT_SECRET`).
    pub fn serve(db: TestDb, vars: &[(&str, &str)]) -> Self {
        let own_mail = !vars.iter().any(|(k, _)| *k == "MAIL_URL");
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let settings = Settings::from_lookup(|k| {
            vars.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone()).or_else(|| match k {
                "BIND_ADDR" => Some("127.0.0.1:0".into()),
                "PUBLIC_BASE_URL" => Some("http://broadsheet.test".into()),
                "JWT_SECRET" => Some("test-secret-test-secret-test-secret-0123".into()),
                "MEDIA_STORE_URL" => Some("memory://".into()),
                "MAIL_URL" => Some("memory://".into()),
                "JOBS_IN_SERVER" => Some("false".into()),
                "JOBS_POLL_INTERVAL_MS" => Some("50".into()),
                "JOBS_RETRY_BASE_MS" => Some("50".into()),
                // Many tests write to the database behind the server's back
                // (fixtures, jobs run in the test) or count queries per
                // request: the response cache is on only where a test asks.
                "CACHE_MAX_MIB" => Some("0".into()),
                "CACHE_POLL_INTERVAL_MS" => Some("50".into()),
                // Most tests post comments as an API client would, without
                // a form; the form-token tests set `required` (the default).
                "COMMENT_FORM_TOKEN" => Some("optional".into()),
                // Dozens of test servers run at once: two threads each,
                // whatever the machine's cores.
                "HTTP_WORKERS" => Some("2".into()),
                _ => None,
            })
        })
        .expect("test settings");
        let mailbox = broadsheet::mail::memory::MemoryMailer::default();
        let mailer: std::sync::Arc<dyn broadsheet::mail::Mailer> = if own_mail {
            std::sync::Arc::new(mailbox.clone())
        } else {
            broadsheet::mail::from_settings(&settings).expect("mailer")
        };
        let app = broadsheet::startup::Application::build_with_mailer(settings.clone(), db.pool.clone(), mailer)
            .expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        Self {
            address,
            db,
            settings,
            mailbox,
            // Pooled connections are dropped after 2 s idle, before the server's
            // 5 s keep-alive closes them: reusing one the server is closing
            // failed requests with `Connect(Disconnected)` on a loaded machine.
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(std::time::Duration::from_secs(60))
                .connector(awc::Connector::new().conn_keep_alive(std::time::Duration::from_secs(2)))
                .finish(),
        }
    }

    /// A job runner over this app's database, settings and mailbox.
    pub fn runner(&self) -> broadsheet::jobs::Runner {
        let mailer: std::sync::Arc<dyn broadsheet::mail::Mailer> = match self.settings.mail.url {
            broadsheet::config::MailUrl::Memory => std::sync::Arc::new(self.mailbox.clone()),
            _ => broadsheet::mail::from_settings(&self.settings).expect("mailer"),
        };
        broadsheet::jobs::Runner::new(self.db.pool.clone(), &self.settings, mailer)
    }

    /// Runs every job that is due now until none is left; returns how many attempts ran.
    pub async fn run_jobs(&self) -> usize {
        self.runner().run_until_idle().await
    }

    /// Creates an article through the API, asserting 201; returns `(data, etag)`.
    pub async fn create_article(&self, token: &str, body: Value) -> (Value, String) {
        let res = self.authed("POST", "/api/v1/articles", token, Some(&body)).await;
        assert_eq!(res.status.as_u16(), 201, "create article: {}", String::from_utf8_lossy(&res.body));
        let etag = res.header("etag").expect("ETag on create").to_owned();
        (res.json()["data"].clone(), etag)
    }

    /// Sends with a bearer token and extra headers.
    pub async fn authed_with(
        &self,
        method: &str,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        let auth = format!("Bearer {token}");
        let mut all: Vec<(&str, &str)> = vec![("authorization", &auth)];
        all.extend_from_slice(headers);
        self.send(method, path, &all, body).await
    }

    /// A server with the WordPress fixture imported.
    pub async fn with_fixture(backend: Backend) -> Option<Self> {
        let app = Self::spawn(backend).await?;
        app.db.import_fixture();
        Some(app)
    }

    /// Sends `method path` with an optional body.
    pub async fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> Response {
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let req = self.client.request(method, format!("{}{path}", self.address));
        let mut res = match body {
            Some(b) => req.insert_header(("content-type", "application/json")).send_body(b.to_vec()).await,
            None => req.send().await,
        }
        .expect("request sent");
        let body = res.body().limit(64 * 1024 * 1024).await.expect("body read").to_vec();
        Response { status: res.status(), headers: res.headers().clone(), body }
    }

    /// Sends `method path` with extra headers and an optional JSON body.
    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Response {
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some(b) => req.insert_header(("content-type", "application/json")).send_body(b.to_string()).await,
            None => req.send().await,
        }
        .expect("request sent");
        let body = res.body().limit(64 * 1024 * 1024).await.expect("body read").to_vec();
        Response { status: res.status(), headers: res.headers().clone(), body }
    }

    /// Sends raw `body` bytes with extra headers (set `content-type` there).
    pub async fn send_bytes(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Response {
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = req.send_body(body).await.expect("request sent");
        let body = res.body().limit(64 * 1024 * 1024).await.expect("body read").to_vec();
        Response { status: res.status(), headers: res.headers().clone(), body }
    }

    /// Sends with `Authorization: Bearer token`.
    pub async fn authed(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Response {
        let auth = format!("Bearer {token}");
        self.send(method, path, &[("authorization", &auth)], body).await
    }

    /// Creates a user directly (argon2id-hashed) and returns its id.
    pub fn create_user(&self, email: &str, role: &str, author_id: Option<i64>) -> i64 {
        let role = broadsheet::auth::Role::parse(role).expect("role");
        broadsheet::users::handlers::create(&mut self.db.conn(), email, PASSWORD, role, author_id, None)
            .expect("user created")
            .id
    }

    /// Creates a user whose author profile is then unlinked and deleted (as
    /// after `PATCH /users/{id}` with `author_id: null`, or for accounts made
    /// before every user got a profile); returns its id.
    pub fn create_user_without_profile(&self, email: &str, role: &str) -> i64 {
        use broadsheet::db::schema::{authors, users};
        use diesel::prelude::*;
        let id = self.create_user(email, role, None);
        let c = &mut *self.db.conn();
        let profile: Option<i64> = users::table.find(id).select(users::author_id).first(c).expect("user");
        diesel::update(users::table.find(id)).set(users::author_id.eq(None::<i64>)).execute(c).expect("unlinked");
        if let Some(a) = profile {
            diesel::delete(authors::table.find(a)).execute(c).expect("profile deleted");
        }
        id
    }

    /// Creates an author directly and returns its id.
    pub fn create_author(&self, slug: &str) -> i64 {
        use broadsheet::db::schema::authors;
        use diesel::prelude::*;
        let now = broadsheet::db::now();
        diesel::insert_into(authors::table)
            .values((
                authors::slug.eq(slug),
                authors::display_name.eq(slug),
                authors::created_at.eq(now),
                authors::updated_at.eq(now),
            ))
            .returning(authors::id)
            .get_result(&mut *self.db.conn())
            .expect("author created")
    }

    /// Logs in with [`PASSWORD`], asserting success; returns the token pair.
    pub async fn login(&self, email: &str) -> Value {
        let res = self
            .send("POST", "/api/v1/auth/login", &[], Some(&serde_json::json!({"email": email, "password": PASSWORD})))
            .await;
        assert_eq!(res.status.as_u16(), 200, "login {email}: {}", String::from_utf8_lossy(&res.body));
        res.json()["data"].clone()
    }

    /// A user with `role` (and a linked author profile), logged in; returns the access token.
    pub async fn token_for(&self, role: &str) -> String {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let author = self.create_author(&format!("{role}-profile-{n}"));
        let email = format!("{role}{n}@example.com");
        self.create_user(&email, role, Some(author));
        self.login(&email).await["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.request("GET", path, None).await
    }

    /// `GET path` with `Authorization: Bearer token`, asserting 200; returns
    /// the body and the `ETag`.
    pub async fn get_ok_as(&self, path: &str, token: &str) -> (Value, String) {
        let res = self.authed("GET", path, token, None).await;
        assert_eq!(res.status, StatusCode::OK, "GET {path}: {}", String::from_utf8_lossy(&res.body));
        (res.json(), res.header("etag").unwrap_or_default().to_owned())
    }

    /// `GET path`, asserting a 200 JSON response, returning the body.
    pub async fn get_ok(&self, path: &str) -> Value {
        let res = self.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "GET {path}: {}", String::from_utf8_lossy(&res.body));
        assert_eq!(res.content_type(), "application/json", "GET {path}");
        res.json()
    }
}

/// Every value of `key` anywhere in `v` (to check, say, that no `email` leaks).
pub fn find_keys<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                if k.contains(key) {
                    out.push(val);
                }
                find_keys(val, key, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| find_keys(x, key, out)),
        _ => {}
    }
}

/// The Redis test server from `TEST_REDIS_URL`; `None` (skip) without it,
/// a failure under `CI=true`.
pub fn redis_url() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").ok().filter(|e| !e.is_empty());
    if url.is_none() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs TEST_REDIS_URL (a Redis server)");
        eprintln!("skipping Redis scenario: TEST_REDIS_URL is not set");
    }
    url
}

/// A key prefix no other test (or run) uses, so tests never touch each
/// other's Redis keys and never need to flush.
pub fn unique_prefix(name: &str) -> String {
    format!("broadsheet-test:{name}:{}:{}:", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// The S3-compatible test server (moto) from `TEST_S3_ENDPOINT`; `None`
/// (skip) without it, a failure under `CI=true`.
pub fn s3_endpoint() -> Option<String> {
    let endpoint = std::env::var("TEST_S3_ENDPOINT").ok().filter(|e| !e.is_empty());
    if endpoint.is_none() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs TEST_S3_ENDPOINT (a moto server)");
        eprintln!("skipping S3 scenario: TEST_S3_ENDPOINT is not set");
    }
    endpoint
}

/// Creates a fresh bucket on `endpoint` and returns the settings that make a
/// server store media under `s3://{bucket}/{prefix}` there.
pub async fn s3_settings(endpoint: &str, prefix: &str) -> Vec<(String, String)> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let bucket = format!("broadsheet-test-{}-{n}-{}", std::process::id(), nanos % 100_000);
    let created = awc::Client::new().put(format!("{endpoint}/{bucket}")).send().await.expect("moto reachable");
    assert!(created.status().is_success(), "create bucket {bucket}: {}", created.status());
    [
        ("MEDIA_STORE_URL", format!("s3://{bucket}/{prefix}")),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ALLOW_HTTP", "true".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `PATCH /api/v1/articles/{id}` as `token`, with the article's current
/// `ETag` in `If-Match`; asserts a 200.
pub async fn patch_article(app: &TestApp, token: &str, id: i64, body: Value) -> Response {
    let (_, etag) = app.get_ok_as(&format!("/api/v1/articles/{id}"), token).await;
    let res =
        app.authed_with("PATCH", &format!("/api/v1/articles/{id}"), token, &[("If-Match", &etag)], Some(&body)).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    res
}
