DELETE FROM jobs WHERE kind IN ('comment_reply', 'start_mailing', 'send_mailing');
DELETE FROM mails WHERE template IN ('comment_verify', 'comment_reply');
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'webhook_delivery')),
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

CREATE TABLE mails_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient TEXT NOT NULL,
    template TEXT NOT NULL CHECK (template IN ('password_reset', 'invitation', 'subscription_confirm', 'webhook_disabled')),
    params TEXT NOT NULL DEFAULT '{}',
    message_id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
INSERT INTO mails_new SELECT * FROM mails;
DROP TABLE mails;
ALTER TABLE mails_new RENAME TO mails;

DROP TRIGGER pages_content_gen_insert;
DROP TRIGGER pages_content_gen_update;
DROP TRIGGER pages_content_gen_delete;
DROP TRIGGER category_slug_history_content_gen_insert;
DROP TRIGGER category_slug_history_content_gen_update;
DROP TRIGGER category_slug_history_content_gen_delete;
DROP TRIGGER tag_slug_history_content_gen_insert;
DROP TRIGGER tag_slug_history_content_gen_update;
DROP TRIGGER tag_slug_history_content_gen_delete;
