-- New-article mailings: the per-article newsletter switch, one mailing per
-- article and one delivery record per (mailing, subscriber). The
-- `start_mailing` and `send_mailing` job kinds widen the jobs CHECK, which
-- SQLite can only do by rebuilding the table (same columns, ids, indexes).
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'start_mailing', 'send_mailing')),
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
INSERT INTO jobs_new SELECT * FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_claim_idx ON jobs (state, run_at);
CREATE INDEX jobs_kind_idx ON jobs (kind, state);
CREATE TABLE article_newsletters (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    mode TEXT NOT NULL CHECK (mode IN ('send', 'hold', 'off')),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE mailings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id BIGINT NOT NULL UNIQUE REFERENCES articles (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('scheduled', 'held', 'sending', 'sent', 'cancelled')),
    held_reason TEXT CHECK (held_reason IN ('review', 'late')),
    scheduled_at TIMESTAMP NOT NULL,
    subject TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX mailings_state_idx ON mailings (state, id);

CREATE TABLE mailing_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mailing_id BIGINT NOT NULL REFERENCES mailings (id) ON DELETE CASCADE,
    subscriber_id BIGINT REFERENCES subscribers (id) ON DELETE SET NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    last_error TEXT,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (mailing_id, subscriber_id)
);
CREATE INDEX mailing_deliveries_state_idx ON mailing_deliveries (mailing_id, state, id);
CREATE INDEX mailing_deliveries_subscriber_idx ON mailing_deliveries (subscriber_id);
