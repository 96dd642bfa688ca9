//! `probe`: records each execution in `job_probes` (job, label, process,
//! attempt), then optionally sleeps, fails or panics on its first attempts.
//! For checking that a deployment's runners work, and for the queue's tests.
//!
//! Payload: `{"label": str, "sleep_ms": u64, "sleep_attempts": i32,
//! "fail_attempts": i32, "panic_attempts": i32}`, all optional: the body
//! sleeps while `attempt <= sleep_attempts`, then fails while `attempt <=
//! fail_attempts`, then panics while `attempt <= panic_attempts`.

use diesel::prelude::*;
use serde::Deserialize;

use super::repo::ClaimedJob;
use super::runner::{JobContext, JobResult};
use crate::db::schema::job_probes;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Payload {
    label: String,
    sleep_ms: u64,
    sleep_attempts: i32,
    fail_attempts: i32,
    panic_attempts: i32,
}

/// Runs one attempt.
pub async fn run(ctx: &JobContext, job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let p: Payload = serde_json::from_value(payload)?;
    let (id, attempt, label) = (job.id, job.attempts, p.label.clone());
    crate::db::write(&ctx.pool, move |c| {
        diesel::insert_into(job_probes::table)
            .values((
                job_probes::job_id.eq(id),
                job_probes::label.eq(label),
                job_probes::runner.eq(format!("pid:{}", std::process::id())),
                job_probes::attempt.eq(attempt),
                job_probes::created_at.eq(crate::db::now()),
            ))
            .execute(c)?;
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("recording the probe failed: {e}"))?;
    if attempt <= p.sleep_attempts {
        tokio::time::sleep(std::time::Duration::from_millis(p.sleep_ms)).await;
    }
    if attempt <= p.fail_attempts {
        anyhow::bail!("probe failure on attempt {attempt}");
    }
    if attempt <= p.panic_attempts {
        panic!("probe panic on attempt {attempt}");
    }
    Ok(None)
}
