-- Two fixes for the tally triggers of 000190, found importing 100,000 posts
-- (auto_explain and pg_stat_statements, 2026-12-05).
--
-- 1. A transaction that sets `broadsheet.defer_tallies = 'on'` (only the
-- importer does, around its multi-row inserts) inserts articles and links
-- without counting them, and adds its own counts once, before any other
-- write of those articles (`articles::repo::tally_new_articles`). Every batch
-- of 500 used to update the same tally rows (each tag's, each category's,
-- 'all') once more, and PostgreSQL cannot prune the row versions a
-- transaction leaves behind until it commits: each update walked the chain of
-- all the earlier ones, and by the last batches the tag tally alone took
-- 60 ms of each batch (1,500 tally rows updated 200 times in one transaction:
-- 83 ms per statement after 100 times, 150 ms after 200, in a psql test).
CREATE OR REPLACE FUNCTION articles_tally_insert() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('broadsheet.defer_tallies', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'all', 0, status, count(*) FROM new_rows GROUP BY status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION article_categories_tally_insert() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('broadsheet.defer_tallies', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'category', r.category_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.category_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION article_tags_tally_insert() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('broadsheet.defer_tallies', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'tag', r.tag_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.tag_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION article_authors_tally_insert() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('broadsheet.defer_tallies', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'author', r.author_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.author_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- 2. The link triggers join the links a statement touched with their
-- articles. PL/pgSQL plans each query once per connection and keeps the
-- plan: planned while `articles` was small, or for a batch of 500 links
-- against a table the planner thinks cheap to read whole, it was a hash join
-- over a sequential scan of `articles`, and every later statement read the
-- whole table again (~100 ms of each batch of 500 posts by the end of a
-- 100,000-post import). A statement's own links are few next to the archive,
-- or at most all of it: an index probe per link is the plan that stays
-- right, so these functions plan nested loops over indexes only. JIT is off
-- with them: the planner's penalty for a disabled node would otherwise count
-- as a cost worth compiling for. (`articles_tally_status` keeps its plans: it
-- joins two transition tables, where only a hash join stays linear.)
ALTER FUNCTION article_categories_tally_insert() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
ALTER FUNCTION article_categories_tally_delete() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
ALTER FUNCTION article_categories_tally_update() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
ALTER FUNCTION article_tags_tally_insert() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
ALTER FUNCTION article_tags_tally_delete() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
ALTER FUNCTION article_tags_tally_update() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
ALTER FUNCTION article_authors_tally_insert() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
ALTER FUNCTION article_authors_tally_delete() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
ALTER FUNCTION article_authors_tally_update() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
