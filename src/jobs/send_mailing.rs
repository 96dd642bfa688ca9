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
//! Sending is paced at `MAILING_RATE_PER_SECOND`. A round stops after half
//! the job lease (`JOBS_LEASE_SECONDS`), when the transport fails, or when
//! nothing is due, and its completing transaction either marks the mailing
//! `sent` or enqueues the next round (`mailings::service::after_round`). A
//! failed try waits `MAILING_RETRY_BASE_SECONDS` · 2^(tries−1) (at most an
//! hour); after `MAILING_MAX_ATTEMPTS` the record is `failed`.

use std::time::{Duration, Instant};

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

enum Outcome {
    /// Nothing due now (or the round's time is up): settle in the completing transaction.
    Stop { not_before: chrono::NaiveDateTime },
}

/// Runs one attempt.
pub async fn run(ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let Payload { mailing_id, round } = serde_json::from_value(payload)?;
    let settings = ctx.settings.clone();
    let loaded = {
        let settings = settings.clone();
        crate::db::run(&ctx.pool, move |c| {
            let m = repo::find(c, mailing_id)?;
            let content = match &m {
                Some(m) => service::content(c, &settings, m.article_id)?,
                None => None,
            };
            Ok((m, content))
        })
        .await
        .map_err(|e| anyhow::anyhow!("loading mailing {mailing_id}: {e}"))?
    };
    let (Some(mailing), Some(content)) = loaded else {
        tracing::warn!(mailing_id, "mailing or its article is gone; nothing to send");
        return Ok(None);
    };
    if mailing.state() != MailingState::Sending {
        return Ok(None);
    }
    let subject = mailing.subject.clone().unwrap_or_default();
    let budget = Duration::from_secs(settings.jobs.lease_secs) / 2;
    let started = Instant::now();
    let cfg = settings.mailings.clone();
    let interval = Duration::from_secs_f64(1.0 / f64::from(cfg.rate_per_second));
    let mut next_slot = tokio::time::Instant::now();
    let Outcome::Stop { not_before } = 'round: loop {
        let now = crate::db::now();
        let batch = crate::db::run(&ctx.pool, move |c| Ok(repo::due(c, mailing_id, now, cfg.batch_size)?))
            .await
            .map_err(|e| anyhow::anyhow!("loading deliveries: {e}"))?;
        if batch.is_empty() {
            break 'round Outcome::Stop { not_before: now };
        }
        for d in batch {
            if started.elapsed() >= budget {
                break 'round Outcome::Stop { not_before: crate::db::now() };
            }
            tokio::time::sleep_until(next_slot).await;
            next_slot = next_slot.max(tokio::time::Instant::now()) + interval;
            match send_one(ctx, &d, &subject, &content).await? {
                Sent::Yes | Sent::Passed => {}
                Sent::TransportDown => {
                    // Every other recipient would fail the same way: wait.
                    let wait = retry_wait(cfg.retry_base_secs, d.attempts + 1);
                    break 'round Outcome::Stop { not_before: crate::db::now() + wait };
                }
            }
        }
    };
    Ok(Some(Box::new(move |c| service::after_round(c, mailing_id, round, not_before, crate::db::now()))))
}

enum Sent {
    Yes,
    /// Not sent and not to be: no longer queued, skipped, or failed for good.
    Passed,
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
    fn retry_waits_double_up_to_an_hour() {
        assert_eq!(retry_wait(60, 1).num_seconds(), 60);
        assert_eq!(retry_wait(60, 2).num_seconds(), 120);
        assert_eq!(retry_wait(60, 4).num_seconds(), 480);
        assert_eq!(retry_wait(60, 20).num_seconds(), 3600);
    }
}
