//! `webhook_delivery` job: one attempt at one delivery. Payload:
//! `{"delivery_id", "attempt"}` (attempts made before this one).
//!
//! The HTTP call happens outside any transaction; its outcome, the next
//! attempt's job, and (when given up) the endpoint's failure streak, disabling
//! and the admins' mail are written in the transaction that completes this
//! job. A stale job (the delivery moved on, or was replayed) does nothing.
//! Receivers can see an attempt twice only if a runner dies between the
//! call and that commit; `webhook-id` lets them drop the repeat.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use futures_util::StreamExt;

use super::model::{status, DeliveryRow, WebhookRow};
use super::repo::{self, AttemptRecord, NewAttempt};
use crate::jobs::repo::ClaimedJob;
use crate::jobs::runner::{JobContext, JobResult};

/// Bytes of a response body kept (and read).
pub const RESPONSE_LIMIT: usize = 4096;
/// Longest wait between attempts.
pub const MAX_BACKOFF_MS: u64 = 6 * 3600 * 1000;

/// Delay before attempt `attempts + 1` (after `attempts` failures): base × 2^(n−1), capped at 6 h.
pub fn backoff_ms(base_ms: u64, attempts: i32) -> u64 {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base_ms.saturating_mul(1u64 << exp).min(MAX_BACKOFF_MS)
}

struct Outcome {
    /// The request headers sent, as a JSON object (the body is the delivery's).
    headers: serde_json::Value,
    status: Option<u16>,
    body: Option<String>,
    error: Option<String>,
    millis: i32,
}

