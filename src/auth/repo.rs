//! Sessions (refresh-token families) and the per-request principal lookups.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{api_keys, sessions, users};
use crate::db::DbConnection;

/// One refresh token of a session family.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub family_id: String,
    pub expires_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Stores a refresh token (by hash) in `family`.
pub fn insert_session(
    conn: &mut DbConnection,
    user_id: i64,
    family: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::family_id.eq(family),
            sessions::refresh_token_hash.eq(token_hash),
            sessions::expires_at.eq(expires_at),
            sessions::created_at.eq(crate::db::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The refresh token with this hash.
pub fn find_session(conn: &mut DbConnection, token_hash: &str) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .filter(sessions::refresh_token_hash.eq(token_hash))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Marks refresh token `id` rotated if it still is current; returns whether
/// this call did it (false means a concurrent or repeated use).
pub fn mark_rotated(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::rotated_at.is_null())
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::rotated_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every token of a session family.
pub fn revoke_family(conn: &mut DbConnection, family: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.filter(sessions::family_id.eq(family)).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)
        .map(|_| ())
}

/// Revokes every session of a user.
pub fn revoke_user_sessions(conn: &mut DbConnection, user_id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)
        .map(|_| ())
}

/// The enabled user `user_id` with a live session in `family`: one query per
/// authenticated request. `None` when the user is disabled or gone, or the
/// session was revoked (logout, password change, refresh-token reuse).
pub fn active_user_in_session(
    conn: &mut DbConnection,
    user_id: i64,
    family: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(String, Option<i64>)>> {
    users::table
        .filter(users::id.eq(user_id))
        .filter(users::disabled.eq(false))
        .filter(diesel::dsl::exists(
            sessions::table
                .filter(sessions::family_id.eq(family.to_owned()))
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(now)),
        ))
        .select((users::role, users::author_id))
        .first(conn)
        .optional()
}

/// A usable API key by hash: not revoked, not expired, and its creator still
/// an enabled admin. Returns
/// `(id, kind, scopes)` and stamps `last_used_at` (at most once a minute).
pub fn use_api_key(
    conn: &mut DbConnection,
    key_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, String, String)>> {
    type KeyRow = (i64, String, String, Option<NaiveDateTime>, Option<i64>);
    let found: Option<KeyRow> = api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(now)))
        .select((api_keys::id, api_keys::kind, api_keys::scopes, api_keys::last_used_at, api_keys::created_by))
        .first(conn)
        .optional()?;
    let Some((id, kind, scopes, last_used, creator)) = found else { return Ok(None) };
    if !creator_still_admin(conn, creator)? {
        return Ok(None);
    }
    if last_used.is_none_or(|t| now - t > chrono::Duration::seconds(60)) {
        // Best effort: a busy SQLite writer must not fail a read.
        let _ = diesel::update(api_keys::table.find(id)).set(api_keys::last_used_at.eq(now)).execute(conn);
    }
    Ok(Some((id, kind, scopes)))
}

/// A key speaks for the admin who made it: it dies with their admin rights.
/// Keys whose creator was deleted (`created_by` set to NULL) stay usable.
fn creator_still_admin(conn: &mut DbConnection, creator: Option<i64>) -> QueryResult<bool> {
    let Some(creator) = creator else { return Ok(true) };
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::id.eq(creator)).filter(users::role.eq("admin")).filter(users::disabled.eq(false)),
    ))
    .get_result(conn)
}

/// API key `id` if it is still usable (as [`use_api_key`] decides, without
/// stamping `last_used_at`): `(kind, scopes)`.
pub fn live_api_key(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<Option<(String, String)>> {
    let found: Option<(String, String, Option<i64>)> = api_keys::table
        .find(id)
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(now)))
        .select((api_keys::kind, api_keys::scopes, api_keys::created_by))
        .first(conn)
        .optional()?;
    let Some((kind, scopes, creator)) = found else { return Ok(None) };
    Ok(creator_still_admin(conn, creator)?.then_some((kind, scopes)))
}

/// For the response cache: `Some(expires_at)` when `key_hash` is a usable
/// *content* key (checked and stamped as [`use_api_key`] does), `None` for an
/// unknown, revoked, expired or admin key.
pub fn content_key_expiry(
    conn: &mut DbConnection,
    key_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Option<NaiveDateTime>>> {
    match use_api_key(conn, key_hash, now)? {
        Some((id, kind, _)) if kind == "content" => {
            api_keys::table.find(id).select(api_keys::expires_at).first(conn).optional()
        }
        _ => Ok(None),
    }
}
