-- The durable job queue, outgoing mail, and single-use account tokens
-- (password reset, invitations).
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('send_mail', 'password_reset', 'probe')),
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
CREATE INDEX jobs_claim_idx ON jobs (state, run_at);
CREATE INDEX jobs_kind_idx ON jobs (kind, state);

-- Executions of the `probe` job kind (diagnostics and tests).
CREATE TABLE job_probes (
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT NOT NULL,
    label TEXT NOT NULL,
    runner TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX job_probes_job_idx ON job_probes (job_id);

CREATE TABLE mails (
    id BIGSERIAL PRIMARY KEY,
    recipient TEXT NOT NULL,
    template TEXT NOT NULL CHECK (template IN ('password_reset', 'invitation')),
    params TEXT NOT NULL DEFAULT '{}',
    message_id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);

CREATE TABLE account_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'invitation')),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id);
