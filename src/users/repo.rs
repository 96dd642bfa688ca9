//! Queries on `users`.

use diesel::prelude::*;

use super::model::{NewUser, UserChanges, UserRow};
use crate::db::schema::users;
use crate::db::DbConnection;
use crate::pagination::PageParams;

/// Normalizes an email for storage and lookup: trimmed and lowercased, so
/// uniqueness is case-insensitive.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The user with (normalized) `email`.
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).optional()
}

/// The user `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<UserRow> {
    users::table.find(id).select(UserRow::as_select()).first(conn)
}

/// A page of users by id, and the total.
pub fn list(conn: &mut DbConnection, page: &PageParams) -> QueryResult<(Vec<UserRow>, i64)> {
    let total = users::table.count().get_result(conn)?;
    let rows = users::table
        .order(users::id.asc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(UserRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Inserts a user; a taken email is a unique violation (409).
pub fn insert(conn: &mut DbConnection, new: &NewUser) -> QueryResult<UserRow> {
    let id: i64 = diesel::insert_into(users::table).values(new).returning(users::id).get_result(conn)?;
    find(conn, id)
}

/// Applies `changes` to user `id`.
pub fn update(conn: &mut DbConnection, id: i64, changes: &UserChanges) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id)).set(changes).execute(conn)?;
    find(conn, id)
}

/// Enabled admins.
pub fn count_active_admins(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.filter(users::role.eq("admin")).filter(users::disabled.eq(false)).count().get_result(conn)
}

/// Whether another user already links `author_id`.
pub fn author_linked_elsewhere(conn: &mut DbConnection, author_id: i64, except: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::author_id.eq(author_id)).filter(users::id.ne(except)),
    ))
    .get_result(conn)
}

/// Locks the admin rows until the transaction ends (PostgreSQL `FOR UPDATE`),
/// so two concurrent demotions cannot both see "another admin remains".
/// SQLite needs nothing: its writers already take turns (`db::write`).
pub fn lock_admins(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::sql_query("SELECT id FROM users WHERE role = 'admin' FOR UPDATE").execute(conn)?;
    }
    Ok(())
}
