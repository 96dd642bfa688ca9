-- New-article mailings: the per-article newsletter switch, one mailing per
-- article and one delivery record per (mailing, subscriber); the
-- `start_mailing` and `send_mailing` job kinds.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'start_mailing', 'send_mailing'));

CREATE TABLE article_newsletters (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    mode TEXT NOT NULL CHECK (mode IN ('send', 'hold', 'off')),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE mailings (
    id BIGSERIAL PRIMARY KEY,
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
    id BIGSERIAL PRIMARY KEY,
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
