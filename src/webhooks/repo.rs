//! Queries on `webhooks` and `webhook_deliveries`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{status, AttemptRow, DeliveryRow, WebhookRow};
use crate::db::schema::{article_announcements, webhook_attempts, webhook_deliveries, webhooks};
use crate::db::DbConnection;
use crate::pagination::PageParams;

/// Every active endpoint.
pub fn active(conn: &mut DbConnection) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table.filter(webhooks::active.eq(true)).select(WebhookRow::as_select()).load(conn)
}

/// A page of endpoints by id, and the total.
pub fn list(conn: &mut DbConnection, page: &PageParams) -> QueryResult<(Vec<WebhookRow>, i64)> {
    let total = webhooks::table.count().get_result(conn)?;
    let rows = webhooks::table
        .order(webhooks::id.asc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(WebhookRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The endpoint `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<WebhookRow> {
    webhooks::table.find(id).select(WebhookRow::as_select()).first(conn)
}

/// Inserts an endpoint; returns it.
#[expect(clippy::too_many_arguments, reason = "one column each; a form struct would only rename them")]
pub fn insert(
    conn: &mut DbConnection,
    url: &str,
    description: Option<&str>,
    events: &str,
    secret: &str,
    active: bool,
    created_by: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<WebhookRow> {
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::url.eq(url),
            webhooks::description.eq(description),
            webhooks::events.eq(events),
            webhooks::secret.eq(secret),
            webhooks::active.eq(active),
            webhooks::created_by.eq(created_by),
            webhooks::created_at.eq(now),
            webhooks::updated_at.eq(now),
        ))
        .returning(webhooks::id)
        .get_result::<i64>(conn)
        .and_then(|id| find(conn, id))
}

/// Changes to an endpoint (`None`: unchanged).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<String>,
    pub active: Option<bool>,
    pub failure_streak: Option<i32>,
    pub disabled_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies `changes` to endpoint `id`.
pub fn update(conn: &mut DbConnection, id: i64, changes: &WebhookChanges) -> QueryResult<WebhookRow> {
    diesel::update(webhooks::table.find(id)).set(changes).execute(conn)?;
    find(conn, id)
}

/// Deletes endpoint `id` (its deliveries go with it); false if it did not exist.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(webhooks::table.find(id)).execute(conn)? == 1)
}

/// Inserts a pending delivery; `None` when this message already has one for this endpoint.
pub fn insert_delivery(
    conn: &mut DbConnection,
    webhook_id: i64,
    message_id: &str,
    event: &str,
    body: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    let exists: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .filter(webhook_deliveries::message_id.eq(message_id))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(None);
    }
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::webhook_id.eq(webhook_id),
            webhook_deliveries::message_id.eq(message_id),
            webhook_deliveries::event.eq(event),
            webhook_deliveries::body.eq(body),
            webhook_deliveries::status.eq(status::PENDING),
            webhook_deliveries::next_attempt_at.eq(Some(now)),
            webhook_deliveries::created_at.eq(now),
        ))
        .returning(webhook_deliveries::id)
        .get_result(conn)
        .map(Some)
}

/// The delivery `id`.
pub fn find_delivery(conn: &mut DbConnection, id: i64) -> QueryResult<DeliveryRow> {
    webhook_deliveries::table.find(id).select(DeliveryRow::as_select()).first(conn)
}

/// A page of endpoint `webhook_id`'s deliveries, newest first, and the total.
pub fn list_deliveries(
    conn: &mut DbConnection,
    webhook_id: i64,
    page: &PageParams,
) -> QueryResult<(Vec<DeliveryRow>, i64)> {
    let q = || webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(webhook_id));
    let total = q().count().get_result(conn)?;
    let rows = q()
        .order(webhook_deliveries::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(DeliveryRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The outcome of one attempt.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = webhook_deliveries, treat_none_as_null = true)]
pub struct AttemptRecord {
    pub status: String,
    pub attempts: i32,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub duration_ms: Option<i32>,
    pub error: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
}

/// Records an attempt on delivery `id` if it is still pending at `attempts`
/// tries (so a duplicate job run records nothing). Returns whether it did.
pub fn record_attempt(conn: &mut DbConnection, id: i64, attempts: i32, rec: &AttemptRecord) -> QueryResult<bool> {
    Ok(diesel::update(
        webhook_deliveries::table
            .find(id)
            .filter(webhook_deliveries::status.eq(status::PENDING))
            .filter(webhook_deliveries::attempts.eq(attempts)),
    )
    .set(rec)
    .execute(conn)?
        == 1)
}

/// Puts delivery `id` back to pending with its attempts reset (a replay).
pub fn reset_delivery(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(status::PENDING),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// One attempt to log (see [`AttemptRow`]).
#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct NewAttempt {
    pub delivery_id: i64,
    pub attempt: i32,
    pub request_headers: String,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub started_at: NaiveDateTime,
}

/// Logs one attempt.
pub fn insert_attempt(conn: &mut DbConnection, a: &NewAttempt) -> QueryResult<()> {
    diesel::insert_into(webhook_attempts::table).values(a).execute(conn).map(drop)
}

/// Every logged attempt of the deliveries `ids`, oldest first (one query for a page).
pub fn attempts_of(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<AttemptRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(ids))
        .order((webhook_attempts::delivery_id.asc(), webhook_attempts::id.asc()))
        .select(AttemptRow::as_select())
        .load(conn)
}

/// Records that article `id`'s current public life has been announced;
/// false when it already was. `ON CONFLICT DO NOTHING` per backend (a
/// concurrent announcer waits for the first to commit, then does nothing).
pub fn announce(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    use diesel::sql_types::{BigInt, Timestamp};
    let n = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(
            "INSERT INTO article_announcements (article_id, announced_at) VALUES ($1, $2) \
             ON CONFLICT (article_id) DO NOTHING",
        )
        .bind::<BigInt, _>(id)
        .bind::<Timestamp, _>(now)
        .execute(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO article_announcements (article_id, announced_at) VALUES (?1, ?2) \
             ON CONFLICT (article_id) DO NOTHING",
        )
        .bind::<BigInt, _>(id)
        .bind::<Timestamp, _>(now)
        .execute(c)?,
    };
    Ok(n == 1)
}

/// Forgets article `id`'s announcement (it left the public); false when there was none.
pub fn forget_announcement(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(article_announcements::table.find(id)).execute(conn)? == 1)
}
