//! Password reset and invitations: single-use account tokens, mailed as
//! links to a front-end page, redeemed by `POST /auth/password-reset/confirm`.
//!
//! Tokens are 256 random bits, stored as SHA-256 digests (as refresh tokens
//! are, see [`super::tokens`]) in `account_tokens` with a purpose and an
//! expiry. A token works once; setting a password also voids every other
//! outstanding token of the user. The link points at `PASSWORD_RESET_URL` /
//! `INVITATION_URL` (a page of the front end, which POSTs the token), so a
//! plain GET on a link in a mail (link scanners, previews) changes nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::tokens;
use crate::config::Settings;
use crate::db::schema::{account_tokens, users};
use crate::db::DbConnection;
use crate::mail::Template;
use crate::users::model::UserRow;

/// Why a token was issued. Stored as TEXT (`account_tokens.purpose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// "Forgot password".
    PasswordReset,
    /// An admin invited the user, who has no password of their own yet.
    Invitation,
}

impl Purpose {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::Invitation => "invitation",
        }
    }
}

/// Issues a token for `user_id`, valid for `ttl`; returns the secret (shown
/// only in the mail).
pub fn issue_token(
    conn: &mut DbConnection,
    user_id: i64,
    purpose: Purpose,
    ttl: chrono::Duration,
) -> QueryResult<String> {
    let secret = tokens::random_secret();
    let now = crate::db::now();
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::user_id.eq(user_id),
            account_tokens::purpose.eq(purpose.as_str()),
            account_tokens::token_hash.eq(tokens::digest(&secret)),
            account_tokens::expires_at.eq(now + ttl),
            account_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(secret)
}

/// `base` with `token` appended as a query parameter.
pub fn link(base: &str, token: &str) -> String {
    match url::Url::parse(base) {
        Ok(mut u) => {
            u.query_pairs_mut().append_pair("token", token);
            u.to_string()
        }
        Err(_) => format!("{base}?token={token}"),
    }
}

/// The site name used in mails: the host of `PUBLIC_BASE_URL`.
pub fn site(settings: &Settings) -> String {
    url::Url::parse(&settings.public_base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| settings.public_base_url.clone())
}

/// A lifetime in words: `60` → "1 hour", `2880` → "2 days".
pub fn human(minutes: i64) -> String {
    match minutes {
        m if m % 1440 == 0 => format!("{} day{}", m / 1440, if m == 1440 { "" } else { "s" }),
        m if m % 60 == 0 => format!("{} hour{}", m / 60, if m == 60 { "" } else { "s" }),
        m => format!("{m} minutes"),
    }
}

/// If `email` belongs to an enabled user, issues a reset token and queues
/// its mail, in the caller's transaction. Does the same queries either way
/// (a lookup, then nothing or three inserts), and says nothing about which.
pub fn request_reset(conn: &mut DbConnection, settings: &Settings, email: &str) -> QueryResult<()> {
    let Some(user) = crate::users::repo::find_by_email(conn, email)?.filter(|u| !u.disabled) else {
        return Ok(());
    };
    let minutes = settings.mail.password_reset_ttl_minutes;
    let secret = issue_token(conn, user.id, Purpose::PasswordReset, chrono::Duration::minutes(minutes))?;
    let params = serde_json::json!({
        "site": site(settings),
        "email": user.email,
        "link": link(&settings.mail.password_reset_url, &secret),
        "valid_for": human(minutes),
    });
    crate::mail::queue(conn, &settings.mail.from, &user.email, Template::PasswordReset, params)?;
    Ok(())
}

/// Issues an invitation token for a new `user` and queues its mail, in the
/// caller's transaction.
pub fn invite(conn: &mut DbConnection, settings: &Settings, user: &UserRow) -> QueryResult<()> {
    let hours = settings.mail.invitation_ttl_hours;
    let secret = issue_token(conn, user.id, Purpose::Invitation, chrono::Duration::hours(hours))?;
    let params = serde_json::json!({
        "site": site(settings),
        "email": user.email,
        "role": user.role,
        "link": link(&settings.mail.invitation_url, &secret),
        "valid_for": human(hours * 60),
    });
    crate::mail::queue(conn, &settings.mail.from, &user.email, Template::Invitation, params)?;
    Ok(())
}

/// The enabled user a live (unused, unexpired) token with digest `hash` belongs to.
pub fn find_usable(conn: &mut DbConnection, hash: &str, now: NaiveDateTime) -> QueryResult<Option<i64>> {
    account_tokens::table
        .inner_join(users::table)
        .filter(account_tokens::token_hash.eq(hash))
        .filter(account_tokens::used_at.is_null())
        .filter(account_tokens::expires_at.gt(now))
        .filter(users::disabled.eq(false))
        .select(account_tokens::user_id)
        .first(conn)
        .optional()
}

/// Uses up the token with digest `hash` if it is still usable, and every
/// other outstanding token of its user; returns the user. `None` when it was
/// unknown, expired, used (also concurrently) or its user disabled.
pub fn redeem(conn: &mut DbConnection, hash: &str, now: NaiveDateTime) -> QueryResult<Option<i64>> {
    let Some(user_id) = find_usable(conn, hash, now)? else { return Ok(None) };
    let n = diesel::update(
        account_tokens::table.filter(account_tokens::token_hash.eq(hash)).filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    if n != 1 {
        return Ok(None);
    }
    void_tokens(conn, user_id, now)?;
    Ok(Some(user_id))
}

/// Voids every outstanding reset or invitation token of `user_id`: after a
/// password change, a link mailed earlier must not take the account back.
pub fn void_tokens(conn: &mut DbConnection, user_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        account_tokens::table.filter(account_tokens::user_id.eq(user_id)).filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(Some(now)))
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_token_as_a_query_parameter() {
        assert_eq!(link("https://x.example/reset-password", "a_b-c"), "https://x.example/reset-password?token=a_b-c");
        assert_eq!(link("https://x.example/r?lang=de", "t"), "https://x.example/r?lang=de&token=t");
        assert_eq!(human(60), "1 hour");
        assert_eq!(human(7 * 1440), "7 days");
        assert_eq!(human(90), "90 minutes");
    }
}
