//! Queries on `categories`.

use diesel::prelude::*;

use super::model::CategoryRow;
use crate::db::schema::categories;
use crate::db::DbConnection;
use crate::pagination::PageParams;

/// A page of categories ordered by name, and the total count.
pub fn list(conn: &mut DbConnection, page: &PageParams) -> QueryResult<(Vec<CategoryRow>, i64)> {
    let total = categories::table.count().get_result(conn)?;
    let rows = categories::table
        .order((categories::name.asc(), categories::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(CategoryRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Whether `slug` is used by a row other than `except`.
pub fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let id: Option<i64> =
        categories::table.filter(categories::slug.eq(slug)).select(categories::id).first(conn).optional()?;
    Ok(id.is_some() && id != except)
}

/// The row imported from `source` under `key`, if any.
pub fn find_imported(conn: &mut DbConnection, source: &str, key: &str) -> QueryResult<Option<i64>> {
    categories::table
        .filter(categories::import_source.eq(source))
        .filter(categories::import_key.eq(key))
        .select(categories::id)
        .first(conn)
        .optional()
}

/// Inserts or updates the category imported from `source` under `key`.
/// A new category takes `slug` (already unique); an existing one keeps its slug
/// and parent. Returns the id and whether it was created.
pub fn upsert_imported(
    conn: &mut DbConnection,
    source: &str,
    key: &str,
    slug: &str,
    name: &str,
    description: Option<&str>,
) -> QueryResult<(i64, bool)> {
    let now = crate::db::now();
    if let Some(id) = find_imported(conn, source, key)? {
        diesel::update(categories::table.find(id))
            .set((categories::name.eq(name), categories::description.eq(description)))
            .execute(conn)?;
        return Ok((id, false));
    }
    let id = diesel::insert_into(categories::table)
        .values((
            categories::slug.eq(slug),
            categories::name.eq(name),
            categories::description.eq(description),
            categories::import_source.eq(source),
            categories::import_key.eq(key),
            categories::created_at.eq(now),
            categories::updated_at.eq(now),
        ))
        .returning(categories::id)
        .get_result(conn)?;
    Ok((id, true))
}

/// Sets the parent of category `id`.
pub fn set_parent(conn: &mut DbConnection, id: i64, parent: Option<i64>) -> QueryResult<()> {
    diesel::update(categories::table.find(id)).set(categories::parent_id.eq(parent)).execute(conn).map(|_| ())
}
