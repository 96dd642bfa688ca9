CREATE OR REPLACE FUNCTION article_categories_tally_update() RETURNS trigger AS $$
BEGIN
    UPDATE article_tallies t SET n = t.n - d.c
        FROM (SELECT r.category_id AS ref_id, a.status, count(*) AS c FROM old_rows r JOIN articles a ON a.id = r.article_id
              GROUP BY r.category_id, a.status) d
        WHERE t.kind = 'category' AND t.ref_id = d.ref_id AND t.status = d.status;
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'category', r.category_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.category_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
ALTER FUNCTION article_categories_tally_update() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
DROP TRIGGER articles_category_list_follow ON articles;
DROP FUNCTION articles_category_list_follow();
DROP TRIGGER article_categories_list_fill ON article_categories;
DROP FUNCTION article_categories_list_fill();
DROP INDEX article_categories_list_idx;
CREATE INDEX article_categories_category_idx ON article_categories (category_id, article_id);
ALTER TABLE article_categories DROP COLUMN published_at;
