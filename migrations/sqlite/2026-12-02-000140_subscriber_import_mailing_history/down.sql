-- Mailings of deleted articles have no article to point at: they go (with
-- their deliveries). Then the tables are rebuilt as 000060 made them.
DELETE FROM mailing_deliveries WHERE mailing_id IN (SELECT id FROM mailings WHERE article_id IS NULL);
DELETE FROM mailings WHERE article_id IS NULL;
CREATE TABLE mailings_old (
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
INSERT INTO mailings_old SELECT id, article_id, state, held_reason, scheduled_at, subject, started_at, finished_at,
                                created_at, updated_at FROM mailings;
CREATE TABLE mailing_deliveries_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mailing_id BIGINT NOT NULL REFERENCES mailings_old (id) ON DELETE CASCADE,
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
INSERT INTO mailing_deliveries_old SELECT * FROM mailing_deliveries;
DROP TABLE mailing_deliveries;
DROP TABLE mailings;
ALTER TABLE mailings_old RENAME TO mailings;
ALTER TABLE mailing_deliveries_old RENAME TO mailing_deliveries;
CREATE INDEX mailings_state_idx ON mailings (state, id);
CREATE INDEX mailing_deliveries_state_idx ON mailing_deliveries (mailing_id, state, id);
CREATE INDEX mailing_deliveries_subscriber_idx ON mailing_deliveries (subscriber_id);
ALTER TABLE subscription_consents DROP COLUMN basis;
