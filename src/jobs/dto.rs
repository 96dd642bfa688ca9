//! Wire types for `/jobs` (admins only). Payloads are never shown: they may
//! hold secrets (a mail's id is harmless, but kinds added later may not be).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::repo::JobRow;
use super::{JobKind, JobState};

/// A queued, running or finished job.
#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    /// Numeric id.
    pub id: i64,
    /// What it does.
    pub kind: JobKind,
    /// Where it is.
    pub state: JobState,
    /// Attempts made so far (a running job counts its current one).
    pub attempts: i32,
    /// When it is (or was) due, RFC 3339 UTC.
    pub run_at: DateTime<Utc>,
    /// While running: when the runner's claim expires and another may take it.
    pub locked_until: Option<DateTime<Utc>>,
    /// The error of the last failed attempt, if any.
    pub last_error: Option<String>,
    /// Whether it was enqueued with a unique key (the key itself is not shown).
    pub unique: bool,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
    /// When it finished (`done` or `dead`), RFC 3339 UTC.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<JobRow> for Job {
    fn from(r: JobRow) -> Self {
        Self {
            id: r.id,
            kind: JobKind::parse(&r.kind).unwrap_or(JobKind::Probe),
            state: JobState::parse(&r.state).unwrap_or(JobState::Queued),
            attempts: r.attempts,
            run_at: r.run_at.and_utc(),
            locked_until: r.locked_until.map(|t| t.and_utc()),
            last_error: r.last_error,
            unique: r.unique_key.is_some(),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            finished_at: r.finished_at.map(|t| t.and_utc()),
        }
    }
}

/// `GET /jobs` query: pagination and filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// 1-based page number (≤ 1,000,000).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// Only jobs in this state.
    #[param(value_type = Option<JobState>)]
    pub state: Option<String>,
    /// Only jobs of this kind.
    #[param(value_type = Option<JobKind>)]
    pub kind: Option<String>,
}

crate::list_envelope!(JobList, Job, "A page of jobs.");
crate::data_envelope!(JobEnvelope, Job, "`{\"data\": Job}`");
