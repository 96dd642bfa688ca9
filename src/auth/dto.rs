//! Wire types for `/auth`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::dto::User;

/// `POST /auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "admin@example.com", "password": "a long passphrase"}))]
pub struct LoginRequest {
    /// Login email (case-insensitive).
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /auth/refresh` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "q2Vx…"}))]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh. Each can be used once.
    pub refresh_token: String,
}

/// `PUT /auth/password` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "old passphrase", "new_password": "a new long passphrase"}))]
pub struct ChangePassword {
    /// The current password.
    pub current_password: String,
    /// At least 10 characters, at most 1024 bytes.
    pub new_password: String,
}

/// Tokens issued by login, refresh and password change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9.e30.sig", "token_type": "Bearer", "expires_in": 900,
    "refresh_token": "q2VxR8d0c3RvcmVkLW9ubHktYXMtYS1oYXNo", "refresh_expires_in": 2592000,
    "user": {"id": 1, "email": "editor@example.com", "role": "editor", "author_id": 1, "disabled": false,
             "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-05T09:00:00Z"}}))]
pub struct TokenPair {
    /// A JWT (HS256) for `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires (`ACCESS_TOKEN_TTL_SECONDS`).
    pub expires_in: i64,
    /// Opaque, single-use token for `POST /auth/refresh`. Presenting a used one
    /// again revokes the whole session.
    pub refresh_token: String,
    /// Seconds until `refresh_token` expires (`REFRESH_TOKEN_TTL_DAYS`).
    pub refresh_expires_in: i64,
    /// The signed-in user.
    pub user: User,
}

crate::data_envelope!(TokenEnvelope, TokenPair, "`{\"data\": TokenPair}`");

/// `POST /auth/password-reset` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "editor@example.com"}))]
pub struct PasswordResetRequest {
    /// The account's login email (case-insensitive).
    #[schema(format = Email, max_length = 254)]
    pub email: String,
}

/// `POST /auth/password-reset/confirm` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q2VxR8d0c3RvcmVkLW9ubHktYXMtYS1oYXNo", "new_password": "a new long passphrase"}))]
pub struct PasswordResetConfirm {
    /// The token from the reset or invitation link.
    #[schema(max_length = 200)]
    pub token: String,
    /// At least 10 characters, at most 1024 bytes.
    #[schema(min_length = 10)]
    pub new_password: String,
}

/// The answer to a reset request, the same whether or not the account exists.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// What happens next.
    pub message: String,
}

crate::data_envelope!(AcceptedEnvelope, Accepted, "`{\"data\": Accepted}`");
