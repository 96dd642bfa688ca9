//! Wire types for users (admin-only, and `/auth/me`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::UserRow;
use crate::auth::permissions::Role;

/// An account. Visible to admins, and to the user themself via `/auth/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    /// Numeric id.
    pub id: i64,
    /// Login email, trimmed and lowercased.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Linked author profile, for bylines and `PATCH /authors/me`.
    pub author_id: Option<i64>,
    /// Disabled accounts cannot log in or refresh.
    pub disabled: bool,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            email: r.email,
            role: Role::parse(&r.role).unwrap_or(Role::Contributor),
            author_id: r.author_id,
            disabled: r.disabled,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// `POST /users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "editor@example.com", "password": "a long passphrase", "role": "editor"}))]
pub struct CreateUser {
    /// Login email; unique case-insensitively.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// At least 10 characters, at most 1024 bytes. Required unless `invite`
    /// is true, and refused when it is.
    #[serde(default)]
    #[schema(min_length = 10)]
    pub password: Option<String>,
    /// Email the user a single-use link (valid `INVITATION_TTL_HOURS`, 7 days)
    /// to choose their own password, instead of setting one; default false.
    #[serde(default)]
    pub invite: bool,
    /// Role.
    pub role: Role,
    /// Author profile to link. Omitted: a new profile is created and linked
    /// (every role writes), named by `name` or the email's local part.
    #[serde(default)]
    pub author_id: Option<i64>,
    /// Display name of the author profile created when `author_id` is
    /// omitted; default the email's local part. Ignored with `author_id`.
    #[serde(default, alias = "display_name")]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
}

/// `PATCH /users/{id}` body; omitted fields are unchanged.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "author", "disabled": false}))]
pub struct UpdateUser {
    /// New role. The last enabled admin cannot be demoted.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    /// Disable (true) or re-enable (false). Disabling ends all the user's
    /// sessions. The last enabled admin cannot be disabled.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub disabled: Option<bool>,
    /// Link an author profile, or `null` to unlink.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub author_id: Option<Option<i64>>,
}

crate::list_envelope!(UserList, User, "A page of users.");
crate::data_envelope!(UserEnvelope, User, "`{\"data\": User}`");
