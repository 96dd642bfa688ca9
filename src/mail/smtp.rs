//! [`SmtpMailer`]: lettre's pooled async SMTP transport. Implicit TLS
//! (`smtps://`), required STARTTLS (`smtp://`, the default) or plain
//! (`?tls=none`, loopback relays only); AUTH when the URL has credentials.
//! Every socket operation times out after `MAIL_TIMEOUT_SECONDS`, and the
//! whole send after twice that, so a stalled server fails the attempt (and
//! the job retries) instead of holding a runner slot. A 5xx reply is a
//! [`MailError::Rejected`] (permanent), everything else a
//! [`MailError::Transport`] (retried).

use std::time::Duration;

use futures_util::future::BoxFuture;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{MailError, Mailer, OutgoingMail};
use crate::config::{SmtpTls, SmtpUrl};

/// Sends through an SMTP relay.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    timeout: Duration,
}

impl SmtpMailer {
    /// A pooled transport for `url` (no connection is made yet).
    pub fn new(url: &SmtpUrl, timeout_secs: u64) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(timeout_secs);
        let tls = || TlsParameters::new(url.host.clone()).map_err(|e| anyhow::anyhow!("MAIL_URL TLS: {e}"));
        let tls = match url.tls {
            SmtpTls::Implicit => Tls::Wrapper(tls()?),
            SmtpTls::StartTls => Tls::Required(tls()?),
            SmtpTls::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.clone())
            .port(url.port)
            .tls(tls)
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(4).idle_timeout(Duration::from_secs(60)));
        if let Some((user, pass)) = &url.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.expose().to_owned()));
        }
        Ok(Self { transport: builder.build(), timeout })
    }
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout * 2, self.transport.send(mail.message.clone())).await {
                Ok(Ok(_)) => Ok(()),
                // lettre classes the server's reply: 5xx permanent, 4xx transient;
                // a connection or TLS failure has no reply and is transient.
                Ok(Err(e)) if e.is_permanent() => {
                    let message = e.to_string();
                    Err(MailError::Rejected { mailbox_unknown: super::mailbox_unknown(&message), message })
                }
                Ok(Err(e)) => Err(MailError::Transport(e.to_string())),
                Err(_) => Err(MailError::Transport(format!("no answer within {} s", (self.timeout * 2).as_secs()))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn tls_transports_build_and_fail_cleanly_when_nothing_listens() {
        for tls in [SmtpTls::Implicit, SmtpTls::StartTls, SmtpTls::None] {
            let url = SmtpUrl { host: "127.0.0.1".into(), port: 9, tls, credentials: None };
            let mailer = SmtpMailer::new(&url, 2).expect("transport builds");
            let mail = crate::mail::message::compose(
                "no-reply@example.com",
                "a@example.com",
                "<t@example.com>",
                crate::mail::Template::PasswordReset,
                &serde_json::json!({"site": "s", "email": "a@example.com", "link": "https://x/y", "valid_for": "1 hour"}),
                None,
            )
            .unwrap();
            let err = mailer.send(&mail).await.expect_err("nothing listens on port 9");
            assert!(matches!(err, MailError::Transport(_)), "{tls:?}: {err}");
        }
    }
}
