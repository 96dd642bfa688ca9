//! `subscribe`: answers a `POST /subscriptions`. Payload: the validated
//! request (`subscriptions::service::Request`: `email` as entered, `name`,
//! normalized `topics`, `source`). Looks the address up and, depending on
//! its state, issues a confirmation token and queues its mail (a
//! `send_mail` job) in the transaction that completes this job, so a retry
//! never mails twice. Done here rather than in the request so that the
//! request does the same work (one insert) whatever the address's state.

use super::repo::ClaimedJob;
use super::runner::{JobContext, JobResult};
use crate::subscriptions::service::{self, Request};

/// Runs one attempt.
pub async fn run(ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let req: Request = serde_json::from_value(payload)?;
    let settings = ctx.settings.clone();
    Ok(Some(Box::new(move |c| service::request(c, &settings, &req))))
}
