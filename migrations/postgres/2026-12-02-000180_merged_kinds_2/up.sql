-- Two branches widened the jobs.kind CHECK from the same base: comments
-- (000130: comment_spam_check) and webhooks (000150: article_live). The
-- one applied last won and refused the other's kind; this sets the union.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery', 'article_live', 'comment_spam_check'));
