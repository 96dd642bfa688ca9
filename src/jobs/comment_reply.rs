//! `comment_reply`: mails a reader the approved replies to one of their
//! comments (one mail, or a digest), through the outbox. Payload:
//! `{"reader_id": i64, "thread_id": i64}`. All the work
//! (`comments::notify::deliver`) happens in the transaction that completes
//! this job, so a retry never mails twice and a crash loses nothing.

use serde::Deserialize;

use super::repo::ClaimedJob;
use super::runner::{JobContext, JobResult};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    reader_id: i64,
    thread_id: i64,
}

/// Runs one attempt.
pub async fn run(ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let Payload { reader_id, thread_id } = serde_json::from_value(payload)?;
    let settings = ctx.settings.clone();
    Ok(Some(Box::new(move |c| crate::comments::notify::deliver(c, &settings, reader_id, thread_id))))
}
