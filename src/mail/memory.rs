//! [`MemoryMailer`]: keeps messages in memory, for tests.

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use super::{MailError, Mailer, OutgoingMail};

/// One message as a test sees it.
#[derive(Clone, Debug)]
pub struct SentMail {
    /// The envelope recipient.
    pub to: String,
    /// The `Subject`.
    pub subject: String,
    /// The `Message-ID`, with angle brackets.
    pub message_id: String,
    /// The plain-text part, decoded.
    pub text: String,
    /// The HTML part, decoded.
    pub html: String,
    /// The whole RFC 5322 message as it would go on the wire.
    pub raw: Vec<u8>,
}

/// A mailer that stores what it is given. Clones share one mailbox.
#[derive(Clone, Default)]
pub struct MemoryMailer {
    sent: Arc<Mutex<Vec<SentMail>>>,
    failing: Arc<Mutex<Option<String>>>,
    rejecting: Arc<Mutex<Vec<(String, String)>>>,
}

impl MemoryMailer {
    /// Everything sent so far, oldest first.
    pub fn sent(&self) -> Vec<SentMail> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Makes every send fail with `error` (`None`: succeed again), as a
    /// transient failure ([`MailError::Transport`]: a connection refused, a 4xx).
    pub fn fail_with(&self, error: Option<&str>) {
        *self.failing.lock().unwrap_or_else(|e| e.into_inner()) = error.map(str::to_owned);
    }

    /// Accepts mail to every address again (undoes [`MemoryMailer::reject`]).
    pub fn clear_rejections(&self) {
        self.rejecting.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Makes every send to `to` (compared case-insensitively) fail for good
    /// with the SMTP reply `reply`, e.g. `550 5.1.1 user unknown`
    /// ([`MailError::Rejected`], as the SMTP mailer reports a 5xx).
    pub fn reject(&self, to: &str, reply: &str) {
        self.rejecting.lock().unwrap_or_else(|e| e.into_inner()).push((to.to_lowercase(), reply.to_owned()));
    }
}

impl Mailer for MemoryMailer {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            if let Some(e) = self.failing.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                return Err(MailError::Transport(e));
            }
            let to = mail.to.to_lowercase();
            let rejected =
                self.rejecting.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|(t, _)| *t == to).cloned();
            if let Some((_, reply)) = rejected {
                return Err(MailError::Rejected { mailbox_unknown: super::mailbox_unknown(&reply), message: reply });
            }
            self.sent.lock().unwrap_or_else(|e| e.into_inner()).push(SentMail {
                to: mail.to.clone(),
                subject: mail.subject.clone(),
                message_id: mail.message_id.clone(),
                text: mail.text.clone(),
                html: mail.html.clone(),
                raw: mail.message.formatted(),
            });
            Ok(())
        })
    }
}
