DROP INDEX articles_search_idx;
ALTER TABLE articles DROP COLUMN search;
ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(excerpt, '')), 'B')
    || setweight(to_tsvector('english', coalesce(body_text, '')), 'C')
) STORED;
CREATE INDEX articles_search_idx ON articles USING GIN (search);
DROP INDEX article_previews_article_idx;
DROP TABLE article_previews;
ALTER TABLE media DROP COLUMN shared;
