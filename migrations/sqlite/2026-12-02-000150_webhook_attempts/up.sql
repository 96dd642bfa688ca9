-- Webhooks, second part: a log row per delivery attempt, a record of which
-- articles have had their `article.published` sent, and the `article_live`
-- job kind that sends it when a scheduled article's time comes (SQLite
-- rebuilds the jobs table to widen its CHECK).
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery', 'article_live')),
    payload TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'failed', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    locked_by TEXT,
    unique_key TEXT UNIQUE,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
INSERT INTO jobs_new SELECT * FROM jobs ;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_claim_idx ON jobs (state, run_at);
CREATE INDEX jobs_kind_idx ON jobs (kind, state);
-- One row per HTTP attempt of a delivery (the delivery row keeps the last).
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
WHERE published_at IS NOT NULL AND published_at <= CURRENT_TIMESTAMP AND status IN ('published', 'scheduled');
