DROP INDEX articles_series_list_idx;
DROP INDEX articles_title_list_idx;
DROP INDEX articles_updated_list_idx;
DROP INDEX articles_published_list_idx;
CREATE INDEX articles_updated_idx ON articles (updated_at, id);
CREATE INDEX articles_title_idx ON articles (title, id);
