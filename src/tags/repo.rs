//! Queries on `tags`.

use diesel::prelude::*;

use super::model::TagRow;
use crate::db::schema::tags;
use crate::db::DbConnection;
use crate::pagination::PageParams;

/// A page of tags ordered by name, and the total count.
pub fn list(conn: &mut DbConnection, page: &PageParams) -> QueryResult<(Vec<TagRow>, i64)> {
    let total = tags::table.count().get_result(conn)?;
    let rows = tags::table
        .order((tags::name.asc(), tags::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(TagRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Whether `slug` is used by a row other than `except`.
pub fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let id: Option<i64> = tags::table.filter(tags::slug.eq(slug)).select(tags::id).first(conn).optional()?;
    Ok(id.is_some() && id != except)
}

/// The row imported from `source` under `key`, if any.
pub fn find_imported(conn: &mut DbConnection, source: &str, key: &str) -> QueryResult<Option<i64>> {
    tags::table
        .filter(tags::import_source.eq(source))
        .filter(tags::import_key.eq(key))
        .select(tags::id)
        .first(conn)
        .optional()
}

/// Inserts or updates the tag imported from `source` under `key`.
/// A new tag takes `slug` (already unique); an existing one keeps its slug.
/// Returns the id and whether it was created.
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
        diesel::update(tags::table.find(id))
            .set((tags::name.eq(name), tags::description.eq(description)))
            .execute(conn)?;
        return Ok((id, false));
    }
    let id = diesel::insert_into(tags::table)
        .values((
            tags::slug.eq(slug),
            tags::name.eq(name),
            tags::description.eq(description),
            tags::import_source.eq(source),
            tags::import_key.eq(key),
            tags::created_at.eq(now),
            tags::updated_at.eq(now),
        ))
        .returning(tags::id)
        .get_result(conn)?;
    Ok((id, true))
}
