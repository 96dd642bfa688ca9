//! `start_mailing`: starts a new-article mailing at its time. Payload:
//! `{"mailing_id": i64}`. All the work (`mailings::service::start`: the
//! delivery records, the state, the first `send_mailing` job) happens in the
//! transaction that completes this job, so a retry never starts it twice.

use serde::Deserialize;

use super::repo::ClaimedJob;
use super::runner::{JobContext, JobResult};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    mailing_id: i64,
}

/// Runs one attempt.
pub async fn run(ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let Payload { mailing_id } = serde_json::from_value(payload)?;
    let settings = ctx.settings.clone();
    Ok(Some(Box::new(move |c| crate::mailings::service::start(c, &settings, mailing_id, crate::db::now()))))
}
