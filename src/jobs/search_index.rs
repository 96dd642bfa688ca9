//! `search_index`: fills one batch of the PostgreSQL search vectors that an
//! import left empty (`articles.search IS NULL`, see migration
//! `2026-12-03-000220_deferred_search`), in the transaction that completes
//! the job, and queues the next batch while any are left. Payload: `{}`.
//! An import queues [`CHAINS`] of these, so that several runners (or one
//! runner's concurrent jobs) share the work: each batch takes its rows with
//! `FOR UPDATE SKIP LOCKED`. A retry after a failure starts where the
//! committed batches stopped. On SQLite nothing is ever pending (FTS5 is kept
//! in every writing statement) and a job finds nothing to do.

use serde::Deserialize;

use super::repo::ClaimedJob;
use super::runner::{JobContext, JobResult};
use super::{JobKind, NewJob};

/// Articles indexed per job: about half a second of English stemming for
/// ~6 KB bodies, so a job's lease and transaction stay short.
pub const BATCH: i64 = 500;

/// Chains an import starts: one per core of a small server.
pub const CHAINS: usize = 2;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {}

/// The first job of a chain.
pub fn job() -> NewJob {
    NewJob::new(JobKind::SearchIndex, serde_json::json!({}))
}

/// Runs one attempt.
pub async fn run(_ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let Payload {} = serde_json::from_value(payload)?;
    Ok(Some(Box::new(|c| {
        let done = crate::articles::repo::index_pending_search(c, BATCH)?;
        if done == BATCH as usize {
            super::enqueue(c, &job())?;
        }
        Ok(())
    })))
}
