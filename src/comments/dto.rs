//! Wire types for comments. Public types never carry an email, address or
//! token; the moderation view carries the commenter's email and address,
//! for moderators only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{CommentRow, ModerationStatus};
use super::service::{self, ThreadItem};

/// `POST /articles/{article}/comments` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ana", "email": "ana@example.com", "website": "https://ana.example",
    "body": "Thanks, *very* useful.", "parent_id": null, "notify_replies": true,
    "form_token": "bcf1.42.1767225600000.Zm9ybS10b2tlbi1ub25jZQ.q3JkX2V4YW1wbGVfbWFjX3ZhbHVlX2hlcmU"}))]
pub struct CreateComment {
    /// Display name (1–100 characters; `<` and `>` are dropped). Required
    /// for readers; signed-in users comment under their author name.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: Option<String>,
    /// The reader's address; never shown publicly. Required for readers.
    #[schema(max_length = 254, format = "email")]
    pub email: Option<String>,
    /// Optional `http`/`https` URL.
    #[schema(max_length = 500, format = "uri")]
    pub website: Option<String>,
    /// Plain text with a Markdown subset (emphasis, code, quotes, lists,
    /// links); raw HTML is shown as text. At most `COMMENT_MAX_CHARS` (5000).
    #[schema(
        min_length = 1,
        max_length = 100000,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub body: String,
    /// An approved comment on the same article to reply to.
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
    /// Mail me when someone replies (sent only once the address is verified).
    #[serde(default)]
    pub notify_replies: bool,
    /// Honeypot: leave empty (hidden from people). Filled, the comment is spam.
    #[schema(max_length = 0)]
    pub homepage: Option<String>,
    /// The signed token from `GET /articles/{article}/comments/form-token`,
    /// single-use. Required for readers unless `COMMENT_FORM_TOKEN=optional`;
    /// ignored for signed-in users. Sent sooner than
    /// `COMMENT_FORM_MIN_SECONDS` (3) after its issue, the comment is spam.
    #[schema(max_length = 200, example = "bcf1.42.1767225600000.Zm9ybS10b2tlbi1ub25jZQ.q3Jk…")]
    pub form_token: Option<String>,
}

/// A signed comment form token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"form_token": "bcf1.42.1767225600000.Zm9ybS10b2tlbi1ub25jZQ.q3JkX2V4YW1wbGVfbWFjX3ZhbHVlX2hlcmU",
    "article_id": 42, "issued_at": "2026-01-01T00:00:00Z", "usable_from": "2026-01-01T00:00:03Z",
    "expires_at": "2026-01-02T00:00:00Z"}))]
pub struct CommentFormToken {
    /// Send it as `form_token` with the comment; it works once.
    pub form_token: String,
    /// The article it is for.
    pub article_id: i64,
    /// RFC 3339 UTC.
    pub issued_at: DateTime<Utc>,
    /// A comment sent before this (`COMMENT_FORM_MIN_SECONDS` after the
    /// issue) is stored as spam. RFC 3339 UTC.
    pub usable_from: DateTime<Utc>,
    /// After this (`COMMENT_FORM_MAX_AGE_MINUTES`) the token is refused. RFC 3339 UTC.
    pub expires_at: DateTime<Utc>,
}

/// `{"data": CommentFormToken}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentFormTokenEnvelope {
    /// The token.
    pub data: CommentFormToken,
}

/// A comment as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "parent_id": 11, "depth": 1, "reply_count": 0, "author_name": "A reader",
    "author_url": null, "author_role": null, "avatar_url": "https://news.example.com/api/v1/avatars/5f0c1b2a9d8e7f6a5b4c3d2e1f0a9b8c.svg",
    "body_html": "<p>Thanks for the correction.</p>", "removed": false, "up_count": 3, "down_count": 1, "score": 2,
    "created_at": "2026-02-01T12:30:00Z", "edited_at": null}))]
pub struct Comment {
    /// Numeric id.
    pub id: i64,
    /// The comment this one replies to; `null` for a top-level comment.
    pub parent_id: Option<i64>,
    /// 0 for a top-level comment, 1 for a reply, and so on.
    pub depth: i64,
    /// Approved direct replies.
    pub reply_count: i64,
    /// Name the commenter gave; `null` for a removed comment.
    pub author_name: Option<String>,
    /// Website the commenter gave.
    pub author_url: Option<String>,
    /// `staff` or `author` (an author of the article) for comments by
    /// signed-in users; `null` for readers.
    pub author_role: Option<String>,
    /// A generated avatar keyed by a server-side secret (never a hash of
    /// the email); `null` when none.
    pub avatar_url: Option<String>,
    /// Comment text, sanitized HTML; `[removed]` for a removed comment kept
    /// because it has replies.
    pub body_html: String,
    /// Whether this is a "[removed]" placeholder.
    pub removed: bool,
    /// Up votes.
    pub up_count: i32,
    /// Down votes.
    pub down_count: i32,
    /// `up_count - down_count`.
    pub score: i32,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// When the text last changed, RFC 3339 UTC.
    pub edited_at: Option<DateTime<Utc>>,
}

