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
    /// The transport refused or failed (connection, timeout, SMTP error, disk).
    #[error("cannot send: {0}")]
    Transport(String),
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
