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

/// The author named by an id or a slug.
pub fn find_by_key(conn: &mut DbConnection, key: &crate::slugs::IdOrSlug) -> QueryResult<AuthorRow> {
    match key {
        crate::slugs::IdOrSlug::Id(id) => authors::table.find(*id).select(AuthorRow::as_select()).first(conn),
        crate::slugs::IdOrSlug::Slug(s) => find_by_slug(conn, s),
    }
}

/// The author `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<AuthorRow> {
    authors::table.find(id).select(AuthorRow::as_select()).first(conn)
}

/// Applies `changes` to author `id` and returns the row.
pub fn update(conn: &mut DbConnection, id: i64, changes: &super::model::AuthorChanges) -> QueryResult<AuthorRow> {
    diesel::update(authors::table.find(id)).set(changes).execute(conn)?;
    find(conn, id)
}

/// Bylines naming author `id`.
pub fn byline_count(conn: &mut DbConnection, id: i64) -> QueryResult<i64> {
    use crate::db::schema::article_authors;
    article_authors::table.filter(article_authors::author_id.eq(id)).count().get_result(conn)
}

/// Moves every byline of `from` to `to`, dropping `from` where an article
/// already credits `to`.
pub fn reassign_bylines(conn: &mut DbConnection, from: i64, to: i64) -> QueryResult<()> {
    use crate::db::schema::article_authors;
    let already: Vec<i64> = article_authors::table
        .filter(article_authors::author_id.eq(to))
        .select(article_authors::article_id)
        .load(conn)?;
    diesel::delete(
        article_authors::table
            .filter(article_authors::author_id.eq(from))
            .filter(article_authors::article_id.eq_any(&already)),
    )
    .execute(conn)?;
    diesel::update(article_authors::table.filter(article_authors::author_id.eq(from)))
        .set(article_authors::author_id.eq(to))
        .execute(conn)?;
    Ok(())
}

/// Deletes author `id`.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::delete(authors::table.find(id)).execute(conn).map(|_| ())
}
