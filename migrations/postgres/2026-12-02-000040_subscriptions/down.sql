DROP TABLE subscription_erasures;
DROP TABLE subscription_consents;
DROP FUNCTION subscription_consents_append_only();
DROP TABLE subscription_tokens;
DROP TABLE subscriber_topics;
DROP TABLE subscribers;

DELETE FROM mails WHERE template = 'subscription_confirm';
ALTER TABLE mails DROP CONSTRAINT mails_template_check;
ALTER TABLE mails ADD CONSTRAINT mails_template_check CHECK (template IN ('password_reset', 'invitation'));
DELETE FROM jobs WHERE kind = 'subscribe';
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe'));
