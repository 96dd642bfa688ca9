-- Ownership of references (issue 10): media marked `shared` may be used by
-- any staff member; preview links are rows that die with their creator's
-- session or access; password-protected bodies and excerpts leave the search index.
ALTER TABLE media ADD COLUMN shared BOOLEAN NOT NULL DEFAULT 0;
-- Imported media has no uploader: it is the newsroom's common library.
UPDATE media SET shared = 1 WHERE uploaded_by IS NULL;

CREATE TABLE article_previews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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

DROP TRIGGER articles_fts_update;
DROP TRIGGER articles_fts_delete;
DROP TRIGGER articles_fts_insert;
INSERT INTO articles_fts (articles_fts) VALUES ('delete-all');
INSERT INTO articles_fts (rowid, title, excerpt, body_text)
    SELECT id, title,
        CASE WHEN password_protected THEN '' ELSE coalesce(excerpt, '') END,
        CASE WHEN password_protected THEN '' ELSE body_text END
    FROM articles;
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, excerpt, body_text) VALUES (new.id, new.title,
        CASE WHEN new.password_protected THEN '' ELSE coalesce(new.excerpt, '') END,
        CASE WHEN new.password_protected THEN '' ELSE new.body_text END);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, body_text) VALUES ('delete', old.id, old.title,
        CASE WHEN old.password_protected THEN '' ELSE coalesce(old.excerpt, '') END,
        CASE WHEN old.password_protected THEN '' ELSE old.body_text END);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, excerpt, body_text, password_protected ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, body_text) VALUES ('delete', old.id, old.title,
        CASE WHEN old.password_protected THEN '' ELSE coalesce(old.excerpt, '') END,
        CASE WHEN old.password_protected THEN '' ELSE old.body_text END);
    INSERT INTO articles_fts (rowid, title, excerpt, body_text) VALUES (new.id, new.title,
        CASE WHEN new.password_protected THEN '' ELSE coalesce(new.excerpt, '') END,
        CASE WHEN new.password_protected THEN '' ELSE new.body_text END);
END;
