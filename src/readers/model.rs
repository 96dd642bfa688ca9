//! Reader rows and the signed reader token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::readers;
pub use crate::subscriptions::model::SubscriberEmail as ReaderEmail;

/// One `readers` row. `secret` keys the reader's token and avatar hash and
/// never leaves the server; `email` is never shown publicly.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = readers)]
pub struct ReaderRow {
    pub id: i64,
    pub email: String,
    pub email_key: String,
    pub name: Option<String>,
    pub secret: String,
    pub verified_at: Option<NaiveDateTime>,
    pub verification_sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set when the reader turned off every reply notification.
    pub replies_unsubscribed_at: Option<NaiveDateTime>,
}

const TOKEN_CONTEXT: &str = "broadsheet reader token v1";
const AVATAR_CONTEXT: &str = "broadsheet reader avatar v1";
const UNSUBSCRIBE_CONTEXT: &str = "broadsheet reader unsubscribe v1";

/// The unsubscribe token of reader `id` for one thread (`Some(comment id)`)
/// or for every reply notification (`None`):
/// `{id}.{base64url(HMAC-SHA256(secret, context ‖ id ‖ thread))}`. Distinct
/// from the reader token, so a forwarded mail cannot vote.
pub fn sign_unsubscribe(id: i64, secret: &str, thread: Option<i64>) -> String {
    let scope = thread.map_or_else(|| "*".to_owned(), |t| t.to_string());
    let msg = format!("{UNSUBSCRIBE_CONTEXT}\n{id}\n{scope}");
    let mac = crate::subscriptions::model::hmac_sha256(secret.as_bytes(), msg.as_bytes());
    format!("{id}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// Whether `token` is reader `id`'s unsubscribe token for `thread` (constant time).
pub fn verify_unsubscribe(token: &str, id: i64, secret: &str, thread: Option<i64>) -> bool {
    let expected = sign_unsubscribe(id, secret, thread);
    expected.len() == token.len() && expected.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The reader's signed token: `{id}.{base64url(HMAC-SHA256(secret, context ‖ id))}`.
pub fn sign(id: i64, secret: &str) -> String {
    let mac = crate::subscriptions::model::hmac_sha256(secret.as_bytes(), format!("{TOKEN_CONTEXT}\n{id}").as_bytes());
    format!("{id}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// The reader id a token claims, if shaped like one; check it with [`verify`].
pub fn claimed_id(token: &str) -> Option<i64> {
    crate::subscriptions::model::claimed_id(token)
}

/// Whether `token` is reader `id`'s signed token under `secret` (constant time).
pub fn verify(token: &str, id: i64, secret: &str) -> bool {
    let expected = sign(id, secret);
    expected.len() == token.len() && expected.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The avatar key of a reader: 32 hex digits of HMAC-SHA256 keyed with the
/// reader's server-side secret. Unlike a Gravatar MD5 of the address, it
/// cannot be reversed by hashing guessed addresses.
pub fn avatar_key(secret: &str) -> String {
    let mac = crate::subscriptions::model::hmac_sha256(secret.as_bytes(), AVATAR_CONTEXT.as_bytes());
    hex::encode(&mac[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_tokens_are_not_subscriber_tokens() {
        let t = sign(7, "s");
        assert!(verify(&t, 7, "s"));
        assert!(!verify(&t, 7, "t"));
        assert!(!verify(&crate::subscriptions::model::sign(7, "s"), 7, "s"), "another context");
        assert_eq!(claimed_id(&t), Some(7));
    }

    #[test]
    fn avatar_keys_depend_on_the_secret_only() {
        assert_eq!(avatar_key("a"), avatar_key("a"));
        assert_ne!(avatar_key("a"), avatar_key("b"));
        assert_eq!(avatar_key("a").len(), 32);
    }
}
