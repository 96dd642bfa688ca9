//! The rules of mailings: when publishing creates one, when it starts
//! (materializing one delivery record per matching subscriber), holding,
//! releasing and cancelling, and what a message says. Every function runs
//! on the caller's connection; callers wrap writes in a transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{HeldReason, MailingRow, MailingState, NewsletterMode};
use super::repo::{self, ArticleFacts};
use crate::config::Settings;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::jobs::{self, JobKind, NewJob};
use crate::subscriptions::model::ALL_TOPICS;

/// An article saved as published with a publication time more than this
/// far in the past is backdated (an archive entered by hand, an import) and
/// gets no mailing. Publishing "now" stamps the time of the save.
pub const BACKDATE_GRACE_MINUTES: i64 = 15;

/// The `start_mailing` job for mailing `id` at `at` (unique per time, so a
/// reschedule adds a job and the stale one finds nothing to do).
fn start_job(id: i64, at: NaiveDateTime) -> NewJob {
    NewJob::new(JobKind::StartMailing, serde_json::json!({ "mailing_id": id }))
        .run_at(at)
        .unique(format!("start-mailing:{id}:{}", at.and_utc().timestamp_micros()))
}

/// The `send_mailing` job for mailing `id`, round `round` (each round
/// enqueues the next in the transaction that completes it).
pub fn send_job(id: i64, round: i64, at: NaiveDateTime) -> NewJob {
    NewJob::new(JobKind::SendMailing, serde_json::json!({ "mailing_id": id, "round": round }))
        .run_at(at)
        .unique(format!("send-mailing:{id}:{round}"))
}

/// Called inside the article write transaction whenever a save leaves an
/// article `published` or `scheduled` (with its `published_at`). Creates the
/// article's one mailing the first time: `scheduled` with a `start_mailing`
/// job at `published_at`, or `held` for review when the article's mode is
/// `hold`; nothing when the mode is `off` or the article is backdated. A
/// mailing still `scheduled` follows a new publication time; any other
/// mailing is left alone, so later edits never mail again.
pub fn on_article_published(
    conn: &mut DbConnection,
    article: i64,
    published_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if let Some(m) = repo::find_by_article(conn, article)? {
        if m.state() == MailingState::Scheduled && m.scheduled_at != published_at {
            repo::reschedule(conn, m.id, published_at, now)?;
            jobs::enqueue(conn, &start_job(m.id, published_at))?;
        }
        return Ok(());
    }
    if published_at < now - chrono::Duration::minutes(BACKDATE_GRACE_MINUTES) {
        return Ok(());
    }
    let mode = repo::newsletter_mode(conn, article)?.and_then(|m| NewsletterMode::parse(&m));
    match mode.unwrap_or(NewsletterMode::Send) {
        NewsletterMode::Off => Ok(()),
        NewsletterMode::Hold => {
            repo::insert(conn, article, MailingState::Held, Some(HeldReason::Review), published_at, now).map(drop)
        }
        NewsletterMode::Send => {
            let id = repo::insert(conn, article, MailingState::Scheduled, None, published_at, now)?;
            jobs::enqueue(conn, &start_job(id, published_at)).map(drop)
        }
    }
}

fn is_public(a: &ArticleFacts, now: NaiveDateTime) -> bool {
    let due = a.published_at.is_some_and(|t| t <= now);
    due && matches!(a.status.as_str(), "published" | "scheduled")
}

