DROP INDEX tag_slug_history_term_idx;
DROP TABLE tag_slug_history;
DROP INDEX category_slug_history_term_idx;
DROP TABLE category_slug_history;
ALTER TABLE tags DROP COLUMN meta_description;
ALTER TABLE tags DROP COLUMN meta_title;
ALTER TABLE categories DROP COLUMN meta_description;
ALTER TABLE categories DROP COLUMN meta_title;
