//! Wire types for comments. The commenter's email is never part of them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::CommentRow;

/// An approved reader comment as served publicly.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "parent_id": 11, "author_name": "A reader", "author_url": null,
    "body_html": "<p>Thanks for the correction.</p>", "created_at": "2026-02-01T12:30:00Z"}))]
pub struct Comment {
    /// Numeric id.
    pub id: i64,
    /// The comment this one replies to; `null` for a top-level comment. Build
    /// threads by grouping on this field.
    pub parent_id: Option<i64>,
    /// Name the commenter gave.
    pub author_name: String,
    /// Website the commenter gave.
    pub author_url: Option<String>,
    /// Comment text, sanitized HTML.
    pub body_html: String,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}

impl From<CommentRow> for Comment {
    fn from(r: CommentRow) -> Self {
        Self {
            id: r.id,
            parent_id: r.parent_id,
            author_name: r.author_name,
            author_url: r.author_url,
            body_html: r.body,
            created_at: r.created_at.and_utc(),
        }
    }
}

crate::list_envelope!(CommentList, Comment, "A page of comments, oldest first.");
