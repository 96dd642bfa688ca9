//! Access tokens: HS256 JWTs (RFC 7519) with a pinned algorithm.
//!
//! Claims: `sub` (user id), `role`, `iat`, `exp` (seconds since the epoch),
//! `iss`, `aud`, `jti` (random id) and `sid` (the session family, checked
//! against the database on every request so logout and password changes take
//! effect at once). Validation accepts only HS256, checks `exp` with zero
//! leeway, and requires the configured issuer and audience.

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

/// The `aud` claim of draft preview tokens; never accepted as an access token.
pub const PREVIEW_AUDIENCE: &str = "broadsheet-preview";

/// Claims of a draft preview token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PreviewClaims {
    /// The article id, as a decimal string.
    pub sub: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Always [`PREVIEW_AUDIENCE`].
    pub aud: String,
}

/// Signing and verification keys with the pinned validation rules.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    preview_validation: Validation,
    issuer: String,
}

impl JwtKeys {
    /// Keys for the HMAC `secret` (at least 32 bytes) and `issuer`.
    pub fn new(secret: &[u8], issuer: &str) -> anyhow::Result<Self> {
        let mut validation = Validation::new(ALGORITHM);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let mut preview_validation = validation.clone();
        preview_validation.set_audience(&[PREVIEW_AUDIENCE]);
        Ok(Self {
            preview_validation,
            encoding: EncodingKey::from_secret(secret).map_err(|e| anyhow::anyhow!("bad JWT key: {e}"))?,
            decoding: DecodingKey::from_secret(secret).map_err(|e| anyhow::anyhow!("bad JWT key: {e}"))?,
            validation,
            issuer: issuer.to_owned(),
        })
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs `claims`.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        encode(&Header::new(ALGORITHM), claims, &self.encoding).map_err(|e| anyhow::anyhow!("JWT signing failed: {e}"))
    }

    /// Signs preview claims.
    pub fn sign_preview(&self, claims: &PreviewClaims) -> anyhow::Result<String> {
        encode(&Header::new(ALGORITHM), claims, &self.encoding).map_err(|e| anyhow::anyhow!("JWT signing failed: {e}"))
    }

    /// Verifies a preview token (audience [`PREVIEW_AUDIENCE`]).
    pub fn verify_preview(&self, token: &str) -> Result<PreviewClaims, jsonwebtoken::errors::Error> {
        decode::<PreviewClaims>(token, &self.decoding, &self.preview_validation).map(|d| d.claims)
    }

    /// Verifies signature, algorithm, expiry (no leeway), issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims)
    }
}
