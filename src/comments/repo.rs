//! Queries on `comments`.

use diesel::prelude::*;

use super::model::{kind, status, CommentForm, CommentRow};
use crate::db::schema::comments;
use crate::db::DbConnection;
use crate::pagination::PageParams;

/// A page of the approved reader comments (no pingbacks or trackbacks) of
/// `article_id`, oldest first, and their total.
pub fn list_approved(
    conn: &mut DbConnection,
    article_id: i64,
    page: &PageParams,
) -> QueryResult<(Vec<CommentRow>, i64)> {
    let base = || {
        comments::table
            .filter(comments::article_id.eq(article_id))
            .filter(comments::status.eq(status::APPROVED))
            .filter(comments::kind.eq(kind::COMMENT))
    };
    let total = base().count().get_result(conn)?;
    let rows = base()
        .order((comments::created_at.asc(), comments::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(CommentRow::as_select())
        .load(conn)?;
    Ok((rows, total))
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
