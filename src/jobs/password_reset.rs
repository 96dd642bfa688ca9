//! `password_reset`: answers a `POST /auth/password-reset`. Payload:
//! `{"email": str}` (normalized). If the address belongs to an enabled user,
//! issues a reset token and queues its mail (a `send_mail` job) in the
//! transaction that completes this job, so a retry never mails twice;
//! otherwise does nothing. Done here rather than in the request
//! so that the request does the same work (one insert) for every address.

use serde::Deserialize;

use super::repo::ClaimedJob;
use super::runner::{JobContext, JobResult};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    email: String,
}

/// Runs one attempt.
pub async fn run(ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let Payload { email } = serde_json::from_value(payload)?;
    let settings = ctx.settings.clone();
    Ok(Some(Box::new(move |c| crate::auth::recovery::request_reset(c, &settings, &email))))
}
