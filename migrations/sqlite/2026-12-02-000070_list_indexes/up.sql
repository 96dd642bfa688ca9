-- List queries order and limit on an index that matches the sort and holds
-- every column the public predicate reads (status, published_at), so a page
-- of ids is read from the index alone; rows are then loaded by id. The id
-- column is the rowid alias, named so ORDER BY x, id matches the index.
DROP INDEX articles_updated_idx;
DROP INDEX articles_title_idx;
CREATE INDEX articles_published_list_idx ON articles (published_at, id, status);
CREATE INDEX articles_updated_list_idx ON articles (updated_at, id, status, published_at);
CREATE INDEX articles_title_list_idx ON articles (title, id, status, published_at);
CREATE INDEX articles_series_list_idx ON articles (series_id, published_at, id, status);
