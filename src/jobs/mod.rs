//! The durable job queue: one `jobs` table on both backends.
//!
//! - [`enqueue`] runs on the caller's connection, inside its transaction, so
//!   a job exists exactly when the write that caused it committed.
//! - A [`runner::Runner`] (inside `broadsheet serve`, or alone as
//!   `broadsheet worker`) claims due jobs with a lease (`locked_until`), runs
//!   them, and completes, retries (exponential backoff with jitter) or buries
//!   them (`dead` after `JOBS_MAX_ATTEMPTS`). Claims are `FOR UPDATE SKIP
//!   LOCKED` on PostgreSQL, so any number of runners in any number of
//!   processes share one queue; on SQLite they are single statements under
//!   the writer lock (`db::write` in-process, SQLite's own lock across
//!   processes).
//! - One file per job kind ([`send_mail`], [`password_reset`], [`probe`], [`subscribe`], [`start_mailing`], [`send_mailing`], [`comment_reply`], [`comment_spam_check`]); [`JobKind`] is stored as TEXT.
//!
//! Errors: repository functions return `QueryResult`; job bodies return
//! `anyhow::Error`, recorded as `last_error` and never shown to HTTP clients
//! beyond the admin job list.

pub mod comment_reply;
pub mod comment_spam_check;
pub mod dto;
pub mod handlers;
pub mod password_reset;
pub mod probe;
pub mod repo;
pub mod runner;
pub mod search_index;
pub mod send_mail;
pub mod send_mailing;
pub mod start_mailing;
pub mod subscribe;

use chrono::NaiveDateTime;
use diesel::QueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbConnection;

pub use runner::{JobContext, Runner};

/// What a job does. Stored as TEXT (`jobs.kind`, with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Send one row of `mails` ([`send_mail`]).
    SendMail,
    /// Answer a password-reset request ([`password_reset`]).
    PasswordReset,
    /// Record an execution in `job_probes`, optionally sleeping, failing or
    /// panicking first ([`probe`]): for checking a deployment's runners, and tests.
    Probe,
    /// Answer a `POST /subscriptions` ([`subscribe`]).
    Subscribe,
    /// Start a new-article mailing at its time ([`start_mailing`]).
    StartMailing,
    /// Send one round of a mailing's deliveries ([`send_mailing`]).
    SendMailing,
    /// Mail a reader the approved replies to one of their comments ([`comment_reply`]).
    CommentReply,
    /// One attempt at one webhook delivery (`crate::webhooks::deliver`).
    WebhookDelivery,
    /// Send `article.published` when a scheduled article's time comes (`crate::webhooks::live`).
    ArticleLive,
    /// Ask the Akismet-compatible checker about a pending comment ([`comment_spam_check`]).
    CommentSpamCheck,
    /// Fill the PostgreSQL search vectors an import left for later ([`search_index`]).
    SearchIndex,
}

impl JobKind {
    /// Every kind.
    pub const ALL: [JobKind; 11] = [
        JobKind::SendMail,
        JobKind::PasswordReset,
        JobKind::Probe,
        JobKind::Subscribe,
        JobKind::StartMailing,
        JobKind::SendMailing,
        JobKind::CommentReply,
        JobKind::WebhookDelivery,
        JobKind::ArticleLive,
        JobKind::CommentSpamCheck,
        JobKind::SearchIndex,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendMail => "send_mail",
            Self::PasswordReset => "password_reset",
            Self::Probe => "probe",
            Self::Subscribe => "subscribe",
            Self::StartMailing => "start_mailing",
            Self::SendMailing => "send_mailing",
            Self::CommentReply => "comment_reply",
            Self::WebhookDelivery => "webhook_delivery",
            Self::ArticleLive => "article_live",
            Self::CommentSpamCheck => "comment_spam_check",
            Self::SearchIndex => "search_index",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a job is in its life. Stored as TEXT (`jobs.state`, with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed by a runner until `locked_until`.
    Running,
    /// The last attempt failed; it runs again at `run_at`.
    Failed,
    /// Finished.
    Done,
    /// Failed `JOBS_MAX_ATTEMPTS` times; runs again only when retried by an admin.
    Dead,
}

impl JobState {
    /// Every state.
    pub const ALL: [JobState; 5] = [Self::Queued, Self::Running, Self::Failed, Self::Done, Self::Dead];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Failed => "failed",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// What to run.
    pub kind: JobKind,
    /// The kind's arguments, as JSON.
    pub payload: serde_json::Value,
    /// Not before this time (UTC); `None` means now.
    pub run_at: Option<NaiveDateTime>,
    /// At most one job ever exists with this key: enqueueing it again is a no-op.
    pub unique_key: Option<String>,
}

impl NewJob {
    /// A job of `kind` with `payload`, due now.
    pub fn new(kind: JobKind, payload: serde_json::Value) -> Self {
        Self { kind, payload, run_at: None, unique_key: None }
    }

    /// Due at `at` (UTC).
    pub fn run_at(mut self, at: NaiveDateTime) -> Self {
        self.run_at = Some(at);
        self
    }

    /// Due after `delay`.
    pub fn delay(self, delay: chrono::Duration) -> Self {
        self.run_at(crate::db::now() + delay)
    }

    /// Deduplicated by `key`.
    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }
}

/// Adds `job` to the queue on `conn`, inside whatever transaction the caller
/// has open: the job exists only if that transaction commits. Returns the
/// new job's id, or `None` when a job with the same unique key already
/// exists (not an error: the first one runs, once).
pub fn enqueue(conn: &mut DbConnection, job: &NewJob) -> QueryResult<Option<i64>> {
    repo::insert(conn, job)
}

/// Registers `/jobs` routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_jobs).service(handlers::retry_job);
}
