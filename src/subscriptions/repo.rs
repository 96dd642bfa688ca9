//! Queries on `subscribers`, `subscriber_topics`, `subscription_tokens` and
//! `subscription_consents`. `subscription_consents` is append-only: this
//! module inserts and reads it and has no update or delete (a trigger
//! refuses updates on both backends; rows go only with their subscriber).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{SubscriberRow, SubscriberStatus};
use crate::db::schema::{
    authors, categories, jobs, mails, series, subscriber_topics, subscribers, subscription_consents,
    subscription_erasures, subscription_tokens,
};
use crate::db::DbConnection;

/// The subscriber with comparison key `key`.
pub fn find_by_key(conn: &mut DbConnection, key: &str) -> QueryResult<Option<SubscriberRow>> {
    subscribers::table.filter(subscribers::email_key.eq(key)).select(SubscriberRow::as_select()).first(conn).optional()
}

/// The subscriber `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<SubscriberRow>> {
    subscribers::table.find(id).select(SubscriberRow::as_select()).first(conn).optional()
}

/// The subscriber's topics, sorted.
pub fn topics(conn: &mut DbConnection, id: i64) -> QueryResult<Vec<String>> {
    subscriber_topics::table
        .filter(subscriber_topics::subscriber_id.eq(id))
        .select(subscriber_topics::topic)
        .order(subscriber_topics::topic)
        .load(conn)
}

/// Replaces the subscriber's topics (one insert per topic: MultiConnection
/// has no batch insert).
pub fn set_topics(conn: &mut DbConnection, id: i64, topics: &[String]) -> QueryResult<()> {
    diesel::delete(subscriber_topics::table.filter(subscriber_topics::subscriber_id.eq(id))).execute(conn)?;
    for t in topics {
        diesel::insert_into(subscriber_topics::table)
            .values((subscriber_topics::subscriber_id.eq(id), subscriber_topics::topic.eq(t)))
            .execute(conn)?;
    }
    Ok(())
}

/// Which of `slugs` name a category, a series or an author.
pub fn known_topics(conn: &mut DbConnection, slugs: &[String]) -> QueryResult<Vec<String>> {
    let mut found: Vec<String> =
        categories::table.filter(categories::slug.eq_any(slugs)).select(categories::slug).load(conn)?;
    found.extend(series::table.filter(series::slug.eq_any(slugs)).select(series::slug).load::<String>(conn)?);
    found.extend(authors::table.filter(authors::slug.eq_any(slugs)).select(authors::slug).load::<String>(conn)?);
    Ok(found)
}

/// What a new subscriber starts with.
pub struct NewSubscriber<'a> {
    pub email: &'a str,
    pub email_key: &'a str,
    pub name: Option<&'a str>,
    pub source: Option<&'a str>,
    pub secret: &'a str,
}

/// Inserts a `pending` subscriber whose confirmation mail goes out now; returns its id.
pub fn insert(conn: &mut DbConnection, s: &NewSubscriber<'_>, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(subscribers::table)
        .values((
            subscribers::email.eq(s.email),
            subscribers::email_key.eq(s.email_key),
            subscribers::name.eq(s.name),
            subscribers::status.eq(SubscriberStatus::Pending.as_str()),
            subscribers::source.eq(s.source),
            subscribers::secret.eq(s.secret),
            subscribers::confirmation_sent_at.eq(Some(now)),
            subscribers::created_at.eq(now),
            subscribers::updated_at.eq(now),
        ))
        .returning(subscribers::id)
        .get_result(conn)
}