/// The `start_mailing` job's work, in the transaction that completes it.
/// A mailing that is still `scheduled`, due, and whose article is public
/// either starts (one `queued` delivery record per confirmed subscriber
/// whose topics match, `sending`, and the first `send_mailing` job) or,
/// when it is more than `MAILING_MAX_LATENESS_MINUTES` late, is held.
/// Anything else (cancelled, rescheduled, the article back to draft) is left.
pub fn start(conn: &mut DbConnection, settings: &Settings, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    let Some(m) = repo::find(conn, id)? else { return Ok(()) };
    if m.state() != MailingState::Scheduled || m.scheduled_at > now {
        return Ok(());
    }
    let Some(a) = m.article_id.map(|a| repo::article(conn, a)).transpose()?.flatten() else {
        // The article was deleted: the mailing stays, as history, and never sends.
        repo::transition(conn, id, &[MailingState::Scheduled], MailingState::Cancelled, None, now)?;
        return Ok(());
    };
    if !is_public(&a, now) {
        return Ok(());
    }
    if now - m.scheduled_at > chrono::Duration::minutes(settings.mailings.max_lateness_minutes) {
        repo::transition(conn, id, &[MailingState::Scheduled], MailingState::Held, Some(HeldReason::Late), now)?;
        tracing::warn!(mailing = id, scheduled_at = %m.scheduled_at, "mailing held: its time passed long ago");
        return Ok(());
    }
    let mut topics = repo::article_topics(conn, &a)?;
    topics.push(ALL_TOPICS.to_owned());
    let recipients = repo::matching_subscribers(conn, &topics)?;
    let domain = crate::mail::message::domain_of(&settings.mail.from);
    for s in &recipients {
        let message_id = format!("<mailing-{id}-{s}.{}@{domain}>", crate::auth::tokens::random_id());
        repo::insert_delivery(conn, id, *s, &message_id, now)?;
    }
    repo::mark_started(conn, id, &a.title, now)?;
    if recipients.is_empty() {
        repo::mark_finished(conn, id, now)?;
    } else {
        jobs::enqueue(conn, &send_job(id, 0, now))?;
    }
    tracing::info!(mailing = id, recipients = recipients.len(), "mailing started");
    Ok(())
}

/// What a `send_mailing` round does when it stops, in the transaction that
/// completes it: `sent` when no delivery is left queued, otherwise the
/// next round, due when the next delivery is, but not before `not_before`
/// (which the round sets from the rate: see `jobs::send_mailing`).
pub fn after_round(
    conn: &mut DbConnection,
    id: i64,
    round: i64,
    not_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    match repo::next_due(conn, id)? {
        None => repo::mark_finished(conn, id, now),
        Some(at) => jobs::enqueue(conn, &send_job(id, round + 1, at.max(not_before))).map(drop),
    }
}

/// The template parameters shared by every message of a mailing (the
/// per-recipient links are added by the sender): `site`, `title`,
/// `excerpt`, `link`, `byline`, `image_url`, `image_alt`, `image_caption`,
/// `image_credit`. `None` when the article is gone.
pub fn content(conn: &mut DbConnection, settings: &Settings, article: i64) -> QueryResult<Option<serde_json::Value>> {
    let Some(a) = repo::article(conn, article)? else { return Ok(None) };
    let byline: Vec<String> = repo::byline(conn, a.id)?.into_iter().map(|(_, name)| name).collect();
    let image = match a.featured_media_id {
        Some(m) => repo::media_url(conn, &settings.public_base_url, m)?,
        None => None,
    };
    let (image_url, image_alt) = image.map_or((None, None), |(u, alt)| (Some(u), alt));
    Ok(Some(serde_json::json!({
        "site": crate::auth::recovery::site(settings),
        "title": a.title,
        // A protected article's excerpt is not public.
        "excerpt": if a.password_protected { None } else { a.excerpt },
        "link": settings.mailings.article_url.replace("{slug}", &a.slug),
        "byline": join_names(&byline),
        "image_url": image_url,
        "image_alt": image_alt.unwrap_or_default(),
        "image_caption": a.featured_caption,
        "image_credit": a.featured_credit,
    })))
}

/// "A", "A and B", "A, B and C".
fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn conflict(m: &MailingRow, what: &str) -> ApiError {
    ApiError::Conflict(format!("mailing {} is {}; only a held or scheduled mailing can be {what}", m.id, m.state))
}

