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
    /// How to greet the reader. Trimmed; blank means none; no control characters.
    #[schema(
        max_length = 200,
        pattern = "^[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*([^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\u0000-\\u001F\\u007F-\\u009F])?[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*)?$"
    )]
    pub name: Option<String>,
    /// Slugs of categories, series or authors, or `all` (the default).
    #[schema(schema_with = topics_nullable)]
    pub topics: Option<Vec<String>>,
    /// Where the form was (`footer-form`, `article-end`): kept with the consent
    /// record. Trimmed; blank means none; no control characters.
    #[schema(
        max_length = 100,
        pattern = "^[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*([^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\u0000-\\u001F\\u007F-\\u009F])?[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*)?$"
    )]
    pub source: Option<String>,
    /// Honeypot: leave empty. Forms hide it from people; a bot that fills it
    /// gets the same 202 and nothing is stored. Any value is accepted (no
    /// `maxLength`), since refusing one would tell the bot it was caught.
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
    #[schema(schema_with = topics)]
    pub topics: Option<Vec<String>>,
    /// New name; `null` (or a blank one) clears it. No control characters.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = "^[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*([^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\u0000-\\u001F\\u007F-\\u009F])?[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*)?$")]
    pub name: Option<Option<String>>,
    /// `true` unsubscribes (as the one-click link does); `false` changes nothing.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub unsubscribe: Option<bool>,
}

/// A subscription as its reader sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"email": "Reader@Example.com", "name": "Ana", "status": "confirmed", "topics": ["politics"], "confirmed_at": "2026-12-01T09:30:00Z", "unsubscribed_at": null}))]
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
#[schema(example = json!({"subscription": {"email": "Reader@Example.com", "name": "Ana", "status": "pending", "topics": ["politics"], "confirmed_at": null, "unsubscribed_at": null}, "expires_at": "2026-12-03T09:00:00Z"}))]
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
#[schema(example = json!({"subscription": {"email": "Reader@Example.com", "name": "Ana", "status": "confirmed", "topics": ["politics"], "confirmed_at": "2026-12-01T09:30:00Z", "unsubscribed_at": null}, "token": "42.Xk3fT0bq2mR9aVwq1yP6cJ8nH5sL4dE7gU0iO3zA1b2", "preferences_url": "https://www.example.com/subscriptions/preferences?token=42.Xk3fT0bq2mR9aVwq1yP6cJ8nH5sL4dE7gU0iO3zA1b2"}))]
pub struct Confirmed {
    /// The subscription, now `confirmed`.
    pub subscription: Subscription,
    /// The subscriber's signed token (reusable; the same one mailings carry).
    pub token: String,
    /// The preferences page with the token.
    pub preferences_url: String,
}

crate::data_envelope!(ConfirmedEnvelope, Confirmed, "`{\"data\": Confirmed}`");

/// `GET /subscriptions` query: pagination and filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubscriberQuery {
    /// 1-based page number (≤ 1,000,000).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// Only subscribers in this state.
    #[param(value_type = Option<SubscriberStatus>)]
    pub status: Option<String>,
    /// Only subscribers who chose this topic slug (`all`: those who chose everything).
    #[param(max_length = 200)]
    pub topic: Option<String>,
    /// Only subscribers created at or after this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_after: Option<String>,
    /// Only subscribers created at or before this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_before: Option<String>,
}

/// A subscriber as editors see it: never its secret or tokens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 42, "email": "Reader@Example.com", "name": "Ana", "status": "confirmed", "topics": ["politics"], "source": "footer-form", "created_at": "2026-12-01T09:00:00Z", "updated_at": "2026-12-01T09:30:00Z", "confirmed_at": "2026-12-01T09:30:00Z", "unsubscribed_at": null}))]
pub struct Subscriber {
    /// Id (for `DELETE`).
    pub id: i64,
    /// The address, as entered.
    pub email: String,
    /// The name, if any.
    pub name: Option<String>,
    /// Where the subscription is.
    pub status: SubscriberStatus,
    /// Slugs, or `["all"]`.
    pub topics: Vec<String>,
    /// The form it came from.
    pub source: Option<String>,
    /// When it was first asked for.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// When it was confirmed (the latest time), if ever.
    pub confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was unsubscribed (the latest time), if ever.
    pub unsubscribed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Subscriber {
    /// The view of `row` with its `topics`.
    pub fn from_row(row: &SubscriberRow, topics: Vec<String>) -> Self {
        Self {
            id: row.id,
            email: row.email.clone(),
            name: row.name.clone(),
            status: row.status(),
            topics,
            source: row.source.clone(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            confirmed_at: row.confirmed_at.map(utc),
            unsubscribed_at: row.unsubscribed_at.map(utc),
        }
    }
}

impl Subscriber {
    /// The stored form of `status`.
    pub fn status_str(&self) -> &'static str {
        self.status.as_str()
    }
}

crate::list_envelope!(SubscriberList, Subscriber, "A page of subscribers.");

/// One entry of the consent log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"created_at": "2026-12-01T09:30:00Z", "basis": "double_opt_in", "email": "Reader@Example.com", "topics": ["politics"], "source": "footer-form", "privacy_notice_version": "2026-11", "ip": "203.0.113.0"}))]
pub struct ConsentRecord {
    /// When the reader confirmed (for an import with consent data, when
    /// they opted in or confirmed in the tool the list came from).
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// What the record rests on: `double_opt_in` (confirmed here),
    /// `imported` (an import carried the source tool's opt-in time or
    /// address), or `imported_without_consent` (an import with no consent
    /// data: the address was on the list, nothing says how it got there).
    #[schema(value_type = String, example = "double_opt_in")]
    pub basis: String,
    /// The address as confirmed.
    pub email: String,
    /// The topics consented to.
    pub topics: Vec<String>,
    /// The form it came from.
    pub source: Option<String>,
    /// `PRIVACY_NOTICE_VERSION` at the time.
    pub privacy_notice_version: String,
    /// The client address as `CONSENT_IP` allowed (truncated by default), or `null`.
    pub ip: Option<String>,
}

impl From<super::repo::ConsentRow> for ConsentRecord {
    fn from(r: super::repo::ConsentRow) -> Self {
        Self {
            created_at: utc(r.created_at),
            basis: r.basis,
            email: r.email,
            topics: serde_json::from_str(&r.topics).unwrap_or_default(),
            source: r.source,
            privacy_notice_version: r.privacy_notice_version,
            ip: r.ip,
        }
    }
}

/// A subscriber in an export: the admin view and its consent records.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedSubscriber {
    /// The subscriber.
    #[serde(flatten)]
    pub subscriber: Subscriber,
    /// Every consent record, oldest first.
    pub consents: Vec<ConsentRecord>,
}

