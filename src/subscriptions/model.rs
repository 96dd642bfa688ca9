//! Subscription domain types: the parsed email address, the subscriber's
//! state, rows, and the signed per-subscriber token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::db::schema::subscribers;

/// Longest address accepted (RFC 5321 path limit less the brackets).
pub const MAX_EMAIL: usize = 254;

/// An address as a reader typed it (trimmed) and the key it is compared by.
///
/// The key is the local part lowercased (Unicode rules) and the domain in
/// IDNA ASCII form, lowercased (UTS #46 through `url::Host`), so
/// `Ana@Bücher.example`, ` ana@BÜCHER.example ` and `ana@xn--bcher-kva.example`
/// are one subscriber. The address is stored and mailed as entered: some
/// mail servers treat the local part as case-sensitive (listmonk #2726).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriberEmail {
    /// Trimmed, otherwise as entered.
    pub address: String,
    /// The comparison key (`subscribers.email_key`, unique).
    pub key: String,
}

impl SubscriberEmail {
    /// Parses `raw`: trimmed, at most [`MAX_EMAIL`] bytes, one `@`, a
    /// non-empty local part without whitespace or control characters, and a
    /// domain with a dot that IDNA accepts. The error is a message for the
    /// field `email`.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let address = raw.trim();
        if address.is_empty() {
            return Err("is required");
        }
        if address.len() > MAX_EMAIL {
            return Err("is longer than 254 bytes");
        }
        let bad = "is not a valid email address";
        if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad);
        }
        let (local, domain) = address.rsplit_once('@').ok_or(bad)?;
        if local.is_empty() || local.contains('@') || local.len() > 64 {
            return Err(bad);
        }
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') || domain.starts_with('[') {
            return Err(bad);
        }
        let ascii = match url::Host::parse(domain) {
            Ok(url::Host::Domain(d)) => d,
            _ => return Err(bad),
        };
        // A host name is letters, digits and hyphens once IDNA-encoded (RFC 1123);
        // the URL host parser lets `*`, `_` and the like through, which no mail reaches.
        if ascii.split('.').any(|label| {
            label.is_empty() || label.len() > 63 || !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }) || ascii.len() > 253
        {
            return Err(bad);
        }
        Ok(Self { address: address.to_owned(), key: format!("{}@{}", local.to_lowercase(), ascii.to_lowercase()) })
    }
}

/// Where a subscriber is in their life. Stored as TEXT (`subscribers.status`, with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriberStatus {
    /// Asked to subscribe; waiting for the confirmation link.
    Pending,
    /// Confirmed (double opt-in); receives mailings.
    Confirmed,
    /// Unsubscribed; receives nothing until they subscribe and confirm again.
    Unsubscribed,
    /// Mail to the address bounced hard; receives nothing.
    Bounced,
    /// The reader marked a mailing as spam; receives nothing.
    Complained,
}

impl SubscriberStatus {
    /// Every state.
    pub const ALL: [Self; 5] = [Self::Pending, Self::Confirmed, Self::Unsubscribed, Self::Bounced, Self::Complained];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Unsubscribed => "unsubscribed",
            Self::Bounced => "bounced",
            Self::Complained => "complained",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One `subscribers` row. `secret` keys the subscriber's signed token and
/// never leaves the server.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = subscribers)]
pub struct SubscriberRow {
    pub id: i64,
    pub email: String,
    pub email_key: String,
    pub name: Option<String>,
    pub status: String,
    pub source: Option<String>,
    pub secret: String,
    pub confirmation_sent_at: Option<NaiveDateTime>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub unsubscribed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl SubscriberRow {
    /// The parsed status (`pending` for anything unknown, which the CHECK rules out).
    pub fn status(&self) -> SubscriberStatus {
        SubscriberStatus::parse(&self.status).unwrap_or(SubscriberStatus::Pending)
    }
}

/// The one-way hash kept after erasing an address: SHA-256 (hex) of a
/// context string and the comparison key. It lets an import recognize the
/// address, and cannot be turned back into it, though anyone holding a
/// guess can test it (as with any unsalted hash of an email address).
pub fn erasure_hash(email_key: &str) -> String {
    crate::auth::tokens::digest(&format!("broadsheet erased subscriber v1\n{email_key}"))
}

/// The topic that matches every article.
pub const ALL_TOPICS: &str = "all";

const TOKEN_CONTEXT: &str = "broadsheet subscriber token v1";

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The subscriber's signed token for unsubscribe and preferences links:
/// `{id}.{base64url(HMAC-SHA256(secret, context ‖ id))}`. Reusable (readers
/// click twice, scanners click first), scoped to one subscriber, and void
/// once the subscriber's `secret` changes or the row is erased.
pub fn sign(id: i64, secret: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), format!("{TOKEN_CONTEXT}\n{id}").as_bytes());
    format!("{id}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// The subscriber id a token claims, if it is shaped like one; check it
/// with [`verify`] against that subscriber's secret.
pub fn claimed_id(token: &str) -> Option<i64> {
    let (id, mac) = token.split_once('.')?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || id.len() > 18 || mac.len() != 43 {
        return None;
    }
    id.parse().ok().filter(|id| *id > 0)
}

/// Whether `token` is the signed token of subscriber `id` with `secret`
/// (constant-time comparison).
pub fn verify(token: &str, id: i64, secret: &str) -> bool {
    let expected = sign(id, secret);
    expected.len() == token.len() && expected.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_of_one_address_share_a_key_and_keep_their_spelling() {
        let a = SubscriberEmail::parse("  Ana.Lopez@Bücher.Example ").unwrap();
        assert_eq!(a.address, "Ana.Lopez@Bücher.Example");
        assert_eq!(a.key, "ana.lopez@xn--bcher-kva.example");
        for v in ["ana.lopez@xn--bcher-kva.example", "ANA.LOPEZ@BÜCHER.EXAMPLE", "ana.lopez@bücher.example"] {
            assert_eq!(SubscriberEmail::parse(v).unwrap().key, a.key, "{v}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "   ",
            "a",
            "a@",
            "@b.c",
            "a@b",
            "a b@c.d",
            "a@.b.c",
            "a@b.c.",
            "a@b@c.d",
            "a@[1.2.3.4]",
            "a@b.c*",
            "a@b_c.d",
            &long,
        ] {
            assert!(SubscriberEmail::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn tokens_verify_only_for_their_subscriber_and_secret() {
        let t = sign(42, "secret-a");
        assert_eq!(claimed_id(&t), Some(42));
        assert!(verify(&t, 42, "secret-a"));
        assert!(!verify(&t, 42, "secret-b"), "another secret");
        assert!(!verify(&t.replacen("42.", "43.", 1), 43, "secret-a"), "another id");
        let mut altered = t.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(!verify(std::str::from_utf8(&altered).unwrap(), 42, "secret-a"), "an altered signature");
        for bad in ["", "42", "x.y", "-1.abc", "0.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"] {
            assert_eq!(claimed_id(bad), None, "{bad:?}");
        }
    }
}