/// Releases a held mailing: `scheduled` now (or at its article's future
/// publication time), with a `start_mailing` job. 404 unknown, 409 not held.
pub fn release(conn: &mut DbConnection, id: i64) -> Result<MailingRow, ApiError> {
    let now = crate::db::now();
    let m = repo::find(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("no mailing {id}")))?;
    if m.state() != MailingState::Held {
        return Err(ApiError::Conflict(format!("mailing {id} is {}; only a held mailing can be released", m.state)));
    }
    let Some(article) = m.article_id.map(|a| repo::article(conn, a)).transpose()?.flatten() else {
        return Err(ApiError::Conflict(format!("mailing {id}'s article was deleted; it cannot be released")));
    };
    let at = article.published_at.filter(|t| *t > now).unwrap_or(now);
    repo::transition(conn, id, &[MailingState::Held], MailingState::Scheduled, None, now)?;
    repo::reschedule(conn, id, at, now)?;
    jobs::enqueue(conn, &start_job(id, at))?;
    Ok(repo::find(conn, id)?.expect("just updated"))
}

/// Cancels a held or scheduled mailing (it never sends). 404 unknown, 409
/// when it started or ended.
pub fn cancel(conn: &mut DbConnection, id: i64) -> Result<MailingRow, ApiError> {
    let now = crate::db::now();
    let m = repo::find(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("no mailing {id}")))?;
    if !repo::transition(conn, id, &[MailingState::Held, MailingState::Scheduled], MailingState::Cancelled, None, now)?
    {
        return Err(conflict(&m, "cancelled"));
    }
    Ok(repo::find(conn, id)?.expect("just updated"))
}

/// What a re-queue of failed deliveries did.
#[derive(Debug, Clone, Copy)]
pub struct Requeued {
    /// Failed deliveries moved back to `queued`.
    pub requeued: usize,
}

/// Re-queues the failed deliveries of a finished (`sent`) mailing: they go
/// back to `queued` with fresh tries, the mailing to `sending`, and a new
/// `send_mailing` round starts now. Delivered (`sent`) and `skipped`
/// records are never touched, so nobody gets a second copy. Idempotent: a
/// mailing with no failed deliveries (including one still sending the
/// previous re-queue) answers `requeued: 0` and changes nothing. 404
/// unknown; 409 when it has not started, was cancelled, or is still
/// sending with failures pending (retry once it has finished).
pub fn retry_failed(conn: &mut DbConnection, id: i64) -> Result<(MailingRow, Requeued), ApiError> {
    let now = crate::db::now();
    let m = repo::find(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("no mailing {id}")))?;
    let failed = repo::count_in_state(conn, id, super::model::DeliveryState::Failed)?;
    match m.state() {
        MailingState::Sending | MailingState::Sent if failed == 0 => return Ok((m, Requeued { requeued: 0 })),
        MailingState::Sent => {}
        MailingState::Sending => {
            return Err(ApiError::Conflict(format!(
                "mailing {id} is still sending; retry its failed deliveries once it has finished"
            )))
        }
        _ => {
            return Err(ApiError::Conflict(format!(
                "mailing {id} is {}; only a mailing that was sent has deliveries to retry",
                m.state
            )))
        }
    }
    if !repo::reopen_sent(conn, id, now)? {
        return Err(ApiError::Conflict(format!("mailing {id} changed meanwhile; try again")));
    }
    let requeued = repo::requeue_failed(conn, id, now)?;
    // Round numbers only key the rounds' unique jobs; a re-queue's chain
    // starts at the time in microseconds so it never meets an earlier chain's keys.
    jobs::enqueue(conn, &send_job(id, now.and_utc().timestamp_micros(), now))?;
    tracing::info!(mailing = id, requeued, "failed deliveries re-queued");
    Ok((repo::find(conn, id)?.expect("just updated"), Requeued { requeued }))
}

/// Sets an article's newsletter mode. 404 when the article does not exist.
pub fn set_mode(conn: &mut DbConnection, article: i64, mode: NewsletterMode) -> Result<(), ApiError> {
    if repo::article(conn, article)?.is_none() {
        return Err(ApiError::NotFound(format!("no article {article}")));
    }
    repo::set_newsletter_mode(conn, article, mode.as_str(), crate::db::now())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bylines_read_as_a_sentence() {
        let n = |v: &[&str]| join_names(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(n(&[]), "");
        assert_eq!(n(&["Ana"]), "Ana");
        assert_eq!(n(&["Ana", "Ben"]), "Ana and Ben");
        assert_eq!(n(&["Ana", "Ben", "Cy"]), "Ana, Ben and Cy");
    }
}
