//! `send_mailing`: sends one round of a mailing. Payload:
//! `{"mailing_id": i64, "round": i64}`.
//!
//! A round reads queued, due delivery records in batches
//! (`MAILING_BATCH_SIZE`) and, for each, re-reads the record and its
//! subscriber right before sending: a record no longer `queued` is passed
//! over, a subscriber no longer `confirmed` (or erased) is `skipped`. After
//! the transport accepts a message its record is marked `sent` at once, in
//! its own transaction. So a crash repeats at most the one message between
//! the transport's acceptance and that commit, with the same `Message-ID`
//! (the outbox overwrites the same file), and skips nobody: the round's job
//! is claimed again after its lease and carries on from the records.
//!
//! Pacing is by scheduling, not sleeping: a round sends at most
//! `MAILING_BATCH_SIZE` messages, and the next round is due no earlier than
//! the round's start plus (messages tried ÷ `MAILING_RATE_PER_SECOND`)
//! seconds, so over any run of rounds the rate is at most the configured
//! one, and a round never holds a runner slot to wait. A round also stops
//! after half the job lease (`JOBS_LEASE_SECONDS`) or when the transport
//! fails, and its completing transaction either marks the mailing `sent` or
//! enqueues the next round (`mailings::service::after_round`).
//!
//! Failures: a transient one (connection, timeout, SMTP 4xx) waits
//! `MAILING_RETRY_BASE_SECONDS` · 2^(tries−1) (at most an hour) and ends
//! the round, since every other recipient would fail the same way; after
//! `MAILING_MAX_ATTEMPTS` tries the record is `failed`. A permanent one
//! (SMTP 5xx) marks that record `failed` at once and the round goes on;
//! when the reply says the mailbox or domain does not exist (5.1.1, 5.1.2,
//! 5.1.10: `mail::mailbox_unknown`) the subscriber is also marked
//! `bounced`, as a hard-bounce report would, so no later mailing tries the
//! address again. Other 5xx (policy, size, spam) leave the subscriber as is.
//! An editor can re-queue failed records (`POST /mailings/{id}/retry`).

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use serde::Deserialize;

use super::repo::ClaimedJob;
use super::runner::{JobContext, JobResult};
use crate::mail::{self, ListIdentity, MailError, Template};
use crate::mailings::model::{DeliveryState, DueDelivery, MailingState};
use crate::mailings::{repo, service};
use crate::subscriptions::model::SubscriberStatus;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    mailing_id: i64,
    round: i64,
}

/// The wait after failed try `tries` (1-based): `base · 2^(tries−1)`, at most an hour.
fn retry_wait(base_secs: i64, tries: i32) -> chrono::Duration {
    let exp = u32::try_from(tries.saturating_sub(1)).unwrap_or(0).min(20);
    chrono::Duration::seconds(base_secs.saturating_mul(1i64 << exp).min(3600))
}

/// When the round after one that started at `started` and tried `tried`
/// messages may start, at `rate` messages per second.
pub fn next_round_at(started: NaiveDateTime, tried: usize, rate: u32) -> NaiveDateTime {
    let micros = (tried as f64 * 1_000_000.0 / f64::from(rate.max(1))).ceil() as i64;
    started + chrono::Duration::microseconds(micros)
}

/// Runs one attempt.
pub async fn run(ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let Payload { mailing_id, round } = serde_json::from_value(payload)?;
    let settings = ctx.settings.clone();
    let loaded = {
        let settings = settings.clone();
        crate::db::run(&ctx.pool, move |c| {
            let m = repo::find(c, mailing_id)?;
            let content = match m.as_ref().and_then(|m| m.article_id) {
                Some(article) => service::content(c, &settings, article)?,
                None => None,
            };
            Ok((m, content))
        })
        .await
        .map_err(|e| anyhow::anyhow!("loading mailing {mailing_id}: {e}"))?
    };
    let Some(mailing) = loaded.0 else {
        tracing::warn!(mailing_id, "mailing is gone; nothing to send");
        return Ok(None);
    };
    if mailing.state() != MailingState::Sending {
        return Ok(None);
    }
    let Some(content) = loaded.1 else {
        // The article was deleted mid-mailing: nobody else gets it, and the
        // records say why.
        tracing::warn!(mailing_id, "the mailing's article was deleted; the rest is skipped");
        return Ok(Some(Box::new(move |c| {
            let now = crate::db::now();
            repo::skip_queued(c, mailing_id, "the article was deleted", now)?;
            repo::mark_finished(c, mailing_id, now)
        })));
    };
    let subject = mailing.subject.clone().unwrap_or_default();
    let budget = Duration::from_secs(settings.jobs.lease_secs) / 2;
    let started = Instant::now();
    let started_at = crate::db::now();
    let cfg = settings.mailings.clone();
    let batch = crate::db::run(&ctx.pool, move |c| Ok(repo::due(c, mailing_id, started_at, cfg.batch_size)?))
        .await
        .map_err(|e| anyhow::anyhow!("loading deliveries: {e}"))?;
    let mut tried = 0usize;
    let mut not_before = None;
    for d in batch {
        if started.elapsed() >= budget {
            break;
        }
        match send_one(ctx, &d, &subject, &content).await? {
            Sent::Yes | Sent::Refused => tried += 1,
            Sent::Passed => {}
            Sent::TransportDown => {
                // Every other recipient would fail the same way: wait.
                tried += 1;
                not_before = Some(crate::db::now() + retry_wait(cfg.retry_base_secs, d.attempts + 1));
                break;
            }
        }
    }
    let paced = next_round_at(started_at, tried, cfg.rate_per_second);
    let not_before = not_before.map_or(paced, |t| t.max(paced));
    Ok(Some(Box::new(move |c| service::after_round(c, mailing_id, round, not_before, crate::db::now()))))
}

