ALTER FUNCTION article_categories_tally_insert() RESET ALL;
ALTER FUNCTION article_categories_tally_delete() RESET ALL;
ALTER FUNCTION article_categories_tally_update() RESET ALL;
ALTER FUNCTION article_tags_tally_insert() RESET ALL;
ALTER FUNCTION article_tags_tally_delete() RESET ALL;
ALTER FUNCTION article_tags_tally_update() RESET ALL;
ALTER FUNCTION article_authors_tally_insert() RESET ALL;
ALTER FUNCTION article_authors_tally_delete() RESET ALL;
ALTER FUNCTION article_authors_tally_update() RESET ALL;
CREATE OR REPLACE FUNCTION articles_tally_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'all', 0, status, count(*) FROM new_rows GROUP BY status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION article_categories_tally_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'category', r.category_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.category_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION article_tags_tally_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'tag', r.tag_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.tag_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION article_authors_tally_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'author', r.author_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.author_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
