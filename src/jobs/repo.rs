//! Queries on `jobs`. The claim and the unique insert are backend-specific
//! SQL, each an arm of a `match` on the connection.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use super::{JobKind, JobState, NewJob};
use crate::db::schema::jobs;
use crate::db::DbConnection;
use crate::pagination::PageParams;

/// One `jobs` row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub run_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub locked_by: Option<String>,
    pub unique_key: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// A job a runner has just claimed. `attempts` counts this attempt.
#[derive(Clone, Debug, QueryableByName)]
pub struct ClaimedJob {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Inserts `job`; `None` when its unique key is taken. `ON CONFLICT DO
/// NOTHING` on both backends (SQLite ≥ 3.24), through `sql_query` because
/// MultiConnection has no `on_conflict`.
pub fn insert(conn: &mut DbConnection, job: &NewJob) -> QueryResult<Option<i64>> {
    let now = crate::db::now();
    let run_at = job.run_at.unwrap_or(now);
    let payload = job.payload.to_string();
    let kind = job.kind.as_str();
    let ids: Vec<IdRow> = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(
            "INSERT INTO jobs (kind, payload, state, attempts, run_at, unique_key, created_at, updated_at) \
             VALUES ($1, $2, 'queued', 0, $3, $4, $5, $5) ON CONFLICT (unique_key) DO NOTHING RETURNING id",
        )
        .bind::<Text, _>(kind)
        .bind::<Text, _>(&payload)
        .bind::<Timestamp, _>(run_at)
        .bind::<Nullable<Text>, _>(job.unique_key.as_deref())
        .bind::<Timestamp, _>(now)
        .load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO jobs (kind, payload, state, attempts, run_at, unique_key, created_at, updated_at) \
             VALUES (?1, ?2, 'queued', 0, ?3, ?4, ?5, ?5) ON CONFLICT (unique_key) DO NOTHING RETURNING id",
        )
        .bind::<Text, _>(kind)
        .bind::<Text, _>(&payload)
        .bind::<Timestamp, _>(run_at)
        .bind::<Nullable<Text>, _>(job.unique_key.as_deref())
        .bind::<Timestamp, _>(now)
        .load(c)?,
    };
    Ok(ids.first().map(|r| r.id))
}

/// Claims up to `limit` due jobs for `runner` until `locked_until`: queued
/// or failed jobs whose `run_at` has come, and running jobs whose lease ran
/// out (their runner died). Each claim adds one attempt.
///
/// PostgreSQL: `FOR UPDATE SKIP LOCKED` in the subquery, so concurrent
/// claimers in any process skip each other's rows instead of waiting or
/// taking the same job. SQLite: one `UPDATE … RETURNING` statement, which
/// holds SQLite's single write lock; callers go through `db::write`.
pub fn claim(
    conn: &mut DbConnection,
    runner: &str,
    limit: i64,
    now: NaiveDateTime,
    locked_until: NaiveDateTime,
) -> QueryResult<Vec<ClaimedJob>> {
    match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = $1, locked_by = $2, \
             updated_at = $3 \
             WHERE id IN (SELECT id FROM jobs \
               WHERE (state IN ('queued', 'failed') AND run_at <= $3) OR (state = 'running' AND locked_until < $3) \
               ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING id, kind, payload, attempts",
        )
        .bind::<Timestamp, _>(locked_until)
        .bind::<Text, _>(runner)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(c),
        DbConnection::Sqlite(c) => diesel::sql_query(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ?1, locked_by = ?2, \
             updated_at = ?3 \
             WHERE id IN (SELECT id FROM jobs \
               WHERE (state IN ('queued', 'failed') AND run_at <= ?3) OR (state = 'running' AND locked_until < ?3) \
               ORDER BY run_at, id LIMIT ?4) \
             RETURNING id, kind, payload, attempts",
        )
        .bind::<Timestamp, _>(locked_until)
        .bind::<Text, _>(runner)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(c),
    }
}

