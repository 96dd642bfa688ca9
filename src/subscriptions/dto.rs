//! Wire types of `/subscriptions`. Responses to readers show their own
//! address (they hold a token mailed to it); nothing here carries a secret
//! but the `token` a confirmation returns.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{SubscriberRow, SubscriberStatus};

/// `POST /subscriptions` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "reader@example.com", "name": "Ana", "topics": ["politics"], "source": "footer-form"}))]
pub struct SubscribeRequest {
    /// The reader's address: trimmed, stored as entered, compared
    /// case-insensitively with the domain IDNA-normalized.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// How to greet the reader.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Slugs of categories, series or authors, or `all` (the default).
    #[schema(max_items = 50)]
    pub topics: Option<Vec<String>>,
    /// Where the form was (`footer-form`, `article-end`): kept with the consent record.
    #[schema(max_length = 100)]
    pub source: Option<String>,
    /// Honeypot: leave empty. Forms hide it from people; a bot that fills it
    /// gets the same 202 and nothing is stored.
    #[schema(max_length = 0)]
    pub website: Option<String>,
}

/// `?token=`: a mailed confirmation token, or a subscriber's signed token.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token from the link.
    #[param(max_length = 200)]
    pub token: String,
}

/// `POST /subscriptions/confirm` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q2VxR8d0c3RvcmVkLW9ubHktYXMtYS1oYXNo"}))]
pub struct ConfirmRequest {
    /// The token from the confirmation mail.
    #[schema(max_length = 200)]
    pub token: String,
}

/// `PATCH /subscriptions/preferences` body: each field optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"topics": ["politics", "climate"]}))]
pub struct PreferencesPatch {
    /// New topics (replace the old ones): slugs or `all`.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, max_items = 50)]
    pub topics: Option<Vec<String>>,
    /// New name; `null` clears it.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub name: Option<Option<String>>,
    /// `true` unsubscribes (as the one-click link does); `false` changes nothing.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub unsubscribe: Option<bool>,
}

/// A subscription as its reader sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscription {
    /// The address, as entered.
    pub email: String,
    /// The name, if any.
    pub name: Option<String>,
    /// Where the subscription is.
    pub status: SubscriberStatus,
    /// Slugs, or `["all"]`.
    pub topics: Vec<String>,
    /// When it was confirmed (the latest time), if ever.
    pub confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was unsubscribed (the latest time), if ever.
    pub unsubscribed_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn utc(t: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

impl Subscription {
    /// The view of `row` with its `topics`.
    pub fn from_row(row: &SubscriberRow, topics: Vec<String>) -> Self {
        Self {
            email: row.email.clone(),
            name: row.name.clone(),
            status: row.status(),
            topics,
            confirmed_at: row.confirmed_at.map(utc),
            unsubscribed_at: row.unsubscribed_at.map(utc),
        }
    }
}

crate::data_envelope!(SubscriptionEnvelope, Subscription, "`{\"data\": Subscription}`");

/// What confirming a token would do (`GET /subscriptions/confirm`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationPreview {
    /// The subscription, still `pending`.
    pub subscription: Subscription,
    /// Until when the token works.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

crate::data_envelope!(ConfirmationPreviewEnvelope, ConfirmationPreview, "`{\"data\": ConfirmationPreview}`");

/// A confirmed subscription and the reader's own token for
/// `/subscriptions/preferences` and `/subscriptions/unsubscribe`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmed {
    /// The subscription, now `confirmed`.
    pub subscription: Subscription,
    /// The subscriber's signed token (reusable; the same one mailings carry).
    pub token: String,
    /// The preferences page with the token.
    pub preferences_url: String,
}

crate::data_envelope!(ConfirmedEnvelope, Confirmed, "`{\"data\": Confirmed}`");
