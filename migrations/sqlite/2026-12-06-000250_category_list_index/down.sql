DROP TRIGGER article_categories_content_gen_update;
CREATE TRIGGER article_categories_content_gen_update AFTER UPDATE ON article_categories BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
DROP TRIGGER article_categories_tally_update;
CREATE TRIGGER article_categories_tally_update AFTER UPDATE ON article_categories BEGIN
    UPDATE article_tallies SET n = n - 1
        WHERE kind = 'category' AND ref_id = OLD.category_id AND status = (SELECT status FROM articles WHERE id = OLD.article_id);
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'category', NEW.category_id, status, 1 FROM articles WHERE id = NEW.article_id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
DROP TRIGGER articles_category_list_follow;
DROP TRIGGER article_categories_list_fill;
DROP INDEX article_categories_list_idx;
CREATE INDEX article_categories_category_idx ON article_categories (category_id, article_id);
ALTER TABLE article_categories DROP COLUMN published_at;
