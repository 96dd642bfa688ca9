-- Article tallies (see ARCHITECTURE.md, "Article lists"): how many articles
-- each status holds, in all ('all', ref_id 0) and per category, tag and
-- author, kept by triggers in the writing transaction, so a list total is a
-- lookup instead of a count(*) that grows with the archive.
CREATE TABLE article_tallies (
    kind TEXT NOT NULL CHECK (kind IN ('all', 'category', 'tag', 'author')),
    ref_id BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, ref_id, status)
);
INSERT INTO article_tallies (kind, ref_id, status, n)
    SELECT 'all', 0, status, count(*) FROM articles GROUP BY status;
INSERT INTO article_tallies (kind, ref_id, status, n)
    SELECT 'category', r.category_id, a.status, count(*) FROM article_categories r JOIN articles a ON a.id = r.article_id
    GROUP BY r.category_id, a.status;
INSERT INTO article_tallies (kind, ref_id, status, n)
    SELECT 'tag', r.tag_id, a.status, count(*) FROM article_tags r JOIN articles a ON a.id = r.article_id
    GROUP BY r.tag_id, a.status;
INSERT INTO article_tallies (kind, ref_id, status, n)
    SELECT 'author', r.author_id, a.status, count(*) FROM article_authors r JOIN articles a ON a.id = r.article_id
    GROUP BY r.author_id, a.status;

-- Statement-level with transition tables, so a bulk import adds once per
-- statement and per (kind, ref_id, status), never once per row (repeated
-- updates of one row in one transaction each leave a row version no vacuum
-- can remove before commit). Trigger names sort after the `*_content_gen`
-- ones, so every writer takes the content generation's row lock (which
-- serializes content writers) before any tally's: no deadlocks.
CREATE FUNCTION articles_tally_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'all', 0, status, count(*) FROM new_rows GROUP BY status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_tally_insert AFTER INSERT ON articles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION articles_tally_insert();

CREATE FUNCTION articles_tally_delete() RETURNS trigger AS $$
BEGIN
    UPDATE article_tallies t SET n = t.n - d.c
        FROM (SELECT status, count(*) AS c FROM old_rows GROUP BY status) d
        WHERE t.kind = 'all' AND t.ref_id = 0 AND t.status = d.status;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_tally_delete AFTER DELETE ON articles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION articles_tally_delete();

-- An article's links go first, while its status can still be read (the
-- foreign keys' cascade would remove them after the row is gone).
CREATE FUNCTION articles_tally_unlink() RETURNS trigger AS $$
BEGIN
    DELETE FROM article_categories WHERE article_id = OLD.id;
    DELETE FROM article_tags WHERE article_id = OLD.id;
    DELETE FROM article_authors WHERE article_id = OLD.id;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_tally_unlink BEFORE DELETE ON articles FOR EACH ROW EXECUTE FUNCTION articles_tally_unlink();

-- A status change moves the article between its tallies in all, and in each
-- of its categories, tags and authors. (Transition tables cannot go with a
-- column list, hence no `UPDATE OF status`: unchanged statuses add nothing.)
CREATE FUNCTION articles_tally_status() RETURNS trigger AS $$
BEGIN
    WITH moved AS (
        SELECT o.id, o.status AS was, n.status AS became FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.status <> n.status
    ), refs AS (
        SELECT 'all' AS kind, 0::bigint AS ref_id, m.was, m.became FROM moved m
        UNION ALL SELECT 'category', r.category_id, m.was, m.became FROM moved m JOIN article_categories r ON r.article_id = m.id
        UNION ALL SELECT 'tag', r.tag_id, m.was, m.became FROM moved m JOIN article_tags r ON r.article_id = m.id
        UNION ALL SELECT 'author', r.author_id, m.was, m.became FROM moved m JOIN article_authors r ON r.article_id = m.id
    ), deltas AS (
        SELECT kind, ref_id, was AS status, -1 AS d FROM refs
        UNION ALL SELECT kind, ref_id, became, 1 FROM refs
    )
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT kind, ref_id, status, sum(d) FROM deltas GROUP BY kind, ref_id, status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_tally_status AFTER UPDATE ON articles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION articles_tally_status();

CREATE FUNCTION article_categories_tally_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'category', r.category_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.category_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_categories_tally_insert AFTER INSERT ON article_categories
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION article_categories_tally_insert();

CREATE FUNCTION article_categories_tally_delete() RETURNS trigger AS $$
BEGIN
    UPDATE article_tallies t SET n = t.n - d.c
        FROM (SELECT r.category_id AS ref_id, a.status, count(*) AS c FROM old_rows r JOIN articles a ON a.id = r.article_id
              GROUP BY r.category_id, a.status) d
        WHERE t.kind = 'category' AND t.ref_id = d.ref_id AND t.status = d.status;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_categories_tally_delete AFTER DELETE ON article_categories
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION article_categories_tally_delete();

CREATE FUNCTION article_categories_tally_update() RETURNS trigger AS $$
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
CREATE TRIGGER article_categories_tally_update AFTER UPDATE ON article_categories
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION article_categories_tally_update();

CREATE FUNCTION article_tags_tally_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'tag', r.tag_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.tag_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_tags_tally_insert AFTER INSERT ON article_tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION article_tags_tally_insert();

CREATE FUNCTION article_tags_tally_delete() RETURNS trigger AS $$
BEGIN
    UPDATE article_tallies t SET n = t.n - d.c
        FROM (SELECT r.tag_id AS ref_id, a.status, count(*) AS c FROM old_rows r JOIN articles a ON a.id = r.article_id
              GROUP BY r.tag_id, a.status) d
        WHERE t.kind = 'tag' AND t.ref_id = d.ref_id AND t.status = d.status;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_tags_tally_delete AFTER DELETE ON article_tags
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION article_tags_tally_delete();

CREATE FUNCTION article_tags_tally_update() RETURNS trigger AS $$
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
CREATE TRIGGER article_tags_tally_update AFTER UPDATE ON article_tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION article_tags_tally_update();

CREATE FUNCTION article_authors_tally_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'author', r.author_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.author_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_authors_tally_insert AFTER INSERT ON article_authors
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION article_authors_tally_insert();

CREATE FUNCTION article_authors_tally_delete() RETURNS trigger AS $$
BEGIN
    UPDATE article_tallies t SET n = t.n - d.c
        FROM (SELECT r.author_id AS ref_id, a.status, count(*) AS c FROM old_rows r JOIN articles a ON a.id = r.article_id
              GROUP BY r.author_id, a.status) d
        WHERE t.kind = 'author' AND t.ref_id = d.ref_id AND t.status = d.status;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_authors_tally_delete AFTER DELETE ON article_authors
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION article_authors_tally_delete();

CREATE FUNCTION article_authors_tally_update() RETURNS trigger AS $$
BEGIN
    UPDATE article_tallies t SET n = t.n - d.c
        FROM (SELECT r.author_id AS ref_id, a.status, count(*) AS c FROM old_rows r JOIN articles a ON a.id = r.article_id
              GROUP BY r.author_id, a.status) d
        WHERE t.kind = 'author' AND t.ref_id = d.ref_id AND t.status = d.status;
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'author', r.author_id, a.status, count(*) FROM new_rows r JOIN articles a ON a.id = r.article_id
        GROUP BY r.author_id, a.status
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = article_tallies.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_authors_tally_update AFTER UPDATE ON article_authors
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION article_authors_tally_update();
