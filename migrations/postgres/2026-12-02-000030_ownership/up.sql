-- Ownership of references (issue 10): media marked `shared` may be used by
-- any staff member; preview links are rows that die with their creator's
-- session or access; password-protected bodies and excerpts leave the search index.
ALTER TABLE media ADD COLUMN shared BOOLEAN NOT NULL DEFAULT FALSE;
-- Imported media has no uploader: it is the newsroom's common library.
UPDATE media SET shared = TRUE WHERE uploaded_by IS NULL;

CREATE TABLE article_previews (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    session_family TEXT,
    api_key_id BIGINT REFERENCES api_keys (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    CHECK ((user_id IS NOT NULL AND session_family IS NOT NULL AND api_key_id IS NULL)
        OR (user_id IS NULL AND session_family IS NULL AND api_key_id IS NOT NULL))
);
CREATE INDEX article_previews_article_idx ON article_previews (article_id);

DROP INDEX articles_search_idx;
ALTER TABLE articles DROP COLUMN search;
ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english', CASE WHEN password_protected THEN '' ELSE coalesce(excerpt, '') END), 'B')
    || setweight(to_tsvector('english', CASE WHEN password_protected THEN '' ELSE coalesce(body_text, '') END), 'C')
) STORED;
CREATE INDEX articles_search_idx ON articles USING GIN (search);
