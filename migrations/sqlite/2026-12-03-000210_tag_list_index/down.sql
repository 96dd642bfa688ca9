DROP TRIGGER article_tags_content_gen_update;
CREATE TRIGGER article_tags_content_gen_update AFTER UPDATE ON article_tags BEGIN UPDATE content_generation SET generation = generation + 1 WHERE id = 1; END;
DROP TRIGGER article_tags_tally_update;
CREATE TRIGGER article_tags_tally_update AFTER UPDATE ON article_tags BEGIN
    UPDATE article_tallies SET n = n - 1
        WHERE kind = 'tag' AND ref_id = OLD.tag_id AND status = (SELECT status FROM articles WHERE id = OLD.article_id);
    INSERT INTO article_tallies (kind, ref_id, status, n)
        SELECT 'tag', NEW.tag_id, status, 1 FROM articles WHERE id = NEW.article_id
        ON CONFLICT (kind, ref_id, status) DO UPDATE SET n = n + 1;
END;
DROP TRIGGER articles_tag_list_follow;
DROP TRIGGER article_tags_list_fill;
DROP INDEX article_tags_list_idx;
CREATE INDEX article_tags_tag_idx ON article_tags (tag_id, article_id);
ALTER TABLE article_tags DROP COLUMN published_at;