/// The JSON export: `{"data": [...]}` with every subscriber.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberExport {
    /// Every subscriber, oldest first.
    pub data: Vec<ExportedSubscriber>,
}

/// `GET /subscriptions/export` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default) or `json`.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

/// `POST /subscriptions/import` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: check and report everything, write nothing (default `false`).
    #[param(value_type = Option<bool>)]
    pub dry_run: Option<String>,
}

crate::data_envelope!(ImportReportEnvelope, super::import::ImportReport, "`{\"data\": ImportReport}`");

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// RFC 4180 CSV, UTF-8, a header row; `topics` space-separated and `consents` as JSON.
    Csv,
    /// `{"data": [ExportedSubscriber]}`.
    Json,
}

/// The kind of a delivery problem a mail provider reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BounceType {
    /// Permanent failure (no such mailbox, domain gone): mail to the address stops.
    HardBounce,
    /// Temporary failure (mailbox full, greylisting): recorded as ignored; nothing changes.
    SoftBounce,
    /// The reader marked a message as spam: mail to the address stops.
    Complaint,
}

/// One reported delivery problem.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BounceEvent {
    /// The recipient address (compared like subscriptions: case and IDN variants match).
    #[schema(max_length = 254)]
    pub email: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: BounceType,
    /// The provider's diagnostic, for logs (not stored).
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// `POST /subscriptions/bounces` body: the provider-neutral shape.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"events": [
    {"email": "gone@example.com", "type": "hard_bounce", "reason": "550 5.1.1 user unknown"},
    {"email": "angry@example.com", "type": "complaint"}
]}))]
pub struct BounceReport {
    /// 1 to 1,000 events; all are applied or none (a bad one is a 400 naming it).
    #[schema(min_items = 1, max_items = 1000)]
    pub events: Vec<BounceEvent>,
}

/// What a bounce report changed.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(example = json!({"received": 2, "stopped": 2, "ignored": 0, "unknown": 0}))]
pub struct BounceOutcome {
    /// Events in the report.
    pub received: usize,
    /// Addresses now `bounced` or `complained` (no more mail).
    pub stopped: usize,
    /// Events that changed nothing (soft bounces; addresses already stopped).
    pub ignored: usize,
    /// Events for addresses with no subscriber.
    pub unknown: usize,
}

crate::data_envelope!(BounceOutcomeEnvelope, BounceOutcome, "`{\"data\": BounceOutcome}`");

/// `topics` as `service::parse_topics` reads it: at most 50 items, each, once
/// trimmed, non-empty, without control characters and at most `MAX_TOPIC`
/// characters.
fn topics_builder(description: &str) -> utoipa::openapi::schema::ArrayBuilder {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    // W: what `str::trim` drops (Unicode White_Space); C: control characters.
    const W: &str = "\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
    const C: &str = "\\u0000-\\u001F\\u007F-\\u009F";
    ArrayBuilder::new().description(Some(description)).max_items(Some(50)).items(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(super::service::MAX_TOPIC))
            .pattern(Some(format!("^[{W}]*[^{W}{C}]([^{C}]*[^{W}{C}])?[{W}]*$"))),
    )
}

fn topics_nullable() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{SchemaType, Type};
    topics_builder("Slugs of categories, series or authors, or `all` (the default).")
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .build()
}

fn topics() -> utoipa::openapi::schema::Array {
    topics_builder("New topics (replace the old ones): slugs or `all`.").build()
}
