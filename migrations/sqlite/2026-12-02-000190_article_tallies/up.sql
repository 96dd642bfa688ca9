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

CREATE TRIGGER articles_tally_insert AFTER INSERT ON articles BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n) VALUES ('all', 0, NEW.status, 1)
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
-- An article's links go first, while its status can still be read (the
-- foreign keys' cascade would remove them after the row is gone).
CREATE TRIGGER articles_tally_unlink BEFORE DELETE ON articles BEGIN
    DELETE FROM article_categories WHERE article_id = OLD.id;
    DELETE FROM article_tags WHERE article_id = OLD.id;
    DELETE FROM article_authors WHERE article_id = OLD.id;
END;
CREATE TRIGGER articles_tally_delete AFTER DELETE ON articles BEGIN
    UPDATE article_tallies SET n = n - 1 WHERE kind = 'all' AND ref_id = 0 AND status = OLD.status;
END;
CREATE TRIGGER articles_tally_status AFTER UPDATE OF status ON articles WHEN OLD.status <> NEW.status BEGIN
    UPDATE article_tallies SET n = n - 1 WHERE status = OLD.status AND (
        (kind = 'all' AND ref_id = 0)
        OR (kind = 'category' AND ref_id IN (SELECT category_id FROM article_categories WHERE article_id = NEW.id))
        OR (kind = 'tag' AND ref_id IN (SELECT tag_id FROM article_tags WHERE article_id = NEW.id))
        OR (kind = 'author' AND ref_id IN (SELECT author_id FROM article_authors WHERE article_id = NEW.id)));
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'all', 0, NEW.status, 1 WHERE 1
        UNION ALL SELECT 'category', category_id, NEW.status, 1 FROM article_categories WHERE article_id = NEW.id
        UNION ALL SELECT 'tag', tag_id, NEW.status, 1 FROM article_tags WHERE article_id = NEW.id
        UNION ALL SELECT 'author', author_id, NEW.status, 1 FROM article_authors WHERE article_id = NEW.id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER article_categories_tally_insert AFTER INSERT ON article_categories BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'category', NEW.category_id, status, 1 FROM articles WHERE id = NEW.article_id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER article_categories_tally_delete AFTER DELETE ON article_categories BEGIN
    UPDATE article_tallies SET n = n - 1
        WHERE kind = 'category' AND ref_id = OLD.category_id AND status = (SELECT status FROM articles WHERE id = OLD.article_id);
END;
CREATE TRIGGER article_categories_tally_update AFTER UPDATE ON article_categories BEGIN
    UPDATE article_tallies SET n = n - 1
        WHERE kind = 'category' AND ref_id = OLD.category_id AND status = (SELECT status FROM articles WHERE id = OLD.article_id);
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'category', NEW.category_id, status, 1 FROM articles WHERE id = NEW.article_id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER article_tags_tally_insert AFTER INSERT ON article_tags BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'tag', NEW.tag_id, status, 1 FROM articles WHERE id = NEW.article_id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER article_tags_tally_delete AFTER DELETE ON article_tags BEGIN
    UPDATE article_tallies SET n = n - 1
        WHERE kind = 'tag' AND ref_id = OLD.tag_id AND status = (SELECT status FROM articles WHERE id = OLD.article_id);
END;
CREATE TRIGGER article_tags_tally_update AFTER UPDATE ON article_tags BEGIN
    UPDATE article_tallies SET n = n - 1
        WHERE kind = 'tag' AND ref_id = OLD.tag_id AND status = (SELECT status FROM articles WHERE id = OLD.article_id);
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'tag', NEW.tag_id, status, 1 FROM articles WHERE id = NEW.article_id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER article_authors_tally_insert AFTER INSERT ON article_authors BEGIN
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'author', NEW.author_id, status, 1 FROM articles WHERE id = NEW.article_id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER article_authors_tally_delete AFTER DELETE ON article_authors BEGIN
    UPDATE article_tallies SET n = n - 1
        WHERE kind = 'author' AND ref_id = OLD.author_id AND status = (SELECT status FROM articles WHERE id = OLD.article_id);
END;
CREATE TRIGGER article_authors_tally_update AFTER UPDATE ON article_authors BEGIN
    UPDATE article_tallies SET n = n - 1
        WHERE kind = 'author' AND ref_id = OLD.author_id AND status = (SELECT status FROM articles WHERE id = OLD.article_id);
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'author', NEW.author_id, status, 1 FROM articles WHERE id = NEW.article_id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
