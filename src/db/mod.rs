//! Database access: one connection type over SQLite and PostgreSQL.
//!
//! [`DbConnection`] is a diesel `MultiConnection`; repositories take
//! `&mut DbConnection` and return `QueryResult`, and handlers reach them only
//! through [`run`], which moves the blocking work onto actix's blocking pool.
//! Errors from here are mapped to HTTP by `crate::error`; [`outage`] decides
//! which of them mean "unavailable" (503) and finds their real cause.

pub mod cached;
pub mod outage;
pub mod schema;
pub mod time;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;
use crate::error::ApiError;

/// One connection over both backends, picked from the `DATABASE_URL` scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL (production).
    Postgresql(PgConnection),
    /// SQLite (embedded default).
    Sqlite(SqliteConnection),
}

/// The r2d2 pool every request draws from, with the threads that run
/// [`run`]'s work on it.
///
/// Derefs to the r2d2 pool (`get`, `state`, `max_size`).
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<ConnectionManager>,
    /// One permit per connection, held by the waiting future: work past the
    /// pool's size waits here, parked, rather than inside `pool.get()` on a
    /// blocking thread of its own.
    gate: Arc<tokio::sync::Semaphore>,
    threads: Arc<DbThreads>,
}

/// The blocking threads of one pool: at most one per connection.
///
/// actix's `web::block` uses the blocking pool of the calling worker's
/// runtime, one per worker, and a new thread starts whenever a task arrives
/// while the last one's thread is not yet back: under `wrk -c32` the server
/// had 44–64 threads for 10 connections, each with its allocator's
/// per-thread memory (see ARCHITECTURE.md, "Memory"). These threads belong
/// to a runtime of their own, never driven (only its blocking pool is
/// used), whose `max_blocking_threads` is the pool's size: a task that
/// finds every thread busy waits in its queue for the next one.
struct DbThreads(Option<tokio::runtime::Runtime>);

impl DbThreads {
    fn new(size: u32) -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(size as usize)
            .thread_name("db")
            .build()
            .map_err(|e| anyhow::anyhow!("cannot start the database threads: {e}"))?;
        Ok(Self(Some(rt)))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("taken only on drop").handle()
    }
}

impl Drop for DbThreads {
    /// Dropping a runtime waits for its blocking tasks, and panics when that
    /// happens on an async thread (where the last pool clone may be dropped);
    /// the threads end by themselves once their current task is done.
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<ConnectionManager>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

/// Migrations for SQLite, embedded from `migrations/sqlite`.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// Migrations for PostgreSQL, embedded from `migrations/postgres`.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// SQLite busy timeout, in milliseconds, set on every connection.
pub const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Counts SQL statements run through a pool; used by tests to prove that a
/// list page costs a fixed number of queries.
#[derive(Clone, Debug, Default)]
pub struct QueryCounter(Arc<AtomicUsize>);

impl QueryCounter {
    /// Statements started since this counter was created.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Every connection's instrumentation: reports outage errors to
/// [`outage::record`] and, in tests, counts statements.
struct Watch(Option<Arc<AtomicUsize>>);

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                if let Some(counter) = &self.0 {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
            InstrumentationEvent::FinishQuery { error: Some(e), .. } => outage::record(e),
            _ => {}
        }
    }
}

