DROP TABLE mailing_deliveries;
DROP TABLE mailings;
DROP TABLE article_newsletters;
DELETE FROM jobs WHERE kind IN ('start_mailing', 'send_mailing');
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe'));
