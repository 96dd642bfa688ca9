//! Queries on `readers` and `reader_tokens`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::ReaderRow;
use crate::db::schema::{reader_tokens, readers};
use crate::db::DbConnection;

/// The reader with comparison key `key`.
pub fn find_by_key(conn: &mut DbConnection, key: &str) -> QueryResult<Option<ReaderRow>> {
    readers::table.filter(readers::email_key.eq(key)).select(ReaderRow::as_select()).first(conn).optional()
}

/// The reader `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ReaderRow>> {
    readers::table.find(id).select(ReaderRow::as_select()).first(conn).optional()
}

/// Readers by id (one query).
pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<ReaderRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    readers::table.filter(readers::id.eq_any(ids)).select(ReaderRow::as_select()).load(conn)
}

/// Inserts a reader; returns the id.
pub fn insert(
    conn: &mut DbConnection,
    email: &str,
    email_key: &str,
    name: Option<&str>,
    secret: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(readers::table)
        .values((
            readers::email.eq(email),
            readers::email_key.eq(email_key),
            readers::name.eq(name),
            readers::secret.eq(secret),
            readers::created_at.eq(now),
            readers::updated_at.eq(now),
        ))
        .returning(readers::id)
        .get_result(conn)
}

/// Sets the display name.
pub fn set_name(conn: &mut DbConnection, id: i64, name: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(readers::table.find(id))
        .set((readers::name.eq(name), readers::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Records that a verification mail was queued at `now`, unless one was
/// queued after `since` (returns whether this call won).
pub fn claim_verification_send(
    conn: &mut DbConnection,
    id: i64,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        readers::table
            .find(id)
            .filter(readers::verified_at.is_null())
            .filter(readers::verification_sent_at.is_null().or(readers::verification_sent_at.le(since))),
    )
    .set(readers::verification_sent_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Marks reader `id` verified (keeps the first time).
pub fn mark_verified(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(readers::table.find(id).filter(readers::verified_at.is_null()))
        .set((readers::verified_at.eq(now), readers::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Stores a verification token digest.
pub fn insert_token(
    conn: &mut DbConnection,
    reader_id: i64,
    hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(reader_tokens::table)
        .values((
            reader_tokens::reader_id.eq(reader_id),
            reader_tokens::token_hash.eq(hash),
            reader_tokens::expires_at.eq(expires_at),
            reader_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The token with digest `hash`: `(reader id, expires_at, used_at)`.
pub fn find_token(
    conn: &mut DbConnection,
    hash: &str,
) -> QueryResult<Option<(i64, NaiveDateTime, Option<NaiveDateTime>)>> {
    reader_tokens::table
        .filter(reader_tokens::token_hash.eq(hash))
        .select((reader_tokens::reader_id, reader_tokens::expires_at, reader_tokens::used_at))
        .first(conn)
        .optional()
}

/// Uses the token once: `UPDATE … WHERE used_at IS NULL AND expires_at > now`,
/// so two concurrent uses cannot both win.
pub fn use_token(conn: &mut DbConnection, hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        reader_tokens::table
            .filter(reader_tokens::token_hash.eq(hash))
            .filter(reader_tokens::used_at.is_null())
            .filter(reader_tokens::expires_at.gt(now)),
    )
    .set(reader_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}
