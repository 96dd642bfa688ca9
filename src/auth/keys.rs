//! Stored signing keys (`signing_keys`): created on first start when
//! `JWT_SECRET` is unset, shared by every instance on the database, rotated
//! by `broadsheet keys rotate`.
//!
//! The secret is kept as-is (the HMAC needs it); it is never logged, never
//! served, and leaves this module and [`super::jwt`] only as an
//! `EncodingKey`/`DecodingKey`. Whoever can read the database can forge
//! tokens, as whoever can read `JWT_SECRET` can.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::jwt::KeyMaterial;
use super::tokens;
use crate::db::schema::signing_keys;
use crate::db::DbConnection;

/// Seconds added to the longest token lifetime before a retired key stops
/// verifying: covers the one-minute reload interval of other instances,
/// which may still sign with the old key until they notice the rotation.
pub const ROTATION_MARGIN_SECS: i64 = 300;

/// The keys still in service at `now`, newest generation first.
pub fn load(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<KeyMaterial>> {
    let rows: Vec<(String, String, Option<NaiveDateTime>)> = signing_keys::table
        .filter(signing_keys::not_after.is_null().or(signing_keys::not_after.gt(now)))
        .order(signing_keys::generation.desc())
        .select((signing_keys::kid, signing_keys::secret, signing_keys::not_after))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(kid, secret, not_after)| KeyMaterial {
            kid,
            secret,
            not_after: not_after.map(|t| t.and_utc().timestamp()),
        })
        .collect())
}

fn insert(conn: &mut DbConnection, generation: i64, now: NaiveDateTime) -> QueryResult<String> {
    let kid = tokens::random_id();
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::generation.eq(generation),
            signing_keys::kid.eq(&kid),
            signing_keys::secret.eq(tokens::random_secret()),
            signing_keys::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(kid)
}

/// The keys in service, creating generation 1 when the table is empty. Two
/// instances starting at once both try generation 1; the primary key lets
/// one win and the other re-reads.
pub fn load_or_create(conn: &mut DbConnection) -> QueryResult<Vec<KeyMaterial>> {
    let now = crate::db::now();
    // The newest generation is read *before* the usable keys: keys are only
    // ever added, so when the second read finds none, no instance had
    // created one after the first read either, and `newest + 1` is the
    // generation every racing instance tries (one wins; the others hit the
    // primary key and re-read). Read the other way round, an instance could
    // miss a key in the first read, see it in the second, and create a
    // second key (seen once in CI: one of four threads signed with another kid).
    let newest: Option<i64> = signing_keys::table.select(diesel::dsl::max(signing_keys::generation)).first(conn)?;
    let keys = load(conn, now)?;
    if !keys.is_empty() {
        return Ok(keys);
    }
    match insert(conn, newest.unwrap_or(0) + 1, now) {
        Ok(kid) => tracing::warn!(
            %kid,
            "JWT_SECRET is not set: generated a signing key and stored it in the database (table signing_keys), \
             shared by every instance; rotate with `broadsheet keys rotate`"
        ),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(e) => return Err(e),
    }
    load(conn, now)
}

/// Adds a new signing key and retires the others: they verify for
/// `grace_secs` more (the longest token lifetime plus
/// [`ROTATION_MARGIN_SECS`]). Returns the new `kid`.
pub fn rotate(conn: &mut DbConnection, grace_secs: i64) -> QueryResult<String> {
    conn.transaction(|c| {
        let now = crate::db::now();
        let newest: Option<i64> = signing_keys::table.select(diesel::dsl::max(signing_keys::generation)).first(c)?;
        let kid = insert(c, newest.unwrap_or(0) + 1, now)?;
        diesel::update(
            signing_keys::table.filter(signing_keys::retired_at.is_null()).filter(signing_keys::kid.ne(&kid)),
        )
        .set((
            signing_keys::retired_at.eq(now),
            signing_keys::not_after.eq(now + chrono::Duration::seconds(grace_secs)),
        ))
        .execute(c)?;
        Ok(kid)
    })
}
