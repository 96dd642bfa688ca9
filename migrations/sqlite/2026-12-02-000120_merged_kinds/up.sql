-- Three branches (comments 000050, mailings 000060, webhooks 000110) each
-- widened the jobs.kind and mails.template CHECKs from the same base, so the
-- last one applied won and refused the others' kinds. This sets both CHECKs
-- to the union, and covers the public tables created after the content
-- generation (000080: pages, taxonomy slug history) with its triggers.
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery')),
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
    template TEXT NOT NULL CHECK (template IN ('password_reset', 'invitation', 'subscription_confirm', 'comment_verify', 'comment_reply', 'webhook_disabled')),
    params TEXT NOT NULL DEFAULT '{}',
    message_id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
INSERT INTO mails_new SELECT * FROM mails;
DROP TABLE mails;
ALTER TABLE mails_new RENAME TO mails;

CREATE TRIGGER pages_content_gen_insert AFTER INSERT ON pages BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER pages_content_gen_update AFTER UPDATE ON pages BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER pages_content_gen_delete AFTER DELETE ON pages BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER category_slug_history_content_gen_insert AFTER INSERT ON category_slug_history BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER category_slug_history_content_gen_update AFTER UPDATE ON category_slug_history BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER category_slug_history_content_gen_delete AFTER DELETE ON category_slug_history BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tag_slug_history_content_gen_insert AFTER INSERT ON tag_slug_history BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tag_slug_history_content_gen_update AFTER UPDATE ON tag_slug_history BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tag_slug_history_content_gen_delete AFTER DELETE ON tag_slug_history BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
