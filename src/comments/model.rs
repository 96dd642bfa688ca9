//! Database rows for `comments`, `comment_decisions` and `comment_votes`,
//! and the moderation state.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::comments;

/// Values of `comments.status`: the moderation states.
pub mod status {
    /// Waiting in the moderation queue.
    pub const PENDING: &str = "pending";
    /// Public.
    pub const APPROVED: &str = "approved";
    /// Marked as spam.
    pub const SPAM: &str = "spam";
    /// Deleted by a moderator (kept for recovery).
    pub const TRASH: &str = "trash";
}

/// Values of `comments.kind`.
pub mod kind {
    /// A reader's comment.
    pub const COMMENT: &str = "comment";
    /// A pingback from another blog.
    pub const PINGBACK: &str = "pingback";
    /// A trackback from another blog.
    pub const TRACKBACK: &str = "trackback";
}

/// A comment's moderation state. Stored as TEXT (`comments.status`, with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModerationStatus {
    /// Waiting in the moderation queue; not public.
    Pending,
    /// Public.
    Approved,
    /// Spam: kept with its reasons, never public.
    Spam,
    /// Deleted by a moderator; kept for recovery, never public.
    Trash,
}

impl ModerationStatus {
    /// Every state.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Approved, Self::Spam, Self::Trash];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => status::PENDING,
            Self::Approved => status::APPROVED,
            Self::Spam => status::SPAM,
            Self::Trash => status::TRASH,
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One `comments` row. `author_email`, `ip` and `edit_token_hash` are private.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    /// Sanitized HTML.
    pub body: String,
    pub status: String,
    pub kind: String,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub reader_id: Option<i64>,
    pub user_id: Option<i64>,
    /// `staff` or `author` for comments by signed-in users.
    pub author_role: Option<String>,
    /// The text as written (Markdown subset); `None` for imported comments.
    pub body_source: Option<String>,
    pub edit_token_hash: Option<String>,
    pub ip: Option<String>,
    pub notify_replies: bool,
    /// Deleted by its author: shown as "[removed]" while it has replies.
    pub removed: bool,
    pub up_count: i32,
    pub down_count: i32,
    pub score: i32,
    pub updated_at: Option<NaiveDateTime>,
}

impl CommentRow {
    /// The parsed status (`pending` for anything unknown, which the CHECK rules out).
    pub fn status(&self) -> ModerationStatus {
        ModerationStatus::parse(&self.status).unwrap_or(ModerationStatus::Pending)
    }

    /// Whether the public sees it in full.
    pub fn is_visible(&self) -> bool {
        self.status == status::APPROVED && !self.removed
    }
}

/// Fields written when a comment is imported (insert or update).
#[derive(Clone, Debug, Insertable, AsChangeset)]
#[diesel(table_name = comments, treat_none_as_null = true)]
pub struct CommentForm {
    pub article_id: i64,
    pub author_name: String,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub body: String,
    pub status: String,
    pub kind: String,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A new comment from the API.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = comments)]
pub struct NewComment {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub body: String,
    pub body_source: Option<String>,
    pub status: String,
    pub kind: String,
    pub reader_id: Option<i64>,
    pub user_id: Option<i64>,
    pub author_role: Option<String>,
    pub edit_token_hash: Option<String>,
    pub ip: Option<String>,
    pub notify_replies: bool,
    pub created_at: NaiveDateTime,
}