/// Opens connections of exactly the backend named by the URL. (diesel's own
/// `MultiConnection::establish` tries each backend in turn, and SQLite accepts
/// any string as a file name, so a PostgreSQL outage would silently create a
/// SQLite file. This manager never falls back.)
pub struct ConnectionManager {
    url: DatabaseUrl,
    counter: Option<QueryCounter>,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        let mut conn = match &self.url {
            DatabaseUrl::Postgres(url) => {
                DbConnection::Postgresql(PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?)
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut c = SqliteConnection::establish(&path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the single writer; foreign keys are off by
                // default in SQLite; the busy timeout makes writers wait instead of failing.
                // busy_timeout first, so a connection opened while another switches
                // the file to WAL waits instead of failing with "database is locked".
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                ))
                .map_err(r2d2::Error::QueryError)?;
                DbConnection::Sqlite(c)
            }
        };
        conn.set_instrumentation(Watch(self.counter.as_ref().map(|c| c.0.clone())));
        Ok(conn)
    }

    /// A PostgreSQL connection can die while idle (server restart, an
    /// administrator's `pg_terminate_backend`); a SQLite one is a file handle
    /// in this process and cannot, so it is not checked at all.
    ///
    /// The check reads what the server sent since the connection went idle,
    /// without waiting (libpq's `PQconsumeInput`, through diesel's
    /// `notifications_iter`): a server that ended the session has sent its
    /// `FATAL` message and closed the socket. The first read takes the
    /// message (libpq hands a message that arrives while idle to the notice
    /// processor, which diesel silences), the second sees the close and
    /// fails. Two non-blocking `recv`s, where the `SELECT 1` they replaced
    /// cost a round trip and two context switches on every request (perf,
    /// 2026-12-03). A peer that vanished without closing (a cut cable) is not
    /// seen here; a `SELECT 1` would not have seen it either before TCP gave
    /// up.
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        match conn {
            DbConnection::Sqlite(_) => Ok(()),
            DbConnection::Postgresql(pg) => {
                for _ in 0..2 {
                    // A notification (this pool never `LISTEN`s) or nothing
                    // is an open session.
                    if let Some(Err(e)) = pg.notifications_iter().next() {
                        return Err(r2d2::Error::QueryError(e));
                    }
                }
                Ok(())
            }
        }
    }

    /// Called when a connection goes back to the pool: a connection whose
    /// transaction manager is broken or still in a transaction (diesel's
    /// check), or whose unit of work lost the connection, is discarded, so the
    /// next request gets a new one. (A connection that died while idle is
    /// caught on checkout by `is_valid`: r2d2's `test_on_check_out` is on.)
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn) || outage::connection_lost()
    }
}

/// How long a unit of work waits for a connection before it is a 503.
pub const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the pool, creating the SQLite file's folder if needed. Does not
/// connect eagerly beyond r2d2's minimum; call [`migrate`] next.
pub fn build_pool(url: &DatabaseUrl, size: u32, counter: Option<QueryCounter>) -> anyhow::Result<Pool> {
    if let DatabaseUrl::Sqlite(path) = url {
        sqlite_global_config();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        }
    }
    // Counted pools are for tests: no idle connections are kept, so r2d2's
    // background threads never reconnect to a test database that was dropped
    // (libpq doing so while the test process exits has crashed it).
    let min_idle = if counter.is_some() { 0 } else { 1 };
    let manager = ConnectionManager { url: url.clone(), counter };
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(min_idle))
        .connection_timeout(POOL_TIMEOUT)
        .build(manager)
        .map_err(|e| {
            // A SQLite file that another process holds for itself: a
            // WordPress import writing with a rollback journal
            // (`sqlite_leave_wal`) refuses every other connection until it ends.
            let hint = if matches!(url, DatabaseUrl::Sqlite(_)) {
                " (if an import into this file is running, start the server when it is done)"
            } else {
                ""
            };
            anyhow::anyhow!("cannot connect to the {} database: {e}{hint}", url.backend_name())
        })?;
    let gate = Arc::new(tokio::sync::Semaphore::new(size as usize));
    Ok(Pool { inner: pool, gate, threads: Arc::new(DbThreads::new(size)?) })
}

