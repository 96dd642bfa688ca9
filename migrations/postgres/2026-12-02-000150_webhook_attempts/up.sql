-- Webhooks, second part: a log row per delivery attempt, a record of which
-- articles have had their `article.published` sent, and the `article_live`
-- job kind that sends it when a scheduled article's time comes.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery', 'article_live'));

-- One row per HTTP attempt of a delivery (the delivery row keeps the last).
CREATE TABLE webhook_attempts (
    id BIGSERIAL PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    request_headers TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    duration_ms INTEGER NOT NULL,
    error TEXT,
    started_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

-- An article is here while its current public life has been announced with
-- `article.published`; leaving the public (unpublish, delete) removes it.
-- The primary key is what makes the announcement happen once when a save
-- and the `article_live` job race.
CREATE TABLE article_announcements (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    announced_at TIMESTAMP NOT NULL
);
-- Articles already public were announced (or predate webhooks).
INSERT INTO article_announcements (article_id, announced_at)
SELECT id, CURRENT_TIMESTAMP FROM articles
WHERE published_at IS NOT NULL AND published_at <= (now() AT TIME ZONE 'UTC') AND status IN ('published', 'scheduled');
