DROP INDEX page_revisions_page_idx;
DROP TABLE page_revisions;
DROP INDEX articles_sticky_list_idx;
ALTER TABLE articles DROP COLUMN password_hash;
