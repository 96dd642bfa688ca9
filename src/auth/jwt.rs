//! Access tokens: HS256 JWTs (RFC 7519) with a pinned algorithm.
//!
//! Claims: `sub` (user id), `role`, `iat`, `exp` (seconds since the epoch),
//! `iss`, `aud`, `jti` (random id) and `sid` (the session family, checked
//! against the database on every request so logout and password changes take
//! effect at once). Validation accepts only HS256, checks `exp` with zero
//! leeway, and requires the configured issuer and audience.
//!
//! Keys: `JWT_SECRET` when set (one key, no `kid`), else the `signing_keys`
//! table shared by every instance: tokens carry the signing key's `kid`, and
//! keys retired by `broadsheet keys rotate` keep verifying until `not_after`
//! (the longest token lifetime after retirement, plus the reload interval).

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The only algorithm issued or accepted.
pub const ALGORITHM: Algorithm = Algorithm::HS256;
/// The `aud` claim of access tokens.
pub const AUDIENCE: &str = "broadsheet-api";

/// Access-token claims.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id, as a decimal string.
    pub sub: String,
    /// Role at issue time (`admin|editor|author|contributor`); the database's
    /// current role is what permissions use.
    pub role: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
    /// Issuer (`JWT_ISSUER`).
    pub iss: String,
    /// Audience, always [`AUDIENCE`].
    pub aud: String,
    /// Unique token id.
    pub jti: String,
    /// Session family id.
    pub sid: String,
}

/// How often stored keys are re-read even when no token names an unknown `kid`.
const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// At most one reload per this interval for tokens naming an unknown `kid`,
/// so forged `kid`s cannot turn into a query per request.
const MISS_RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// One verification key from the database, with its end.
struct StoredKey {
    decoding: DecodingKey,
    not_after: Option<i64>,
}

/// The keys loaded from `signing_keys`.
struct Ring {
    kid: String,
    encoding: EncodingKey,
    keys: std::collections::HashMap<String, StoredKey>,
}

enum Source {
    /// `JWT_SECRET`: one key, no `kid` needed (one is ignored if present).
    Static { encoding: EncodingKey, decoding: DecodingKey },
    /// `signing_keys`: tokens carry the signing key's `kid`.
    Stored {
        ring: std::sync::RwLock<Ring>,
        /// When the keys were last read, and when a miss last caused a read.
        loaded_at: std::sync::Mutex<(std::time::Instant, Option<std::time::Instant>)>,
    },
}

/// A key row as stored (the secret stays inside this module and the repo).
pub struct KeyMaterial {
    /// Key id, sent in the JWT header.
    pub kid: String,
    /// The HMAC secret (base64url text, used as bytes).
    pub secret: String,
    /// Seconds since the epoch after which the key no longer verifies; `None`: current.
    pub not_after: Option<i64>,
}

/// Signing and verification keys with the pinned validation rules.
pub struct JwtKeys {
    source: Source,
    validation: Validation,
    issuer: String,
}

fn validation(issuer: &str) -> Validation {
    let mut validation = Validation::new(ALGORITHM);
    validation.leeway = 0;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation
}

fn bad_key(e: jsonwebtoken::errors::Error) -> anyhow::Error {
    anyhow::anyhow!("bad JWT key: {e}")
}

