//! The optional Akismet-compatible spam checker (`COMMENT_AKISMET_URL` and
//! `COMMENT_AKISMET_KEY`), run by the `comment_spam_check` job.
//!
//! A reader's comment that the built-in checks ([`super::policy`]) do not
//! make spam is stored `pending` with the reason [`WAITING`], and one job is
//! queued in the same transaction ([`enqueue`]). The job, outside any
//! transaction, POSTs the comment to `{url}/1.1/comment-check` (form
//! fields as in Akismet's API: `api_key`, `blog`, `user_ip`, `user_agent`,
//! `referrer`, `comment_type`, `comment_author`, `comment_author_email`,
//! `comment_author_url`, `comment_content`, `comment_date_gmt`,
//! `blog_charset`) through the SSRF-guarded client of
//! `crate::webhooks::ssrf` (no redirects, no private addresses; loopback
//! only with `COMMENT_AKISMET_ALLOW_LOOPBACK`), bounded by
//! `COMMENT_AKISMET_TIMEOUT_MS`. Then, in the job's completing transaction
//! ([`apply`]):
//! - `true`: the comment moves to `spam`, the reason recorded;
//! - `false`: the built-in decision applies (approved, or still pending
//!   with its reasons), recorded with `akismet: not spam`;
//! - anything else (an error status, `invalid`, a timeout, a refused
//!   address): the attempt fails and the job is retried with backoff
//!   (`JOBS_*`); the comment stays `pending`, visible in the queue, and is
//!   never lost. A job that ends `dead` leaves it there for a moderator.
//!
//! A moderator's decision in the meantime wins: the job then changes
//! nothing. The reader's address and text are sent to the service: name it
//! in the privacy notice when switching it on.

use std::time::Duration;

use diesel::QueryResult;

use super::model::ModerationStatus;
use super::{policy, repo};
use crate::config::{AkismetSettings, Settings};
use crate::db::DbConnection;
use crate::jobs::{JobKind, NewJob};

/// The reason recorded while a comment waits for the external check.
pub const WAITING: &str = "akismet: waiting for the external spam check";
/// Longest header value (User-Agent, Referer) kept for the check, in bytes.
pub const MAX_HEADER: usize = 500;
/// Bytes of an answer read.
const ANSWER_LIMIT: usize = 1024;

/// What the service said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `true`; `discard` when it also sent `X-akismet-pro-tip: discard` (blatant spam).
    Spam {
        /// Blatant spam.
        discard: bool,
    },
    /// `false`.
    Ham,
}

/// Queues the check of comment `id` (on the caller's transaction). `builtin`
/// is what the built-in checks decided; it applies when the service says ham.
pub fn enqueue(
    conn: &mut DbConnection,
    id: i64,
    builtin: &policy::Decision,
    user_agent: Option<&str>,
    referrer: Option<&str>,
) -> QueryResult<()> {
    let payload = serde_json::json!({
        "comment_id": id,
        "status": builtin.status.as_str(),
        "reasons": builtin.reasons,
        "user_agent": user_agent,
        "referrer": referrer,
    });
    crate::jobs::enqueue(
        conn,
        &NewJob::new(JobKind::CommentSpamCheck, payload).unique(format!("comment_spam_check:{id}")),
    )?;
    Ok(())
}

