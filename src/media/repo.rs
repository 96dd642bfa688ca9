//! Queries on `media`.

use diesel::prelude::*;

use super::model::{MediaForm, MediaRow};
use crate::db::schema::media;
use crate::db::DbConnection;

/// The media record `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<MediaRow> {
    media::table.find(id).select(MediaRow::as_select()).first(conn)
}

/// The media records among `ids`, in one query.
pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<MediaRow>> {
    media::table.filter(media::id.eq_any(ids)).select(MediaRow::as_select()).load(conn)
}

/// Inserts `form`, or updates the row with the same import source and key.
/// Returns the id and whether a row was created.
pub fn upsert_imported(conn: &mut DbConnection, form: &MediaForm) -> QueryResult<(i64, bool)> {
    let existing: Option<i64> = media::table
        .filter(media::import_source.eq(&form.import_source))
        .filter(media::import_key.eq(&form.import_key))
        .select(media::id)
        .first(conn)
        .optional()?;
    match existing {
        Some(id) => {
            diesel::update(media::table.find(id)).set(form).execute(conn)?;
            Ok((id, false))
        }
        None => {
            let id = diesel::insert_into(media::table).values(form).returning(media::id).get_result(conn)?;
            Ok((id, true))
        }
    }
}
