//! Signed webhooks (Standard Webhooks): admin-managed endpoints, events
//! emitted inside the writer's transaction, deliveries as durable jobs.
//!
//! - [`emit`] runs on the caller's connection: for every active endpoint that
//!   chose the event it inserts one `webhook_deliveries` row (unique per
//!   endpoint and message id) and enqueues its first `webhook_delivery` job.
//!   Nothing is sent unless the caller's transaction commits, and a request
//!   never waits on a receiver.
//! - [`deliver`] makes one attempt per job: signs (`sign`), posts through the
//!   SSRF-guarded client (`ssrf`), records the outcome, and on failure
//!   enqueues the next attempt with backoff, keeping the same `webhook-id`.
//!   After `WEBHOOK_MAX_ATTEMPTS` the delivery fails; after
//!   `WEBHOOK_DISABLE_AFTER_FAILURES` failed deliveries in a row the
//!   endpoint is disabled and every admin is mailed.

pub mod deliver;
pub mod dto;
pub mod handlers;
pub mod live;
pub mod model;
pub mod repo;
pub mod service;
pub mod sign;
pub mod ssrf;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbConnection;

/// Every event an endpoint can choose. The wire form is `resource.action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Event {
    /// An article became public (published now, or a scheduled one was saved public).
    #[serde(rename = "article.published")]
    ArticlePublished,
    /// A public article was saved.
    #[serde(rename = "article.updated")]
    ArticleUpdated,
    /// A public article went back to draft or was archived.
    #[serde(rename = "article.unpublished")]
    ArticleUnpublished,
    /// An article was deleted.
    #[serde(rename = "article.deleted")]
    ArticleDeleted,
    /// A comment was submitted.
    #[serde(rename = "comment.created")]
    CommentCreated,
    /// A comment was approved.
    #[serde(rename = "comment.approved")]
    CommentApproved,
    /// Media was uploaded.
    #[serde(rename = "media.created")]
    MediaCreated,
    /// Media metadata was changed.
    #[serde(rename = "media.updated")]
    MediaUpdated,
    /// Media was deleted.
    #[serde(rename = "media.deleted")]
    MediaDeleted,
    /// An author profile was created.
    #[serde(rename = "author.created")]
    AuthorCreated,
    /// An author profile was changed.
    #[serde(rename = "author.updated")]
    AuthorUpdated,
    /// An author profile was deleted.
    #[serde(rename = "author.deleted")]
    AuthorDeleted,
    /// A newsletter subscription was confirmed.
    #[serde(rename = "subscription.confirmed")]
    SubscriptionConfirmed,
    /// A subscriber unsubscribed.
    #[serde(rename = "subscription.unsubscribed")]
    SubscriptionUnsubscribed,
    /// A test ping sent by `POST /webhooks/{id}/test` (never chosen, always allowed).
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl Event {
    /// Every event.
    pub const ALL: [Event; 15] = [
        Self::ArticlePublished,
        Self::ArticleUpdated,
        Self::ArticleUnpublished,
        Self::ArticleDeleted,
        Self::CommentCreated,
        Self::CommentApproved,
        Self::MediaCreated,
        Self::MediaUpdated,
        Self::MediaDeleted,
        Self::AuthorCreated,
        Self::AuthorUpdated,
        Self::AuthorDeleted,
        Self::SubscriptionConfirmed,
        Self::SubscriptionUnsubscribed,
        Self::WebhookTest,
    ];

    /// The wire form, e.g. `article.published`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ArticlePublished => "article.published",
            Self::ArticleUpdated => "article.updated",
            Self::ArticleUnpublished => "article.unpublished",
            Self::ArticleDeleted => "article.deleted",
            Self::CommentCreated => "comment.created",
            Self::CommentApproved => "comment.approved",
            Self::MediaCreated => "media.created",
            Self::MediaUpdated => "media.updated",
            Self::MediaDeleted => "media.deleted",
            Self::AuthorCreated => "author.created",
            Self::AuthorUpdated => "author.updated",
            Self::AuthorDeleted => "author.deleted",
            Self::SubscriptionConfirmed => "subscription.confirmed",
            Self::SubscriptionUnsubscribed => "subscription.unsubscribed",
            Self::WebhookTest => "webhook.test",
        }
    }

    /// Parses the wire form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Queues `event` with `data` for every active endpoint that chose it, on
/// the caller's connection and inside its transaction. Returns how many
/// deliveries were queued. Call it once per event, after the write it
/// reports; `data` should be the resource's public JSON (never emails or secrets).
pub fn emit(conn: &mut DbConnection, event: Event, data: serde_json::Value) -> diesel::QueryResult<usize> {
    service::emit(conn, event, data, None)
}

/// Registers `/webhooks` routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_webhooks)
        .service(handlers::create_webhook)
        .service(handlers::get_webhook)
        .service(handlers::update_webhook)
        .service(handlers::delete_webhook)
        .service(handlers::list_deliveries)
        .service(handlers::replay_delivery)
        .service(handlers::test_webhook);
}

