//! Signed comment form tokens (`GET /articles/{a}/comments/form-token`).
//!
//! A token is `bcf1.{article id}.{issued, Unix ms}.{nonce}.{mac}`, where the
//! nonce is 16 random bytes and the mac is
//! `base64url(HMAC-SHA256(secret, context ‖ article ‖ issued ‖ nonce))`
//! under the database's `comment_form` secret (`server_secrets`, made by the
//! migration, shared by every instance). Nothing is stored when a token is
//! issued; when a comment is stored with it, its nonce goes into
//! `comment_form_nonces` in the same transaction, so a token is single-use
//! (a failed post rolls the nonce back and the token can be sent again).
//!
//! Forged, malformed, expired (`COMMENT_FORM_MAX_AGE_MINUTES`), reused and
//! other-article tokens are 400s naming `form_token`; a comment sent within
//! `COMMENT_FORM_MIN_SECONDS` of the issue is *stored as spam* by the policy
//! check [`super::policy::FormTiming`], with its reason, so a moderator can
//! still rescue it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::{comment_form_nonces as nonces, server_secrets};
use crate::db::DbConnection;
use crate::error::ApiError;

/// The JSON field (and error field) carrying the token.
pub const FIELD: &str = "form_token";
/// Longest token accepted (longer is refused before any query).
pub const MAX_LEN: usize = 200;
const PREFIX: &str = "bcf1";
const CONTEXT: &str = "broadsheet comment form v1";
/// Tolerated clock difference between instances, in ms: a token "issued"
/// further in the future than this is refused as forged.
const SKEW_MS: i64 = 60_000;

/// The signing secret (`server_secrets.comment_form`).
pub fn secret(conn: &mut DbConnection) -> QueryResult<String> {
    server_secrets::table.find("comment_form").select(server_secrets::secret).first(conn)
}

fn mac(secret: &str, article_id: i64, issued_ms: i64, nonce: &str) -> String {
    let msg = format!("{CONTEXT}\n{article_id}\n{issued_ms}\n{nonce}");
    URL_SAFE_NO_PAD.encode(crate::subscriptions::model::hmac_sha256(secret.as_bytes(), msg.as_bytes()))
}

/// A new token for `article_id`, issued at `issued_ms` (Unix ms).
pub fn issue(secret: &str, article_id: i64, issued_ms: i64) -> String {
    let nonce = crate::auth::tokens::random_id();
    let m = mac(secret, article_id, issued_ms, &nonce);
    format!("{PREFIX}.{article_id}.{issued_ms}.{nonce}.{m}")
}

/// What a verified token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormToken {
    /// The article it was issued for.
    pub article_id: i64,
    /// When it was issued, Unix ms.
    pub issued_ms: i64,
    /// Its random part (the single-use key).
    pub nonce: String,
}

/// Checks a token's shape and signature (constant-time comparison).
/// `Err` is the message for the `form_token` field.
pub fn verify(secret: &str, token: &str) -> Result<FormToken, &'static str> {
    const BAD: &str = "is not a valid form token; get one from GET /api/v1/articles/{article}/comments/form-token";
    if token.len() > MAX_LEN {
        return Err(BAD);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [prefix, article, issued, nonce, given] = parts[..] else { return Err(BAD) };
    if prefix != PREFIX || nonce.is_empty() || nonce.len() > 64 {
        return Err(BAD);
    }
    let (Ok(article_id), Ok(issued_ms)) = (article.parse::<i64>(), issued.parse::<i64>()) else { return Err(BAD) };
    let expected = mac(secret, article_id, issued_ms, nonce);
    let same = expected.len() == given.len()
        && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return Err(BAD);
    }
    Ok(FormToken { article_id, issued_ms, nonce: nonce.to_owned() })
}

/// Checks `token` for a comment on `article_id` at `now` and uses it up;
/// returns how many ms after its issue the comment came. Runs in the
/// posting transaction.
pub fn redeem(
    conn: &mut DbConnection,
    cfg: &crate::config::CommentSettings,
    token: &str,
    article_id: i64,
    now: NaiveDateTime,
) -> Result<i64, ApiError> {
    let bad = |m: &str| ApiError::invalid(FIELD, m.to_owned());
    let t = verify(&secret(conn)?, token).map_err(bad)?;
    if t.article_id != article_id {
        return Err(bad("was issued for another article"));
    }
    let now_ms = now.and_utc().timestamp_millis();
    let age = now_ms - t.issued_ms;
    if age < -SKEW_MS {
        return Err(bad("is not a valid form token (issued in the future)"));
    }
    let max_age_ms = cfg.form_max_age_minutes * 60_000;
    if age > max_age_ms {
        return Err(bad("has expired; get a new one and send the comment again"));
    }
    let expires = chrono::DateTime::from_timestamp_millis(t.issued_ms + max_age_ms + SKEW_MS)
        .map(|d| d.naive_utc())
        .unwrap_or(now);
    diesel::delete(nonces::table.filter(nonces::expires_at.lt(now))).execute(conn)?;
    let inserted = conn.transaction(|c| {
        diesel::insert_into(nonces::table)
            .values((nonces::nonce.eq(&t.nonce), nonces::expires_at.eq(expires)))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(age.max(0)),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(bad("has already been used; get a new one for each comment"))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_under_their_secret_only_and_any_change_breaks_them() {
        let t = issue("s1", 42, 1_700_000_000_000);
        let v = verify("s1", &t).expect("valid");
        assert_eq!((v.article_id, v.issued_ms), (42, 1_700_000_000_000));
        assert!(verify("s2", &t).is_err(), "another secret");
        let moved = t.replacen(".42.", ".43.", 1);
        assert!(verify("s1", &moved).is_err(), "another article");
        let older = t.replacen(".1700000000000.", ".1600000000000.", 1);
        assert!(verify("s1", &older).is_err(), "another time");
        assert!(verify("s1", "bcf1.1.2.3").is_err());
        assert!(verify("s1", &"a".repeat(300)).is_err());
        assert_ne!(issue("s1", 42, 1), issue("s1", 42, 1), "a fresh nonce each time");
    }
}
