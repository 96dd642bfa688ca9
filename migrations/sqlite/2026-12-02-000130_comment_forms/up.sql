-- Comment form tokens and the external spam check (issue 13).
-- server_secrets: keys made once per database, shared by every instance
-- (like signing_keys). 'comment_form' signs the form tokens of
-- GET /articles/{a}/comments/form-token; randomblob() is SQLite's
-- ChaCha20 generator, seeded from the operating system.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO server_secrets (name, secret, created_at) VALUES ('comment_form', lower(hex(randomblob(32))), CURRENT_TIMESTAMP);
-- Form-token nonces already used by a stored comment (a token is single-use).
CREATE TABLE comment_form_nonces (
    nonce TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX comment_form_nonces_expires_idx ON comment_form_nonces (expires_at);
-- The job kind `comment_spam_check` (the Akismet-compatible checker): SQLite
-- cannot change a CHECK, so jobs is rebuilt (as in 000120).
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery', 'comment_spam_check')),
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
