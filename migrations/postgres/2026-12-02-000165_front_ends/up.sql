-- Issue 15 §3 (articles for front ends) and page revisions.
-- The argon2id PHC hash of an article's post password (WordPress
-- `post_password`); NULL when the article is not protected, or when it was
-- imported as protected before passwords were kept (then nobody can unlock it
-- until an editor sets a password).
ALTER TABLE articles ADD COLUMN password_hash TEXT;

-- `sticky_first=true`: sticky articles first, then newest. Walked backwards
-- for `ORDER BY is_sticky DESC, published_at DESC, id DESC`; holds what the
-- public predicate reads, as the other list indexes do.
CREATE INDEX articles_sticky_list_idx ON articles (is_sticky, published_at, id) INCLUDE (status);

-- Page revisions, as article_revisions: one snapshot (JSON) per save.
CREATE TABLE page_revisions (
    id BIGSERIAL PRIMARY KEY,
    page_id BIGINT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    changed_fields TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX page_revisions_page_idx ON page_revisions (page_id, id);