enum Sent {
    Yes,
    /// Not sent and not to be: no longer queued, skipped, or could not be built.
    Passed,
    /// The server refused this recipient for good (SMTP 5xx): `failed`.
    Refused,
    TransportDown,
}

async fn send_one(
    ctx: &JobContext,
    d: &DueDelivery,
    subject: &str,
    content: &serde_json::Value,
) -> anyhow::Result<Sent> {
    let id = d.id;
    let write = |state: DeliveryState, error: Option<String>| {
        crate::db::write(&ctx.pool, move |c| Ok(repo::settle(c, id, state, error.as_deref(), crate::db::now())?))
    };
    // The state check before the send: another round, an unsubscribe or an
    // erasure may have come in since the batch was read.
    let check = crate::db::run(&ctx.pool, move |c| Ok(repo::delivery_check(c, id)?))
        .await
        .map_err(|e| anyhow::anyhow!("checking delivery {id}: {e}"))?;
    let Some((state, status)) = check else { return Ok(Sent::Passed) };
    if state != DeliveryState::Queued.as_str() {
        return Ok(Sent::Passed);
    }
    let (Some((email, secret, _)), Some(status)) = (&d.subscriber, status) else {
        write(DeliveryState::Skipped, Some("the subscriber was erased".into())).await?;
        return Ok(Sent::Passed);
    };
    if status != SubscriberStatus::Confirmed.as_str() {
        write(DeliveryState::Skipped, Some(format!("the subscriber is {status}"))).await?;
        return Ok(Sent::Passed);
    }
    let subscriber_id = d.subscriber_id.unwrap_or_default();
    let settings = &ctx.settings;
    let token = crate::subscriptions::model::sign(subscriber_id, secret);
    let unsubscribe_link = crate::auth::recovery::link(&settings.mailings.unsubscribe_url, &token);
    let mut params = content.clone();
    params["unsubscribe_link"] = unsubscribe_link.clone().into();
    params["preferences_link"] = crate::auth::recovery::link(&settings.subscriptions.preferences_url, &token).into();
    let site = crate::auth::recovery::site(settings);
    let list = ListIdentity {
        list_id: format!("{site} newsletter <newsletter.{}>", mail::message::domain_of(&settings.mail.from)),
        unsubscribe_url: unsubscribe_link,
    };
    let message = match mail::message::compose_with_subject(
        &settings.mail.from,
        email,
        &d.message_id,
        Template::NewArticle,
        subject,
        &params,
        Some(&list),
    ) {
        Ok(m) => m,
        Err(e) => {
            // A message that cannot be built never will be: no retry.
            write(DeliveryState::Failed, Some(e.to_string())).await?;
            return Ok(Sent::Passed);
        }
    };
    match ctx.mailer.send(&message).await {
        Ok(()) => {
            // If this write is lost (crash, outage), the record stays queued
            // and the retry sends the same Message-ID again: the one-message window.
            write(DeliveryState::Sent, None).await?;
            Ok(Sent::Yes)
        }
        Err(e @ MailError::Build(_)) => {
            write(DeliveryState::Failed, Some(e.to_string())).await?;
            Ok(Sent::Passed)
        }
        Err(MailError::Rejected { message, mailbox_unknown }) => {
            tracing::warn!(delivery = id, %message, mailbox_unknown, "mailing delivery refused for good");
            let subscriber = d.subscriber_id;
            crate::db::write(&ctx.pool, move |c| {
                use diesel::Connection;
                c.transaction(|c| {
                    let now = crate::db::now();
                    repo::settle(c, id, DeliveryState::Failed, Some(&message), now)?;
                    if let (true, Some(s)) = (mailbox_unknown, subscriber) {
                        crate::subscriptions::service::mark_bounced(c, s, now)?;
                    }
                    Ok::<_, crate::error::ApiError>(())
                })
            })
            .await?;
            Ok(Sent::Refused)
        }
        Err(e @ MailError::Transport(_)) => {
            let tries = d.attempts + 1;
            let error = e.to_string();
            tracing::warn!(delivery = id, tries, %error, "mailing delivery failed");
            if tries >= ctx.settings.mailings.max_attempts {
                write(DeliveryState::Failed, Some(error)).await?;
            } else {
                let wait = retry_wait(ctx.settings.mailings.retry_base_secs, tries);
                crate::db::write(&ctx.pool, move |c| {
                    let now = crate::db::now();
                    Ok(repo::retry_later(c, id, &error, now + wait, now)?)
                })
                .await?;
            }
            Ok(Sent::TransportDown)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_round_waits_for_the_messages_tried_at_the_rate() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap().naive_utc();
        assert_eq!(next_round_at(t, 0, 10), t);
        assert_eq!(next_round_at(t, 5, 10), t + chrono::Duration::milliseconds(500));
        assert_eq!(next_round_at(t, 100, 150), t + chrono::Duration::microseconds(666_667));
        assert_eq!(next_round_at(t, 3, 1), t + chrono::Duration::seconds(3));
    }

    #[test]
    fn retry_waits_double_up_to_an_hour() {
        assert_eq!(retry_wait(60, 1).num_seconds(), 60);
        assert_eq!(retry_wait(60, 2).num_seconds(), 120);
        assert_eq!(retry_wait(60, 4).num_seconds(), 480);
        assert_eq!(retry_wait(60, 20).num_seconds(), 3600);
    }
}
