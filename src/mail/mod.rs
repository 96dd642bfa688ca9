//! Outgoing mail: one [`Mailer`] trait with three transports, chosen by
//! `MAIL_URL`: SMTP through lettre ([`smtp`]), `.eml` files in an outbox
//! folder ([`outbox`], the default, so a fresh machine needs no mail
//! server), and process memory ([`memory`], for tests).
//!
//! Mail is never sent from a request: [`queue`] stores a `mails` row and
//! enqueues a `send_mail` job in the caller's transaction, and the job
//! renders ([`message`]) and sends it. A mail server that is down, slow or
//! refusing therefore costs retries, never a failed or slow HTTP request.

pub mod memory;
pub mod message;
pub mod outbox;
pub mod repo;
pub mod smtp;

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::config::{MailUrl, Settings};
use crate::db::DbConnection;

pub use message::{ListIdentity, OutgoingMail, Template};

/// Why a message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Building the message failed (bad address, template error).
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The transport failed for now (connection, timeout, TLS, disk, or an
    /// SMTP 4xx): the same message may go through later.
    #[error("cannot send: {0}")]
    Transport(String),
    /// The mail server refused this message for good (an SMTP 5xx reply):
    /// sending it again will not help. `mailbox_unknown` when the reply says
    /// the recipient's mailbox or domain does not exist (see [`mailbox_unknown`]).
    #[error("refused: {message}")]
    Rejected {
        /// The server's reply (code and text).
        message: String,
        /// The reply names a mailbox or domain that does not exist.
        mailbox_unknown: bool,
    },
}

/// Whether a permanent SMTP reply says the recipient does not exist: an
/// enhanced status code (RFC 3463) of `5.1.1` (bad destination mailbox),
/// `5.1.2` (bad destination system), `5.1.10` (null MX, RFC 7505), or, from
/// servers that send no enhanced code, a 550/551/553 whose text says
/// "user unknown", "no such user", "unknown user" or "does not exist".
/// A 5.7.x (policy, spam) or 5.2.x (mailbox full, message too big)
/// refusal is not: the address may be fine.
pub fn mailbox_unknown(reply: &str) -> bool {
    let lower = reply.to_ascii_lowercase();
    let enhanced = lower
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|w| w.starts_with("5.") && w.matches('.').count() == 2)
        .collect::<Vec<_>>();
    if !enhanced.is_empty() {
        return enhanced.iter().any(|w| matches!(*w, "5.1.1" | "5.1.2" | "5.1.10"));
    }
    ["550", "551", "553"].iter().any(|c| lower.contains(c))
        && ["user unknown", "no such user", "unknown user", "does not exist"].iter().any(|t| lower.contains(t))
}

/// Hands finished messages to a transport. `send` returning `Ok` means the
/// transport accepted the message (the SMTP server said 250, the file was
/// renamed into place).
pub trait Mailer: Send + Sync {
    /// Sends one message.
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, Result<(), MailError>>;
}

/// Whether a message can be addressed to `address`: parsed as lettre's
/// `Mailbox`, exactly as `message::build` parses `To:`. Accounts are checked
/// with it, so an address the API takes
/// is one the mailer can write to (an invitation to `a..b@x.org` would
/// otherwise fail in its job, leaving the user with no way in).
pub fn deliverable(address: &str) -> bool {
    address.parse::<lettre::message::Mailbox>().is_ok()
}

/// The mailer `MAIL_URL` names.
pub fn from_settings(settings: &Settings) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match &settings.mail.url {
        MailUrl::Outbox(dir) => Arc::new(outbox::OutboxMailer::new(dir.clone())),
        MailUrl::Smtp(url) => Arc::new(smtp::SmtpMailer::new(url, settings.mail.timeout_secs)?),
        MailUrl::Memory => Arc::new(memory::MemoryMailer::default()),
    })
}

/// Stores a mail for `recipient` from `template` with `params` and enqueues
/// its `send_mail` job, on the caller's connection and transaction. The
/// `Message-ID` is fixed here, so every retry sends the same one. Returns
/// the mail's id.
pub fn queue(
    conn: &mut DbConnection,
    from: &str,
    recipient: &str,
    template: Template,
    params: serde_json::Value,
) -> diesel::QueryResult<i64> {
    let domain = message::domain_of(from);
    let message_id = format!("<{}@{domain}>", crate::auth::tokens::random_id());
    let id = repo::insert(conn, recipient, template, &params, &message_id)?;
    crate::jobs::enqueue(
        conn,
        &crate::jobs::NewJob::new(crate::jobs::JobKind::SendMail, serde_json::json!({"mail_id": id}))
            .unique(format!("mail:{id}")),
    )?;
    Ok(id)
}
