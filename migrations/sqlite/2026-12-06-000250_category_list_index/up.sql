-- What 000210 gave the tag links, for the category links: a copy of each
-- article's `published_at`, kept by the triggers below, and an index that
-- one category's public list (a category with no subcategories) pages
-- through newest first, so a page costs its own rows whatever the size of
-- the archive or how rare the category is. Before, the list walked the
-- published-at index of every article and probed each one's categories:
-- about 420 probes for a category on 1 in 20 of 1,000 articles, a fifth of
-- the request's CPU (perf, 2026-12-06), and twenty times as many for a
-- category on 1 in 400.
ALTER TABLE article_categories ADD COLUMN published_at TIMESTAMP;
UPDATE article_categories SET published_at = (SELECT published_at FROM articles WHERE articles.id = article_categories.article_id);
DROP INDEX article_categories_category_idx;
CREATE INDEX article_categories_list_idx ON article_categories (category_id, published_at, article_id);

-- A link inserted without the article's time (every insert but the bulk
-- import's, which copies it in the same statement) gets it here.
CREATE TRIGGER article_categories_list_fill AFTER INSERT ON article_categories
WHEN NEW.published_at IS NOT (SELECT published_at FROM articles WHERE id = NEW.article_id)
BEGIN
    UPDATE article_categories SET published_at = (SELECT published_at FROM articles WHERE id = NEW.article_id)
        WHERE article_id = NEW.article_id AND category_id = NEW.category_id;
END;

CREATE TRIGGER articles_category_list_follow AFTER UPDATE OF published_at ON articles
WHEN NEW.published_at IS NOT OLD.published_at
BEGIN
    UPDATE article_categories SET published_at = NEW.published_at WHERE article_id = NEW.id;
END;

-- Copying the time is no change of a link: the tally and the content
-- generation (bumped by the article's own update) follow only the link's keys.
DROP TRIGGER article_categories_tally_update;
CREATE TRIGGER article_categories_tally_update AFTER UPDATE OF article_id, category_id ON article_categories BEGIN
    UPDATE article_tallies SET n = n - 1
        WHERE kind = 'category' AND ref_id = OLD.category_id AND status = (SELECT status FROM articles WHERE id = OLD.article_id);
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'category', NEW.category_id, status, 1 FROM articles WHERE id = NEW.article_id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
DROP TRIGGER article_categories_content_gen_update;
CREATE TRIGGER article_categories_content_gen_update AFTER UPDATE OF article_id, category_id ON article_categories BEGIN
    UPDATE content_generation SET generation = generation + 1 WHERE id = 1;
END;