impl Comment {
    /// The public view of a thread item; `avatar` is the reader's avatar key.
    pub fn from_item(item: ThreadItem, avatar: Option<&String>, base_url: &str) -> Self {
        let ThreadItem { row: r, depth, reply_count, placeholder } = item;
        if placeholder {
            return Self {
                id: r.id,
                parent_id: r.parent_id,
                depth,
                reply_count,
                author_name: None,
                author_url: None,
                author_role: None,
                avatar_url: None,
                body_html: service::REMOVED.into(),
                removed: true,
                up_count: 0,
                down_count: 0,
                score: 0,
                created_at: r.created_at.and_utc(),
                edited_at: None,
            };
        }
        Self {
            id: r.id,
            parent_id: r.parent_id,
            depth,
            reply_count,
            author_name: Some(r.author_name),
            author_url: r.author_url,
            author_role: r.author_role,
            avatar_url: avatar.map(|k| format!("{base_url}/api/v1/avatars/{k}.svg")),
            body_html: r.body,
            removed: false,
            up_count: r.up_count,
            down_count: r.down_count,
            score: r.score,
            created_at: r.created_at.and_utc(),
            edited_at: r.body_source.as_ref().and(r.updated_at).map(|t| t.and_utc()),
        }
    }
}

crate::list_envelope!(
    CommentList,
    Comment,
    "A page of top-level threads with their replies, in thread order; `meta` counts threads."
);

/// Query of the public comment list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicQuery {
    /// 1-based page of top-level threads; default 1.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Top-level threads per page (each with its replies), 1–100; default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// `oldest` (default), `newest` or `top` (score, then age); applies at every level.
    #[param(value_type = Option<String>, pattern = "^(oldest|newest|top)$")]
    pub sort: Option<String>,
    /// `true` lists pingbacks and trackbacks too (as top-level items).
    #[param(value_type = Option<bool>)]
    pub include_pings: Option<String>,
}

/// A new comment, as its author sees it once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 40, "article_id": 3, "parent_id": null, "status": "pending",
    "reasons": ["first_comment: the address is not verified"], "edit_token": "bce_q2…",
    "edit_until": "2026-12-02T10:15:00Z", "verification_sent": true, "body_html": "<p>Hello</p>"}))]
pub struct PostedComment {
    /// Numeric id.
    pub id: i64,
    /// The article.
    pub article_id: i64,
    /// The comment replied to.
    pub parent_id: Option<i64>,
    /// The policy's decision: `approved`, `pending` or `spam`.
    pub status: ModerationStatus,
    /// Why (each `"{rule}: {reason}"`).
    pub reasons: Vec<String>,
    /// Send as `X-Edit-Token` to edit or delete this comment until
    /// `edit_until`. Shown only here; keep it private.
    pub edit_token: String,
    /// End of the edit window (RFC 3339 UTC).
    pub edit_until: DateTime<Utc>,
    /// Whether a verification mail was queued for the address.
    pub verification_sent: bool,
    /// The rendered text.
    pub body_html: String,
}

crate::data_envelope!(PostedCommentEnvelope, PostedComment, "`{data: PostedComment}`.");

/// `PATCH /comments/{id}` body. With `X-Edit-Token` (the author), only
/// `body`; otherwise (a moderator) any of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "approved", "reason": "on topic"}))]
pub struct UpdateComment {
    /// New text (same rules as on create).
    #[schema(
        min_length = 1,
        max_length = 100000,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub body: Option<String>,
    /// New state (moderators only).
    pub status: Option<ModerationStatus>,
    /// Why, recorded with the decision (moderators only; ≤ 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// `POST /comments/bulk` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ids": [4, 5, 6], "status": "spam", "reason": "link farm"}))]
pub struct BulkUpdate {
    /// 1–100 comment ids.
    #[schema(min_items = 1, max_items = 100)]
    pub ids: Vec<i64>,
    /// The new state for all of them.
    pub status: ModerationStatus,
    /// Why, recorded with each decision (≤ 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// The result of a bulk change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"updated": 3}))]
pub struct BulkResult {
    /// Comments changed.
    pub updated: usize,
}

crate::data_envelope!(BulkResultEnvelope, BulkResult, "`{data: BulkResult}`.");

/// One recorded moderation decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// The state decided.
    pub status: String,
    /// `policy`, `user:{id}` or `key:{id}`.
    pub actor: String,
    /// Why.
    pub reasons: Vec<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}

/// A comment as moderators see it (with the commenter's email and address).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 40, "article_id": 3, "parent_id": null, "status": "pending", "author_name": "Ana",
    "author_email": "ana@example.com", "author_url": null, "author_role": null, "ip": "203.0.113.9",
    "body_html": "<p>Hello</p>", "body_source": "Hello", "removed": false, "up_count": 0, "down_count": 0, "score": 0,
    "created_at": "2026-12-02T10:00:00Z", "updated_at": null,
    "decisions": [{"status": "pending", "actor": "policy", "reasons": ["first_comment: the address is not verified"], "created_at": "2026-12-02T10:00:00Z"}]}))]
