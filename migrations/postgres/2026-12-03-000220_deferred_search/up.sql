-- The search vector becomes a plain column kept by a trigger instead of a
-- generated one, so that a bulk import can leave it to the job queue:
-- English stemming of every body was 83 s of a 131-s import of 100,000
-- articles (the import took 48 s without it, measured 2026-12-03). A
-- transaction that sets `broadsheet.defer_search = 'on'` (only the
-- importer does) writes its rows with `search` NULL, meaning "not indexed
-- yet"; `search_index` jobs fill them after the commit. Every other write
-- computes it in its own statement, as the generated column did.
CREATE FUNCTION articles_search_vector(title TEXT, excerpt TEXT, body_text TEXT, password_protected BOOLEAN)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', CASE WHEN password_protected THEN '' ELSE coalesce(excerpt, '') END), 'B')
        || setweight(to_tsvector('english', CASE WHEN password_protected THEN '' ELSE coalesce(body_text, '') END), 'C')
$$;

CREATE FUNCTION articles_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('broadsheet.defer_search', true), '') = 'on' THEN
        NEW.search := NULL;
    ELSE
        NEW.search := articles_search_vector(NEW.title, NEW.excerpt, NEW.body_text, NEW.password_protected);
    END IF;
    RETURN NEW;
END
$$;

DROP INDEX articles_search_idx;
ALTER TABLE articles DROP COLUMN search;
ALTER TABLE articles ADD COLUMN search tsvector;
UPDATE articles SET search = articles_search_vector(title, excerpt, body_text, password_protected);
CREATE INDEX articles_search_idx ON articles USING GIN (search);
-- The rows still to index, for the jobs (empty but for an import's wake).
CREATE INDEX articles_search_pending_idx ON articles (id) WHERE search IS NULL;
CREATE TRIGGER articles_search_fill BEFORE INSERT OR UPDATE OF title, excerpt, body_text, password_protected
    ON articles FOR EACH ROW EXECUTE FUNCTION articles_search_fill();

ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('send_mail', 'password_reset', 'probe', 'subscribe', 'comment_reply', 'start_mailing', 'send_mailing', 'webhook_delivery', 'article_live', 'comment_spam_check', 'search_index'));
