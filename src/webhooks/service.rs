//! Webhook rules: what an endpoint may be, and how events become deliveries.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::{repo, Event};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::jobs::{JobKind, NewJob};

/// A new message id: `msg_` + 22 random URL-safe characters.
pub fn new_message_id() -> String {
    format!("msg_{}", crate::auth::tokens::random_id())
}

/// The signed body: `{"type", "timestamp", "data"}` (the Standard Webhooks payload shape).
pub fn body(event: Event, data: &serde_json::Value, at: NaiveDateTime) -> String {
    serde_json::json!({
        "type": event.as_str(),
        "timestamp": at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    })
    .to_string()
}

/// The job that makes attempt `attempt + 1` of delivery `delivery_id`.
pub fn attempt_job(delivery_id: i64, attempt: i32) -> NewJob {
    NewJob::new(JobKind::WebhookDelivery, serde_json::json!({"delivery_id": delivery_id, "attempt": attempt}))
}

/// Queues `event` for every active endpoint that chose it (or only for
/// `only`, which gets it whatever it chose: test pings). One message id for
/// the event, shared by every endpoint's delivery.
pub fn emit(conn: &mut DbConnection, event: Event, data: serde_json::Value, only: Option<i64>) -> QueryResult<usize> {
    let now = crate::db::now();
    let hooks = repo::active(conn)?;
    let message_id = new_message_id();
    let body = body(event, &data, now);
    let mut queued = 0;
    for hook in hooks {
        let wanted = match only {
            Some(id) => hook.id == id,
            None => hook.event_names().iter().any(|e| e == event.as_str()),
        };
        if !wanted {
            continue;
        }
        if let Some(id) = repo::insert_delivery(conn, hook.id, &message_id, event.as_str(), &body, now)? {
            crate::jobs::enqueue(conn, &attempt_job(id, 0))?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// Parses the chosen events: known names, no duplicates, at least one.
pub fn parse_events(events: &[String]) -> Result<String, ApiError> {
    if events.is_empty() {
        return Err(ApiError::unprocessable("events", "must name at least one event"));
    }
    let mut out: Vec<&'static str> = Vec::new();
    for e in events {
        let parsed = Event::parse(e)
            .filter(|e| *e != Event::WebhookTest)
            .ok_or_else(|| ApiError::unprocessable("events", format!("`{e}` is not a known event")))?;
        if !out.contains(&parsed.as_str()) {
            out.push(parsed.as_str());
        }
    }
    Ok(serde_json::to_string(&out).expect("strings serialize"))
}

/// Checks `url` (shape, then every address it resolves to): a 422 naming `url`.
pub async fn check_url(url: &str, allow_loopback: bool) -> Result<String, ApiError> {
    super::ssrf::check(url.trim(), allow_loopback)
        .await
        .map(|u| u.to_string())
        .map_err(|m| ApiError::unprocessable("url", m))
}
