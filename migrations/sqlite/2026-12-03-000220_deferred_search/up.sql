-- SQLite's full-text index (FTS5) is kept in every writing statement, an
-- import's too, so it never queues `search_index` jobs (see the PostgreSQL
-- migration of this name); the jobs table takes the kind all the same, as
-- both backends know the same kinds. SQLite rebuilds the table to change a CHECK.
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery', 'article_live', 'comment_spam_check', 'search_index')),
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
