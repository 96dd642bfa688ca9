//! Database rows for `webhooks` and `webhook_deliveries`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{webhook_attempts, webhook_deliveries, webhooks};

/// One `webhooks` row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of event names.
    pub events: String,
    /// `whsec_` + base64 key.
    pub secret: String,
    pub active: bool,
    /// Deliveries given up in a row.
    pub failure_streak: i32,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WebhookRow {
    /// The chosen events, as stored.
    pub fn event_names(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }
}

/// Delivery states stored in `webhook_deliveries.status`.
pub mod status {
    /// Not yet delivered; an attempt is queued.
    pub const PENDING: &str = "pending";
    /// A 2xx was received.
    pub const SUCCEEDED: &str = "succeeded";
    /// Every attempt failed (or the endpoint was disabled or deleted meanwhile).
    pub const FAILED: &str = "failed";
}

/// One `webhook_deliveries` row: one event for one endpoint, with its last attempt.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    /// The `webhook-id` header, the same on every attempt.
    pub message_id: String,
    pub event: String,
    /// The exact JSON body sent (signed as is).
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub response_status: Option<i32>,
    /// The first 4 KiB of the last response body.
    pub response_body: Option<String>,
    pub duration_ms: Option<i32>,
    pub error: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// One `webhook_attempts` row: one HTTP attempt of a delivery.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    /// 1 for the first attempt; a replay goes on counting from 1 again.
    pub attempt: i32,
    /// The request headers sent, as a JSON object.
    pub request_headers: String,
    pub response_status: Option<i32>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub started_at: NaiveDateTime,
}
