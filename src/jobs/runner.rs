//! The runner: claims due jobs, runs them, records the outcome.
//!
//! Each job runs in its own task, so a panic ends that task only: the
//! `JoinError` is recorded as the attempt's error and the job is retried.
//! A job that runs for 90 % of the lease is stopped and retried, so a live
//! runner never holds a job past its lease. On shutdown the runner stops
//! claiming, lets running jobs finish for `JOBS_SHUTDOWN_GRACE_SECONDS`,
//! then releases the rest (queued again, the attempt not counted).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{watch, Semaphore};

use super::repo::{self, ClaimedJob};
use super::JobKind;
use crate::config::{JobSettings, Settings};
use crate::db::{DbConnection, Pool};
use crate::mail::Mailer;

/// What job bodies may use.
pub struct JobContext {
    /// The database pool.
    pub pool: Pool,
    /// Where mail goes.
    pub mailer: Arc<dyn Mailer>,
    /// The settings (mail `From`, link URLs and lifetimes).
    pub settings: Settings,
}

/// Work to do in the transaction that marks a job done (e.g. marking a mail
/// sent), so the two commit together.
pub type Finish = Box<dyn FnOnce(&mut DbConnection) -> diesel::QueryResult<()> + Send>;

/// What a job body returns: `Ok(None)` done, `Ok(Some(f))` done with `f` in
/// the same transaction, `Err` a failed attempt.
pub type JobResult = anyhow::Result<Option<Finish>>;

/// A job runner over one pool. Cheap to clone.
#[derive(Clone)]
pub struct Runner {
    ctx: Arc<JobContext>,
    settings: JobSettings,
    id: String,
    held: Arc<Mutex<HashMap<i64, (ClaimedJob, tokio::task::AbortHandle)>>>,
}

/// The retry delay after failed attempt `attempt` (1-based): `base · 2^(attempt−1)`,
/// capped at one hour, then "equal jitter": half of it fixed, half random.
pub fn backoff(base_ms: u64, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(30);
    let full = base_ms.saturating_mul(1u64 << exp).min(3_600_000);
    let half = full / 2;
    Duration::from_millis(half + rand::thread_rng().gen_range(0..=full - half))
}

impl Runner {
    /// A runner with the settings' job and mail configuration.
    pub fn new(pool: Pool, settings: &Settings, mailer: Arc<dyn Mailer>) -> Self {
        let host = hostname_or_unknown();
        Self {
            ctx: Arc::new(JobContext { pool, mailer, settings: settings.clone() }),
            settings: settings.jobs.clone(),
            id: format!("{host}:{}:{}", std::process::id(), crate::auth::tokens::random_id()),
            held: Default::default(),
        }
    }

