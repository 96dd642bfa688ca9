-- Article bodies and revision snapshots are TOAST-compressed with lz4 where
-- the server was built with it (PostgreSQL 14+, Debian's and the official
-- images are): pglz was the largest single cost of a 100,000-article import
-- (16 % of the server's CPU, profiled 2026-12-02), and lz4 also reads back
-- faster. Existing values keep pglz until rewritten; both read the same.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
        ALTER TABLE articles ALTER COLUMN body_html SET COMPRESSION lz4,
            ALTER COLUMN body_source SET COMPRESSION lz4,
            ALTER COLUMN body_text SET COMPRESSION lz4;
        ALTER TABLE article_revisions ALTER COLUMN snapshot SET COMPRESSION lz4;
    END IF;
END
$$;
