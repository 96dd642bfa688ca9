DELETE FROM jobs WHERE kind = 'comment_spam_check';
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery'));
DROP TABLE comment_form_nonces;
DROP TABLE server_secrets;
