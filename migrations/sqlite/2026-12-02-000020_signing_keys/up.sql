-- HMAC keys for access and preview tokens when JWT_SECRET is not set, shared
-- by every instance on this database. The newest generation signs; older ones
-- verify until not_after. generation is the primary key, so two instances
-- creating the first key at once cannot both succeed (the loser re-reads).
CREATE TABLE signing_keys (
    generation INTEGER PRIMARY KEY,
    kid TEXT NOT NULL UNIQUE,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP,
    not_after TIMESTAMP
);