/// Makes subscriber `id` `pending` again with a confirmation mail going out
/// now, taking the request's address spelling, name and source.
pub fn reopen(
    conn: &mut DbConnection,
    id: i64,
    email: &str,
    name: Option<&str>,
    source: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(subscribers::table.find(id))
        .set((
            subscribers::email.eq(email),
            subscribers::name.eq(name),
            subscribers::source.eq(source),
            subscribers::status.eq(SubscriberStatus::Pending.as_str()),
            subscribers::confirmation_sent_at.eq(Some(now)),
            subscribers::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Stores a confirmation token's digest for subscriber `id`.
pub fn insert_token(
    conn: &mut DbConnection,
    id: i64,
    hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(subscription_tokens::table)
        .values((
            subscription_tokens::subscriber_id.eq(id),
            subscription_tokens::token_hash.eq(hash),
            subscription_tokens::expires_at.eq(expires_at),
            subscription_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// A confirmation token row: `(subscriber_id, expires_at, used_at)`.
pub fn find_token(
    conn: &mut DbConnection,
    hash: &str,
) -> QueryResult<Option<(i64, NaiveDateTime, Option<NaiveDateTime>)>> {
    subscription_tokens::table
        .filter(subscription_tokens::token_hash.eq(hash))
        .select((subscription_tokens::subscriber_id, subscription_tokens::expires_at, subscription_tokens::used_at))
        .first(conn)
        .optional()
}

/// Marks the token with digest `hash` used if it still is unused and
/// unexpired; `false` when another request won (or it expired meanwhile).
pub fn use_token(conn: &mut DbConnection, hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        subscription_tokens::table
            .filter(subscription_tokens::token_hash.eq(hash))
            .filter(subscription_tokens::used_at.is_null())
            .filter(subscription_tokens::expires_at.gt(now)),
    )
    .set(subscription_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Voids every outstanding confirmation token of subscriber `id`.
pub fn void_tokens(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        subscription_tokens::table
            .filter(subscription_tokens::subscriber_id.eq(id))
            .filter(subscription_tokens::used_at.is_null()),
    )
    .set(subscription_tokens::used_at.eq(Some(now)))
    .execute(conn)
    .map(drop)
}

/// Sets subscriber `id`'s status, stamping `confirmed_at` or `unsubscribed_at`.
pub fn set_status(conn: &mut DbConnection, id: i64, status: SubscriberStatus, now: NaiveDateTime) -> QueryResult<()> {
    let target = subscribers::table.find(id);
    let base = (subscribers::status.eq(status.as_str()), subscribers::updated_at.eq(now));
    match status {
        SubscriberStatus::Confirmed => {
            diesel::update(target).set((base, subscribers::confirmed_at.eq(Some(now)))).execute(conn)?
        }
        SubscriberStatus::Unsubscribed => {
            diesel::update(target).set((base, subscribers::unsubscribed_at.eq(Some(now)))).execute(conn)?
        }
        _ => diesel::update(target).set(base).execute(conn)?,
    };
    Ok(())
}

/// Sets (or clears) subscriber `id`'s name.
pub fn set_name(conn: &mut DbConnection, id: i64, name: Option<&str>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(subscribers::table.find(id))
        .set((subscribers::name.eq(name), subscribers::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// One entry of the consent log.
pub struct NewConsent<'a> {
    pub subscriber_id: i64,
    pub email: &'a str,
    /// JSON array of the topics consented to.
    pub topics: &'a str,
    pub source: Option<&'a str>,
    pub privacy_notice_version: &'a str,
    pub ip: Option<&'a str>,
}

/// Appends to the consent log.
pub fn append_consent(conn: &mut DbConnection, c: &NewConsent<'_>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(subscription_consents::table)
        .values((
            subscription_consents::subscriber_id.eq(c.subscriber_id),
            subscription_consents::email.eq(c.email),
            subscription_consents::topics.eq(c.topics),
            subscription_consents::source.eq(c.source),
            subscription_consents::privacy_notice_version.eq(c.privacy_notice_version),
            subscription_consents::ip.eq(c.ip),
            subscription_consents::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// What the admin list filters on.
#[derive(Clone, Debug, Default)]
pub struct SubscriberFilter {
    pub status: Option<SubscriberStatus>,
    /// Subscribers who chose this topic (exactly; `all` lists those who chose everything).
    pub topic: Option<String>,
    pub created_after: Option<NaiveDateTime>,
    pub created_before: Option<NaiveDateTime>,
}

fn filtered(f: &SubscriberFilter) -> subscribers::BoxedQuery<'static, <DbConnection as diesel::Connection>::Backend> {
    let mut q = subscribers::table.into_boxed();
    if let Some(s) = f.status {
        q = q.filter(subscribers::status.eq(s.as_str()));
    }
    if let Some(t) = &f.topic {
        q = q.filter(
            subscribers::id.eq_any(
                subscriber_topics::table
                    .filter(subscriber_topics::topic.eq(t.clone()))
                    .select(subscriber_topics::subscriber_id),
            ),
        );
    }
    if let Some(t) = f.created_after {
        q = q.filter(subscribers::created_at.ge(t));
    }
    if let Some(t) = f.created_before {
        q = q.filter(subscribers::created_at.le(t));
    }
    q
}

/// A page of subscribers, newest first, and the total.
pub fn list(
    conn: &mut DbConnection,
    f: &SubscriberFilter,
    page: &crate::pagination::PageParams,
) -> QueryResult<(Vec<SubscriberRow>, i64)> {
    let total = filtered(f).count().get_result(conn)?;
    let rows = filtered(f)
        .order(subscribers::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(SubscriberRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Up to `limit` subscribers with ids above `after`, oldest first (export chunks).
pub fn chunk_after(conn: &mut DbConnection, after: i64, limit: i64) -> QueryResult<Vec<SubscriberRow>> {
    subscribers::table
        .filter(subscribers::id.gt(after))
        .order(subscribers::id.asc())
        .limit(limit)
        .select(SubscriberRow::as_select())
        .load(conn)
}

/// The topics of each of `ids` (one query): `(subscriber_id, topic)`, sorted.
pub fn topics_of(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    subscriber_topics::table
        .filter(subscriber_topics::subscriber_id.eq_any(ids))
        .order((subscriber_topics::subscriber_id, subscriber_topics::topic))
        .select((subscriber_topics::subscriber_id, subscriber_topics::topic))
        .load(conn)
}

/// One consent record as read back.
#[derive(Clone, Debug, Queryable)]
pub struct ConsentRow {
    pub subscriber_id: i64,
    pub email: String,
    pub topics: String,
    pub source: Option<String>,
    pub privacy_notice_version: String,
    pub ip: Option<String>,
    pub created_at: NaiveDateTime,
    pub basis: String,
}

/// The consent records of each of `ids` (one query), oldest first.
pub fn consents_of(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<ConsentRow>> {
    subscription_consents::table
        .filter(subscription_consents::subscriber_id.eq_any(ids))
        .order((subscription_consents::subscriber_id, subscription_consents::id))
        .select((
            subscription_consents::subscriber_id,
            subscription_consents::email,
            subscription_consents::topics,
            subscription_consents::source,
            subscription_consents::privacy_notice_version,
            subscription_consents::ip,
            subscription_consents::created_at,
            subscription_consents::basis,
        ))
        .load(conn)
}

/// Erases subscriber `id` (GDPR): deletes the row with its topics, tokens
/// and consent records (cascade), its confirmation mails and the
/// `subscribe` jobs that carry its address (unless one is running right
/// now), and records `email_hash`. `false` when there was no such subscriber.
pub fn erase(conn: &mut DbConnection, id: i64, email_hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let Some(row) = find(conn, id)? else { return Ok(false) };
    let same = |address: &str| super::model::SubscriberEmail::parse(address).is_ok_and(|e| e.key == row.email_key);
    let mail_ids: Vec<i64> = mails::table
        .filter(mails::template.eq(crate::mail::Template::SubscriptionConfirm.as_str()))
        .select((mails::id, mails::recipient))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .filter(|(_, to)| same(to))
        .map(|(id, _)| id)
        .collect();
    diesel::delete(mails::table.filter(mails::id.eq_any(&mail_ids))).execute(conn)?;
    let job_ids: Vec<i64> = jobs::table
        .filter(jobs::kind.eq(crate::jobs::JobKind::Subscribe.as_str()))
        .filter(jobs::state.ne("running"))
        .select((jobs::id, jobs::payload))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .filter(|(_, payload)| {
            serde_json::from_str::<serde_json::Value>(payload)
                .ok()
                .and_then(|p| p["email"].as_str().map(same))
                .unwrap_or(false)
        })
        .map(|(id, _)| id)
        .collect();
    diesel::delete(jobs::table.filter(jobs::id.eq_any(&job_ids))).execute(conn)?;
    diesel::delete(subscribers::table.find(id)).execute(conn)?;
    diesel::insert_into(subscription_erasures::table)
        .values((subscription_erasures::email_hash.eq(email_hash), subscription_erasures::erased_at.eq(now)))
        .execute(conn)?;
    Ok(true)
}

/// Whether an address with this erasure hash was erased.
pub fn was_erased(conn: &mut DbConnection, email_hash: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        subscription_erasures::table.filter(subscription_erasures::email_hash.eq(email_hash)),
    ))
    .get_result(conn)
}

/// How many subscribers were erased (the anonymous count).
pub fn erasure_count(conn: &mut DbConnection) -> QueryResult<i64> {
    subscription_erasures::table.count().get_result(conn)
}
