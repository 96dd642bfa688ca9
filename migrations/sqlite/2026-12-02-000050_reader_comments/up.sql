-- Reader comments: readers (verified by a magic link), the write side of
-- comments (author identity, edit token, votes, moderation record), and the
-- `comment_verify` / `comment_reply` mail templates (SQLite widens the
-- mails CHECK by rebuilding the table: same columns, same ids).
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply')),
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
    template TEXT NOT NULL CHECK (template IN ('password_reset', 'invitation', 'subscription_confirm', 'comment_verify', 'comment_reply')),
    params TEXT NOT NULL DEFAULT '{}',
    message_id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
INSERT INTO mails_new SELECT * FROM mails;
DROP TABLE mails;
ALTER TABLE mails_new RENAME TO mails;

CREATE TABLE readers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    name TEXT,
    secret TEXT NOT NULL,
    verified_at TIMESTAMP,
    verification_sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE reader_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reader_id BIGINT NOT NULL REFERENCES readers (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reader_tokens_reader_idx ON reader_tokens (reader_id);
ALTER TABLE comments ADD COLUMN reader_id BIGINT REFERENCES readers (id) ON DELETE SET NULL;
ALTER TABLE comments ADD COLUMN user_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE comments ADD COLUMN author_role TEXT CHECK (author_role IN ('staff', 'author'));
ALTER TABLE comments ADD COLUMN body_source TEXT;
ALTER TABLE comments ADD COLUMN edit_token_hash TEXT;
ALTER TABLE comments ADD COLUMN ip TEXT;
ALTER TABLE comments ADD COLUMN notify_replies BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE comments ADD COLUMN removed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE comments ADD COLUMN up_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN down_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN score INTEGER NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN updated_at TIMESTAMP;
CREATE INDEX comments_reader_idx ON comments (reader_id);
CREATE INDEX comments_status_idx ON comments (status, created_at);

-- Every moderation decision, automatic or by a person, with its reasons.
CREATE TABLE comment_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'spam', 'trash')),
    actor TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX comment_decisions_comment_idx ON comment_decisions (comment_id, id);

-- One vote per voter (`reader:{id}` or `user:{id}`) per comment.
CREATE TABLE comment_votes (
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (1, -1)),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (comment_id, voter)
);

-- Reply notifications: one row per approved reply to a comment whose
-- verified author asked for them (unique per reply, so a reply is never
-- notified twice); the `comment_reply` job mails them, gathered per thread.
CREATE TABLE comment_notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reader_id BIGINT NOT NULL REFERENCES readers (id) ON DELETE CASCADE,
    thread_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    reply_id BIGINT NOT NULL UNIQUE REFERENCES comments (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    handled_at TIMESTAMP,
    mail_id BIGINT,
    outcome TEXT CHECK (outcome IN ('mailed', 'capped', 'unsubscribed', 'withdrawn'))
);
CREATE INDEX comment_notifications_open_idx ON comment_notifications (reader_id, thread_id, handled_at);
ALTER TABLE readers ADD COLUMN replies_unsubscribed_at TIMESTAMP;
