-- Three branches (comments 000050, mailings 000060, webhooks 000110) each
-- widened the jobs.kind and mails.template CHECKs from the same base, so the
-- last one applied won and refused the others' kinds. This sets both CHECKs
-- to the union, and covers the public tables created after the content
-- generation (000080: pages, taxonomy slug history) with its triggers.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery'));
ALTER TABLE mails DROP CONSTRAINT mails_template_check;
ALTER TABLE mails ADD CONSTRAINT mails_template_check CHECK (template IN ('password_reset', 'invitation', 'subscription_confirm', 'comment_verify', 'comment_reply', 'webhook_disabled'));
CREATE TRIGGER pages_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pages FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER category_slug_history_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON category_slug_history FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER tag_slug_history_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tag_slug_history FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
