//! Queries on `comments`, `comment_decisions` and `comment_votes`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{kind, CommentForm, CommentRow, ModerationStatus, NewComment};
use crate::db::schema::{article_authors, comment_decisions, comment_votes, comments};
use crate::db::DbConnection;
use crate::pagination::PageParams;

/// The comment `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<CommentRow>> {
    comments::table.find(id).select(CommentRow::as_select()).first(conn).optional()
}

/// Comments by id (one query).
pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<CommentRow>> {
    comments::table.filter(comments::id.eq_any(ids)).select(CommentRow::as_select()).load(conn)
}

/// Every comment of `article_id` of the given kinds, whatever its state,
/// oldest first: the public thread is built from this in one query.
pub fn all_for_article(conn: &mut DbConnection, article_id: i64, kinds: &[&str]) -> QueryResult<Vec<CommentRow>> {
    comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(comments::kind.eq_any(kinds))
        .order((comments::created_at.asc(), comments::id.asc()))
        .select(CommentRow::as_select())
        .load(conn)
}

/// Inserts a new comment; returns its id.
pub fn insert(conn: &mut DbConnection, c: &NewComment) -> QueryResult<i64> {
    diesel::insert_into(comments::table).values(c).returning(comments::id).get_result(conn)
}

/// Records a moderation decision with its reasons (a JSON array of strings).
pub fn record_decision(
    conn: &mut DbConnection,
    comment_id: i64,
    status: ModerationStatus,
    actor: &str,
    reasons: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(comment_decisions::table)
        .values((
            comment_decisions::comment_id.eq(comment_id),
            comment_decisions::status.eq(status.as_str()),
            comment_decisions::actor.eq(actor),
            comment_decisions::reasons.eq(serde_json::to_string(reasons).unwrap_or_else(|_| "[]".into())),
            comment_decisions::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One recorded decision: `(comment_id, status, actor, reasons JSON, created_at)`.
pub type DecisionRow = (i64, String, String, String, NaiveDateTime);

/// The decisions on `ids`, oldest first (one query).
pub fn decisions_for(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<DecisionRow>> {
    comment_decisions::table
        .filter(comment_decisions::comment_id.eq_any(ids))
        .order((comment_decisions::comment_id, comment_decisions::id))
        .select((
            comment_decisions::comment_id,
            comment_decisions::status,
            comment_decisions::actor,
            comment_decisions::reasons,
            comment_decisions::created_at,
        ))
        .load(conn)
}

/// Sets the state of comment `id`.
pub fn set_status(conn: &mut DbConnection, id: i64, status: ModerationStatus, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(comments::table.find(id))
        .set((comments::status.eq(status.as_str()), comments::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Replaces the text of comment `id`.
pub fn set_body(conn: &mut DbConnection, id: i64, html: &str, source: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(comments::table.find(id))
        .set((comments::body.eq(html), comments::body_source.eq(source), comments::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Marks comment `id` removed by its author and voids its edit token.
pub fn mark_removed(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(comments::table.find(id))
        .set((
            comments::removed.eq(true),
            comments::edit_token_hash.eq(None::<String>),
            comments::notify_replies.eq(false),
            comments::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Which comments the moderation queue shows.
#[derive(Clone, Debug, Default)]
pub struct QueueFilter {
    /// Only this state.
    pub status: Option<ModerationStatus>,
    /// Only this article.
    pub article_id: Option<i64>,
    /// Only articles bylined to this author (an author's own queue).
    pub byline_author: Option<i64>,
}

fn queue_query(f: &QueueFilter) -> comments::BoxedQuery<'static, <DbConnection as diesel::Connection>::Backend> {
    let mut q = comments::table.filter(comments::kind.eq(kind::COMMENT)).into_boxed();
    if let Some(s) = f.status {
        q = q.filter(comments::status.eq(s.as_str()));
    }
    if let Some(a) = f.article_id {
        q = q.filter(comments::article_id.eq(a));
    }
    if let Some(author) = f.byline_author {
        q = q.filter(comments::article_id.eq_any(
            article_authors::table.filter(article_authors::author_id.eq(author)).select(article_authors::article_id),
        ));
    }
    q
}

/// A page of the queue, newest first, and its total.
pub fn queue(conn: &mut DbConnection, f: &QueueFilter, page: &PageParams) -> QueryResult<(Vec<CommentRow>, i64)> {
    let total = queue_query(f).count().get_result(conn)?;
    let rows = queue_query(f)
        .order((comments::created_at.desc(), comments::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(CommentRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Comments per state under the queue filter, ignoring its `status` (one
/// count per state: a boxed query cannot be grouped).
pub fn queue_counts(conn: &mut DbConnection, f: &QueueFilter) -> QueryResult<Vec<(ModerationStatus, i64)>> {
    ModerationStatus::ALL
        .into_iter()
        .map(|s| {
            let n = queue_query(&QueueFilter { status: Some(s), ..f.clone() }).count().get_result(conn)?;
            Ok((s, n))
        })
        .collect()
}

/// The author ids on `article_id`'s byline.
pub fn bylines(conn: &mut DbConnection, article_id: i64) -> QueryResult<Vec<i64>> {
    article_authors::table
        .filter(article_authors::article_id.eq(article_id))
        .select(article_authors::author_id)
        .load(conn)
}

/// The value of `voter`'s vote on `comment_id`, if any.
pub fn vote_of(conn: &mut DbConnection, comment_id: i64, voter: &str) -> QueryResult<Option<i32>> {
    comment_votes::table.find((comment_id, voter)).select(comment_votes::value).first(conn).optional()
}

/// Inserts a vote.
pub fn insert_vote(
    conn: &mut DbConnection,
    comment_id: i64,
    voter: &str,
    value: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(comment_votes::table)
        .values((
            comment_votes::comment_id.eq(comment_id),
            comment_votes::voter.eq(voter),
            comment_votes::value.eq(value),
            comment_votes::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Changes a vote's value.
pub fn update_vote(conn: &mut DbConnection, comment_id: i64, voter: &str, value: i32) -> QueryResult<()> {
    diesel::update(comment_votes::table.find((comment_id, voter)))
        .set(comment_votes::value.eq(value))
        .execute(conn)
        .map(|_| ())
}

/// Deletes a vote; returns whether one existed.
pub fn delete_vote(conn: &mut DbConnection, comment_id: i64, voter: &str) -> QueryResult<bool> {
    Ok(diesel::delete(comment_votes::table.find((comment_id, voter))).execute(conn)? == 1)
}

/// Adds to a comment's counters in one `UPDATE … SET x = x + ?`, so
/// concurrent votes never lose an increment.
pub fn adjust_counts(conn: &mut DbConnection, id: i64, up: i32, down: i32) -> QueryResult<(i32, i32, i32)> {
    diesel::update(comments::table.find(id))
        .set((
            comments::up_count.eq(comments::up_count + up),
            comments::down_count.eq(comments::down_count + down),
            comments::score.eq(comments::score + (up - down)),
        ))
        .returning((comments::up_count, comments::down_count, comments::score))
        .get_result(conn)
}

/// Inserts `form`, or updates the comment with the same import source and key.
/// Returns the id and whether it was created.
pub fn upsert_imported(conn: &mut DbConnection, form: &CommentForm) -> QueryResult<(i64, bool)> {
    let existing: Option<i64> = comments::table
        .filter(comments::import_source.eq(&form.import_source))
        .filter(comments::import_key.eq(&form.import_key))
        .select(comments::id)
        .first(conn)
        .optional()?;
    match existing {
        Some(id) => {
            diesel::update(comments::table.find(id)).set(form).execute(conn)?;
            Ok((id, false))
        }
        None => {
            let id = diesel::insert_into(comments::table).values(form).returning(comments::id).get_result(conn)?;
            Ok((id, true))
        }
    }
}

/// Sets the parent of comment `id`.
pub fn set_parent(conn: &mut DbConnection, id: i64, parent: Option<i64>) -> QueryResult<()> {
    diesel::update(comments::table.find(id)).set(comments::parent_id.eq(parent)).execute(conn).map(|_| ())
}
