//! `comment_spam_check`: asks the Akismet-compatible checker about one
//! pending comment (`crate::comments::akismet`). Payload: `{"comment_id":
//! i64, "status": "approved"|"pending", "reasons": [String], "user_agent":
//! String|null, "referrer": String|null}` (the built-in decision and the
//! request headers the service wants; the headers are kept nowhere else).
//!
//! The HTTP call happens outside any transaction; a failure or timeout is a
//! failed attempt (retried with backoff, the comment stays pending); the
//! answer is applied in the transaction that completes the job.

use serde::Deserialize;

use super::repo::ClaimedJob;
use super::runner::{JobContext, JobResult};
use crate::comments::{akismet, model::ModerationStatus, policy};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    comment_id: i64,
    status: String,
    reasons: Vec<String>,
    user_agent: Option<String>,
    referrer: Option<String>,
}

/// Runs one attempt.
pub async fn run(ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let p: Payload = serde_json::from_value(payload)?;
    let status = ModerationStatus::parse(&p.status).ok_or_else(|| anyhow::anyhow!("bad status `{}`", p.status))?;
    let builtin = policy::Decision { status, reasons: p.reasons };
    let id = p.comment_id;
    let row = crate::db::run(&ctx.pool, move |c| Ok(akismet::still_waiting(c, id)?))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(row) = row else { return Ok(None) };
    let answer = match &ctx.settings.comments.akismet {
        Some(cfg) => {
            let fields = akismet::fields(&row, p.user_agent.as_deref(), p.referrer.as_deref());
            let a = akismet::comment_check(cfg, &fields).await.map_err(|e| anyhow::anyhow!("akismet: {e}"))?;
            Some(a)
        }
        None => None,
    };
    let settings = ctx.settings.clone();
    Ok(Some(Box::new(move |c| akismet::apply(c, &settings, id, &builtin, answer))))
}