    /// This runner's id, stored in `jobs.locked_by`.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn lease(&self) -> Duration {
        Duration::from_secs(self.settings.lease_secs)
    }

    /// Claims and runs jobs until `shutdown` turns true, then drains (see the module docs).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(runner = %self.id, concurrency = self.settings.concurrency, "job runner started");
        let slots = Arc::new(Semaphore::new(self.settings.concurrency as usize));
        let mut tasks = tokio::task::JoinSet::new();
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        let mut next_prune = tokio::time::Instant::now();
        while !*shutdown.borrow() {
            while tasks.try_join_next().is_some() {}
            if tokio::time::Instant::now() >= next_prune {
                next_prune += Duration::from_secs(3600);
                self.prune().await;
            }
            let free = slots.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = tasks.join_next() => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            let claimed = match self.claim(free as i64).await {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming jobs failed; will try again");
                    Vec::new()
                }
            };
            let got = claimed.len();
            for job in claimed {
                let permit = slots.clone().acquire_owned().await.expect("semaphore open");
                let me = self.clone();
                tasks.spawn(async move {
                    me.run_one(job).await;
                    drop(permit);
                });
            }
            if got < free {
                // A job that finishes may have queued its follow-up (a
                // `search_index` chain does), so a finish ends the wait too:
                // with only the poll, each link of a chain waited up to
                // `JOBS_POLL_INTERVAL_MS`.
                if tasks.is_empty() {
                    tokio::select! {
                        _ = tokio::time::sleep(poll) => {}
                        _ = shutdown.changed() => {}
                    }
                } else {
                    tokio::select! {
                        _ = tokio::time::sleep(poll) => {}
                        _ = tasks.join_next() => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
        let grace = Duration::from_secs(self.settings.shutdown_grace_secs);
        tracing::info!(running = tasks.len(), grace_secs = grace.as_secs(), "job runner stopping");
        let drained = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            self.release_held().await;
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        tracing::info!(runner = %self.id, "job runner stopped");
    }

    /// Runs every job that is due now, one batch after another, until none
    /// is left (for tests and one-shot use). Returns how many attempts ran.
    pub async fn run_until_idle(&self) -> usize {
        let mut ran = 0;
        loop {
            let batch = match self.claim(self.settings.concurrency as i64).await {
                Ok(b) if !b.is_empty() => b,
                Ok(_) => return ran,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming jobs failed");
                    return ran;
                }
            };
            ran += batch.len();
            futures_util::future::join_all(batch.into_iter().map(|j| self.clone().run_one(j))).await;
        }
    }

    /// Deletes old done jobs, sent mails and expired tokens (`JOBS_RETENTION_DAYS`).
    pub async fn prune(&self) {
        let cutoff = crate::db::now() - chrono::Duration::days(self.settings.retention_days);
        match crate::db::write(&self.ctx.pool, move |c| Ok(repo::prune(c, cutoff)?)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "pruned old jobs, mails and tokens"),
            Err(e) => tracing::warn!(error = %e, "pruning old jobs failed"),
        }
    }

    async fn claim(&self, limit: i64) -> Result<Vec<ClaimedJob>, crate::error::ApiError> {
        let runner = self.id.clone();
        let lease = chrono::Duration::from_std(self.lease()).unwrap_or(chrono::Duration::seconds(300));
        crate::db::write(&self.ctx.pool, move |c| {
            let now = crate::db::now();
            Ok(repo::claim(c, &runner, limit, now, now + lease)?)
        })
        .await
    }

    async fn run_one(self, job: ClaimedJob) {
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts);
        tracing::Instrument::instrument(self.run_one_inner(job), span).await
    }

    async fn run_one_inner(self, job: ClaimedJob) {
        let ctx = self.ctx.clone();
        let body = tokio::spawn(dispatch(ctx, job.clone()));
        let abort = body.abort_handle();
        self.held.lock().unwrap_or_else(|e| e.into_inner()).insert(job.id, (job.clone(), abort.clone()));
        let limit = self.lease().mul_f64(0.9);
        let outcome = match tokio::time::timeout(limit, body).await {
            Ok(Ok(Ok(finish))) => Ok(finish),
            Ok(Ok(Err(e))) => Err(format!("{e:#}")),
            Ok(Err(join)) if join.is_panic() => Err(format!("panicked: {}", panic_message(join.into_panic()))),
            Ok(Err(_)) => {
                // Aborted by shutdown: already released.
                return;
            }
            Err(_) => {
                // Dropping the handle would leave the body running.
                abort.abort();
                Err(format!("timed out after {} ms (90% of the lease)", limit.as_millis()))
            }
        };
        self.held.lock().unwrap_or_else(|e| e.into_inner()).remove(&job.id);
        let runner = self.id.clone();
        let max = self.settings.max_attempts;
        let base = self.settings.retry_base_ms;
        let recorded = crate::db::write(&self.ctx.pool, move |c| {
            use diesel::Connection;
            match outcome {
                Ok(finish) => c.transaction(|c| {
                    if !repo::complete(c, &job, &runner)? {
                        return Ok("claim lost before completion");
                    }
                    if let Some(f) = finish {
                        f(c)?;
                    }
                    Ok("done")
                }),
                Err(error) => {
                    let retry_at = (job.attempts < max).then(|| {
                        crate::db::now() + chrono::Duration::from_std(backoff(base, job.attempts)).unwrap_or_default()
                    });
                    tracing::warn!(%error, dead = retry_at.is_none(), "job attempt failed");
                    repo::fail(c, &job, &runner, &error, retry_at)?;
                    Ok("failed")
                }
            }
        })
        .await;
        match recorded {
            Ok(what) => tracing::debug!(outcome = what, "job attempt recorded"),
            // The lease runs out and another runner retries it.
            Err(e) => tracing::error!(error = %e, "could not record a job's outcome"),
        }
    }

    async fn release_held(&self) {
        let held: Vec<(ClaimedJob, tokio::task::AbortHandle)> =
            self.held.lock().unwrap_or_else(|e| e.into_inner()).drain().map(|(_, v)| v).collect();
        for (job, abort) in held {
            abort.abort();
            let runner = self.id.clone();
            let id = job.id;
            match crate::db::write(&self.ctx.pool, move |c| Ok(repo::release(c, &job, &runner)?)).await {
                Ok(_) => tracing::info!(job = id, "released a running job at shutdown"),
                Err(e) => tracing::error!(job = id, error = %e, "could not release a job; its lease will expire"),
            }
        }
    }
}

/// Runs one job's body by kind.
async fn dispatch(ctx: Arc<JobContext>, job: ClaimedJob) -> JobResult {
    let payload: serde_json::Value =
        serde_json::from_str(&job.payload).map_err(|e| anyhow::anyhow!("payload is not JSON: {e}"))?;
    match JobKind::parse(&job.kind) {
        Some(JobKind::SendMail) => super::send_mail::run(&ctx, &job, payload).await,
        Some(JobKind::Probe) => super::probe::run(&ctx, &job, payload).await,
        Some(JobKind::PasswordReset) => super::password_reset::run(&ctx, &job, payload).await,
        Some(JobKind::Subscribe) => super::subscribe::run(&ctx, &job, payload).await,
        Some(JobKind::StartMailing) => super::start_mailing::run(&ctx, &job, payload).await,
        Some(JobKind::SendMailing) => super::send_mailing::run(&ctx, &job, payload).await,
        Some(JobKind::CommentReply) => super::comment_reply::run(&ctx, &job, payload).await,
        Some(JobKind::WebhookDelivery) => crate::webhooks::deliver::run(&ctx, &job, payload).await,
        Some(JobKind::ArticleLive) => crate::webhooks::live::run(&ctx, &job, payload).await,
        Some(JobKind::CommentSpamCheck) => super::comment_spam_check::run(&ctx, &job, payload).await,
        Some(JobKind::SearchIndex) => super::search_index::run(&ctx, &job, payload).await,
        None => anyhow::bail!("unknown job kind `{}`", job.kind),
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".into())
}

fn hostname_or_unknown() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "host".into())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Starts `runner` on the current runtime; returns its shutdown switch and handle.
pub fn spawn(runner: Runner) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(false);
    (tx, tokio::spawn(runner.run(rx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for attempt in 1..=5 {
            let full = 1000u64 << (attempt - 1);
            for _ in 0..50 {
                let d = backoff(1000, attempt).as_millis() as u64;
                assert!((full / 2..=full).contains(&d), "attempt {attempt}: {d} ms not in [{}, {full}]", full / 2);
            }
        }
        assert!(backoff(10_000, 40) <= Duration::from_secs(3600));
    }
}