async fn attempt(hook: &WebhookRow, d: &DeliveryRow, allow_loopback: bool, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let timestamp = chrono::Utc::now().timestamp();
    let signature = super::sign::signature(&hook.secret, &d.message_id, timestamp, &d.body);
    let mut headers = serde_json::json!({
        "content-type": "application/json",
        "user-agent": super::ssrf::USER_AGENT,
        "webhook-id": d.message_id,
        "webhook-timestamp": timestamp.to_string(),
    });
    if let Some(sig) = &signature {
        headers["webhook-signature"] = serde_json::Value::String(sig.clone());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let call = async {
        // Checked again at every attempt: the address may have changed since
        // the endpoint was saved; the resolver checks once more at connect.
        super::ssrf::check(&hook.url, allow_loopback).await.map_err(|m| format!("url {m}"))?;
        let signature = signature.ok_or_else(|| "the stored secret is malformed".to_owned())?;
        let client = super::ssrf::client(allow_loopback, timeout).map_err(|e| format!("client: {e}"))?;
        client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.body.clone())
            .send()
            .await
            .map_err(|e| format!("request failed: {}", error_chain(&e)))
    };
    // One deadline for the whole attempt, whatever the client's own timers
    // do: a stalled receiver is one failed attempt, and the job never runs
    // near its lease (so no second runner calls the receiver for it).
    let result = match tokio::time::timeout_at(deadline, call).await {
        Ok(Ok(res)) => {
            let code = res.status().as_u16();
            let mut kept = Vec::new();
            let mut stream = res.bytes_stream();
            // Reads at most RESPONSE_LIMIT bytes until the deadline, then
            // drops the connection; the status already counts.
            while kept.len() < RESPONSE_LIMIT {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(Some(Ok(chunk))) => {
                        kept.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_LIMIT - kept.len())]);
                    }
                    _ => break,
                }
            }
            Ok((code, String::from_utf8_lossy(&kept).into_owned()))
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
    };
    let millis = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    match result {
        Ok((code, body)) => Outcome {
            headers,
            status: Some(code),
            body: Some(body),
            error: (!(200..300).contains(&code)).then(|| {
                if (300..400).contains(&code) {
                    format!("answered {code}; redirects are not followed")
                } else {
                    format!("answered {code}")
                }
            }),
            millis,
        },
        Err(e) => Outcome { headers, status: None, body: None, error: Some(e), millis },
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Runs one attempt.
pub async fn run(ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let delivery_id = payload["delivery_id"].as_i64().ok_or_else(|| anyhow::anyhow!("payload has no delivery_id"))?;
    let expected = payload["attempt"].as_i64().and_then(|a| i32::try_from(a).ok()).unwrap_or(0);
    let loaded = crate::db::run(&ctx.pool, move |c| {
        let Some(d) = repo::find_delivery(c, delivery_id).optional()? else { return Ok(None) };
        let hook = repo::find(c, d.webhook_id).optional()?;
        Ok(hook.map(|h| (d, h)))
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some((d, hook)) = loaded else { return Ok(None) };
    if d.status != status::PENDING || d.attempts != expected {
        return Ok(None);
    }
    let settings = ctx.settings.clone();
    let dist = &settings.distribution;
    let now = crate::db::now();
    if !hook.active {
        let rec = AttemptRecord {
            status: status::FAILED.into(),
            attempts: d.attempts,
            response_status: d.response_status,
            response_body: d.response_body.clone(),
            duration_ms: d.duration_ms,
            error: Some("the endpoint is disabled".into()),
            next_attempt_at: None,
            last_attempt_at: d.last_attempt_at,
        };
        return Ok(Some(Box::new(move |c| repo::record_attempt(c, d.id, expected, &rec).map(|_| ()))));
    }
    // Within 80 % of the lease, so the runner never stops (and another
    // runner never repeats) an attempt still talking to the receiver.
    let lease_cap = Duration::from_secs(settings.jobs.lease_secs).mul_f64(0.8);
    let timeout = Duration::from_millis(dist.webhook_timeout_ms).min(lease_cap);
    let out = attempt(&hook, &d, dist.webhook_allow_loopback, timeout).await;
    let attempts = expected + 1;
    let succeeded = out.error.is_none();
    let give_up = !succeeded && attempts >= dist.webhook_max_attempts;
    let next_at = (!succeeded && !give_up)
        .then(|| now + chrono::Duration::milliseconds(backoff_ms(dist.webhook_retry_base_ms, attempts) as i64));
    if let Some(e) = &out.error {
        tracing::warn!(webhook = hook.id, delivery = d.id, attempts, error = %e, gave_up = give_up, "webhook attempt failed");
    }
    let rec = AttemptRecord {
        status: if succeeded {
            status::SUCCEEDED
        } else if give_up {
            status::FAILED
        } else {
            status::PENDING
        }
        .into(),
        attempts,
        response_status: out.status.map(i32::from),
        response_body: out.body,
        duration_ms: Some(out.millis),
        error: out.error.clone(),
        next_attempt_at: next_at,
        last_attempt_at: Some(now),
    };
    let log = NewAttempt {
        delivery_id: d.id,
        attempt: attempts,
        request_headers: out.headers.to_string(),
        response_status: out.status.map(i32::from),
        response_body: rec.response_body.clone(),
        duration_ms: out.millis,
        error: out.error.clone(),
        started_at: now,
    };
    Ok(Some(Box::new(move |c| {
        if !repo::record_attempt(c, d.id, expected, &rec)? {
            return Ok(());
        }
        repo::insert_attempt(c, &log)?;
        if let Some(at) = next_at {
            crate::jobs::enqueue(c, &super::service::attempt_job(d.id, attempts).run_at(at))?;
        }
        if succeeded && hook.failure_streak != 0 {
            repo::update(c, hook.id, &repo::WebhookChanges { failure_streak: Some(0), ..Default::default() })?;
        }
        if give_up {
            gave_up(c, &settings, &hook, out.error.as_deref().unwrap_or("failed"))?;
        }
        Ok(())
    })))
}

/// A delivery was given up: bump the streak; at the limit, disable the
/// endpoint and mail every active admin (once: only the transition mails).
fn gave_up(
    c: &mut crate::db::DbConnection,
    settings: &crate::config::Settings,
    hook: &WebhookRow,
    last_error: &str,
) -> QueryResult<()> {
    use crate::db::schema::{users, webhooks};
    let current: (i32, bool) =
        webhooks::table.find(hook.id).select((webhooks::failure_streak, webhooks::active)).first(c)?;
    let streak = current.0 + 1;
    let disable = current.1 && streak >= settings.distribution.webhook_disable_after;
    let now = crate::db::now();
    repo::update(
        c,
        hook.id,
        &repo::WebhookChanges {
            failure_streak: Some(streak),
            active: disable.then_some(false),
            disabled_at: disable.then_some(Some(now)),
            updated_at: disable.then_some(now),
            ..Default::default()
        },
    )?;
    if disable {
        tracing::warn!(webhook = hook.id, streak, "webhook endpoint disabled after repeated failures");
        let admins: Vec<String> = users::table
            .filter(users::role.eq("admin"))
            .filter(users::disabled.eq(false))
            .select(users::email)
            .load(c)?;
        let params = serde_json::json!({
            "url": hook.url,
            "failures": streak,
            "last_error": last_error,
            "manage_url": format!("{}/api/v1/webhooks/{}", settings.public_base_url, hook.id),
        });
        for admin in admins.iter().filter(|a| crate::mail::deliverable(a)) {
            crate::mail::queue(c, &settings.mail.from, admin, crate::mail::Template::WebhookDisabled, params.clone())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_spans_about_a_day_by_default() {
        assert_eq!(backoff_ms(60_000, 1), 60_000);
        assert_eq!(backoff_ms(60_000, 2), 120_000);
        assert_eq!(backoff_ms(60_000, 20), MAX_BACKOFF_MS);
        let total: u64 = (1..12).map(|n| backoff_ms(60_000, n)).sum();
        assert!((20 * 3600 * 1000..=30 * 3600 * 1000).contains(&total), "{total} ms");
    }
}
