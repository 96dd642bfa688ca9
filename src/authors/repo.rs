//! Queries on `authors`.

use diesel::prelude::*;

use super::model::{AuthorRow, NewAuthor};
use crate::db::schema::authors;
use crate::db::DbConnection;
use crate::pagination::PageParams;

/// A page of authors ordered by display name, and the total count.
pub fn list(conn: &mut DbConnection, page: &PageParams) -> QueryResult<(Vec<AuthorRow>, i64)> {
    let total = authors::table.count().get_result(conn)?;
    let rows = authors::table
        .order((authors::display_name.asc(), authors::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(AuthorRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The author with `slug`.
pub fn find_by_slug(conn: &mut DbConnection, slug: &str) -> QueryResult<AuthorRow> {
    authors::table.filter(authors::slug.eq(slug)).select(AuthorRow::as_select()).first(conn)
}

/// Whether `slug` is used by an author other than `except`.
pub fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let id: Option<i64> = authors::table.filter(authors::slug.eq(slug)).select(authors::id).first(conn).optional()?;
    Ok(id.is_some() && id != except)
}

/// The author imported from `source` under `key`, if any.
pub fn find_imported(conn: &mut DbConnection, source: &str, key: &str) -> QueryResult<Option<i64>> {
    authors::table
        .filter(authors::import_source.eq(source))
        .filter(authors::import_key.eq(key))
        .select(authors::id)
        .first(conn)
        .optional()
}

/// Inserts an author and returns its id.
pub fn insert(conn: &mut DbConnection, new: &NewAuthor) -> QueryResult<i64> {
    diesel::insert_into(authors::table).values(new).returning(authors::id).get_result(conn)
}

/// Refreshes an imported author's name, email and website (slug and bio are kept,
/// since editors may have changed them since the first import).
pub fn update_imported(conn: &mut DbConnection, id: i64, new: &NewAuthor) -> QueryResult<()> {
    diesel::update(authors::table.find(id))
        .set((authors::display_name.eq(&new.display_name), authors::email.eq(&new.email)))
        .execute(conn)
        .map(|_| ())
}
