//! Queries on `series`.

use diesel::prelude::*;

pub use crate::articles::repo::SeriesRow;
use crate::db::schema::series;
use crate::db::DbConnection;
use crate::pagination::PageParams;
use crate::slugs::IdOrSlug;

/// The series named by id or slug.
pub fn find_by_key(conn: &mut DbConnection, key: &IdOrSlug) -> QueryResult<Option<SeriesRow>> {
    match key {
        IdOrSlug::Id(id) => series::table.find(*id).select(SeriesRow::as_select()).first(conn).optional(),
        IdOrSlug::Slug(s) => {
            series::table.filter(series::slug.eq(s)).select(SeriesRow::as_select()).first(conn).optional()
        }
    }
}

/// A page of series by title, and the total.
pub fn list(conn: &mut DbConnection, page: &PageParams) -> QueryResult<(Vec<SeriesRow>, i64)> {
    let total = series::table.count().get_result(conn)?;
    let rows = series::table
        .order((series::title.asc(), series::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(SeriesRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Whether `slug` is used by a series other than `except`.
pub fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let id: Option<i64> = series::table.filter(series::slug.eq(slug)).select(series::id).first(conn).optional()?;
    Ok(id.is_some() && id != except)
}

/// Inserts a series; returns it.
pub fn insert(conn: &mut DbConnection, slug: &str, title: &str, description: Option<&str>) -> QueryResult<SeriesRow> {
    let now = crate::db::now();
    let id: i64 = diesel::insert_into(series::table)
        .values((
            series::slug.eq(slug),
            series::title.eq(title),
            series::description.eq(description),
            series::created_at.eq(now),
            series::updated_at.eq(now),
        ))
        .returning(series::id)
        .get_result(conn)?;
    series::table.find(id).select(SeriesRow::as_select()).first(conn)
}

/// Changes to a series.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = series)]
pub struct SeriesChanges {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

/// Applies `changes` to series `id`.
pub fn update(conn: &mut DbConnection, id: i64, changes: &SeriesChanges) -> QueryResult<SeriesRow> {
    diesel::update(series::table.find(id)).set(changes).execute(conn)?;
    series::table.find(id).select(SeriesRow::as_select()).first(conn)
}

/// Deletes series `id` (its articles stay, detached).
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::delete(series::table.find(id)).execute(conn).map(|_| ())
}
