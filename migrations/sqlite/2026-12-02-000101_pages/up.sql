-- Pages (issue 15 §2): About, Contact and the like. A table of their own, so
-- they never reach article lists, feeds or search.
CREATE TABLE pages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body_source TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    parent_id BIGINT REFERENCES pages (id) ON DELETE SET NULL,
    menu_order INTEGER NOT NULL DEFAULT 0,
    published_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    import_source TEXT,
    import_key TEXT,
    -- The version the last import wrote and the hash of its WXR item, as
    -- article_imports holds for articles.
    import_version INTEGER,
    import_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX pages_import_idx ON pages (import_source, import_key);
CREATE INDEX pages_order_idx ON pages (status, menu_order, id);
CREATE INDEX pages_parent_idx ON pages (parent_id);
