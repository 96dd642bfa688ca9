-- Editorial workflow: body sources, SEO, series, update notes, slug history,
-- revisions, optimistic concurrency (version) and full-text search (tsvector + GIN).
CREATE TABLE series (
    id BIGSERIAL PRIMARY KEY,
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
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX article_update_notes_article_idx ON article_update_notes (article_id, created_at);

CREATE TABLE article_revisions (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    changed_fields TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX article_revisions_article_idx ON article_revisions (article_id, id);

-- Full-text search: a generated tsvector, so every write keeps it current.
ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(excerpt, '')), 'B')
    || setweight(to_tsvector('english', coalesce(body_text, '')), 'C')
) STORED;
CREATE INDEX articles_search_idx ON articles USING GIN (search);