fn ring(keys: Vec<KeyMaterial>) -> anyhow::Result<Ring> {
    // The caller passes the newest generation first: it signs.
    let first = keys.first().ok_or_else(|| anyhow::anyhow!("no signing key is stored"))?;
    let encoding = EncodingKey::from_secret(first.secret.as_bytes()).map_err(bad_key)?;
    let kid = first.kid.clone();
    let keys = keys
        .into_iter()
        .map(|k| {
            let decoding = DecodingKey::from_secret(k.secret.as_bytes()).map_err(bad_key)?;
            Ok((k.kid, StoredKey { decoding, not_after: k.not_after }))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Ring { kid, encoding, keys })
}

impl JwtKeys {
    /// Keys for the HMAC `secret` (at least 32 bytes, from `JWT_SECRET`) and `issuer`.
    pub fn new(secret: &[u8], issuer: &str) -> anyhow::Result<Self> {
        let validation = validation(issuer);
        Ok(Self {
            source: Source::Static {
                encoding: EncodingKey::from_secret(secret).map_err(bad_key)?,
                decoding: DecodingKey::from_secret(secret).map_err(bad_key)?,
            },
            validation,
            issuer: issuer.to_owned(),
        })
    }

    /// Keys from the `signing_keys` table, newest generation first.
    pub fn stored(keys: Vec<KeyMaterial>, issuer: &str) -> anyhow::Result<Self> {
        let validation = validation(issuer);
        Ok(Self {
            source: Source::Stored {
                ring: std::sync::RwLock::new(ring(keys)?),
                loaded_at: std::sync::Mutex::new((std::time::Instant::now(), None)),
            },
            validation,
            issuer: issuer.to_owned(),
        })
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `kid` new tokens carry (`None` with `JWT_SECRET`).
    pub fn signing_kid(&self) -> Option<String> {
        match &self.source {
            Source::Static { .. } => None,
            Source::Stored { ring, .. } => Some(ring.read().unwrap_or_else(|e| e.into_inner()).kid.clone()),
        }
    }

    /// Whether the stored keys should be re-read before verifying `token`:
    /// they are older than a minute, or `token` names a `kid` not loaded
    /// (at most once a second). Claims the reload, so concurrent callers
    /// do not all query.
    pub fn wants_reload(&self, token: Option<&str>) -> bool {
        let Source::Stored { ring, loaded_at } = &self.source else { return false };
        let mut at = loaded_at.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        let unknown = token
            .and_then(|t| jsonwebtoken::decode_header(t).ok())
            .and_then(|h| h.kid)
            .is_some_and(|kid| !ring.read().unwrap_or_else(|e| e.into_inner()).keys.contains_key(&kid));
        let miss = unknown && at.1.is_none_or(|last| now.duration_since(last) >= MISS_RELOAD_EVERY);
        if miss {
            *at = (now, Some(now));
            return true;
        }
        if now.duration_since(at.0) >= RELOAD_EVERY {
            at.0 = now;
            return true;
        }
        false
    }

    /// Replaces the stored keys (newest generation first).
    pub fn install(&self, keys: Vec<KeyMaterial>) -> anyhow::Result<()> {
        if let Source::Stored { ring: current, .. } = &self.source {
            let new = ring(keys)?;
            *current.write().unwrap_or_else(|e| e.into_inner()) = new;
        }
        Ok(())
    }

    fn encode<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let result = match &self.source {
            Source::Static { encoding, .. } => encode(&Header::new(ALGORITHM), claims, encoding),
            Source::Stored { ring, .. } => {
                let ring = ring.read().unwrap_or_else(|e| e.into_inner());
                let mut header = Header::new(ALGORITHM);
                header.kid = Some(ring.kid.clone());
                encode(&header, claims, &ring.encoding)
            }
        };
        result.map_err(|e| anyhow::anyhow!("JWT signing failed: {e}"))
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<T, jsonwebtoken::errors::Error> {
        use jsonwebtoken::errors::ErrorKind;
        match &self.source {
            Source::Static { decoding, .. } => decode::<T>(token, decoding, validation).map(|d| d.claims),
            Source::Stored { ring, .. } => {
                let kid = jsonwebtoken::decode_header(token)?.kid.ok_or(ErrorKind::InvalidToken)?;
                let ring = ring.read().unwrap_or_else(|e| e.into_inner());
                let key = ring.keys.get(&kid).ok_or(ErrorKind::InvalidSignature)?;
                if key.not_after.is_some_and(|end| end <= chrono::Utc::now().timestamp()) {
                    return Err(ErrorKind::InvalidSignature.into());
                }
                decode::<T>(token, &key.decoding, validation).map(|d| d.claims)
            }
        }
    }

    /// Signs `claims`; with stored keys the header names the key's `kid`.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        self.encode(claims)
    }

    /// Verifies signature, algorithm, expiry (no leeway), issuer and audience;
    /// with stored keys also that the `kid` names a key still in service.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        self.decode(token, &self.validation)
    }
}
