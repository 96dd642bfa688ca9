//! Wire types of `/mailings` and `/articles/{id}/newsletter`.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{DeliveryState, HeldReason, MailingRow, MailingState, NewsletterMode};

fn utc(t: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

/// Delivery records of a mailing per state.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(example = json!({"total": 1000, "queued": 400, "sent": 590, "failed": 2, "skipped": 8}))]
pub struct DeliveryCounts {
    /// Every delivery record (one per recipient).
    pub total: i64,
    /// Not sent yet.
    pub queued: i64,
    /// Accepted by the mail transport.
    pub sent: i64,
    /// Given up on.
    pub failed: i64,
    /// Not sent: the subscriber left (unsubscribed, bounced, complained, erased) meanwhile.
    pub skipped: i64,
}

impl DeliveryCounts {
    /// Adds `n` records in stored state `state`.
    pub fn add(&mut self, state: &str, n: i64) {
        self.total += n;
        match DeliveryState::parse(state) {
            Some(DeliveryState::Queued) => self.queued += n,
            Some(DeliveryState::Sent) => self.sent += n,
            Some(DeliveryState::Failed) => self.failed += n,
            Some(DeliveryState::Skipped) | None => self.skipped += n,
        }
    }
}

/// A mailing: one per published article.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 7, "article_id": 42, "article_title": "Council approves the new bridge", "state": "sending", "held_reason": null,
    "subject": "Council approves the new bridge", "scheduled_at": "2026-12-02T06:00:00Z",
    "started_at": "2026-12-02T06:00:01Z", "finished_at": null, "created_at": "2026-12-01T18:30:00Z",
    "deliveries": {"total": 1000, "queued": 400, "sent": 590, "failed": 2, "skipped": 8}
}))]
pub struct Mailing {
    /// Id.
    pub id: i64,
    /// The article it announces; `null` once the article was deleted (the
    /// mailing and its delivery records stay, as history).
    pub article_id: Option<i64>,
    /// The article's title when the mailing was made or started (kept after
    /// the article is deleted).
    pub article_title: Option<String>,
    /// Where it is.
    pub state: MailingState,
    /// Why it is held (`review`: the article's mode is `hold`; `late`: its time passed long ago).
    pub held_reason: Option<HeldReason>,
    /// The subject (the article's title when it started); `null` before.
    pub subject: Option<String>,
    /// When it starts (the article's publication time, or its release).
    pub scheduled_at: chrono::DateTime<chrono::Utc>,
    /// When its delivery records were made.
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the last delivery settled.
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When publishing created it.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Progress.
    pub deliveries: DeliveryCounts,
}

impl Mailing {
    /// The wire form of `row` with its counts.
    pub fn from_row(row: &MailingRow, deliveries: DeliveryCounts) -> Self {
        Self {
            id: row.id,
            article_id: row.article_id,
            article_title: row.article_title.clone(),
            state: row.state(),
            held_reason: row.held_reason.as_deref().and_then(HeldReason::parse),
            subject: row.subject.clone(),
            scheduled_at: utc(row.scheduled_at),
            started_at: row.started_at.map(utc),
            finished_at: row.finished_at.map(utc),
            created_at: utc(row.created_at),
            deliveries,
        }
    }
}

crate::data_envelope!(MailingEnvelope, Mailing, "`{\"data\": Mailing}`");
crate::list_envelope!(MailingList, Mailing, "A page of mailings.");

/// What `POST /mailings/{id}/retry` did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "requeued": 2,
    "mailing": {
        "id": 7, "article_id": 42, "article_title": "Council approves the new bridge", "state": "sending",
        "held_reason": null, "subject": "Council approves the new bridge", "scheduled_at": "2026-12-02T06:00:00Z",
        "started_at": "2026-12-02T06:00:01Z", "finished_at": null, "created_at": "2026-12-01T18:30:00Z",
        "deliveries": {"total": 1000, "queued": 2, "sent": 990, "failed": 0, "skipped": 8}
    }
}))]
pub struct MailingRetry {
    /// Failed deliveries moved back to `queued` (0 when there were none).
    pub requeued: usize,
    /// The mailing after the re-queue.
    pub mailing: Mailing,
}

crate::data_envelope!(MailingRetryEnvelope, MailingRetry, "`{\"data\": MailingRetry}`");

/// `GET /mailings` query: pagination and a state filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MailingQuery {
    /// 1-based page number (≤ 1,000,000).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// Only mailings in this state.
    #[param(value_type = Option<MailingState>)]
    pub state: Option<String>,
}

/// An article's newsletter mode.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"article_id": 42, "mode": "hold"}))]
pub struct ArticleNewsletter {
    /// The article.
    pub article_id: i64,
    /// What publishing it does: `send` (default), `hold` for review, or `off`.
    pub mode: NewsletterMode,
}

crate::data_envelope!(ArticleNewsletterEnvelope, ArticleNewsletter, "`{\"data\": ArticleNewsletter}`");

/// `PUT /articles/{id}/newsletter` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mode": "hold"}))]
pub struct SetArticleNewsletter {
    /// `send`: mail matching subscribers on publication; `hold`: create the
    /// mailing held for an editor; `off`: no mailing. Applies to a mailing
    /// not created yet (set it before publishing); release or cancel one
    /// that exists.
    pub mode: NewsletterMode,
}
