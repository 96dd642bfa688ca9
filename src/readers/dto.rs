//! Wire types for readers. A reader's email is shown only to the holder of
//! their verification link (who received it by mail).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `?token=` of a verification link.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// The token from the link.
    #[param(max_length = 200)]
    pub token: String,
}

/// `POST /readers/verify` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "3q2-7wAAAAB4bWxucy5vcmcvMjAwMC9zdmciPjwvc3Zn"}))]
pub struct VerifyRequest {
    /// The token from the verification mail.
    #[schema(max_length = 200)]
    pub token: String,
}

/// What a verification link would verify.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "Ana", "email": "ana@example.com", "verified": false, "expires_at": "2026-12-04T10:00:00Z"}))]
pub struct VerificationPreview {
    /// The reader's display name.
    pub name: Option<String>,
    /// The address the link was mailed to (the link's holder received it).
    pub email: String,
    /// Whether the address is already verified.
    pub verified: bool,
    /// When the link stops working (RFC 3339 UTC).
    pub expires_at: DateTime<Utc>,
}

crate::data_envelope!(VerificationPreviewEnvelope, VerificationPreview, "`{data: VerificationPreview}`.");

/// A verified reader and their reader token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"reader_id": 4, "name": "Ana", "verified_at": "2026-12-02T10:00:00Z", "reader_token": "4.kq…"}))]
pub struct Verified {
    /// Reader id.
    pub reader_id: i64,
    /// Display name.
    pub name: Option<String>,
    /// When the address was verified (RFC 3339 UTC).
    pub verified_at: DateTime<Utc>,
    /// Signed, reusable token proving this reader (send as `X-Reader-Token`
    /// to vote). Keep it private.
    pub reader_token: String,
}

crate::data_envelope!(VerifiedEnvelope, Verified, "`{data: Verified}`.");

/// `?token=&thread=` of an unsubscribe link.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    /// The token from the link.
    #[param(max_length = 200)]
    pub token: String,
    /// The comment whose replies to stop; absent: every reply notification.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub thread: Option<String>,
}

/// The state of a reader's reply notifications.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "Ana", "thread": 40, "notifications": false}))]
pub struct NotificationState {
    /// The reader's display name.
    pub name: Option<String>,
    /// The comment the link is about; `null` for all reply notifications.
    pub thread: Option<i64>,
    /// Whether reply mail is on for this scope.
    pub notifications: bool,
}

crate::data_envelope!(NotificationStateEnvelope, NotificationState, "`{data: NotificationState}`.");