/// Emits the article event that `before` → `after` amounts to (`after`
/// `None`: deleted). One call per article write, inside its transaction.
///
/// `article.published` goes out once per public life of an article, recorded
/// in `article_announcements` ([`repo::announce`]): when a save leaves it
/// public and it was not announced yet (a new publication, a republication
/// after an unpublish, or a scheduled article whose time passed before its
/// [`live`] job ran; an unannounced article already stored as `published`,
/// such as an import, is recorded and reported as updated). A save of an announced public article is
/// `article.updated`; leaving the public after an announcement is
/// `article.unpublished`; deletion is `article.deleted`. Saving a draft
/// emits nothing. A save that leaves the article scheduled for later queues
/// the [`live`] job for its time.
pub fn article_changed(
    conn: &mut DbConnection,
    before: Option<&crate::articles::model::ArticleRow>,
    after: Option<&crate::articles::model::ArticleRow>,
) -> diesel::QueryResult<usize> {
    let now = crate::db::now();
    let Some(row) = after.or(before) else { return Ok(0) };
    let event = match after {
        None => {
            repo::forget_announcement(conn, row.id)?;
            Event::ArticleDeleted
        }
        Some(a) if a.is_public(now) => {
            // An article stored as published before this save but never
            // announced (imported, or written around this code) was public
            // all along: record it, and report the save as an update.
            let was_published = before.is_some_and(|b| b.status == crate::articles::model::status::PUBLISHED);
            if repo::announce(conn, a.id, now)? && !was_published {
                Event::ArticlePublished
            } else {
                Event::ArticleUpdated
            }
        }
        Some(a) => {
            if let (crate::articles::model::status::SCHEDULED, Some(at)) = (a.status.as_str(), a.published_at) {
                crate::jobs::enqueue(conn, &live::job(a.id, at))?;
            }
            let was_published =
                before.is_some_and(|b| b.status == crate::articles::model::status::PUBLISHED && b.is_public(now));
            if repo::forget_announcement(conn, a.id)? || was_published {
                Event::ArticleUnpublished
            } else {
                return Ok(0);
            }
        }
    };
    emit(conn, event, article_data(row, now))
}

/// The `data` of article events: id, slug, title, status, times, version.
pub fn article_data(row: &crate::articles::model::ArticleRow, now: chrono::NaiveDateTime) -> serde_json::Value {
    serde_json::json!({
        "id": row.id,
        "slug": row.slug,
        "title": row.title,
        "status": row.effective_status(now),
        "published_at": row.published_at.map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "updated_at": row.updated_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "version": row.version,
    })
}

/// `comment.created` for a comment just posted (spam emits nothing), and
/// `comment.approved` as well when the policy approved it at once. Data:
/// [`comment_data`]. Inside the posting transaction.
pub fn comment_posted(conn: &mut DbConnection, row: &crate::comments::model::CommentRow) -> diesel::QueryResult<usize> {
    use crate::comments::model::status;
    if row.status == status::SPAM {
        return Ok(0);
    }
    let mut n = emit(conn, Event::CommentCreated, comment_data(row))?;
    if row.is_visible() {
        n += emit(conn, Event::CommentApproved, comment_data(row))?;
    }
    Ok(n)
}

/// `comment.approved` when a moderation made `after` visible (approved and
/// not removed) and `before` was not. Inside the moderation's transaction.
pub fn comment_moderated(
    conn: &mut DbConnection,
    before: &crate::comments::model::CommentRow,
    after: &crate::comments::model::CommentRow,
) -> diesel::QueryResult<usize> {
    if after.is_visible() && !before.is_visible() {
        emit(conn, Event::CommentApproved, comment_data(after))
    } else {
        Ok(0)
    }
}

/// The `data` of comment events: never the email, address or edit token.
pub fn comment_data(row: &crate::comments::model::CommentRow) -> serde_json::Value {
    serde_json::json!({
        "id": row.id,
        "article_id": row.article_id,
        "parent_id": row.parent_id,
        "author_name": row.author_name,
        "author_url": row.author_url,
        "body": row.body,
        "status": row.status,
        "created_at": rfc3339(row.created_at),
    })
}

/// `media.created`, `media.updated` or `media.deleted` for `row` (as it is
/// after the write; before it, for a delete). Inside the write's transaction.
pub fn media_changed(
    conn: &mut DbConnection,
    event: Event,
    row: &crate::media::model::MediaRow,
) -> diesel::QueryResult<usize> {
    let data = serde_json::json!({
        "id": row.id,
        "kind": row.kind,
        "file_name": row.file_name,
        "mime_type": row.mime_type,
        "byte_size": row.byte_size,
        "width": row.width,
        "height": row.height,
        "title": row.title,
        "alt_text": row.alt_text,
        "caption": row.caption,
        "credit": row.credit,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    });
    emit(conn, event, data)
}

/// `subscription.confirmed` or `subscription.unsubscribed` for `row` (as it
/// is after the change). The data holds no email address: id, status,
/// topics and times. Inside the change's transaction.
pub fn subscription_changed(
    conn: &mut DbConnection,
    event: Event,
    row: &crate::subscriptions::model::SubscriberRow,
) -> diesel::QueryResult<usize> {
    let topics = crate::subscriptions::repo::topics(conn, row.id)?;
    let data = serde_json::json!({
        "id": row.id,
        "status": row.status,
        "topics": topics,
        "confirmed_at": row.confirmed_at.map(rfc3339),
        "unsubscribed_at": row.unsubscribed_at.map(rfc3339),
    });
    emit(conn, event, data)
}

fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
