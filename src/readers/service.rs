//! The write rules of readers: find or create by address, the verification
//! mail (at most one per cooldown, only while unverified), and using the
//! magic-link token. Every function runs on the caller's connection; callers
//! wrap writes in a transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{self, ReaderEmail, ReaderRow};
use super::repo;
use crate::auth::tokens;
use crate::config::Settings;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::mail::Template;

/// Longest token accepted (longer is refused before any query).
pub const MAX_TOKEN: usize = 200;

/// The reader with `email`, created (unverified) if new. A new name replaces
/// the stored one. A concurrent insert of the same address is caught in a
/// savepoint and the winner's row is returned.
pub fn find_or_create(
    conn: &mut DbConnection,
    email: &ReaderEmail,
    name: &str,
    now: NaiveDateTime,
) -> Result<ReaderRow, ApiError> {
    if let Some(r) = repo::find_by_key(conn, &email.key)? {
        if r.name.as_deref() != Some(name) {
            repo::set_name(conn, r.id, name, now)?;
        }
        return Ok(repo::find(conn, r.id)?.ok_or(diesel::result::Error::NotFound)?);
    }
    let secret = tokens::random_secret();
    let inserted = conn.transaction(|c| repo::insert(c, &email.address, &email.key, Some(name), &secret, now));
    let id = match inserted {
        Ok(id) => id,
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            repo::find_by_key(conn, &email.key)?.ok_or(diesel::result::Error::NotFound)?.id
        }
        Err(e) => return Err(e.into()),
    };
    Ok(repo::find(conn, id)?.ok_or(diesel::result::Error::NotFound)?)
}

/// Queues one verification mail for an unverified reader, unless one was
/// queued within `COMMENT_VERIFY_COOLDOWN_MINUTES`. Returns whether a mail
/// was queued. The mail is a `send_mail` job in the caller's transaction.
pub fn send_verification(
    conn: &mut DbConnection,
    settings: &Settings,
    reader: &ReaderRow,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    let cfg = &settings.comments;
    if reader.verified_at.is_some() {
        return Ok(false);
    }
    let since = now - chrono::Duration::minutes(cfg.verify_cooldown_minutes);
    if !repo::claim_verification_send(conn, reader.id, since, now)? {
        return Ok(false);
    }
    let secret = tokens::random_secret();
    let expires = now + chrono::Duration::hours(cfg.verify_ttl_hours);
    repo::insert_token(conn, reader.id, &tokens::digest(&secret), expires, now)?;
    let params = serde_json::json!({
        "site": crate::auth::recovery::site(settings),
        "name": reader.name.clone().unwrap_or_else(|| "reader".into()),
        "link": crate::auth::recovery::link(&cfg.verify_url, &secret),
        "valid_for": crate::auth::recovery::human(cfg.verify_ttl_hours * 60),
    });
    crate::mail::queue(conn, &settings.mail.from, &reader.email, Template::CommentVerify, params)?;
    Ok(true)
}

fn check_token_shape(token: &str) -> Result<(), ApiError> {
    if token.is_empty() || token.len() > MAX_TOKEN {
        return Err(ApiError::invalid("token", "is not a verification token"));
    }
    Ok(())
}

/// What a verification token would verify, changing nothing: the reader and
/// the token's expiry. Unknown, used and expired tokens are 400s naming `token`.
pub fn preview(conn: &mut DbConnection, token: &str) -> Result<(ReaderRow, NaiveDateTime), ApiError> {
    check_token_shape(token)?;
    let Some((reader_id, expires_at, used_at)) = repo::find_token(conn, &tokens::digest(token))? else {
        return Err(ApiError::invalid("token", "is unknown"));
    };
    if used_at.is_some() {
        return Err(ApiError::invalid("token", "was already used"));
    }
    if expires_at <= crate::db::now() {
        return Err(ApiError::invalid("token", "has expired"));
    }
    let reader = repo::find(conn, reader_id)?.ok_or_else(|| ApiError::invalid("token", "is unknown"))?;
    Ok((reader, expires_at))
}

/// Uses a verification token: the reader becomes verified. Returns the
/// reader and their signed reader token.
pub fn verify(conn: &mut DbConnection, token: &str) -> Result<(ReaderRow, String), ApiError> {
    let (reader, _) = preview(conn, token)?;
    let now = crate::db::now();
    if !repo::use_token(conn, &tokens::digest(token), now)? {
        return Err(ApiError::invalid("token", "was already used"));
    }
    repo::mark_verified(conn, reader.id, now)?;
    let reader = repo::find(conn, reader.id)?.ok_or(diesel::result::Error::NotFound)?;
    let signed = model::sign(reader.id, &reader.secret);
    Ok((reader, signed))
}

/// The verified reader a signed reader token names; 401 for a forged,
/// altered or unknown token, 403 for an unverified reader.
pub fn by_signed_token(conn: &mut DbConnection, token: &str) -> Result<ReaderRow, ApiError> {
    let bad = || ApiError::Unauthorized("the reader token is not valid".into());
    let id = model::claimed_id(token).ok_or_else(bad)?;
    let reader = repo::find(conn, id)?.ok_or_else(bad)?;
    if !model::verify(token, reader.id, &reader.secret) {
        return Err(bad());
    }
    if reader.verified_at.is_none() {
        return Err(ApiError::Forbidden("verify your address first".into()));
    }
    Ok(reader)
}

/// What an unsubscribe link names: the reader and the thread (`None`: every
/// reply notification). A forged or altered token, or one for another
/// thread, is a 400 naming `token`.
pub fn by_unsubscribe_token(conn: &mut DbConnection, token: &str, thread: Option<i64>) -> Result<ReaderRow, ApiError> {
    let bad = || ApiError::invalid("token", "is not a valid unsubscribe token");
    let id = model::claimed_id(token).ok_or_else(bad)?;
    let reader = repo::find(conn, id)?.ok_or_else(bad)?;
    if !model::verify_unsubscribe(token, reader.id, &reader.secret, thread) {
        return Err(bad());
    }
    Ok(reader)
}

/// Whether reply notifications are on for `reader` (and `thread`, one of
/// their comments).
pub fn notifications_on(conn: &mut DbConnection, reader: &ReaderRow, thread: Option<i64>) -> Result<bool, ApiError> {
    if reader.replies_unsubscribed_at.is_some() {
        return Ok(false);
    }
    Ok(match thread {
        None => true,
        Some(t) => {
            crate::comments::repo::find(conn, t)?.is_some_and(|c| c.reader_id == Some(reader.id) && c.notify_replies)
        }
    })
}

/// Turns reply notifications off for one thread (`notify_replies` on that
/// comment) or for everything (`replies_unsubscribed_at`). Idempotent.
pub fn unsubscribe(conn: &mut DbConnection, reader: &ReaderRow, thread: Option<i64>) -> Result<(), ApiError> {
    use crate::db::schema::{comments, readers};
    let now = crate::db::now();
    match thread {
        Some(t) => {
            diesel::update(comments::table.find(t).filter(comments::reader_id.eq(reader.id)))
                .set(comments::notify_replies.eq(false))
                .execute(conn)?;
        }
        None => {
            diesel::update(readers::table.find(reader.id).filter(readers::replies_unsubscribed_at.is_null()))
                .set((readers::replies_unsubscribed_at.eq(now), readers::updated_at.eq(now)))
                .execute(conn)?;
        }
    }
    Ok(())
}
