//! `send_mail`: renders and sends one row of `mails`. Payload: `{"mail_id": i64}`.
//!
//! The row is marked sent (and its parameters, which may hold a token,
//! cleared) in the same transaction that marks the job done. A crash after
//! the mail server accepted the message but before that commit sends it
//! again on the retry, with the same `Message-ID`, so receivers can tell.

use serde::Deserialize;

use super::repo::ClaimedJob;
use super::runner::{JobContext, JobResult};
use crate::mail::{self, Template};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    mail_id: i64,
}

/// Runs one attempt.
pub async fn run(ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let Payload { mail_id } = serde_json::from_value(payload)?;
    let row = crate::db::run(&ctx.pool, move |c| Ok(mail::repo::find(c, mail_id)?))
        .await
        .map_err(|e| anyhow::anyhow!("loading mail {mail_id}: {e}"))?;
    let Some(row) = row else {
        tracing::warn!(mail_id, "mail row is gone; nothing to send");
        return Ok(None);
    };
    if row.sent_at.is_some() {
        return Ok(None);
    }
    let template =
        Template::parse(&row.template).ok_or_else(|| anyhow::anyhow!("unknown template {}", row.template))?;
    let params: serde_json::Value = serde_json::from_str(&row.params)?;
    // Mail that belongs to a list carries `list: {id, unsubscribe_url}` in its
    // params, for the List-Id / List-Unsubscribe (RFC 2369, RFC 8058) headers.
    let list = params.get("list").and_then(|l| {
        Some(mail::ListIdentity {
            list_id: l.get("id")?.as_str()?.to_owned(),
            unsubscribe_url: l.get("unsubscribe_url")?.as_str()?.to_owned(),
        })
    });
    let message = mail::message::compose(
        &ctx.settings.mail.from,
        &row.recipient,
        &row.message_id,
        template,
        &params,
        list.as_ref(),
    )?;
    ctx.mailer.send(&message).await?;
    tracing::info!(mail_id, message_id = %row.message_id, "mail sent");
    Ok(Some(Box::new(move |c| mail::repo::mark_sent(c, mail_id))))
}
