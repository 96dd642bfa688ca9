-- Taxonomy as a managed resource (issue 15): SEO fields on terms, and slug
-- history so a renamed or merged term's old slug answers 301.
ALTER TABLE categories ADD COLUMN meta_title TEXT;
ALTER TABLE categories ADD COLUMN meta_description TEXT;
ALTER TABLE tags ADD COLUMN meta_title TEXT;
ALTER TABLE tags ADD COLUMN meta_description TEXT;

CREATE TABLE category_slug_history (
    slug TEXT PRIMARY KEY,
    term_id BIGINT NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX category_slug_history_term_idx ON category_slug_history (term_id);

CREATE TABLE tag_slug_history (
    slug TEXT PRIMARY KEY,
    term_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX tag_slug_history_term_idx ON tag_slug_history (term_id);
