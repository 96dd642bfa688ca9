-- What 000230 gave the tag links, for the category links: `article_categories`
-- carries a copy of its article's `published_at`, kept by the triggers
-- below, and one category's public list (a category with no subcategories)
-- pages through `(category_id, published_at, article_id)` newest first, so
-- a page costs its own rows whatever the size of the archive or how rare
-- the category is. Before, the list walked the published-at index of every
-- article and probed each one's categories until it had a page (SQLite's
-- migration of this name has the figures).
ALTER TABLE article_categories ADD COLUMN published_at TIMESTAMP;
UPDATE article_categories c SET published_at = a.published_at
    FROM articles a WHERE a.id = c.article_id AND a.published_at IS NOT NULL;
DROP INDEX article_categories_category_idx;
CREATE INDEX article_categories_list_idx ON article_categories (category_id, published_at, article_id);

-- A link inserted without the article's time gets it here; the bulk import
-- gives it in the statement (`articles::repo::insert_relations_batch`).
CREATE FUNCTION article_categories_list_fill() RETURNS trigger AS $$
BEGIN
    NEW.published_at := (SELECT published_at FROM articles WHERE id = NEW.article_id);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_categories_list_fill BEFORE INSERT ON article_categories
    FOR EACH ROW WHEN (NEW.published_at IS NULL) EXECUTE FUNCTION article_categories_list_fill();

CREATE FUNCTION articles_category_list_follow() RETURNS trigger AS $$
BEGIN
    UPDATE article_categories SET published_at = NEW.published_at WHERE article_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_category_list_follow AFTER UPDATE OF published_at ON articles
    FOR EACH ROW WHEN (NEW.published_at IS DISTINCT FROM OLD.published_at)
    EXECUTE FUNCTION articles_category_list_follow();

-- That update fires the tally trigger on `article_categories` updates too
-- (no column list on a trigger with transition tables), so the tally counts
-- only links whose keys changed, as 000230 did for tags.
CREATE OR REPLACE FUNCTION article_categories_tally_update() RETURNS trigger AS $$
BEGIN
    UPDATE article_tallies t SET n = t.n - d.c
        FROM (SELECT r.category_id AS ref_id, a.status, count(*) AS c
              FROM (SELECT article_id, category_id FROM old_rows EXCEPT ALL SELECT article_id, category_id FROM new_rows) r
              JOIN articles a ON a.id = r.article_id
              GROUP BY r.category_id, a.status) d
        WHERE t.kind = 'category' AND t.ref_id = d.ref_id AND t.status = d.status;
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'category', r.category_id, a.status, count(*)
        FROM (SELECT article_id, category_id FROM new_rows EXCEPT ALL SELECT article_id, category_id FROM old_rows) r
        JOIN articles a ON a.id = r.article_id
        GROUP BY r.category_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- CREATE OR REPLACE resets the settings 000240 gave the function.
ALTER FUNCTION article_categories_tally_update() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
