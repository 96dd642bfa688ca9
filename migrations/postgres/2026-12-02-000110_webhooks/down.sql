DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DELETE FROM jobs WHERE kind = 'webhook_delivery';
DELETE FROM mails WHERE template = 'webhook_disabled';
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe'));
ALTER TABLE mails DROP CONSTRAINT mails_template_check;
ALTER TABLE mails ADD CONSTRAINT mails_template_check CHECK (template IN ('password_reset', 'invitation', 'subscription_confirm'));
