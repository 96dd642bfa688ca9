//! Queries on `mailings`, `mailing_deliveries` and `article_newsletters`,
//! plus the article facts a mailing is built from.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{DeliveryState, DueDelivery, HeldReason, MailingRow, MailingState};
use crate::db::schema::{
    article_authors, article_categories, article_newsletters, articles, authors, categories, mailing_deliveries,
    mailings, series, subscriber_topics, subscribers,
};
use crate::db::DbConnection;

/// The newsletter mode stored for `article` (`None`: the default, `send`).
pub fn newsletter_mode(conn: &mut DbConnection, article: i64) -> QueryResult<Option<String>> {
    article_newsletters::table.find(article).select(article_newsletters::mode).first(conn).optional()
}

/// Stores `mode` for `article` (select, then update or insert: MultiConnection has no upsert).
pub fn set_newsletter_mode(conn: &mut DbConnection, article: i64, mode: &str, now: NaiveDateTime) -> QueryResult<()> {
    let n = diesel::update(article_newsletters::table.find(article))
        .set((article_newsletters::mode.eq(mode), article_newsletters::updated_at.eq(now)))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(article_newsletters::table)
            .values((
                article_newsletters::article_id.eq(article),
                article_newsletters::mode.eq(mode),
                article_newsletters::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The mailing `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<MailingRow>> {
    mailings::table.find(id).select(MailingRow::as_select()).first(conn).optional()
}

/// The mailing of `article`, if it has one (at most one: unique).
pub fn find_by_article(conn: &mut DbConnection, article: i64) -> QueryResult<Option<MailingRow>> {
    mailings::table.filter(mailings::article_id.eq(article)).select(MailingRow::as_select()).first(conn).optional()
}

/// Inserts a mailing for `article` (with a snapshot of its title, kept
/// should the article be deleted); returns its id.
pub fn insert(
    conn: &mut DbConnection,
    article: i64,
    state: MailingState,
    held: Option<HeldReason>,
    scheduled_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let title: Option<String> = articles::table.find(article).select(articles::title).first(conn).optional()?;
    diesel::insert_into(mailings::table)
        .values((
            mailings::article_id.eq(Some(article)),
            mailings::article_title.eq(title),
            mailings::state.eq(state.as_str()),
            mailings::held_reason.eq(held.map(HeldReason::as_str)),
            mailings::scheduled_at.eq(scheduled_at),
            mailings::created_at.eq(now),
            mailings::updated_at.eq(now),
        ))
        .returning(mailings::id)
        .get_result(conn)
}

/// Moves mailing `id` from one of `from` to `to` (with `held_reason`);
/// `false` when it was in none of them.
pub fn transition(
    conn: &mut DbConnection,
    id: i64,
    from: &[MailingState],
    to: MailingState,
    held: Option<HeldReason>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let n = diesel::update(mailings::table.find(id).filter(mailings::state.eq_any(from)))
        .set((
            mailings::state.eq(to.as_str()),
            mailings::held_reason.eq(held.map(HeldReason::as_str)),
            mailings::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Sets mailing `id`'s time.
pub fn reschedule(conn: &mut DbConnection, id: i64, at: NaiveDateTime, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(mailings::table.find(id))
        .set((mailings::scheduled_at.eq(at), mailings::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Marks mailing `id` started (`sending`, with its subject).
pub fn mark_started(conn: &mut DbConnection, id: i64, subject: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(mailings::table.find(id))
        .set((
            mailings::state.eq(MailingState::Sending.as_str()),
            mailings::held_reason.eq(None::<&str>),
            mailings::subject.eq(subject),
            mailings::article_title.eq(subject),
            mailings::started_at.eq(Some(now)),
            mailings::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Moves every `failed` delivery of `mailing` back to `queued`, due now,
/// with its tries reset; returns how many. `sent` and `skipped` records are
/// never touched, so a re-queue cannot send anyone a second copy.
pub fn requeue_failed(conn: &mut DbConnection, mailing: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        mailing_deliveries::table
            .filter(mailing_deliveries::mailing_id.eq(mailing))
            .filter(mailing_deliveries::state.eq(DeliveryState::Failed.as_str())),
    )
    .set((
        mailing_deliveries::state.eq(DeliveryState::Queued.as_str()),
        mailing_deliveries::attempts.eq(0),
        mailing_deliveries::next_attempt_at.eq(now),
        mailing_deliveries::updated_at.eq(now),
    ))
    .execute(conn)
}

/// How many deliveries of `mailing` are in `state`.
pub fn count_in_state(conn: &mut DbConnection, mailing: i64, state: DeliveryState) -> QueryResult<i64> {
    mailing_deliveries::table
        .filter(mailing_deliveries::mailing_id.eq(mailing))
        .filter(mailing_deliveries::state.eq(state.as_str()))
        .count()
        .get_result(conn)
}

/// Settles every still-queued delivery of `mailing` as `skipped` with `why`
/// (its article was deleted mid-mailing); returns how many.
pub fn skip_queued(conn: &mut DbConnection, mailing: i64, why: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        mailing_deliveries::table
            .filter(mailing_deliveries::mailing_id.eq(mailing))
            .filter(mailing_deliveries::state.eq(DeliveryState::Queued.as_str())),
    )
    .set((
        mailing_deliveries::state.eq(DeliveryState::Skipped.as_str()),
        mailing_deliveries::last_error.eq(Some(why)),
        mailing_deliveries::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Moves mailing `id` from `sent` back to `sending` (a re-queue of failed
/// deliveries); `false` when it was not `sent`.
pub fn reopen_sent(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(mailings::table.find(id).filter(mailings::state.eq(MailingState::Sent.as_str())))
        .set((
            mailings::state.eq(MailingState::Sending.as_str()),
            mailings::finished_at.eq(None::<NaiveDateTime>),
            mailings::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks mailing `id` `sent` if it is `sending`.
pub fn mark_finished(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(mailings::table.find(id).filter(mailings::state.eq(MailingState::Sending.as_str())))
        .set((
            mailings::state.eq(MailingState::Sent.as_str()),
            mailings::finished_at.eq(Some(now)),
            mailings::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// What a mailing needs from its article.
#[derive(Clone, Debug, Queryable)]
pub struct ArticleFacts {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub excerpt: Option<String>,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub featured_media_id: Option<i64>,
    pub featured_caption: Option<String>,
    pub featured_credit: Option<String>,
    pub series_id: Option<i64>,
    pub password_protected: bool,
}

/// The facts of `article`.
pub fn article(conn: &mut DbConnection, article: i64) -> QueryResult<Option<ArticleFacts>> {
    articles::table
        .find(article)
        .select((
            articles::id,
            articles::slug,
            articles::title,
            articles::excerpt,
            articles::status,
            articles::published_at,
            articles::featured_media_id,
            articles::featured_caption,
            articles::featured_credit,
            articles::series_id,
            articles::password_protected,
        ))
        .first(conn)
        .optional()
}

/// The topics an article belongs to: its categories', its series' and its
/// authors' slugs.
pub fn article_topics(conn: &mut DbConnection, a: &ArticleFacts) -> QueryResult<Vec<String>> {
    let mut topics: Vec<String> = article_categories::table
        .inner_join(categories::table)
        .filter(article_categories::article_id.eq(a.id))
        .select(categories::slug)
        .load(conn)?;
    if let Some(s) = a.series_id {
        topics.extend(series::table.find(s).select(series::slug).first::<String>(conn).optional()?);
    }
    topics.extend(byline(conn, a.id)?.into_iter().map(|(slug, _)| slug));
    Ok(topics)
}

/// The article's authors in byline order: `(slug, name)`.
pub fn byline(conn: &mut DbConnection, article: i64) -> QueryResult<Vec<(String, String)>> {
    article_authors::table
        .inner_join(authors::table)
        .filter(article_authors::article_id.eq(article))
        .order(article_authors::position)
        .select((authors::slug, authors::display_name))
        .load(conn)
}

/// Confirmed subscribers who chose any of `topics` (the caller includes
/// `all`), by id.
pub fn matching_subscribers(conn: &mut DbConnection, topics: &[String]) -> QueryResult<Vec<i64>> {
    subscribers::table
        .filter(subscribers::status.eq(crate::subscriptions::model::SubscriberStatus::Confirmed.as_str()))
        .filter(
            subscribers::id.eq_any(
                subscriber_topics::table
                    .filter(subscriber_topics::topic.eq_any(topics.to_vec()))
                    .select(subscriber_topics::subscriber_id),
            ),
        )
        .order(subscribers::id)
        .select(subscribers::id)
        .load(conn)
}

/// Inserts one `queued` delivery record.
pub fn insert_delivery(
    conn: &mut DbConnection,
    mailing: i64,
    subscriber: i64,
    message_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(mailing_deliveries::table)
        .values((
            mailing_deliveries::mailing_id.eq(mailing),
            mailing_deliveries::subscriber_id.eq(Some(subscriber)),
            mailing_deliveries::state.eq(DeliveryState::Queued.as_str()),
            mailing_deliveries::attempts.eq(0),
            mailing_deliveries::next_attempt_at.eq(now),
            mailing_deliveries::message_id.eq(message_id),
            mailing_deliveries::created_at.eq(now),
            mailing_deliveries::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Up to `limit` queued deliveries of `mailing` due at `now`, by id, with
/// their subscribers.
pub fn due(conn: &mut DbConnection, mailing: i64, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<DueDelivery>> {
    type Row = (i64, Option<i64>, i32, String, Option<(String, String, String)>);
    let rows: Vec<Row> = mailing_deliveries::table
        .left_join(subscribers::table)
        .filter(mailing_deliveries::mailing_id.eq(mailing))
        .filter(mailing_deliveries::state.eq(DeliveryState::Queued.as_str()))
        .filter(mailing_deliveries::next_attempt_at.le(now))
        .order(mailing_deliveries::id)
        .limit(limit)
        .select((
            mailing_deliveries::id,
            mailing_deliveries::subscriber_id,
            mailing_deliveries::attempts,
            mailing_deliveries::message_id,
            (subscribers::email, subscribers::secret, subscribers::status).nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, subscriber_id, attempts, message_id, subscriber)| DueDelivery {
            id,
            subscriber_id,
            attempts,
            message_id,
            subscriber,
        })
        .collect())
}

/// The delivery's state and its subscriber's status (`None` once erased),
/// read right before a send.
pub fn delivery_check(conn: &mut DbConnection, id: i64) -> QueryResult<Option<(String, Option<String>)>> {
    mailing_deliveries::table
        .left_join(subscribers::table)
        .filter(mailing_deliveries::id.eq(id))
        .select((mailing_deliveries::state, subscribers::status.nullable()))
        .first(conn)
        .optional()
}

/// Settles a queued delivery as `state` (`sent`, `skipped` or `failed`),
/// counting an attempt for `sent`/`failed`; `false` if it was not queued.
pub fn settle(
    conn: &mut DbConnection,
    id: i64,
    state: DeliveryState,
    error: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let target = mailing_deliveries::table
        .filter(mailing_deliveries::id.eq(id))
        .filter(mailing_deliveries::state.eq(DeliveryState::Queued.as_str()));
    let tried = i32::from(state != DeliveryState::Skipped);
    let n = diesel::update(target)
        .set((
            mailing_deliveries::state.eq(state.as_str()),
            mailing_deliveries::attempts.eq(mailing_deliveries::attempts + tried),
            mailing_deliveries::last_error.eq(error),
            mailing_deliveries::sent_at.eq((state == DeliveryState::Sent).then_some(now)),
            mailing_deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed try of a queued delivery that will be retried at `retry_at`.
pub fn retry_later(
    conn: &mut DbConnection,
    id: i64,
    error: &str,
    retry_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        mailing_deliveries::table
            .filter(mailing_deliveries::id.eq(id))
            .filter(mailing_deliveries::state.eq(DeliveryState::Queued.as_str())),
    )
    .set((
        mailing_deliveries::attempts.eq(mailing_deliveries::attempts + 1),
        mailing_deliveries::last_error.eq(Some(error)),
        mailing_deliveries::next_attempt_at.eq(retry_at),
        mailing_deliveries::updated_at.eq(now),
    ))
    .execute(conn)
    .map(drop)
}

/// When the next queued delivery of `mailing` is due (`None`: none left).
pub fn next_due(conn: &mut DbConnection, mailing: i64) -> QueryResult<Option<NaiveDateTime>> {
    mailing_deliveries::table
        .filter(mailing_deliveries::mailing_id.eq(mailing))
        .filter(mailing_deliveries::state.eq(DeliveryState::Queued.as_str()))
        .select(diesel::dsl::min(mailing_deliveries::next_attempt_at))
        .first(conn)
}

/// Delivery counts per (mailing, state) for `ids`, one query.
pub fn counts(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String, i64)>> {
    mailing_deliveries::table
        .filter(mailing_deliveries::mailing_id.eq_any(ids))
        .group_by((mailing_deliveries::mailing_id, mailing_deliveries::state))
        .select((mailing_deliveries::mailing_id, mailing_deliveries::state, diesel::dsl::count_star()))
        .load(conn)
}

/// A page of mailings (newest first, optionally in one state) and the total.
pub fn list(
    conn: &mut DbConnection,
    state: Option<MailingState>,
    page: &crate::pagination::PageParams,
) -> QueryResult<(Vec<MailingRow>, i64)> {
    let filtered = || {
        let mut q = mailings::table.into_boxed();
        if let Some(s) = state {
            q = q.filter(mailings::state.eq(s.as_str()));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(mailings::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(MailingRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The public URL of media `id`, if it exists.
pub fn media_url(conn: &mut DbConnection, base_url: &str, id: i64) -> QueryResult<Option<(String, Option<String>)>> {
    let row = crate::media::repo::find(conn, id).optional()?;
    Ok(row.and_then(|m| crate::media::dto::public_url(base_url, &m).map(|u| (u, m.alt_text.clone()))))
}
