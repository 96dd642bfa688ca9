//! Wire types for `/api/v1/webhooks`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{AttemptRow, DeliveryRow, WebhookRow};
use crate::pagination::PageMeta;

/// `POST /webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where deliveries are POSTed: `http(s)`, at most 2,000 characters, no
    /// credentials, resolving only to public addresses.
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    /// Events to send (`article.published`, …); at least one.
    #[schema(min_items = 1)]
    pub events: Vec<String>,
    /// A note for admins.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Whether deliveries go out; default true.
    pub active: Option<bool>,
}

/// `PATCH /webhooks/{id}`: only the fields given change. Turning an endpoint
/// back on (`active: true`) clears its failure streak.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    /// New URL (checked as on creation).
    #[schema(min_length = 1, max_length = 2000)]
    pub url: Option<String>,
    /// New event list.
    #[schema(min_items = 1)]
    pub events: Option<Vec<String>>,
    /// New note; `null` clears it.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(max_length = 500, value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// On or off.
    pub active: Option<bool>,
}

/// An endpoint (never its secret, except once in [`CreatedWebhook`]).
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    /// Id.
    pub id: i64,
    /// Delivery URL.
    pub url: String,
    /// Admin note.
    pub description: Option<String>,
    /// Chosen events.
    pub events: Vec<String>,
    /// Whether deliveries go out.
    pub active: bool,
    /// Deliveries given up in a row (reset by a success).
    pub failure_streak: i32,
    /// When it was disabled for failing, if it was.
    pub disabled_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Self {
            events: r.event_names(),
            id: r.id,
            url: r.url,
            description: r.description,
            active: r.active,
            failure_streak: r.failure_streak,
            disabled_at: r.disabled_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// `{data}` for one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEnvelope {
    /// The endpoint.
    pub data: Webhook,
}

/// The created endpoint and its signing secret, shown only this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The endpoint.
    pub data: Webhook,
    /// `whsec_` + base64 key, for Standard Webhooks libraries.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// A page of endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// Endpoints by id.
    pub data: Vec<Webhook>,
    /// Paging.
    pub meta: PageMeta,
}

/// One HTTP attempt of a delivery, as logged.
#[derive(Debug, Serialize, ToSchema)]
pub struct Attempt {
    /// 1 for the first attempt (a replay counts from 1 again).
    pub attempt: i32,
    /// When it started (RFC 3339 UTC).
    pub started_at: DateTime<Utc>,
    /// The request headers sent (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`, `content-type`, `user-agent`). The body is the
    /// delivery's `request_body`, byte for byte the same on every attempt.
    #[schema(value_type = Object)]
    pub request_headers: serde_json::Value,
    /// The response status, if a response came.
    pub response_status: Option<i32>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: i32,
    /// Why it failed (a status outside 2xx, a timeout, a refused address).
    pub error: Option<String>,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Self {
        Self {
            attempt: r.attempt,
            started_at: r.started_at.and_utc(),
            request_headers: serde_json::from_str(&r.request_headers).unwrap_or_default(),
            response_status: r.response_status,
            response_body: r.response_body,
            duration_ms: r.duration_ms,
            error: r.error,
        }
    }
}

/// One event for one endpoint: its last outcome and every attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// The endpoint.
    pub webhook_id: i64,
    /// The `webhook-id` header: the same on every attempt and replay.
    pub message_id: String,
    /// Event name.
    pub event: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// The request body sent (JSON text, signed as is).
    pub request_body: String,
    /// The last response's status, if one came.
    pub response_status: Option<i32>,
    /// The first 4 KiB of the last response body.
    pub response_body: Option<String>,
    /// How long the last attempt took, in milliseconds.
    pub duration_ms: Option<i32>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// Every attempt made, oldest first (after a replay, the earlier round too).
    pub attempt_log: Vec<Attempt>,
}

impl Delivery {
    /// A delivery and its logged attempts (those of other deliveries are ignored).
    pub fn with_attempts(r: DeliveryRow, attempts: &[AttemptRow]) -> Self {
        let log = attempts.iter().filter(|a| a.delivery_id == r.id).cloned().map(Attempt::from).collect();
        Self::from_row(r, log)
    }

    fn from_row(r: DeliveryRow, attempt_log: Vec<Attempt>) -> Self {
        Self {
            attempt_log,
            id: r.id,
            webhook_id: r.webhook_id,
            message_id: r.message_id,
            event: r.event,
            status: r.status,
            attempts: r.attempts,
            request_body: r.body,
            response_status: r.response_status,
            response_body: r.response_body,
            duration_ms: r.duration_ms,
            error: r.error,
            next_attempt_at: r.next_attempt_at.map(|t| t.and_utc()),
            last_attempt_at: r.last_attempt_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
        }
    }
}

/// `{data}` for one delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryEnvelope {
    /// The delivery.
    pub data: Delivery,
}

/// A page of deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub data: Vec<Delivery>,
    /// Paging.
    pub meta: PageMeta,
}

/// `page` and `per_page`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (≤ 1,000,000).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}
