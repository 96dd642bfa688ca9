DELETE FROM jobs WHERE kind IN ('comment_reply', 'start_mailing', 'send_mailing');
DELETE FROM mails WHERE template IN ('comment_verify', 'comment_reply');
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'webhook_delivery'));
ALTER TABLE mails DROP CONSTRAINT mails_template_check;
ALTER TABLE mails ADD CONSTRAINT mails_template_check CHECK (template IN ('password_reset', 'invitation', 'subscription_confirm', 'webhook_disabled'));
DROP TRIGGER pages_content_gen ON pages;
DROP TRIGGER category_slug_history_content_gen ON category_slug_history;
DROP TRIGGER tag_slug_history_content_gen ON tag_slug_history;