pub struct ModerationComment {
    /// Numeric id.
    pub id: i64,
    /// The article.
    pub article_id: i64,
    /// The comment replied to.
    pub parent_id: Option<i64>,
    /// Moderation state.
    pub status: ModerationStatus,
    /// Name given.
    pub author_name: String,
    /// Email given (private).
    pub author_email: Option<String>,
    /// Website given.
    pub author_url: Option<String>,
    /// `staff` or `author` for signed-in users.
    pub author_role: Option<String>,
    /// Client address (private).
    pub ip: Option<String>,
    /// Rendered text.
    pub body_html: String,
    /// Text as written (`null` for imported comments).
    pub body_source: Option<String>,
    /// Deleted by its author.
    pub removed: bool,
    /// Up votes.
    pub up_count: i32,
    /// Down votes.
    pub down_count: i32,
    /// Score.
    pub score: i32,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: Option<DateTime<Utc>>,
    /// Every decision, oldest first, with its reasons.
    pub decisions: Vec<DecisionView>,
}

impl ModerationComment {
    /// The moderation view of `r` with its decisions.
    pub fn from_row(r: CommentRow, decisions: Vec<DecisionView>) -> Self {
        Self {
            id: r.id,
            article_id: r.article_id,
            parent_id: r.parent_id,
            status: r.status(),
            author_name: r.author_name,
            author_email: r.author_email,
            author_url: r.author_url,
            author_role: r.author_role,
            ip: r.ip,
            body_html: r.body,
            body_source: r.body_source,
            removed: r.removed,
            up_count: r.up_count,
            down_count: r.down_count,
            score: r.score,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.map(|t| t.and_utc()),
            decisions,
        }
    }
}

crate::data_envelope!(ModerationCommentEnvelope, ModerationComment, "`{data: ModerationComment}`.");

/// Comments per state.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct StateCounts {
    /// Waiting.
    pub pending: i64,
    /// Public.
    pub approved: i64,
    /// Spam.
    pub spam: i64,
    /// Trash.
    pub trash: i64,
}

/// The moderation queue: a page and the counts per state (for the same
/// article filter and the caller's scope, whatever `status` is).
#[derive(Debug, Serialize, ToSchema)]
pub struct ModerationList {
    /// The comments on this page, newest first.
    pub data: Vec<ModerationComment>,
    /// Paging metadata.
    pub meta: crate::pagination::PageMeta,
    /// Comments per state.
    pub counts: StateCounts,
}

/// Query of the moderation queue.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// 1-based page number; default 1.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items per page, 1–100; default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// Only this state.
    #[param(value_type = Option<String>, pattern = "^(pending|approved|spam|trash)$")]
    pub status: Option<String>,
    /// Only this article (id or slug).
    pub article: Option<String>,
}

/// `POST /comments/{id}/votes` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"value": 1}))]
pub struct VoteRequest {
    /// `1` (up) or `-1` (down).
    #[schema(schema_with = vote_value)]
    pub value: i32,
}

/// `VoteRequest.value`: exactly `1` or `-1` (0 is refused, 400).
fn vote_value() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .enum_values(Some([1, -1]))
        .description(Some("`1` (up) or `-1` (down)."))
        .build()
}

/// A comment's counters after a vote.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"up_count": 4, "down_count": 1, "score": 3, "my_vote": 1}))]
pub struct VoteTally {
    /// Up votes.
    pub up_count: i32,
    /// Down votes.
    pub down_count: i32,
    /// `up_count - down_count`.
    pub score: i32,
    /// The caller's vote; `null` after taking it back.
    pub my_vote: Option<i32>,
}

crate::data_envelope!(VoteTallyEnvelope, VoteTally, "`{data: VoteTally}`.");
