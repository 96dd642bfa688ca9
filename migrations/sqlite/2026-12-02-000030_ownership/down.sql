DROP TRIGGER articles_fts_update;
DROP TRIGGER articles_fts_delete;
DROP TRIGGER articles_fts_insert;
INSERT INTO articles_fts (articles_fts) VALUES ('delete-all');
INSERT INTO articles_fts (rowid, title, excerpt, body_text) SELECT id, title, coalesce(excerpt, ''), body_text FROM articles;
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, excerpt, body_text) VALUES (new.id, new.title, coalesce(new.excerpt, ''), new.body_text);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, body_text) VALUES ('delete', old.id, old.title, coalesce(old.excerpt, ''), old.body_text);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, excerpt, body_text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, body_text) VALUES ('delete', old.id, old.title, coalesce(old.excerpt, ''), old.body_text);
    INSERT INTO articles_fts (rowid, title, excerpt, body_text) VALUES (new.id, new.title, coalesce(new.excerpt, ''), new.body_text);
END;
DROP INDEX article_previews_article_idx;
DROP TABLE article_previews;
ALTER TABLE media DROP COLUMN shared;
