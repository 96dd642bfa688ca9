-- Newsletter subscriptions: subscribers, their topics, double opt-in
-- tokens and the append-only consent log; the `subscribe` job kind and the
-- `subscription_confirm` mail template.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe'));
ALTER TABLE mails DROP CONSTRAINT mails_template_check;
ALTER TABLE mails ADD CONSTRAINT mails_template_check
    CHECK (template IN ('password_reset', 'invitation', 'subscription_confirm'));

CREATE TABLE subscribers (
    id BIGSERIAL PRIMARY KEY,
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
    id BIGSERIAL PRIMARY KEY,
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
    id BIGSERIAL PRIMARY KEY,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    topics TEXT NOT NULL,
    source TEXT,
    privacy_notice_version TEXT NOT NULL,
    ip TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX subscription_consents_subscriber_idx ON subscription_consents (subscriber_id);
CREATE FUNCTION subscription_consents_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'subscription_consents is append-only';
END
$$;
CREATE TRIGGER subscription_consents_append_only BEFORE UPDATE ON subscription_consents
    FOR EACH ROW EXECUTE FUNCTION subscription_consents_append_only();

-- GDPR erasure leaves only this: one row per erasure (the anonymous count)
-- and a one-way hash of the address's comparison key, so an import can
-- refuse to bring the address back.
CREATE TABLE subscription_erasures (
    id BIGSERIAL PRIMARY KEY,
    email_hash TEXT NOT NULL,
    erased_at TIMESTAMP NOT NULL
);
CREATE INDEX subscription_erasures_hash_idx ON subscription_erasures (email_hash);
