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
CREATE TRIGGER articles_content_gen_insert AFTER INSERT ON articles BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER articles_content_gen_update AFTER UPDATE ON articles BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER articles_content_gen_delete AFTER DELETE ON articles BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_authors_content_gen_insert AFTER INSERT ON article_authors BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_authors_content_gen_update AFTER UPDATE ON article_authors BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_authors_content_gen_delete AFTER DELETE ON article_authors BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_categories_content_gen_insert AFTER INSERT ON article_categories BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_categories_content_gen_update AFTER UPDATE ON article_categories BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_categories_content_gen_delete AFTER DELETE ON article_categories BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_tags_content_gen_insert AFTER INSERT ON article_tags BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_tags_content_gen_update AFTER UPDATE ON article_tags BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_tags_content_gen_delete AFTER DELETE ON article_tags BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_slug_history_content_gen_insert AFTER INSERT ON article_slug_history BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_slug_history_content_gen_update AFTER UPDATE ON article_slug_history BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_slug_history_content_gen_delete AFTER DELETE ON article_slug_history BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_update_notes_content_gen_insert AFTER INSERT ON article_update_notes BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_update_notes_content_gen_update AFTER UPDATE ON article_update_notes BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER article_update_notes_content_gen_delete AFTER DELETE ON article_update_notes BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER authors_content_gen_insert AFTER INSERT ON authors BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER authors_content_gen_update AFTER UPDATE ON authors BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER authors_content_gen_delete AFTER DELETE ON authors BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER categories_content_gen_insert AFTER INSERT ON categories BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER categories_content_gen_update AFTER UPDATE ON categories BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER categories_content_gen_delete AFTER DELETE ON categories BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tags_content_gen_insert AFTER INSERT ON tags BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tags_content_gen_update AFTER UPDATE ON tags BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tags_content_gen_delete AFTER DELETE ON tags BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER series_content_gen_insert AFTER INSERT ON series BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER series_content_gen_update AFTER UPDATE ON series BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER series_content_gen_delete AFTER DELETE ON series BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER media_content_gen_insert AFTER INSERT ON media BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER media_content_gen_update AFTER UPDATE ON media BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER media_content_gen_delete AFTER DELETE ON media BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER comments_content_gen_insert AFTER INSERT ON comments BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER comments_content_gen_update AFTER UPDATE ON comments BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER comments_content_gen_delete AFTER DELETE ON comments BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
-- API keys: only a revocation, a new expiry or a deletion can end a content
-- key's right to cached reads (last_used_at updates must not flush the cache),
-- and so can its creator losing admin rights (auth::repo::use_api_key).
CREATE TRIGGER users_content_gen_update AFTER UPDATE OF role, disabled ON users BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER api_keys_content_gen_update AFTER UPDATE OF revoked_at, expires_at, kind ON api_keys BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER api_keys_content_gen_delete AFTER DELETE ON api_keys BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
