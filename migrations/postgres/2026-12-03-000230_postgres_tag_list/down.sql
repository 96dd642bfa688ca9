CREATE OR REPLACE FUNCTION article_tags_tally_update() RETURNS trigger AS $$
BEGIN
    UPDATE article_tallies t SET n = t.n - d.c
        FROM (SELECT r.tag_id AS ref_id, a.status, count(*) AS c FROM old_rows r JOIN articles a ON a.id = r.article_id
              GROUP BY r.tag_id, a.status) d
        WHERE t.kind = 'tag' AND t.ref_id = d.ref_id AND t.status = d.status;
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'tag', r.tag_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.tag_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER articles_tag_list_follow ON articles;
DROP FUNCTION articles_tag_list_follow();
DROP TRIGGER article_tags_list_fill ON article_tags;
DROP FUNCTION article_tags_list_fill();
DROP INDEX article_tags_list_idx;
CREATE INDEX article_tags_tag_idx ON article_tags (tag_id, article_id);
ALTER TABLE article_tags DROP COLUMN published_at;