/// SQLite's process-wide settings, applied once before its first connection.
///
/// SQLite keeps global memory statistics by default, and every allocation of
/// every connection then takes one process-wide mutex: with several blocking
/// threads reading at once, that mutex is contended. `sqlite3Malloc`, mutex
/// included, was 11 % of an uncached list request's CPU (perf, 2026-12-02);
/// the mutex's own share was not measured apart. broadsheet never reads
/// those statistics.
///
/// SQLite is built serialized (`SQLITE_THREADSAFE=1`): every API call, each
/// `sqlite3_column_value` of every field included, locks and unlocks the
/// connection's mutex, 4 % of an uncached SQLite list's CPU (callgrind,
/// 2026-12-06: 1,233 fields a page). Multi-thread mode drops those locks; it
/// only asks that no connection, nor its statements, is used by two threads
/// at once, which diesel's `SqliteConnection` (`Send`, not `Sync`, checked
/// out of the pool by one thread at a time) already guarantees.
fn sqlite_global_config() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` takes `SQLITE_CONFIG_MEMSTATUS` with one
        // int argument and `SQLITE_CONFIG_MULTITHREAD` with none. It must run
        // before SQLite is initialized and while no other thread uses SQLite:
        // every connection of this process is opened through a pool built
        // here, after this `Once`. Called later, it returns SQLITE_MISUSE
        // and changes nothing, which is harmless.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as std::os::raw::c_int)
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(rc, "SQLite was already initialized; its memory statistics stay on");
        }
        // SAFETY: as above; see this function's docs for why no connection
        // is shared between threads.
        let rc = unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD) };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(rc, "SQLite was already initialized; it stays serialized");
        }
    });
}

/// Builds a pool whose statements are counted by the returned counter.
pub fn build_counted_pool(url: &DatabaseUrl, size: u32) -> anyhow::Result<(Pool, QueryCounter)> {
    let counter = QueryCounter::default();
    let pool = build_pool(url, size, Some(counter.clone()))?;
    Ok((pool, counter))
}

/// Applies every pending embedded migration for the connection's backend and
/// returns the names of those applied. Data fixes that need Rust code run
/// after it, in [`crate::data_fixes::migrate`], which is what the CLI and
/// the tests call; this function stays free of resource code.
pub fn migrate(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Runs blocking database work `f` on the pool's own threads (see [`Pool`])
/// with a pooled connection. A pool timeout becomes 503; diesel errors map through
/// `From<diesel::result::Error> for ApiError`. When `f` fails with a 500
/// after the database reported an outage (diesel can replace the cause with
/// a failed `ROLLBACK`, see [`outage`]), the answer is a 503 whose logged
/// cause is the outage.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run_then(pool, f, Ok).await
}

/// Like [`run`], then `render(result)` on the same blocking thread once the
/// connection is back in the pool: for a read whose response is large (a
/// list page), so the rows are turned into bytes off the async workers,
/// without holding a connection, and on the thread that allocated them.
///
/// At most the pool's size of these run at once in this process (the
/// [`Pool`]'s gate, awaited here without a thread); a unit of work that
/// cannot start within [`POOL_TIMEOUT`] is a 503, as a pool timeout is.
pub async fn run_then<T, U, F, R>(pool: &Pool, f: F, render: R) -> Result<U, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    R: FnOnce(T) -> Result<U, ApiError> + Send + 'static,
    U: Send + 'static,
{
    let permit = tokio::time::timeout(POOL_TIMEOUT, pool.gate.clone().acquire_owned())
        .await
        .map_err(|_| ApiError::Unavailable("timed out waiting for a database connection".into()))?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("database gate closed: {e}")))?;
    // The permit is let go when this future ends, after the task's thread
    // is done with it (or when the request is dropped mid-way: the task then
    // still runs, and the thread cap above keeps the count bounded).
    let _permit = permit;
    let task_pool = pool.inner.clone();
    pool.threads
        .handle()
        .spawn_blocking(move || {
            let pool = task_pool;
            let mut conn = pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
            outage::start();
            let result = f(&mut conn);
            // Returned to the pool here, on this thread, where `has_broken` can
            // still see what this unit of work ran into.
            drop(conn);
            let result = match (result, outage::finish()) {
                (Err(ApiError::Internal(e)), Some(seen)) => {
                    Err(ApiError::Unavailable(format!("{} (then: {e:#})", seen.message)))
                }
                (result, _) => result,
            };
            render(result?)
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// Like [`run`], for work that writes. On SQLite, writers in this process
/// take turns on a mutex: SQLite allows one writer, and two transactions that
/// both read before writing cannot wait for each other (one gets "database is
/// locked" at once, whatever the busy timeout). PostgreSQL writers run freely.
pub async fn write<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    run(pool, move |c| {
        let _turn =
            matches!(c, DbConnection::Sqlite(_)).then(|| SQLITE_WRITER.lock().unwrap_or_else(|e| e.into_inner()));
        f(c)
    })
    .await
}

/// [`write`], retried up to `tries` times when it fails with a conflict. For
/// creates that derive a unique slug: two concurrent creates can pick the same
/// free slug, and on PostgreSQL the loser's unique violation is a 409 the
/// client never caused; a retry picks the next free slug.
pub async fn write_retrying_conflicts<T, F>(pool: &Pool, tries: u32, f: F) -> Result<T, ApiError>
where
    F: Fn(&mut DbConnection) -> Result<T, ApiError> + Clone + Send + 'static,
    T: Send + 'static,
{
    let mut left = tries.max(1);
    loop {
        left -= 1;
        match write(pool, f.clone()).await {
            Err(ApiError::Conflict(_)) if left > 0 => continue,
            other => return other,
        }
    }
}

/// What `PRAGMA journal_mode` answers.
#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

/// For a bulk write on SQLite (the WordPress import): takes the database out
/// of WAL mode into a rollback journal, so that each page is written once,
/// to the database file, instead of once to the WAL and again by the
/// checkpoint after the commit (at 100,000 articles the checkpoint alone
/// copied 2.2 GB for 9–14 s; ARCHITECTURE.md, "Benchmark"). Durability
/// stays: the journal is on disk and `synchronous` is `FULL` until
/// [`sqlite_back_to_wal`].
///
/// SQLite allows the switch only when no other connection, in this process
/// or another, has the file open (a running server, an idle pooled
/// connection); then, without waiting, this answers `false` and changes
/// nothing, and the caller writes through the WAL as usual. `false` on
/// PostgreSQL. Call outside a transaction.
pub fn sqlite_leave_wal(conn: &mut DbConnection) -> QueryResult<bool> {
    let DbConnection::Sqlite(c) = conn else { return Ok(false) };
    c.batch_execute("PRAGMA busy_timeout = 0")?;
    let mode = diesel::sql_query("PRAGMA journal_mode = DELETE").get_result::<JournalMode>(c);
    c.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))?;
    let left = match mode {
        Ok(m) => m.journal_mode.eq_ignore_ascii_case("delete"),
        // "database is locked": another connection has the file open.
        Err(diesel::result::Error::DatabaseError(_, info)) => {
            tracing::debug!(error = info.message(), "the database stays in WAL mode");
            false
        }
        Err(e) => return Err(e),
    };
    if left {
        c.batch_execute("PRAGMA synchronous = FULL")?;
    }
    Ok(left)
}

/// Puts a database that [`sqlite_leave_wal`] took out of WAL mode back into
/// it, with the settings every pooled connection has. If that fails (a
/// connection opened meanwhile), the next connection the pool opens sets
/// WAL mode again on its own ([`ConnectionManager`]).
pub fn sqlite_back_to_wal(conn: &mut DbConnection) -> QueryResult<()> {
    let DbConnection::Sqlite(c) = conn else { return Ok(()) };
    c.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
}

/// Loads `query` through the connection's own backend rather than through
/// the `MultiConnection` wrapper, for queries a hot path runs on every
/// request. The wrapper writes each query's SQL text out again on every run
/// (it needs the text to find the prepared statement, and to collect the
/// binds), and diesel's SQLite query builder allocates a string for every
/// quoted name: 8.8 % of an uncached SQLite list's CPU (callgrind,
/// 2026-12-06). Run directly, a query whose type fixes its text
/// (`QueryId::HAS_STATIC_QUERY_ID`, as `cached::any_of` keeps it) is found
/// in the statement cache by its type, and its text is never built again.
/// Rows and errors are the same as through the wrapper; the statement
/// counter and outage watch see these queries too (they are on the inner
/// connection).
pub fn load_direct<Q, U>(conn: &mut DbConnection, query: Q) -> QueryResult<Vec<U>>
where
    Q: diesel::query_dsl::LoadQuery<'static, SqliteConnection, U>
        + diesel::query_dsl::LoadQuery<'static, PgConnection, U>
        + RunQueryDsl<SqliteConnection>
        + RunQueryDsl<PgConnection>,
{
    match conn {
        DbConnection::Sqlite(c) => RunQueryDsl::<SqliteConnection>::load(query, c),
        DbConnection::Postgresql(c) => RunQueryDsl::<PgConnection>::load(query, c),
    }
}

/// The current UTC time as stored in `TIMESTAMP` columns (microsecond precision,
/// the finest both backends keep).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::Timelike::with_nanosecond(&now, now.and_utc().timestamp_subsec_micros() * 1000).unwrap_or(now)
}
