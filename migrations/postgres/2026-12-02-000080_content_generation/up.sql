-- The content generation (see ARCHITECTURE.md, "Response cache"): one row,
-- bumped inside every transaction that changes a table a public response is
-- built from, so an instance that sees a new generation knows its cached
-- responses are stale. To cover a new content table, add its name to the
-- list below (in BOTH trees, in a new migration) and nothing else.
CREATE TABLE content_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO content_generation (id, generation) VALUES (1, 1);
-- Statement-level, so a bulk import bumps once per statement, not per row.
-- The row lock taken by the UPDATE is held to commit: concurrent content
-- writers serialize on it, which is what makes a poller that reads the new
-- generation also see the data committed with it.
CREATE FUNCTION bump_content_generation() RETURNS trigger AS $$
BEGIN
    UPDATE content_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON articles FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER article_authors_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON article_authors FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER article_categories_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON article_categories FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER article_tags_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON article_tags FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER article_slug_history_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON article_slug_history FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER article_update_notes_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON article_update_notes FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER authors_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON authors FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER categories_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON categories FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER tags_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tags FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER series_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON series FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER media_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON media FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER comments_content_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON comments FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
-- API keys: only a revocation, a new expiry or a deletion, or the creator
-- losing admin rights (see the SQLite tree).
CREATE TRIGGER users_content_gen_update AFTER UPDATE OF role, disabled ON users FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER api_keys_content_gen_update AFTER UPDATE OF revoked_at, expires_at, kind ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
CREATE TRIGGER api_keys_content_gen_delete AFTER DELETE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION bump_content_generation();
