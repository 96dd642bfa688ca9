-- Back to the generated column (fails while search_index jobs remain).
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery', 'article_live', 'comment_spam_check'));
DROP TRIGGER articles_search_fill ON articles;
DROP INDEX articles_search_pending_idx;
DROP INDEX articles_search_idx;
ALTER TABLE articles DROP COLUMN search;
ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english', CASE WHEN password_protected THEN '' ELSE coalesce(excerpt, '') END), 'B')
    || setweight(to_tsvector('english', CASE WHEN password_protected THEN '' ELSE coalesce(body_text, '') END), 'C')
) STORED;
CREATE INDEX articles_search_idx ON articles USING GIN (search);
DROP FUNCTION articles_search_fill();
DROP FUNCTION articles_search_vector(TEXT, TEXT, TEXT, BOOLEAN);
