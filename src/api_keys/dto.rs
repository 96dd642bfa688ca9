//! Wire types for API keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo::ApiKeyRow;

/// Key kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyKind {
    /// Read-only: published content only.
    Content,
    /// Acts with the scopes given at creation.
    Admin,
}

/// An API key's metadata (never the key itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    /// Numeric id.
    pub id: i64,
    /// A label, e.g. `mobile app`.
    pub name: String,
    /// Kind.
    pub kind: ApiKeyKind,
    /// Scopes (admin keys); empty for content keys.
    pub scopes: Vec<String>,
    /// The first characters of the key, to recognise it (`bsk_content_Ab12`).
    pub prefix: String,
    /// The admin who created it.
    pub created_by: Option<i64>,
    /// RFC 3339 UTC; `null` for no expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC, to the minute; `null` if never used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC; `null` while active.
    pub revoked_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(r: ApiKeyRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            kind: if r.kind == "admin" { ApiKeyKind::Admin } else { ApiKeyKind::Content },
            scopes: r.scopes.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            prefix: r.key_prefix,
            created_by: r.created_by,
            expires_at: r.expires_at.map(|t| t.and_utc()),
            last_used_at: r.last_used_at.map(|t| t.and_utc()),
            revoked_at: r.revoked_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
        }
    }
}

/// `POST /api-keys` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "mobile app", "kind": "content"}))]
pub struct CreateApiKey {
    /// A label, 1–100 characters.
    pub name: String,
    /// Kind.
    pub kind: ApiKeyKind,
    /// For admin keys: scopes from `articles:write`, `authors:write`,
    /// `comments:moderate`, `media:write`, `users:write`. Must be empty for content keys.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// RFC 3339; must be in the future. Omit for no expiry.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new key: the only time `key` is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The secret; send as `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
    /// Store it now: it cannot be shown again.
    pub key: String,
    /// Its metadata.
    pub api_key: ApiKey,
}

crate::list_envelope!(ApiKeyList, ApiKey, "A page of API keys.");
crate::data_envelope!(CreatedApiKeyEnvelope, CreatedApiKey, "`{\"data\": CreatedApiKey}`");
