-- Comment form tokens and the external spam check (issue 13).
-- server_secrets: keys made once per database, shared by every instance
-- (like signing_keys). 'comment_form' signs the form tokens of
-- GET /articles/{a}/comments/form-token; gen_random_uuid() draws from
-- pg_strong_random (about 244 random bits from two).
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO server_secrets (name, secret, created_at)
VALUES ('comment_form', replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), now() AT TIME ZONE 'UTC');
-- Form-token nonces already used by a stored comment (a token is single-use).
CREATE TABLE comment_form_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX comment_form_nonces_expires_idx ON comment_form_nonces (expires_at);
-- The job kind `comment_spam_check` (the Akismet-compatible checker).
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery', 'comment_spam_check'));
