-- Webhooks: a `webhook_delivery` job kind, a `webhook_disabled` mail template, two tables.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'webhook_delivery'));
ALTER TABLE mails DROP CONSTRAINT mails_template_check;
ALTER TABLE mails ADD CONSTRAINT mails_template_check CHECK (template IN ('password_reset', 'invitation', 'subscription_confirm', 'webhook_disabled'));

-- Webhook endpoints. `secret` is the whole `whsec_…` string: signing needs
-- the key itself, so it cannot be stored hashed (it is shown once, on creation).
CREATE TABLE webhooks (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL CHECK (length(url) <= 2000),
    description TEXT,
    events TEXT NOT NULL DEFAULT '[]',
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    failure_streak INTEGER NOT NULL DEFAULT 0,
    disabled_at TIMESTAMP,
    created_by BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One row per event per endpoint: the unique pair is what makes an event go
-- out once per endpoint; `message_id` is the stable `webhook-id`.
CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
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
