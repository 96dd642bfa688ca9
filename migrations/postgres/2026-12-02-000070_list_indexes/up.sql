-- List queries order and limit on an index that matches the sort; INCLUDE
-- holds what the public predicate reads, so index-only scans can serve the
-- page of ids. Rows are then loaded by id.
DROP INDEX articles_updated_idx;
DROP INDEX articles_title_idx;
CREATE INDEX articles_published_list_idx ON articles (published_at, id) INCLUDE (status);
CREATE INDEX articles_updated_list_idx ON articles (updated_at, id) INCLUDE (status, published_at);
CREATE INDEX articles_title_list_idx ON articles (title, id) INCLUDE (status, published_at);
CREATE INDEX articles_series_list_idx ON articles (series_id, published_at, id) INCLUDE (status);
