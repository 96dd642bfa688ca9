-- Editorial workflow: body sources, SEO, series, update notes, slug history,
-- revisions, optimistic concurrency (version) and full-text search (FTS5).
CREATE TABLE series (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

ALTER TABLE articles ADD COLUMN body_format TEXT NOT NULL DEFAULT 'html' CHECK (body_format IN ('html', 'markdown'));
ALTER TABLE articles ADD COLUMN body_source TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN body_text TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN word_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN reading_time_minutes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN series_id BIGINT REFERENCES series (id) ON DELETE SET NULL;
ALTER TABLE articles ADD COLUMN series_position INTEGER;
ALTER TABLE articles ADD COLUMN featured_caption TEXT;
ALTER TABLE articles ADD COLUMN featured_credit TEXT;
ALTER TABLE articles ADD COLUMN meta_title TEXT;
ALTER TABLE articles ADD COLUMN meta_description TEXT;
ALTER TABLE articles ADD COLUMN canonical_url TEXT;
ALTER TABLE articles ADD COLUMN og_image_media_id BIGINT REFERENCES media (id) ON DELETE SET NULL;
ALTER TABLE articles ADD COLUMN owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE articles ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX articles_series_idx ON articles (series_id, series_position);
CREATE INDEX articles_owner_idx ON articles (owner_id, status);
CREATE INDEX articles_updated_idx ON articles (updated_at, id);
CREATE INDEX articles_title_idx ON articles (title, id);

CREATE TABLE article_slug_history (
    slug TEXT PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX article_slug_history_article_idx ON article_slug_history (article_id);

CREATE TABLE article_update_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX article_update_notes_article_idx ON article_update_notes (article_id, created_at);

CREATE TABLE article_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    changed_fields TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX article_revisions_article_idx ON article_revisions (article_id, id);

-- Full-text index kept current by triggers on every write.
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, excerpt, body_text, content = 'articles', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
);
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
