-- Schema v1: the WordPress importer and the public read API.
-- Times are UTC, stored as TIMESTAMP WITHOUT TIME ZONE (diesel Timestamp).
CREATE TABLE media (
    id BIGSERIAL PRIMARY KEY,
    file_name TEXT NOT NULL,
    mime_type TEXT,
    byte_size BIGINT,
    width INTEGER,
    height INTEGER,
    title TEXT,
    alt_text TEXT,
    caption TEXT,
    credit TEXT,
    source_url TEXT,
    import_source TEXT,
    import_key TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX media_import_idx ON media (import_source, import_key);

CREATE TABLE authors (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    bio TEXT,
    avatar_url TEXT,
    website TEXT,
    import_source TEXT,
    import_key TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX authors_import_idx ON authors (import_source, import_key);
CREATE INDEX authors_display_name_idx ON authors (display_name, id);

CREATE TABLE categories (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    parent_id BIGINT REFERENCES categories (id) ON DELETE SET NULL,
    import_source TEXT,
    import_key TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX categories_import_idx ON categories (import_source, import_key);
CREATE INDEX categories_parent_idx ON categories (parent_id);
CREATE INDEX categories_name_idx ON categories (name, id);

CREATE TABLE tags (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    import_source TEXT,
    import_key TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX tags_import_idx ON tags (import_source, import_key);
CREATE INDEX tags_name_idx ON tags (name, id);

CREATE TABLE articles (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    subtitle TEXT,
    excerpt TEXT,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
    published_at TIMESTAMP,
    featured_media_id BIGINT REFERENCES media (id) ON DELETE SET NULL,
    comment_status TEXT NOT NULL CHECK (comment_status IN ('open', 'closed')),
    is_sticky BOOLEAN NOT NULL DEFAULT FALSE,
    password_protected BOOLEAN NOT NULL DEFAULT FALSE,
    import_source TEXT,
    import_key TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX articles_import_idx ON articles (import_source, import_key);
CREATE INDEX articles_status_published_idx ON articles (status, published_at, id);
CREATE INDEX articles_featured_media_idx ON articles (featured_media_id);

CREATE TABLE article_authors (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES authors (id) ON DELETE RESTRICT,
    position INTEGER NOT NULL,
    PRIMARY KEY (article_id, author_id)
);
CREATE INDEX article_authors_author_idx ON article_authors (author_id, article_id);

CREATE TABLE article_categories (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    category_id BIGINT NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    PRIMARY KEY (article_id, category_id)
);
CREATE INDEX article_categories_category_idx ON article_categories (category_id, article_id);

CREATE TABLE article_tags (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (article_id, tag_id)
);
CREATE INDEX article_tags_tag_idx ON article_tags (tag_id, article_id);

CREATE TABLE comments (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    parent_id BIGINT REFERENCES comments (id) ON DELETE SET NULL,
    author_name TEXT NOT NULL,
    author_email TEXT,
    author_url TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'spam', 'trash')),
    kind TEXT NOT NULL CHECK (kind IN ('comment', 'pingback', 'trackback')),
    import_source TEXT,
    import_key TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX comments_import_idx ON comments (import_source, import_key);
CREATE INDEX comments_article_status_idx ON comments (article_id, status, kind, created_at, id);
CREATE INDEX comments_parent_idx ON comments (parent_id);