/// The claim `(job, runner, attempt)` is still ours: the row is running,
/// locked by this runner, at this attempt. Every write after a claim is
/// filtered by it, so a runner whose lease ran out cannot touch a job that
/// another runner has since claimed.
macro_rules! held {
    ($job:expr, $runner:expr) => {
        jobs::table
            .filter(jobs::id.eq($job.id))
            .filter(jobs::state.eq(JobState::Running.as_str()))
            .filter(jobs::locked_by.eq($runner))
            .filter(jobs::attempts.eq($job.attempts))
    };
}

/// Marks a held job done; false when the claim was lost.
pub fn complete(conn: &mut DbConnection, job: &ClaimedJob, runner: &str) -> QueryResult<bool> {
    let now = crate::db::now();
    let n = diesel::update(held!(job, runner))
        .set((
            jobs::state.eq(JobState::Done.as_str()),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::finished_at.eq(Some(now)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed attempt: `failed` with `run_at = retry_at`, or `dead`
/// when `retry_at` is `None`. `error` is kept (at most 2000 characters).
pub fn fail(
    conn: &mut DbConnection,
    job: &ClaimedJob,
    runner: &str,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let now = crate::db::now();
    let error: String = error.chars().take(2000).collect();
    let n = match retry_at {
        Some(at) => diesel::update(held!(job, runner))
            .set((
                jobs::state.eq(JobState::Failed.as_str()),
                jobs::run_at.eq(at),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(Some(error)),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?,
        None => diesel::update(held!(job, runner))
            .set((
                jobs::state.eq(JobState::Dead.as_str()),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(Some(error)),
                jobs::finished_at.eq(Some(now)),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Gives a held job back unrun (shutdown): queued again at once, with the
/// attempt not counted.
pub fn release(conn: &mut DbConnection, job: &ClaimedJob, runner: &str) -> QueryResult<bool> {
    let now = crate::db::now();
    let n = diesel::update(held!(job, runner))
        .set((
            jobs::state.eq(JobState::Queued.as_str()),
            jobs::attempts.eq(job.attempts - 1),
            jobs::run_at.eq(now),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Deletes what is older than `cutoff` and no longer needed: done jobs,
/// sent mails, and account tokens that expired. Returns the rows deleted.
/// A unique key is free again once its job is deleted.
pub fn prune(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    use crate::db::schema::{account_tokens, mails};
    let jobs = diesel::delete(
        jobs::table.filter(jobs::state.eq(JobState::Done.as_str())).filter(jobs::finished_at.lt(cutoff)),
    )
    .execute(conn)?;
    let mails = diesel::delete(mails::table.filter(mails::sent_at.lt(cutoff))).execute(conn)?;
    let tokens = diesel::delete(account_tokens::table.filter(account_tokens::expires_at.lt(cutoff))).execute(conn)?;
    Ok(jobs + mails + tokens)
}

/// Filters for the admin list.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of this kind.
    pub kind: Option<JobKind>,
}

/// A page of jobs, newest first, and the total.
pub fn list(conn: &mut DbConnection, filter: &JobFilter, page: &PageParams) -> QueryResult<(Vec<JobRow>, i64)> {
    let query = || {
        let mut q = jobs::table.into_boxed();
        if let Some(s) = filter.state {
            q = q.filter(jobs::state.eq(s.as_str()));
        }
        if let Some(k) = filter.kind {
            q = q.filter(jobs::kind.eq(k.as_str()));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let rows = query()
        .order(jobs::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(JobRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The job `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<JobRow> {
    jobs::table.find(id).select(JobRow::as_select()).first(conn)
}

/// Queues a failed or dead job to run now with a fresh attempt count;
/// false when it is in another state. The last error stays until the next attempt.
pub fn retry(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    let now = crate::db::now();
    let n = diesel::update(
        jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::state.eq_any([JobState::Failed.as_str(), JobState::Dead.as_str()])),
    )
    .set((
        jobs::state.eq(JobState::Queued.as_str()),
        jobs::attempts.eq(0),
        jobs::run_at.eq(now),
        jobs::finished_at.eq(None::<NaiveDateTime>),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
