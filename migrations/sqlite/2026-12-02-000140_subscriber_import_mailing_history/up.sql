-- Issue 14, second pass.
-- 1. Consent records say on what basis they were made: the double opt-in
--    here, or an import that carried the source tool's consent data, or an
--    import without any (kept visibly apart, never passed off as consent).
ALTER TABLE subscription_consents ADD COLUMN basis TEXT NOT NULL DEFAULT 'double_opt_in'
    CHECK (basis IN ('double_opt_in', 'imported', 'imported_without_consent'));

-- 2. Deleting an article keeps its mailing and delivery history: the
--    mailing's article reference becomes NULL (ON DELETE SET NULL) and the
--    title is kept as a snapshot. SQLite changes a foreign key only by
--    rebuilding the table. Dropping `mailings` while `mailing_deliveries`
--    refers to it would cascade-delete the deliveries, so both are rebuilt:
--    the new tables are filled, the old ones dropped (deliveries first), and
--    the renames rewrite the foreign key to the final name.
CREATE TABLE mailings_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id BIGINT UNIQUE REFERENCES articles (id) ON DELETE SET NULL,
    state TEXT NOT NULL CHECK (state IN ('scheduled', 'held', 'sending', 'sent', 'cancelled')),
    held_reason TEXT CHECK (held_reason IN ('review', 'late')),
    scheduled_at TIMESTAMP NOT NULL,
    subject TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    article_title TEXT
);
INSERT INTO mailings_new (id, article_id, state, held_reason, scheduled_at, subject, started_at, finished_at,
                          created_at, updated_at, article_title)
    SELECT m.id, m.article_id, m.state, m.held_reason, m.scheduled_at, m.subject, m.started_at, m.finished_at,
           m.created_at, m.updated_at, (SELECT a.title FROM articles a WHERE a.id = m.article_id)
    FROM mailings m;

CREATE TABLE mailing_deliveries_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mailing_id BIGINT NOT NULL REFERENCES mailings_new (id) ON DELETE CASCADE,
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
INSERT INTO mailing_deliveries_new SELECT * FROM mailing_deliveries;
DROP TABLE mailing_deliveries;
DROP TABLE mailings;
ALTER TABLE mailings_new RENAME TO mailings;
ALTER TABLE mailing_deliveries_new RENAME TO mailing_deliveries;
CREATE INDEX mailings_state_idx ON mailings (state, id);
CREATE INDEX mailing_deliveries_state_idx ON mailing_deliveries (mailing_id, state, id);
CREATE INDEX mailing_deliveries_subscriber_idx ON mailing_deliveries (subscriber_id);
