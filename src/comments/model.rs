//! Database rows for `comments`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

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

/// One `comments` row. `author_email` is private.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
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