/// Asks the service about one comment: `Err` says why there is no answer.
pub async fn comment_check(cfg: &AkismetSettings, fields: &[(&str, String)]) -> Result<Answer, String> {
    let url = format!("{}/1.1/comment-check", cfg.url);
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("api_key", cfg.key.expose());
        form.append_pair("blog", &cfg.blog);
        form.append_pair("blog_charset", "UTF-8");
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        form.finish()
    };
    let call = async {
        crate::webhooks::ssrf::check(&url, cfg.allow_loopback).await.map_err(|m| format!("url {m}"))?;
        let client = crate::webhooks::ssrf::client(cfg.allow_loopback, Duration::from_millis(cfg.timeout_ms))
            .map_err(|e| format!("client: {e}"))?;
        let mut res = client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = res.status().as_u16();
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let discard = header("x-akismet-pro-tip").is_some_and(|v| v.eq_ignore_ascii_case("discard"));
        let debug = header("x-akismet-debug-help");
        let mut kept = Vec::new();
        while kept.len() < ANSWER_LIMIT {
            match res.chunk().await {
                Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(ANSWER_LIMIT - kept.len())]),
                Ok(None) => break,
                Err(e) => return Err(format!("reading the answer failed: {e}")),
            }
        }
        let text = String::from_utf8_lossy(&kept);
        match (status, text.trim()) {
            (200, "true") => Ok(Answer::Spam { discard }),
            (200, "false") => Ok(Answer::Ham),
            _ => {
                let shown: String = text.trim().chars().take(100).collect();
                Err(format!("answered {status} `{shown}`{}", debug.map(|d| format!(" ({d})")).unwrap_or_default()))
            }
        }
    };
    match tokio::time::timeout(Duration::from_millis(cfg.timeout_ms), call).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} ms", cfg.timeout_ms)),
    }
}

/// The form fields describing comment `row` (beside the key and blog).
pub fn fields(
    row: &super::model::CommentRow,
    user_agent: Option<&str>,
    referrer: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("user_ip", row.ip.clone().unwrap_or_default()),
        ("user_agent", user_agent.unwrap_or_default().to_owned()),
        ("referrer", referrer.unwrap_or_default().to_owned()),
        ("comment_type", if row.parent_id.is_some() { "reply" } else { "comment" }.to_owned()),
        ("comment_author", row.author_name.clone()),
        ("comment_content", row.body_source.clone().unwrap_or_else(|| row.body.clone())),
        ("comment_date_gmt", row.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    ];
    if let Some(e) = &row.author_email {
        f.push(("comment_author_email", e.clone()));
    }
    if let Some(u) = &row.author_url {
        f.push(("comment_author_url", u.clone()));
    }
    f
}

/// Whether comment `id` is still waiting for the check: pending, and no
/// person has decided on it since it was posted.
pub fn still_waiting(conn: &mut DbConnection, id: i64) -> QueryResult<Option<super::model::CommentRow>> {
    let Some(row) = repo::find(conn, id)? else { return Ok(None) };
    if row.status() != ModerationStatus::Pending {
        return Ok(None);
    }
    let decided_by_person =
        repo::decisions_for(conn, &[id])?.last().is_some_and(|(_, _, actor, _, _)| actor != "policy");
    Ok((!decided_by_person).then_some(row))
}

/// Applies an answer to comment `id` (in the job's completing transaction).
/// `builtin` is the built-in decision queued with the job; `answer` is
/// `None` when the checker was switched off since.
pub fn apply(
    conn: &mut DbConnection,
    settings: &Settings,
    id: i64,
    builtin: &policy::Decision,
    answer: Option<Answer>,
) -> QueryResult<()> {
    let Some(row) = still_waiting(conn, id)? else { return Ok(()) };
    let now = crate::db::now();
    match answer {
        Some(Answer::Spam { discard }) => {
            let reason = if discard {
                "akismet: the external checker says spam (blatant: discard)"
            } else {
                "akismet: the external checker says spam"
            };
            repo::set_status(conn, id, ModerationStatus::Spam, now)?;
            repo::record_decision(conn, id, ModerationStatus::Spam, "policy", &[reason.to_owned()], now)
        }
        Some(Answer::Ham) | None => {
            let mut reasons = builtin.reasons.clone();
            reasons.push(
                if answer.is_some() {
                    "akismet: not spam"
                } else {
                    "akismet: switched off before the check; the built-in decision applies"
                }
                .to_owned(),
            );
            let status = builtin.status;
            if status != ModerationStatus::Pending {
                repo::set_status(conn, id, status, now)?;
            }
            repo::record_decision(conn, id, status, "policy", &reasons, now)?;
            if status == ModerationStatus::Approved {
                let after = repo::find(conn, id)?.unwrap_or(row);
                super::notify::on_approved(conn, settings, &after)?;
            }
            Ok(())
        }
    }
}
