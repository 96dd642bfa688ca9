//! [`OutboxMailer`]: writes each message as an RFC 5322 `.eml` file, the
//! default (`DATA_DIR/outbox`), so a fresh machine needs no mail server. The
//! file is named after the `Message-ID` and renamed into place, so a
//! repeated send replaces the same file rather than adding a second.

use std::path::PathBuf;

use futures_util::future::BoxFuture;

use super::{MailError, Mailer, OutgoingMail};

/// Writes `.eml` files into a folder (created on first use).
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    /// A mailer writing into `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The file a message with `message_id` is written to.
    pub fn path_for(&self, message_id: &str) -> PathBuf {
        let name: String = message_id
            .trim_matches(['<', '>'])
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
            .collect();
        self.dir.join(format!("{name}.eml"))
    }
}

impl Mailer for OutboxMailer {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, Result<(), MailError>> {
        let dir = self.dir.clone();
        let path = self.path_for(&mail.message_id);
        let bytes = mail.message.formatted();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                std::fs::create_dir_all(&dir)?;
                let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
                std::io::Write::write_all(&mut tmp, &bytes)?;
                tmp.as_file().sync_all()?;
                tmp.persist(&path).map_err(|e| e.error)?;
                Ok(())
            })
            .await
            .map_err(|e| MailError::Transport(format!("outbox writer failed: {e}")))?
            .map_err(|e| MailError::Transport(format!("cannot write to the outbox: {e}")))
        })
    }
}
