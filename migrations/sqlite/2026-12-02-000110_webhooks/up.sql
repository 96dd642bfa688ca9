-- Webhooks: a `webhook_delivery` job kind and a `webhook_disabled` mail
-- template widen two CHECKs (SQLite rebuilds the tables), then two tables.
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

-- Webhook endpoints. `secret` is the whole `whsec_…` string: signing needs
-- the key itself, so it cannot be stored hashed (it is shown once, on creation).
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL CHECK (length(url) <= 2000),
    description TEXT,
    events TEXT NOT NULL DEFAULT '[]',
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    failure_streak INTEGER NOT NULL DEFAULT 0,
    disabled_at TIMESTAMP,
    created_by BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One row per event per endpoint: the unique pair is what makes an event go
-- out once per endpoint; `message_id` is the stable `webhook-id`.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    response_status INTEGER,
    response_body TEXT,
    duration_ms INTEGER,
    error TEXT,
    next_attempt_at TIMESTAMP,
    last_attempt_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (webhook_id, message_id)
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);
