//! Queries on `api_keys`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::api_keys;
use crate::db::DbConnection;
use crate::pagination::PageParams;

/// One `api_keys` row (the digest is never loaded for display).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub scopes: String,
    pub key_prefix: String,
    pub created_by: Option<i64>,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A page of keys, newest first, and the total.
pub fn list(conn: &mut DbConnection, page: &PageParams) -> QueryResult<(Vec<ApiKeyRow>, i64)> {
    let total = api_keys::table.count().get_result(conn)?;
    let rows = api_keys::table
        .order(api_keys::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(ApiKeyRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Stores a new key by digest; returns the row.
#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &mut DbConnection,
    name: &str,
    kind: &str,
    scopes: &str,
    prefix: &str,
    digest: &str,
    created_by: Option<i64>,
    expires_at: Option<NaiveDateTime>,
) -> QueryResult<ApiKeyRow> {
    let id: i64 = diesel::insert_into(api_keys::table)
        .values((
            api_keys::name.eq(name),
            api_keys::kind.eq(kind),
            api_keys::scopes.eq(scopes),
            api_keys::key_prefix.eq(prefix),
            api_keys::key_hash.eq(digest),
            api_keys::created_by.eq(created_by),
            api_keys::expires_at.eq(expires_at),
            api_keys::created_at.eq(crate::db::now()),
        ))
        .returning(api_keys::id)
        .get_result(conn)?;
    api_keys::table.find(id).select(ApiKeyRow::as_select()).first(conn)
}

/// Revokes key `id` (idempotent); `NotFound` if there is no such key.
pub fn revoke(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    let exists: bool = diesel::select(diesel::dsl::exists(api_keys::table.find(id))).get_result(conn)?;
    if !exists {
        return Err(diesel::result::Error::NotFound);
    }
    diesel::update(api_keys::table.find(id).filter(api_keys::revoked_at.is_null()))
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)
        .map(|_| ())
}
