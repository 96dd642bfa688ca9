-- Back to 000180's list (fails while search_index jobs remain).
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery', 'article_live', 'comment_spam_check')),
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
