-- Newsletter subscriptions: subscribers, their topics, double opt-in
-- tokens and the append-only consent log. The `subscribe` job kind and the
-- `subscription_confirm` mail template widen two CHECKs, which SQLite can
-- only do by rebuilding the table (same columns, same ids, same indexes).
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe')),
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
    template TEXT NOT NULL CHECK (template IN ('password_reset', 'invitation', 'subscription_confirm')),
    params TEXT NOT NULL DEFAULT '{}',
    message_id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
INSERT INTO mails_new SELECT * FROM mails;
DROP TABLE mails;
ALTER TABLE mails_new RENAME TO mails;

CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    name TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bounced', 'complained')),
    source TEXT,
    secret TEXT NOT NULL,
    confirmation_sent_at TIMESTAMP,
    confirmed_at TIMESTAMP,
    unsubscribed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX subscribers_status_idx ON subscribers (status, created_at);

CREATE TABLE subscriber_topics (
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, topic)
);
CREATE INDEX subscriber_topics_topic_idx ON subscriber_topics (topic);

CREATE TABLE subscription_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX subscription_tokens_subscriber_idx ON subscription_tokens (subscriber_id);

-- Append-only: no code path updates a row, and the trigger refuses it.
-- Rows go only with their subscriber (GDPR erasure).
CREATE TABLE subscription_consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    topics TEXT NOT NULL,
    source TEXT,
    privacy_notice_version TEXT NOT NULL,
    ip TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX subscription_consents_subscriber_idx ON subscription_consents (subscriber_id);
CREATE TRIGGER subscription_consents_append_only BEFORE UPDATE ON subscription_consents
BEGIN
    SELECT RAISE(ABORT, 'subscription_consents is append-only');
END;

-- GDPR erasure leaves only this: one row per erasure (the anonymous count)
-- and a one-way hash of the address's comparison key, so an import can
-- refuse to bring the address back.
CREATE TABLE subscription_erasures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email_hash TEXT NOT NULL,
    erased_at TIMESTAMP NOT NULL
);
CREATE INDEX subscription_erasures_hash_idx ON subscription_erasures (email_hash);
